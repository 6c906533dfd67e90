"""The year's end and the August estimate: closing a year after a preview of every member's
settlement (the preparer), the committed settlements of a closed year, and the estimate of a
year with each member's letter.

A year that is not closed is shown as `services.closing.preview_close` computes it: what
closing it would commit now, with nothing written; closing it (`close_year`) takes a ticked
confirmation. A member never sees the year's end (its role has no `closings`); of the
estimates it sees its own row, explanation and letter only, and another member's are
answered as not there (404).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from osuus.access import Action, Resource
from osuus.money import ZERO
from osuus.problems import ProblemsError
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page, redirect

router = APIRouter(route_class=PageRoute)

CLOSINGS_READ = page(Resource.CLOSINGS, Action.READ)
CLOSINGS_WRITE = page(Resource.CLOSINGS, Action.WRITE)
ESTIMATES_READ = page(Resource.ESTIMATES, Action.READ)
ESTIMATES_WRITE = page(Resource.ESTIMATES, Action.WRITE)


# --------------------------------------------------------------------------
# shared with the reports' pages (osuus.web.pages.reports)
# --------------------------------------------------------------------------

def checked_year(year: int) -> int:
    """A year in a path: one an agreement may be of (osuus.api.common), else not found."""
    from osuus.api.common import FIRST_YEAR, LAST_YEAR

    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PageError(404, "web.error.not_found")
    return year


def visible_code(p: Page, text: str, year: int) -> str:
    """A municipality named in a path (its code or a name) as its code; not found alike when no
    agreement has it and when it is another member's."""
    from osuus.api.common import municipality_code

    try:
        code = municipality_code(p.reader, text, year)
    except ProblemsError:
        raise PageError(404, "web.error.not_found") from None
    if not p.sees(code):
        raise PageError(404, "web.error.not_found")
    return code


