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

import re
from decimal import Decimal
from typing import Any

from osuus.documents.model import AnnualReportDocument, PartyDocument
from osuus.engine import Allocation
from osuus.money import ZERO
from osuus.render.layout import Block, Sheet, layout
from osuus.render.pdf import formats
from osuus.render.pdf.engine import render_pdf
from osuus.render.terminal import format_cell

LANGS = formats.LANGUAGES
MISSING = "\u2013"  # en dash: a value that does not exist (yet)

LABELS: dict[str, dict[str, str]] = {
    "fi": {
        "report_title": "Vuosiraportti {year}: {name}",
        "report_footer": "{name} · vuosiraportti {year}",
        "sender": "Lähettäjä",
        "recipient": "Vastaanottaja",
        "date": "Päiväys",
        "business_id": "Y-tunnus",
        "customers": "Asiakkaita vuonna {year}",
        "customers_note": "Alle viiden henkilön määrät näytetään muodossa ”<5” yksityisyyden suojaamiseksi.",
        "services": "Tuotetut palvelut",
        "service": "Palvelu",
        "unit": "Yksikkö",
        "events": "Tapahtumia",
        "quantity": "Määrä",
        "service_customers": "Asiakkaita",
        "no_services": "Vuoden aikana ei tuotettu kunnalle laskutettavia palvelutapahtumia.",
        "money": "Kustannukset",
        "item": "Erä",
        "estimate": "Arvio",
        "billed": "Laskutettu",
        "actual": "Toteuma",
        "travel": "Matka- ja tulkkauskulut (laskutettu toteutuneiden kulujen mukaan)",
        "totals": "Vuosi yhteensä",
        "settlement": "Tasaus",
        "settlement_charge": "lisälaskutus",
        "settlement_credit": "hyvitys",
        "settlement_none": "ei tasattavaa",
        "settlement_on": "Tasaus laskulla {invoice}.",
        "settlement_next": "Tasataan vuoden {next} ensimmäisellä laskulla.",
        "settlement_open": "Tasaus lasketaan, kun vuoden toteutuneet kustannukset on vahvistettu.",
        "settlement_explained": "Tasaus = toteuma − laskutettu.",
        "chart_title": "Osuus palveluittain, vuosivertailu",
        "chart_title_single": "Osuus palveluittain {year}",
        "chart_note": "Euroa; toteuma, kun vuosi on suljettu, muuten laskutettu.",
        "appendix_title": "Kustannustenjakoliite {year}",
        "appendix_host": "Vastuukunta",
        "appendix_agreement": "Sopimus",
        "appendix_figures": "Luvut euroina, {rounding}.",
        "appendix_language_note": "",
        "rounding_whole": "pyöristetty kokonaisiin euroihin",
        "rounding_cents": "pyöristetty sentteihin",
        "rounding_other": "pyöristetty {unit} tarkkuuteen",
        "mode_half_up": "puolet ylöspäin",
        "mode_half_even": "pankkiirin pyöristys",
        "mode_ceil": "ylöspäin",
        "mode_floor": "alaspäin",
        "mode_down": "kohti nollaa",
        "mode_up": "poispäin nollasta",
    },
    "sv": {
        "report_title": "Årsrapport {year}: {name}",
        "report_footer": "{name} · årsrapport {year}",
        "sender": "Avsändare",
        "recipient": "Mottagare",
        "date": "Datum",
        "business_id": "FO-nummer",
        "customers": "Kunder år {year}",
        "customers_note": "Antal under fem personer visas som ”<5” för att skydda integriteten.",
        "services": "Producerade tjänster",
        "service": "Tjänst",
        "unit": "Enhet",
        "events": "Händelser",
        "quantity": "Mängd",
        "service_customers": "Kunder",
        "no_services": "Under året producerades inga tjänstehändelser som faktureras kommunen.",
        "money": "Kostnader",
        "item": "Post",
        "estimate": "Uppskattning",
        "billed": "Fakturerat",
        "actual": "Utfall",
        "travel": "Rese- och tolkningskostnader (fakturerade enligt faktiska kostnader)",
        "totals": "Året totalt",
        "settlement": "Utjämning",
        "settlement_charge": "tilläggsdebitering",
        "settlement_credit": "gottgörelse",
        "settlement_none": "inget att utjämna",
        "settlement_on": "Utjämning på faktura {invoice}.",
        "settlement_next": "Utjämnas på den första fakturan år {next}.",
        "settlement_open": "Utjämningen beräknas när årets faktiska kostnader har fastställts.",
        "settlement_explained": "Utjämning = utfall − fakturerat.",
        "chart_title": "Andel per tjänst, jämförelse mellan åren",
        "chart_title_single": "Andel per tjänst {year}",
        "chart_note": "Euro; utfall när året är avslutat, annars fakturerat.",
        "appendix_title": "Bilaga om kostnadsfördelning {year}",
        "appendix_host": "Ansvarskommun",
        "appendix_agreement": "Avtal",
        "appendix_figures": "Belopp i euro, {rounding}.",
        "appendix_language_note": "Tabellerna återges med avtalets finska rubriker och namn.",
        "rounding_whole": "avrundade till hela euro",
        "rounding_cents": "avrundade till cent",
        "rounding_other": "avrundade till {unit}",
        "mode_half_up": "hälften uppåt",
        "mode_half_even": "bankavrundning",
        "mode_ceil": "uppåt",
        "mode_floor": "nedåt",
        "mode_down": "mot noll",
        "mode_up": "bort från noll",
    },
    "en": {
        "report_title": "Annual report {year}: {name}",
        "report_footer": "{name} · annual report {year}",
        "sender": "From",
        "recipient": "To",
        "date": "Date",
        "business_id": "Business ID",
        "customers": "Customers in {year}",
        "customers_note": "Counts below five people are shown as “<5” to protect privacy.",
        "services": "Services produced",
        "service": "Service",
        "unit": "Unit",
        "events": "Events",
        "quantity": "Quantity",
        "service_customers": "Customers",
        "no_services": "No service events billable to the municipality were produced during the year.",
        "money": "Costs",
        "item": "Item",
        "estimate": "Estimate",
        "billed": "Billed",
        "actual": "Actual",
        "travel": "Travel and interpretation costs (billed at actual cost)",
        "totals": "The year in total",
        "settlement": "Settlement",
        "settlement_charge": "additional charge",
        "settlement_credit": "credit",
        "settlement_none": "nothing to settle",
        "settlement_on": "Settled on invoice {invoice}.",
        "settlement_next": "To be settled on the first invoice of {next}.",
        "settlement_open": "The settlement is computed once the year's actual costs are confirmed.",
        "settlement_explained": "Settlement = actual − billed.",
        "chart_title": "Share by service, year on year",
        "chart_title_single": "Share by service {year}",
        "chart_note": "Euros; actual once the year is closed, otherwise billed.",
        "appendix_title": "Cost-sharing appendix {year}",
        "appendix_host": "Host municipality",
        "appendix_agreement": "Agreement",
        "appendix_figures": "Figures in euros, {rounding}.",
        "appendix_language_note": "The tables keep the agreement's Finnish headings and names.",
        "rounding_whole": "rounded to whole euros",
        "rounding_cents": "rounded to cents",
        "rounding_other": "rounded to {unit}",
        "mode_half_up": "half up",
        "mode_half_even": "half to even",
        "mode_ceil": "up",
        "mode_floor": "down",
        "mode_down": "towards zero",
        "mode_up": "away from zero",
    },
}


