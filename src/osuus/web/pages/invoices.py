"""Issued invoices and credit notes: the list (searched and filtered), one document with its
lines, each line's explanation down to the clause, its documents (PDF, Finvoice, Peppol), and a
credit note's draft.

A member sees its own municipality's documents only: another municipality's invoice, its
lines and its documents are answered exactly as a number that does not exist (404). The
documents are the API's (osuus.api.routes.invoices): the same bytes, ETags and cache.

What the runs' pages share with these (osuus.web.pages.runs) is here too: a figure tree as
nested items, the lines of a document, and a use case's refusal in the reader's words.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from osuus.access import Action, Resource
from osuus.problems import ProblemsError
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page, redirect

router = APIRouter(route_class=PageRoute)

READ = page(Resource.INVOICES, Action.READ)
PER_PAGE = 50
KINDS = ("invoice", "credit_note")


# --------------------------------------------------------------------------
# shared with the runs' pages
# --------------------------------------------------------------------------

def refusal_errors(p: Page, exc: ProblemsError, fields: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """A use case's problems as an error summary's [(field id, message)]: in the reader's words
    where the catalogue has the problem's code (`web.runs.refusal.<code>`), else as it was raised.
    `fields` maps a problem's key (`reason`, `PERIOD`, `--date`) to the form field it is about."""
    from osuus.web.templating import problem_text

    fields = fields or {}
    found = []
    for problem in exc.problems:
        key = f"web.runs.refusal.{problem.code}" if problem.code else ""
        text = p.t(key) if key and p.words.has(key) else problem_text(problem, p.t)
        item = (fields.get(problem.key or "", ""), text)
        if item not in found:  # one line per reason (a missing price is raised once per component)
            found.append(item)
    return found


def figure_tree(explainer, figures) -> list[dict]:
    """Figures and their inputs as nested items (label, formula, value, and what it rests on:
    the agreement's clause, in the agreement's own words, and the rule of osuus); an input
    shown already with its own inputs is marked, not repeated, as `osuus explain` does."""
    shown: set[int] = set()

    def node(fig) -> dict:
        again = id(fig) in shown and bool(fig.inputs)
        shown.add(id(fig))
        return {"label": explainer.label(fig), "formula": explainer.formula(fig),
                "value": explainer.value(fig.value, fig.unit), "reference": fig.reference, "rule": explainer.rule(fig),
                "again": again,
                "inputs": [] if again else [node(child) for child in fig.inputs]}

    return [node(f) for f in figures]


def line_rows(invoice, agreement, lang: str) -> list[dict]:
    """The lines of a document as a table shows them: position, words and amount."""
    from osuus.render.lines import line_text

    return [{"position": line.position, "text": line_text(line, agreement, lang, invoice.period),
             "amount": line.amount} for line in invoice.lines]


def explained_line(invoice, agreement, lang: str, line, figure) -> dict:
    """A line of `invoice` with its explanation as a tree (none for a line that has none)."""
    from osuus.render.explain import Explainer
    from osuus.render.lines import line_text

    return {"position": line.position, "text": line_text(line, agreement, lang, invoice.period), "amount": line.amount,
            "tree": figure_tree(Explainer(agreement, lang), [figure]) if figure is not None else []}


def period_name(agreement, lang: str, period) -> str:
    from osuus.render.explain import Explainer

    return Explainer(agreement, lang).period(period.code)


def is_htmx(p: Page) -> bool:
    return p.request.headers.get("hx-request") == "true"


def render_line(p: Page, *, heading: str, back_url: str, back_label: str, line: dict, status: int = 200):
    """A line's explanation: its own page, or (asked by htmx) the tree alone to open in place."""
    template = "invoices/_explanation.html" if is_htmx(p) else "invoices/line.html"
    return p.render(template, status=status, heading=heading, back_url=back_url, back_label=back_label, line=line)


# --------------------------------------------------------------------------
# finding what the reader may see
# --------------------------------------------------------------------------

def visible_invoice(p: Page, number: str, *, explanations: bool = False):
    """The invoice `number`; 404 alike when there is none and when it is another member's."""
    from osuus.api.routes.invoices import invoice_view

    try:
        return invoice_view(p.api, number, explanations=explanations)
    except ProblemsError as exc:
        if any(problem.code == "invoice.unknown" for problem in exc.problems):
            raise PageError(404, "web.error.not_found") from None
        raise


def agreement_for(p: Page, invoice):
    from osuus.api.common import agreements_of

    return agreements_of(p.reader, {invoice.agreement_year})[invoice.agreement_year]


