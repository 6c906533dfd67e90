"""PDF renderers for the council: a member's annual report and the appendix tables.

`annual_report_pdf` lays out one `AnnualReportDocument` (A4 portrait) with a
bar chart drawn in typst itself; `appendix_pdf` prints every table of an
allocation on A4 landscape pages from the same layout the terminal and Excel
renderers use (`osuus.render.layout`), each cell formatted by the terminal's
`format_cell`, so the PDF and the terminal show the same figures.

Every number is formatted here; the templates only place text. Finnish is the
default; Swedish and English are on request. Numbers follow the language:
"1 234,56" in fi and sv, "1,234.56" in en.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from osuus.documents.model import AnnualReportDocument, PartyDocument
from osuus.engine import Allocation
from osuus.money import ZERO
from osuus.privacy import shown_count
from osuus.render.formats import Formats, formats
from osuus.render.i18n import LANGUAGES, catalogue, check_language
from osuus.render.layout import Block, Sheet, layout
from osuus.render.pdf.engine import render_pdf
from osuus.render.pdf.letters import address_lines
from osuus.render.terminal import format_cell
from osuus.render.words import unit_text

LANGS = LANGUAGES
MISSING = "\u2013"  # en dash: a value that does not exist (yet)
#: the texts of the report and the appendix (the catalogue's `report.<key>`)
LABEL_KEYS = (
    "report_title", "report_footer", "sender", "recipient", "date", "business_id", "customers", "customers_note",
    "services", "service", "unit", "events", "quantity", "service_customers", "no_services", "money", "item",
    "estimate", "billed", "actual", "travel", "totals", "settlement", "settlement_charge", "settlement_credit",
    "settlement_none", "settlement_on", "settlement_on_and_open", "settlement_next", "settlement_open",
    "settlement_explained", "chart_title",
    "chart_title_single", "chart_note", "appendix_title", "appendix_host", "appendix_agreement", "appendix_figures",
    "appendix_language_note",
)


def _labels(lang: str) -> dict[str, str]:
    try:
        c = catalogue(check_language(lang))
    except ValueError:
        raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(LANGS)}") from None
    return {key: c.t(f"report.{key}") for key in LABEL_KEYS}


def _count(value: Decimal | int | str, f: Formats) -> str:
    if isinstance(value, str):
        return value  # already masked ("<5") or written out
    return f.count(Decimal(value))


def _money(value: Decimal | None, f: Formats, places: int = 2) -> str:
    return MISSING if value is None else f.money(value, places)


# --- the annual report -----------------------------------------------------------------------

def _party(party: PartyDocument, lang: str, labels: dict[str, str]) -> dict[str, Any]:
    lines = address_lines(party)
    if party.business_id:
        lines.append(f"{labels['business_id']} {party.business_id}")
    return {"name": party.display_name(lang), "lines": lines}


def _paid(report) -> dict[str, Decimal]:
    """What the member paid for each item (by id): the actual share once closed, else what was billed."""
    paid = {m.id: m.actual if m.actual is not None else m.billed for m in report.money if not m.estimate_only}
    return {item: amount for item, amount in paid.items() if amount}


def _chart(doc: AnnualReportDocument, lang: str, labels: dict[str, str], f: Formats) -> dict[str, Any] | None:
    """Bars by item, the year before beside the year; items are matched by id, named in `lang`."""
    reports = [r for r in (doc.previous, doc.report) if r is not None]
    years = [r.year for r in reports]
    paid = [_paid(r) for r in reports]
    items = list(dict.fromkeys(i for p in reversed(paid) for i in p))
    if not items:
        return None
    largest = max((v for p in paid for v in p.values()), default=ZERO)
    rows = []
    for item in items:
        values = []
        for p in paid:
            v = p.get(item, ZERO)
            # the bar's length as a fraction of the largest value; negative values get no bar
            ratio = (v / largest).quantize(Decimal("0.0001")) if largest > 0 and v > 0 else ZERO
            values.append({"text": _money(v, f, 0), "ratio": str(ratio)})
        label = doc.agreement.label_of(item, lang)
        if label == item and doc.previous_agreement is not None:
            label = doc.previous_agreement.label_of(item, lang)
        rows.append({"label": label, "values": values})
    title = labels["chart_title"] if len(years) > 1 else labels["chart_title_single"].format(year=years[0])
    return {"title": title, "note": labels["chart_note"], "years": [str(y) for y in years], "bars": rows}


def _settlement_text(doc: AnnualReportDocument, labels: dict[str, str], f: Formats) -> tuple[str, str]:
    """(what the settlement is, where it is settled)."""
    report = doc.report
    if report.settlement is None:
        return "", labels["settlement_open"]
    kind = (labels["settlement_charge"] if report.settlement > 0 else
            labels["settlement_credit"] if report.settlement < 0 else labels["settlement_none"])
    if report.settlement_documents:
        documents = ", ".join(f"{number} ({f.money(amount)})" for number, amount in report.settlement_documents)
        where = (labels["settlement_on_and_open"].format(invoice=documents, open=f.money(report.settlement_open))
                 if report.settlement_open else labels["settlement_on"].format(invoice=documents))
    else:
        where = labels["settlement_next"].format(next=report.year + 1)
    return kind, where


def annual_report_data(doc: AnnualReportDocument, lang: str = "fi") -> dict[str, Any]:
    """What `report.typ` gets: every text in `lang`, every number already formatted."""
    labels = _labels(lang)
    f = formats(lang)
    report = doc.report
    name = doc.buyer.display_name(lang)
    kind, where = _settlement_text(doc, labels, f)
    c = catalogue(lang)

    def item_label(line) -> str:
        label = doc.agreement.label_of(line.id, lang)
        return c.t("report.estimate_only", item=label) if line.estimate_only else label

    return {
        "lang": lang,
        "title": labels["report_title"].format(year=report.year, name=name),
        "author": doc.seller.display_name(lang),
        "footer": labels["report_footer"].format(year=report.year, name=name),
        "labels": labels,
        "date": f.date(doc.date),
        "sender": _party(doc.seller, lang, labels),
        "recipient": _party(doc.buyer, lang, labels),
        "customers_label": labels["customers"].format(year=report.year),
        "customers": shown_count(report.customers),
        "services": [[doc.agreement.label_of(s.component, lang), unit_text(s.unit, lang), _count(s.events, f),
                      _count(s.quantity, f), shown_count(s.customers)] for s in report.services],
        "money": [[item_label(m), _money(m.estimate, f), _money(m.billed, f), _money(m.actual, f)]
                  for m in report.money],
        "travel": _money(report.travel_and_interpretation, f),
        "totals": {
            "estimate": _money(report.estimate, f),
            "billed": _money(report.billed, f),
            "actual": _money(report.actual, f),
            "settlement": _money(report.settlement, f),
            "settlement_kind": kind,
            "settlement_where": where,
        },
        "chart": _chart(doc, lang, labels, f),
    }


def annual_report_pdf(doc: AnnualReportDocument, lang: str = "fi") -> bytes:
    """A member's annual report as a PDF (A4 portrait) in Finnish, Swedish or English."""
    return render_pdf("report.typ", annual_report_data(doc, lang))