def _labels(lang: str) -> dict[str, str]:
    try:
        return LABELS[lang]
    except KeyError:
        raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(LANGS)}") from None


# --- numbers in the reader's language --------------------------------------------------------
# The report writes figures as the invoices and letters do (osuus.render.pdf.formats): a narrow
# no-break space groups the digits in Finnish and Swedish ("1 234,56 €"), a comma in English
# ("€1,234.56"). The appendix keeps the terminal's and the seed's "24 277".

def _localise(finnish: str, lang: str) -> str:
    """A figure formatted the Finnish way ("1 234,5", "3,2 %") in the reader's convention."""
    if lang != "en":
        return finnish
    text = finnish[:-2] + "%" if finnish.endswith(" %") else finnish
    return text.translate({ord(" "): ",", ord(","): "."})


def _count(value: Decimal | int | str, lang: str) -> str:
    if isinstance(value, str):
        return value  # already masked ("<5") or written out
    return formats.quantity(Decimal(value), lang)


def _money(value: Decimal | None, lang: str, places: int = 2) -> str:
    return MISSING if value is None else formats.euros(value, lang, places)


# --- the annual report -----------------------------------------------------------------------

def _party(party: PartyDocument, lang: str, labels: dict[str, str]) -> dict[str, Any]:
    lines = formats.address_lines(party)
    if party.business_id:
        lines.append(f"{labels['business_id']} {party.business_id}")
    return {"name": party.display_name(lang), "lines": lines}


def _chart(doc: AnnualReportDocument, lang: str, labels: dict[str, str]) -> dict[str, Any] | None:
    years = doc.chart_years
    bars = list(doc.chart)
    if not years or not bars:
        return None
    for bar in bars:
        if len(bar.values) != len(years):
            raise ValueError(f"chart bar {bar.label!r} has {len(bar.values)} values for {len(years)} years")
    largest = max((v for bar in bars for v in bar.values), default=ZERO)
    rows = []
    for bar in bars:
        values = []
        for v in bar.values:
            # the bar's length as a fraction of the largest value; negative values get no bar
            ratio = (v / largest).quantize(Decimal("0.0001")) if largest > 0 and v > 0 else ZERO
            values.append({"text": _money(v, lang, 0), "ratio": str(ratio)})
        rows.append({"label": bar.label, "values": values})
    title = (labels["chart_title"] if len(years) > 1
             else labels["chart_title_single"].format(year=years[0]))
    return {"title": title, "note": labels["chart_note"], "years": [str(y) for y in years], "bars": rows}


