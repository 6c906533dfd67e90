"""A member's annual report: customers, services, its money side by side, the settlement, and
the year-on-year chart (an SVG drawn here, its figures also in a table), with the report's PDF.

The page shows what the PDF shows: both are made from the same `AnnualReportDocument`
(services.documents) and the same formatted data (render.pdf.reports.annual_report_data).
Staff choose a member and a year; a member reads its own years only, and another member's
report, PDF or settlement is answered as not there (404).
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Request

from osuus.access import Action, Resource
from osuus.problems import ProblemsError
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page, redirect
from osuus.web.pages.yearend import checked_year, settlement_explanation, visible_code

router = APIRouter(route_class=PageRoute)

READ = page(Resource.REPORTS, Action.READ)

#: The chart's geometry (SVG user units): a row for an item's name, then a bar per year.
CHART = {"width": 640, "left": 52, "track": 430, "label": 22, "bar": 18, "gap": 5, "group": 12}


def chart_layout(chart: dict | None) -> dict | None:
    """Where each name, bar and value of the year-on-year chart goes. `chart` is the report's
    chart as the PDF gets it (years, and per item its label and each year's value and ratio to
    the largest); every bar is labelled with its year and its value, so no colour says anything alone."""
    if not chart:
        return None
    c = CHART
    years = chart["years"]
    y = 0
    items = []
    for bar in chart["bars"]:
        y += c["label"]
        item = {"label": bar["label"], "label_y": y - 6, "bars": []}
        for i, (year, value) in enumerate(zip(years, bar["values"])):
            width = (Decimal(value["ratio"]) * c["track"]).quantize(Decimal("0.1"))
            item["bars"].append({"year": year, "y": y, "text_y": y + c["bar"] - 5, "width": width,
                                 "value": value["text"], "value_x": c["left"] + width + 6,
                                 "latest": i == len(years) - 1})
            y += c["bar"] + c["gap"]
        item["axis"] = (item["bars"][0]["y"] - 2, y - c["gap"] + 2) if item["bars"] else (y, y)
        y += c["group"]
        items.append(item)
    return {"title": chart["title"], "note": chart["note"], "years": years, "items": items,
            "width": c["width"], "height": y, "left": c["left"], "bar": c["bar"],
            "rows": [{"label": bar["label"], "values": [v["text"] for v in bar["values"]]} for bar in chart["bars"]]}


@router.get("/areas/{area}/reports")
def reports_index(request: Request, p: Page = Depends(READ)):
    """Staff: choose a member and a year (a GET form, no script); a member: its own years."""
    from osuus.api.common import agreement_of
    from osuus.services.agreements import agreement_years

    years = agreement_years(p.reader, p.member)
    if p.member is not None:
        agreement = agreement_of(p.reader)
        name = agreement.name_of(p.member, p.lang) if agreement else p.member
        links = [{"year": y, "url": p.url(f"reports/{y}/{p.member}")} for y in years]
        return p.render("reports/index.html", years=years, links=links, name=name, municipalities=[], errors=[],
                        asked={"year": "", "municipality": ""})
    asked = {"year": (request.query_params.get("year") or "").strip()[:10],
             "municipality": (request.query_params.get("municipality") or "").strip()[:60]}
    digits = asked["year"].isascii() and asked["year"].isdigit()  # "²".isdigit() is True, int("²") fails
    newest = agreement_of(p.reader, int(asked["year"]) if digits and len(asked["year"]) == 4 else None)
    municipalities = sorted(((code, newest.name_of(code, p.lang)) for code in newest.members),
                            key=lambda m: m[1]) if newest is not None else []
    errors = []
    if asked["year"] or asked["municipality"]:
        if not (digits and int(asked["year"]) in years):
            errors.append(("year", p.t("web.reports.error.year")))
        if asked["municipality"] not in {code for code, _ in municipalities}:
            errors.append(("municipality", p.t("web.reports.error.municipality")))
        if not errors:
            return redirect(p.url(f"reports/{int(asked['year'])}/{asked['municipality']}"))
    return p.render("reports/index.html", status=400 if errors else 200, years=years, links=[], name="",
                    municipalities=municipalities, errors=errors, asked=asked)


def _document(p: Page, year: int, code: str):
    """The member's report as its PDF is made from it (dated today); not found when the year has no
    agreement or the member is not in it."""
    from osuus.api.common import today
    from osuus.services.documents import annual_report_documents

    try:
        with p.reader.read() as session:
            return annual_report_documents(session, year, today(), code)[0]
    except ProblemsError:
        raise PageError(404, "web.error.not_found") from None


@router.get("/areas/{area}/reports/{year}/{municipality}.pdf")
def report_pdf(year: int, municipality: str, request: Request, p: Page = Depends(READ)):
    """The report's PDF: the API's answer (the same bytes, ETag and cache), in the reader's language."""
    from osuus.api.routes import reports as api

    checked_year(year)
    code = visible_code(p, municipality, year)
    try:
        return api.report_pdf(year, code, request, p.api, lang=p.lang, date=None)
    except ProblemsError:  # no agreement of the year, or the member is not in it
        raise PageError(404, "web.error.not_found") from None


@router.get("/areas/{area}/reports/{year}/{municipality}/settlement")
def report_settlement(year: int, municipality: str, p: Page = Depends(READ)):
    """Why the member's settlement of a closed year is what it is (`osuus explain settlement`)."""
    checked_year(year)
    code = visible_code(p, municipality, year)
    return settlement_explanation(p, year, code, back_url=p.url(f"reports/{year}/{code}"),
                                  back_label=p.t("web.reports.back", year=year))


@router.get("/areas/{area}/reports/{year}/{municipality}")
def report(year: int, municipality: str, p: Page = Depends(READ)):
    from osuus.render.pdf.reports import annual_report_data

    checked_year(year)
    code = visible_code(p, municipality, year)
    document = _document(p, year, code)
    data = annual_report_data(document, p.lang)
    base = p.url(f"reports/{year}/{code}")
    return p.render("reports/report.html", title=data["title"], data=data, labels=data["labels"],
                    chart=chart_layout(data["chart"]), year=year, code=code,
                    pdf_url=f"{base}.pdf", settlement_url=f"{base}/settlement" if document.report.settlement is not None
                    else "", back_url=p.url("reports"))