def _filters(p: Page, query) -> tuple[dict, dict, list[tuple[str, str]]]:
    """The list's filters as asked (strings, for the form again), as the use case takes them,
    and the errors of those that are not valid."""
    from osuus.billing.kinds import DocumentKind
    from osuus.calendar import Period

    asked = {name: (query.get(name) or "").strip()[:60] for name in ("year", "period", "municipality", "kind",
                                                                     "number")}
    where: dict = {}
    errors: list[tuple[str, str]] = []
    if asked["year"]:
        if asked["year"].isascii() and asked["year"].isdigit() and 1900 <= int(asked["year"]) <= 2200:
            where["year"] = int(asked["year"])
        else:
            errors.append(("year", p.t("web.invoices.error.year")))
    if asked["period"]:
        try:
            where["period"] = Period.parse(asked["period"])
        except ValueError:
            errors.append(("period", p.t("web.invoices.error.period")))
    if asked["kind"]:
        if asked["kind"] in KINDS:
            where["kind"] = DocumentKind(asked["kind"])
        else:
            errors.append(("kind", p.t("web.invoices.error.kind")))
    if asked["number"]:
        where["number"] = asked["number"]
    if p.member is not None:
        asked["municipality"] = ""
        where["municipality"] = p.member
    elif asked["municipality"]:
        where["municipality"] = asked["municipality"]
    return asked, where, errors


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isascii() and text.isdigit() and 0 < int(text) < 100_000 else 1


# --------------------------------------------------------------------------
# the pages
# --------------------------------------------------------------------------

@router.get("/areas/{area}/invoices")
def invoice_list(request: Request, p: Page = Depends(READ)):
    from urllib.parse import urlencode

    from osuus.api.common import agreement_of, agreements_of
    from osuus.services.invoicing import invoice_page

    asked, where, errors = _filters(p, request.query_params)
    number = _page_number(request.query_params.get("page"))
    newest = agreement_of(p.reader)
    municipalities = [] if p.member is not None or newest is None else sorted(
        ((m.code, newest.name_of(m.code, p.lang)) for m in newest.municipalities), key=lambda m: m[1])
    if errors:
        return p.render("invoices/list.html", status=400, asked=asked, errors=errors, rows=[], total=0, first=0,
                        last=0, previous_url="", next_url="", municipalities=municipalities)
    found = invoice_page(p.reader, offset=(number - 1) * PER_PAGE, limit=PER_PAGE, lines=False, **where)
    agreements = agreements_of(p.reader, {i.agreement_year for i in found.invoices})
    rows = []
    for invoice in found.invoices:
        agreement = agreements.get(invoice.agreement_year)
        rows.append({"invoice": invoice, "url": p.url(f"invoices/{invoice.number}"),
                     "municipality": agreement.name_of(invoice.municipality, p.lang) if agreement else
                     invoice.municipality,
                     "period": period_name(agreement, p.lang, invoice.period)})
    kept = {k: v for k, v in asked.items() if v}

    def page_url(n: int) -> str:
        return p.url("invoices") + "?" + urlencode({**kept, "page": n})

    first = (number - 1) * PER_PAGE + 1 if rows else 0
    last = first + len(rows) - 1 if rows else 0
    return p.render("invoices/list.html", asked=asked, errors=[], rows=rows, total=p.fmt.count(found.total),
                    first=p.fmt.count(first), last=p.fmt.count(last),
                    previous_url=page_url(number - 1) if number > 1 else "",
                    next_url=page_url(number + 1) if number * PER_PAGE < found.total else "",
                    municipalities=municipalities)


def _open_credit_draft(p: Page, number: str):
    """The open credit-note draft of invoice `number`, for those who see drafts."""
    if not p.may(Resource.RUNS, Action.READ):
        return None
    from osuus.services.approval import draft_heads

    return next(iter(draft_heads(p.reader, kind="credit_note", subject=number, open_only=True)), None)