def refusals(p: Page, exc: ProblemsError, prefix: str, fields: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """A use case's problems as an error summary's [(field id, message)]: in this part's words
    (`<prefix><code>`) where it has them, else as the invoices' pages say refusals."""
    from osuus.web.pages.invoices import refusal_errors

    fields = fields or {}
    found = []
    for problem in exc.problems:
        key = f"{prefix}{problem.code}" if problem.code else ""
        if key and p.words.has(key):
            found.append((fields.get(problem.key or "", ""), p.t(key)))
        else:
            found.extend(refusal_errors(p, ProblemsError([problem]), fields))
    return found


def explanation_page(p: Page, *, title: str, heading: str, tree: list[dict], back_url: str, back_label: str,
                     documents: str = "", note: str = "", problems=(), status: int = 200):
    """One figure's explanation down to the clause: `osuus explain …` as a page (or, when there is
    nothing to explain yet, why: `note` and the `problems` in words)."""
    return p.render("yearend/explanation.html", status=status, title=title, heading=heading, tree=tree,
                    back_url=back_url, back_label=back_label, documents=documents, note=note,
                    problems=[message for _, message in problems])


def settlement_explanation(p: Page, year: int, code: str, *, back_url: str, back_label: str):
    """`osuus explain settlement YEAR -m …` of a closed year, as a page."""
    from osuus.api.common import agreement_of
    from osuus.render.explain import Explainer
    from osuus.services.explain import explain_settlement
    from osuus.web.pages.invoices import figure_tree

    try:
        found = explain_settlement(p.reader, year, code)
    except ProblemsError as exc:
        if not any(problem.code == "settlement.not-closed" for problem in exc.problems):
            raise PageError(404, "web.error.not_found") from None
        found = None
    e = Explainer(found.agreement if found else agreement_of(p.reader, year), p.lang)
    heading = p.t("explain.settlement.head", year=year, municipality=e.param("municipality", code))
    if found is None:  # the year is not closed: nothing is settled yet, as the annual report says
        return explanation_page(p, title=heading, heading=heading, tree=[], back_url=back_url,
                                back_label=back_label, note=p.t("report.settlement_open"))
    documents = p.t("explain.settlement.documents", documents=", ".join(
        f"{number} ({p.fmt.money(amount)})" for number, amount in found.documents)) if found.documents else ""
    return explanation_page(p, title=heading, heading=heading, tree=figure_tree(e, found.figures), back_url=back_url,
                            back_label=back_label, documents=documents)


# --------------------------------------------------------------------------
# the year's end
# --------------------------------------------------------------------------

def _years(p: Page) -> list[dict]:
    """The area's years (of an agreement or an invoice), newest first, each with whether it is closed."""
    from osuus.services.status import year_status, years

    found = []
    for year in years(p.reader):
        status = year_status(p.reader, year)
        found.append({"year": year, "url": p.url(f"year-end/{year}"), "closed": status.closed,
                      "closed_at": status.closed_at, "closed_by": status.closed_by,
                      "months": len(status.invoiced_months), "costs": status.costs})
    return found


@router.get("/areas/{area}/year-end")
def year_end_index(request: Request, p: Page = Depends(CLOSINGS_READ)):
    """Choose the year: a list, and a field for any year (the form works without JavaScript)."""
    asked = (request.query_params.get("year") or "").strip()
    errors = []
    if asked:
        if asked.isascii() and asked.isdigit() and len(asked) == 4:
            return redirect(p.url(f"year-end/{int(asked)}"))
        errors.append(("year", p.t("web.yearend.error.year")))
    return p.render("yearend/index.html", status=400 if errors else 200, years=_years(p), errors=errors,
                    asked=asked)


def _rows(p: Page, agreement, settlements, base: str) -> tuple[list[dict], dict]:
    rows = [{"code": s.municipality, "name": agreement.name_of(s.municipality, p.lang) if agreement else s.municipality,
             "actual": s.actual, "billed": s.billed, "difference": s.difference,
             "url": f"{base}/{s.municipality}"} for s in settlements]
    totals = {"actual": sum((r["actual"] for r in rows), ZERO), "billed": sum((r["billed"] for r in rows), ZERO),
              "difference": sum((r["difference"] for r in rows), ZERO),
              "charges": sum((r["difference"] for r in rows if r["difference"] > 0), ZERO),
              "credits": sum((r["difference"] for r in rows if r["difference"] < 0), ZERO)}
    return rows, totals


def _prices(p: Page, agreement, prices) -> list[dict]:
    from osuus.render.explain import Explainer

    e = Explainer(agreement, p.lang)
    return [{"component": e.param("component", price.component), "integration_year": price.integration_year,
             "agreed": price.agreed, "confirmed": price.confirmed,
             "basis": e.line(price.explanation) if price.explanation is not None else ""} for price in prices]


def _year_page(p: Page, year: int, *, status: int = 200, errors=(), confirm: bool = False):
    """A closed year as it was closed; else what closing it would commit now (or why it cannot be closed)."""
    from osuus.api.common import agreement_of
    from osuus.services.closing import preview_close
    from osuus.services.status import year_status

    agreement = agreement_of(p.reader, year)
    refused: list[tuple[str, str]] = []
    result = None
    try:
        result = preview_close(p.reader, year)
    except ProblemsError as exc:
        refused = refusals(p, exc, "web.yearend.refusal.")
    # who closed it and when, or where the year stands: not needed beside a preview (and not cheap)
    state = year_status(p.reader, year) if result is None or not result.preview else None
    base = p.url(f"year-end/{year}")
    rows, totals = _rows(p, agreement, result.settlements, base) if result is not None else ([], {})
    closed = result is not None and not result.preview
    return p.render("yearend/year.html", status=status, year=year, closed=closed, state=state,
                    preview=result is not None and result.preview, rows=rows, totals=totals,
                    prices=_prices(p, agreement, result.prices) if result is not None else [],
                    refused=refused, errors=list(errors), confirm=confirm,
                    may_close=p.may(Resource.CLOSINGS, Action.WRITE) and result is not None and result.preview,
                    just_closed=p.request.query_params.get("closed") == "1", action=base,
                    reports_url=p.url("reports"))


@router.get("/areas/{area}/year-end/{year}")
def year_end(year: int, p: Page = Depends(CLOSINGS_READ)):
    return _year_page(p, checked_year(year))


@router.post("/areas/{area}/year-end/{year}")
async def close(year: int, request: Request, p: Page = Depends(CLOSINGS_WRITE)):
    """Close the year (`osuus close-year YEAR`) once the preparer has ticked that they reviewed the preview."""
    from osuus.services.closing import close_year

    checked_year(year)
    form = await request.form()
    if form.get("confirm") != "yes":
        errors = [("confirm", p.t("web.yearend.error.confirm", year=year))]
        return await run_in_threadpool(_year_page, p, year, status=400, errors=errors)
    try:
        await run_in_threadpool(close_year, p.ledger, year)
    except ProblemsError as exc:
        errors = refusals(p, exc, "web.yearend.refusal.")
        return await run_in_threadpool(_year_page, p, year, status=422, errors=errors, confirm=True)
    return redirect(p.url(f"year-end/{year}") + "?closed=1")


@router.get("/areas/{area}/year-end/{year}/{municipality}")
def year_end_member(year: int, municipality: str, p: Page = Depends(CLOSINGS_READ)):
    """One member's settlement explained: as committed when the year is closed, else as closing would commit it."""
    from osuus.api.common import agreement_of
    from osuus.render.explain import Explainer
    from osuus.services.closing import preview_settlement, show_closing
    from osuus.web.pages.invoices import figure_tree

    checked_year(year)
    code = visible_code(p, municipality, year)
    back_url, back_label = p.url(f"year-end/{year}"), p.t("web.yearend.back", year=year)
    try:
        show_closing(p.reader, year)
    except ProblemsError:
        pass  # not closed: as closing would commit it
    else:
        return settlement_explanation(p, year, code, back_url=back_url, back_label=back_label)
    e = Explainer(agreement_of(p.reader, year), p.lang)
    heading = p.t("explain.settlement.head", year=year, municipality=e.param("municipality", code))
    try:
        figure = preview_settlement(p.reader, year, code)
    except ProblemsError as exc:  # the year cannot be closed yet: why
        return explanation_page(p, title=heading, heading=heading, tree=[], back_url=back_url,
                                back_label=back_label, note=p.t("web.yearend.cannot_close", year=year),
                                problems=refusals(p, exc, "web.yearend.refusal."))
    if figure is None:  # not a member (the host): it has no settlement
        raise PageError(404, "web.error.not_found")
    return explanation_page(p, title=heading, heading=heading, tree=figure_tree(e, [figure]), back_url=back_url,
                            back_label=back_label, note=p.t("web.yearend.preview_note", year=year))


# --------------------------------------------------------------------------
# the estimates
# --------------------------------------------------------------------------

def made_day(estimate):
    """The day an estimate was made, in Finland (a time stored in UTC is the day before until 2 or 3 a.m.)."""
    from osuus.web.pages.home import HELSINKI, aware

    return aware(estimate.created_at).astimezone(HELSINKI).date()


def _in_finland(estimate):
    """The estimate with its time in Finland's zone: the same moment, whose `.date()` (as the page
    shows it) is the day in Finland."""
    import dataclasses

    from osuus.web.pages.home import HELSINKI, aware

    return dataclasses.replace(estimate, created_at=aware(estimate.created_at).astimezone(HELSINKI))


def _estimate_years(p: Page) -> list[dict]:
    """Every year with an estimate the reader may see (its newest revision), newest first."""
    from osuus.services.estimates import latest_estimates
    from osuus.services.status import years

    candidates = set(years(p.reader))
    candidates |= {y + 1 for y in candidates}
    found = []
    for year in sorted(candidates, reverse=True):
        rows = latest_estimates(p.reader, year, p.member)
        if rows:
            found.append({"year": year, "revision": rows[0].revision, "made": made_day(rows[0]),
                          "total": sum((r.amount for r in rows), ZERO), "url": p.url(f"estimates/{year}")})
    return found


def _next_year(p: Page) -> int:
    """The year an estimate is usually made for: the one after the newest agreement."""
    import datetime as dt

    from osuus.api.common import agreement_of

    newest = agreement_of(p.reader)
    return newest.year + 1 if newest is not None else dt.date.today().year + 1


def _estimates_index(p: Page, *, status: int = 200, errors=(), asked: str = ""):
    return p.render("yearend/estimates.html", status=status, years=_estimate_years(p), errors=list(errors),
                    asked=asked or str(_next_year(p)), may_make=p.may(Resource.ESTIMATES, Action.WRITE),
                    action=p.url("estimates"))


@router.get("/areas/{area}/estimates")
def estimates_index(p: Page = Depends(ESTIMATES_READ)):
    return _estimates_index(p)


@router.post("/areas/{area}/estimates")
async def make(request: Request, p: Page = Depends(ESTIMATES_WRITE)):
    """Make the year's estimate (`osuus estimate YEAR`): a new revision when it changed, else the same again."""
    from osuus.api.common import FIRST_YEAR, LAST_YEAR
    from osuus.services.estimates import make_estimate

    form = await request.form()
    asked = str(form.get("year", "")).strip()[:10]
    if not (asked.isascii() and asked.isdigit() and FIRST_YEAR <= int(asked) <= LAST_YEAR):
        errors = [("year", p.t("web.estimates.error.year"))]
        return await run_in_threadpool(_estimates_index, p, status=400, errors=errors, asked=asked)
    year = int(asked)
    try:
        result = await run_in_threadpool(make_estimate, p.ledger, year)
    except ProblemsError as exc:
        errors = refusals(p, exc, "web.estimates.refusal.", {"year": "year"})
        errors = [(field or "year", message) for field, message in errors]
        return await run_in_threadpool(_estimates_index, p, status=422, errors=errors, asked=asked)
    return redirect(p.url(f"estimates/{year}") + ("?made=1" if result.created else "?same=1"))


def _estimate_page(p: Page, year: int):
    from osuus.api.common import agreement_of
    from osuus.render.words import basis_text
    from osuus.services.estimates import latest_estimates

    found = latest_estimates(p.reader, year, p.member)
    if not found:
        if p.member is not None:
            raise PageError(404, "web.error.not_found")
        return p.render("yearend/estimate.html", status=404, year=year, estimate=None, rows=[], columns=[],
                        totals={}, total=ZERO, basis="", may_make=p.may(Resource.ESTIMATES, Action.WRITE),
                        action=p.url("estimates"), notice="", back_url=p.url("estimates"))
    agreement = agreement_of(p.reader, year)
    first = _in_finland(found[0])
    columns = list(dict.fromkeys(part.id for e in found for part in e.parts))
    rows = []
    for e in found:
        amounts = {part.id: part.amount for part in e.parts}
        rows.append({"code": e.municipality, "name": agreement.name_of(e.municipality, p.lang) if agreement else
                     e.municipality, "parts": [amounts.get(c) for c in columns], "amount": e.amount,
                     "explain_url": p.url(f"estimates/{year}/{e.municipality}"),
                     "letter_url": p.url(f"estimates/{year}/{e.municipality}.pdf")})
    totals = [sum((r["parts"][i] or ZERO for r in rows), ZERO) for i in range(len(columns))]
    labels = [{"id": c, "label": agreement.label_of(c, p.lang) if agreement else c} for c in columns]
    notice = ("web.estimates.notice.made" if p.request.query_params.get("made") == "1" else
              "web.estimates.notice.same" if p.request.query_params.get("same") == "1" else "")
    return p.render("yearend/estimate.html", year=year, estimate=first, rows=rows, columns=labels, totals=totals,
                    total=sum((r["amount"] for r in rows), ZERO),
                    basis=basis_text(first.basis, year, agreement, p.lang, first.issued_basis),
                    may_make=p.may(Resource.ESTIMATES, Action.WRITE), action=p.url("estimates"),
                    notice=notice, back_url=p.url("estimates"))


@router.get("/areas/{area}/estimates/{year}")
def estimate(year: int, p: Page = Depends(ESTIMATES_READ)):
    return _estimate_page(p, checked_year(year))


@router.get("/areas/{area}/estimates/{year}/{municipality}.pdf")
def estimate_letter(year: int, municipality: str, p: Page = Depends(ESTIMATES_READ)):
    """A member's estimate letter (as `osuus export estimate YEAR -m …` writes it), in the reader's language."""
    from fastapi.responses import Response

    from osuus.render.pdf.letters import estimate_pdf
    from osuus.services.documents import estimate_letters

    checked_year(year)
    code = visible_code(p, municipality, year)
    try:
        with p.reader.read() as session:
            letter = estimate_letters(session, year, None, code)[0]
    except ProblemsError:
        raise PageError(404, "web.error.not_found") from None
    return Response(estimate_pdf(letter, p.lang), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="estimate-{year}-{code}.pdf"',
                             "Cache-Control": "private, no-cache"})


@router.get("/areas/{area}/estimates/{year}/{municipality}")
def estimate_member(year: int, municipality: str, p: Page = Depends(ESTIMATES_READ)):
    """`osuus explain estimate YEAR -m …` as a page."""
    from osuus.render.explain import Explainer
    from osuus.services.explain import explain_estimate
    from osuus.web.pages.invoices import figure_tree

    checked_year(year)
    code = visible_code(p, municipality, year)
    try:
        found = explain_estimate(p.reader, year, code)
    except ProblemsError:
        raise PageError(404, "web.error.not_found") from None
    e = Explainer(found.agreement, p.lang)
    heading = p.t("explain.estimate.head", year=year, municipality=e.param("municipality", code),
                  revision=found.estimate.revision)
    return explanation_page(p, title=heading, heading=heading, tree=figure_tree(e, [found.figure]),
                            back_url=p.url(f"estimates/{year}"), back_label=p.t("web.estimates.back", year=year))


__all__ = ["checked_year", "explanation_page", "refusals", "router", "settlement_explanation",
           "visible_code"]