# --- the appendix tables ---------------------------------------------------------------------

def _font_size(columns: int) -> float:
    """Points: wide tables get a smaller font so that every column fits the page."""
    if columns > 14:
        return 7.0
    if columns > 10:
        return 7.5
    if columns > 6:
        return 8.0
    return 9.0


def _block(block: Block, places: int, lang: str) -> dict[str, Any]:
    f = formats(lang)
    rows = [[format_cell(c, places, f) for c in row] for row in block.rows]
    width = max([len(block.header), *(len(r) for r in block.rows)])
    # a column is numeric when it holds a number; its text cells ("-") align with the numbers
    numeric = [j for j in range(1, width) if any(j < len(r) and r[j].is_number for r in block.rows)]
    header = block.header
    return {"title": block.title, "header": header, "rows": rows, "numeric": numeric,
            "total_rows": block.total_rows, "width": width}


def _rounding(allocation: Allocation, lang: str) -> str:
    from osuus.render.explain import Explainer, _shown_rounding

    return Explainer(allocation.agreement, lang).rule(_shown_rounding(allocation.agreement))


def appendix_data(allocation: Allocation, lang: str = "fi") -> dict[str, Any]:
    """What `tables.typ` gets: the layout's sheets with every cell formatted."""
    labels = _labels(lang)
    agreement = allocation.agreement
    places = agreement.shown.places
    sheets: list[Sheet] = layout(allocation, lang)
    title = agreement.title.get(lang)
    translated = title != agreement.title.fi or lang == "fi"
    return {
        "lang": lang,
        "title": title if translated else labels["appendix_title"].format(year=agreement.year),
        "author": agreement.name_of(agreement.host, lang),
        "footer": f"{labels['appendix_title'].format(year=agreement.year)} · {agreement.id}",
        # the agreement's title in the reader's language heads the document; without one, the
        # agreement's own (Finnish) title follows a translated heading
        "heading": title if translated else labels["appendix_title"].format(year=agreement.year),
        "subtitle": "" if translated else agreement.title.fi,
        "facts": [f"{labels['appendix_host']}: {agreement.name_of(agreement.host, lang)}",
                  f"{labels['appendix_agreement']}: {agreement.id}",
                  labels["appendix_figures"].format(rounding=_rounding(allocation, lang))],
        "note": labels["appendix_language_note"] if lang != "fi" else "",
        "sheets": [_sheet(s, places, lang) for s in sheets],
    }


def _sheet(sheet: Sheet, places: int, lang: str) -> dict[str, Any]:
    blocks = [_block(b, places, lang) for b in sheet.blocks]
    # one font size for the whole sheet: the one its widest block needs
    size = min(_font_size(b["width"]) for b in blocks) if blocks else _font_size(0)
    return {"caption": sheet.caption, "title": sheet.title, "reference": sheet.reference, "size": size,
            "blocks": blocks}


def appendix_pdf(allocation: Allocation, lang: str = "fi") -> bytes:
    """Every table of the agreement as in the appendix, on A4 landscape pages."""
    return render_pdf("tables.typ", appendix_data(allocation, lang))