def _show(p: Page, number: str, *, status: int = 200, errors=(), reason: str = "", date: str = ""):
    invoice = visible_invoice(p, number)
    agreement = agreement_for(p, invoice)
    creditable = not invoice.is_credit and not invoice.credited_by
    draft = _open_credit_draft(p, number) if creditable else None
    base = p.url(f"invoices/{number}")
    lines = line_rows(invoice, agreement, p.lang)
    for row in lines:
        row["url"], row["target"] = f"{base}/lines/{row['position']}", f"explanation-{row['position']}"
    return p.render(
        "invoices/show.html", status=status, invoice=invoice, base=base,
        municipality=agreement.name_of(invoice.municipality, p.lang) if agreement else invoice.municipality,
        period=period_name(agreement, p.lang, invoice.period), lines=lines,
        credited_url=p.url(f"invoices/{invoice.credited}") if invoice.credited else "",
        credited_by_url=p.url(f"invoices/{invoice.credited_by}") if invoice.credited_by else "",
        draft_url=p.url(f"runs/{draft.id}") if draft is not None else "", draft=draft,
        may_credit=creditable and draft is None and p.may(Resource.RUNS, Action.WRITE), errors=list(errors),
        reason=reason, date=date or dt.date.today().isoformat())


@router.get("/areas/{area}/invoices/{number}")
def invoice_page_(number: str, p: Page = Depends(READ)):
    return _show(p, number)


@router.get("/areas/{area}/invoices/{number}/lines/{position}")
def invoice_line(number: str, position: int, p: Page = Depends(READ)):
    """`osuus explain invoice NUMBER --line N`, as a page (or, for htmx, the tree alone)."""
    from osuus.services.explain import explain_invoice

    invoice = visible_invoice(p, number)
    try:
        found = explain_invoice(p.reader, number, position)
    except ProblemsError:
        raise PageError(404, "web.error.not_found") from None
    (line, figure), = found.lines
    kind = p.t(f"web.invoices.kind.{invoice.kind.value}")
    return render_line(p, heading=p.t("web.invoices.line.title", kind=kind, number=number, position=position),
                       back_url=p.url(f"invoices/{number}"), back_label=p.t("web.invoices.line.back", number=number),
                       line=explained_line(found.invoice, found.agreement, p.lang, line, figure))


def _document_answer(p: Page, make):
    """The API's answer for a document, with a member's other-municipality refusal as a page's 404."""
    try:
        return make()
    except ProblemsError as exc:
        if any(problem.code == "invoice.unknown" for problem in exc.problems):
            raise PageError(404, "web.error.not_found") from None
        raise


@router.get("/areas/{area}/invoices/{number}/pdf")
def invoice_pdf(number: str, request: Request, p: Page = Depends(READ)):
    from osuus.api.routes import invoices as api

    response = _document_answer(p, lambda: api.pdf(number, request, p.api, p.lang))
    return _as_download(response)


@router.get("/areas/{area}/invoices/{number}/finvoice")
def invoice_finvoice(number: str, request: Request, p: Page = Depends(READ)):
    from osuus.api.routes import invoices as api

    return _as_download(_document_answer(p, lambda: api.finvoice(number, request, p.api)))


@router.get("/areas/{area}/invoices/{number}/peppol")
def invoice_peppol(number: str, request: Request, p: Page = Depends(READ)):
    from osuus.api.routes import invoices as api

    return _as_download(_document_answer(p, lambda: api.peppol(number, request, p.api)))


def _as_download(response):
    """An XML message is saved rather than shown (a browser would show its tree); a PDF opens."""
    disposition = response.headers.get("content-disposition", "")
    if disposition.startswith("inline") and response.media_type == "application/xml":
        response.headers["content-disposition"] = "attachment" + disposition[len("inline"):]
    return response


@router.post("/areas/{area}/invoices/{number}/credit")
async def credit(number: str, request: Request, p: Page = Depends(page(Resource.RUNS, Action.WRITE))):
    """A credit note of the whole invoice, as a draft for an approver (the runs' page shows it)."""
    from osuus.services.approval import prepare_credit

    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    date_text = str(form.get("date", "")).strip()
    errors = []
    if not reason:
        errors.append(("reason", p.t("web.invoices.error.reason")))
    try:
        issue_date = dt.date.fromisoformat(date_text)
    except ValueError:
        errors.append(("date", p.t("web.invoices.error.date")))
    if errors:
        return await run_in_threadpool(_show, p, number, status=400, errors=errors, reason=reason, date=date_text)
    await run_in_threadpool(visible_invoice, p, number)
    try:
        draft = await run_in_threadpool(prepare_credit, p.ledger, number, reason, issue_date)
    except ProblemsError as exc:
        errors = refusal_errors(p, exc, {"reason": "reason", "--date": "date"})
        return await run_in_threadpool(_show, p, number, status=409, errors=errors, reason=reason, date=date_text)
    return redirect(p.url(f"runs/{draft.id}"))