def _settlement_text(doc: AnnualReportDocument, labels: dict[str, str]) -> tuple[str, str]:
    """(what the settlement is, where it is settled)."""
    if doc.settlement is None:
        return "", labels["settlement_open"]
    kind = (labels["settlement_charge"] if doc.settlement > 0 else
            labels["settlement_credit"] if doc.settlement < 0 else labels["settlement_none"])
    if doc.settlement_invoice:
        where = labels["settlement_on"].format(invoice=doc.settlement_invoice)
    else:
        where = labels["settlement_next"].format(next=doc.year + 1)
    return kind, where


def annual_report_data(doc: AnnualReportDocument, lang: str = "fi") -> dict[str, Any]:
    """What `report.typ` gets: every text in `lang`, every number already formatted."""
    labels = _labels(lang)
    name = doc.buyer.display_name(lang)
    kind, where = _settlement_text(doc, labels)
    return {
        "lang": lang,
        "title": labels["report_title"].format(year=doc.year, name=name),
        "author": doc.seller.display_name(lang),
        "footer": labels["report_footer"].format(year=doc.year, name=name),
        "labels": labels,
        "date": formats.date(doc.date, lang),
        "sender": _party(doc.seller, lang, labels),
        "recipient": _party(doc.buyer, lang, labels),
        "customers_label": labels["customers"].format(year=doc.year),
        "customers": doc.customers,
        "services": [[label, unit, _count(events, lang), _count(quantity, lang), customers]
                     for label, unit, events, quantity, customers in doc.services],
        "money": [[label, _money(estimate, lang), _money(billed, lang), _money(actual, lang)]
                  for label, estimate, billed, actual in doc.money],
        "travel": _money(doc.travel_and_interpretation, lang),
        "totals": {
            "estimate": _money(doc.estimate, lang),
            "billed": _money(doc.billed, lang),
            "actual": _money(doc.actual, lang),
            "settlement": _money(doc.settlement, lang),
            "settlement_kind": kind,
            "settlement_where": where,
        },
        "chart": _chart(doc, lang, labels),
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
    rows = [[_localise(format_cell(c, places), lang) if c.is_number else format_cell(c, places)
             for c in row] for row in block.rows]
    width = max([len(block.header), *(len(r) for r in block.rows)])
    # a column is numeric when it holds a number; its text cells ("-") align with the numbers
    numeric = [j for j in range(1, width) if any(j < len(r) and r[j].is_number for r in block.rows)]
    # the layout's Finnish headers stay as they are, but "38,5 %" keeps to one line when one wraps
    header = [re.sub(r"(?<=\d) %", "\u00a0%", h) for h in block.header]
    return {"title": block.title, "header": header, "rows": rows, "numeric": numeric,
            "total_rows": block.total_rows, "width": width}


def _rounding(allocation: Allocation, labels: dict[str, str]) -> str:
    shown = allocation.agreement.shown
    if shown.unit == 1:
        what = labels["rounding_whole"]
    elif shown.places == 2 and shown.unit == Decimal("0.01"):
        what = labels["rounding_cents"]
    else:
        what = labels["rounding_other"].format(unit=shown.unit)
    return f"{what}, {labels['mode_' + shown.mode]}"


def appendix_data(allocation: Allocation, lang: str = "fi") -> dict[str, Any]:
    """What `tables.typ` gets: the layout's sheets with every cell formatted."""
    labels = _labels(lang)
    agreement = allocation.agreement
    places = agreement.shown.places
    sheets: list[Sheet] = layout(allocation)
    return {
        "lang": lang,
        "title": agreement.title if lang == "fi" else labels["appendix_title"].format(year=agreement.year),
        "author": agreement.host,
        "footer": f"{labels['appendix_title'].format(year=agreement.year)} · {agreement.id}",
        # the agreement's own title heads the Finnish document; a translation is followed by it
        "heading": agreement.title if lang == "fi" else labels["appendix_title"].format(year=agreement.year),
        "subtitle": "" if lang == "fi" else agreement.title,
        "facts": [f"{labels['appendix_host']}: {agreement.host}",
                  f"{labels['appendix_agreement']}: {agreement.id}",
                  labels["appendix_figures"].format(rounding=_rounding(allocation, labels))],
        "note": labels["appendix_language_note"],
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
