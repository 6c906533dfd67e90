"""Invoice runs and credit notes as drafts, for four eyes (osuus.services.approval).

A preparer drafts a period's run here (a credit note is drafted from its invoice's page); the
draft is reviewed member by member, each line with its explanation; an approver who did not
prepare it approves it (its documents issued, numbered then) or rejects it with a reason. The
approval form carries the hash of the draft as shown: a draft computed again since is refused,
not approved unseen. After approval: the issued documents, one by one and all at once (a zip).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from osuus.access import Action, Resource
from osuus.problems import ProblemsError
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page, redirect
from osuus.web.pages.invoices import explained_line, line_rows, period_name, refusal_errors, render_line

router = APIRouter(route_class=PageRoute)

READ = page(Resource.RUNS, Action.READ)
WRITE = page(Resource.RUNS, Action.WRITE)
APPROVE = page(Resource.RUNS, Action.APPROVE)

#: A draft's id in an address: what the database's integer holds (beyond it: not found, not a
#: server error).
DraftId = Annotated[int, Path(ge=1, lt=2**31)]

#: A use case's problem keys -> the form fields they are about.
FIELDS = {"PERIOD": "period", "--date": "date", "reason": "reason"}


def _draft(p: Page, draft_id: int):
    from osuus.services.approval import show_draft

    try:
        return show_draft(p.reader, draft_id)
    except ProblemsError as exc:
        if any(problem.code == "draft.unknown" for problem in exc.problems):
            raise PageError(404, "web.error.not_found") from None
        raise


def _agreements(p: Page, invoices) -> dict:
    from osuus.api.common import agreements_of

    return agreements_of(p.reader, {i.agreement_year for i in invoices})


def _subject(p: Page, draft, agreement) -> str:
    return period_name(agreement, p.lang, draft.period) if draft.is_run else draft.subject


def _next_run(runs) -> tuple[str, str]:
    """A period to suggest drafting (the one after the newest run drafted) and its usual invoice
    date (the day after the period ends)."""
    from osuus.calendar import Period

    if not runs:
        return "", ""
    newest = max(runs)
    if newest.index < newest.count:
        following = Period(newest.year, newest.kind, newest.index + 1)
    else:
        following = Period(newest.year + 1, newest.kind, 1)
    return following.code, (following.end + dt.timedelta(days=1)).isoformat()


def _day(p: Page):
    """A stored time as the day it was in Finland, in the reader's format."""
    from zoneinfo import ZoneInfo

    finland = ZoneInfo("Europe/Helsinki")
    return lambda at: p.fmt.date(at.astimezone(finland).date()) if at is not None else ""


def _list(p: Page, *, status: int = 200, errors=(), period: str | None = None, date: str | None = None,
          allow_gap: bool = False, notice: str = ""):
    from osuus.calendar import Period
    from osuus.services.approval import DraftHead, draft_heads

    heads = draft_heads(p.reader)

    def row(d: DraftHead) -> dict:
        subject = period_name(None, p.lang, Period.parse(d.subject)) if d.is_run else d.subject
        return {"draft": d, "url": p.url(f"runs/{d.id}"), "subject": subject, "kind": p.t(f"web.runs.kind.{d.kind}")}

    suggested_period, suggested_date = _next_run([Period.parse(d.subject) for d in heads if d.is_run])
    return p.render("runs/list.html", status=status, open=[row(d) for d in heads if d.status == "draft"],
                    approved=[row(d) for d in reversed(heads) if d.status == "approved"],
                    may_prepare=p.may(Resource.RUNS, Action.WRITE), errors=list(errors),
                    period=suggested_period if period is None else period,
                    date=suggested_date if date is None else date, allow_gap=allow_gap, notice=notice,
                    day=_day(p))


@router.get("/areas/{area}/runs")
def runs(request: Request, p: Page = Depends(READ)):
    rejected = request.query_params.get("rejected", "")
    notice = p.t("web.runs.notice.rejected", draft=rejected) if rejected.isascii() and rejected.isdigit() else ""
    return _list(p, notice=notice)


@router.post("/areas/{area}/runs")
async def prepare(request: Request, p: Page = Depends(WRITE)):
    """Draft a period's run: computed exactly as it would be issued, for an approver."""
    from osuus.calendar import Period
    from osuus.services.approval import prepare_run

    form = await request.form()
    period_text, date_text = str(form.get("period", "")).strip(), str(form.get("date", "")).strip()
    allow_gap = bool(form.get("allow_gap"))
    errors = []
    try:
        period = Period.parse(period_text)
        if period.kind.value == "year":
            raise ValueError(period_text)
    except ValueError:
        errors.append(("period", p.t("web.runs.error.period")))
    try:
        issue_date = dt.date.fromisoformat(date_text)
    except ValueError:
        errors.append(("date", p.t("web.runs.error.date")))
    if not errors:
        try:
            draft = await run_in_threadpool(prepare_run, p.ledger, period, issue_date, allow_gap=allow_gap)
        except ProblemsError as exc:
            errors = refusal_errors(p, exc, FIELDS)
        else:
            return redirect(p.url(f"runs/{draft.id}"))
    return await run_in_threadpool(_list, p, status=400 if errors else 200, errors=errors, period=period_text,
                                   date=date_text, allow_gap=allow_gap)


def _show(p: Page, draft_id: int, *, status: int = 200, errors=(), reason: str = "", notice: str = ""):
    from osuus.services.approval import issued_of

    draft = _draft(p, draft_id)
    agreements = _agreements(p, draft.invoices)
    base = p.url(f"runs/{draft.id}")
    documents = []
    for k, invoice in enumerate(draft.invoices, start=1):
        agreement = agreements.get(invoice.agreement_year)
        rows = line_rows(invoice, agreement, p.lang)
        for row in rows:
            row["url"] = f"{base}/documents/{k}/lines/{row['position']}"
            row["target"] = f"explanation-{k}-{row['position']}"
        documents.append({"k": k, "invoice": invoice, "lines": rows,
                          "kind": p.t(f"web.invoices.kind.{invoice.kind.value}"),
                          "municipality": agreement.name_of(invoice.municipality, p.lang) if agreement else
                          invoice.municipality})
    first = agreements.get(draft.invoices[0].agreement_year) if draft.invoices else None
    issued = []
    for invoice in issued_of(p.reader, draft):
        agreement = agreements.get(invoice.agreement_year) or first
        url = p.url(f"invoices/{invoice.number}")
        issued.append({"invoice": invoice, "url": url, "pdf": f"{url}/pdf", "finvoice": f"{url}/finvoice",
                       "peppol": f"{url}/peppol", "kind": p.t(f"web.invoices.kind.{invoice.kind.value}"),
                       "municipality": agreement.name_of(invoice.municipality, p.lang) if agreement else
                       invoice.municipality})
    open_ = draft.status == "draft"
    return p.render("runs/show.html", status=status, draft=draft, base=base, documents=documents, issued=issued,
                    subject=_subject(p, draft, first), kind=p.t(f"web.runs.kind.{draft.kind}"),
                    title=p.t(f"web.runs.show.title.{draft.kind}", subject=_subject(p, draft, first), draft=draft.id),
                    credited_url=p.url(f"invoices/{draft.credited}") if draft.credited else "",
                    may_approve=open_ and p.may(Resource.RUNS, Action.APPROVE),
                    may_recompute=open_ and p.may(Resource.RUNS, Action.WRITE),
                    errors=list(errors), reason=reason, notice=notice, day=_day(p))


@router.get("/areas/{area}/runs/{draft_id}")
def draft_page(draft_id: DraftId, request: Request, p: Page = Depends(READ)):
    notice = {"approved": "web.runs.notice.approved", "recomputed": "web.runs.notice.recomputed",
              "unchanged": "web.runs.notice.unchanged"}.get(request.query_params.get("done", ""), "")
    return _show(p, draft_id, notice=p.t(notice) if notice else "")


@router.get("/areas/{area}/runs/{draft_id}/documents/{k}/lines/{position}")
def draft_line(draft_id: DraftId, k: int, position: int, p: Page = Depends(READ)):
    """A drafted line's explanation: the figure tree it will be issued with."""
    draft = _draft(p, draft_id)
    if not 1 <= k <= len(draft.invoices):
        raise PageError(404, "web.error.not_found")
    invoice = draft.invoices[k - 1]
    line = next((x for x in invoice.lines if x.position == position), None)
    if line is None:
        raise PageError(404, "web.error.not_found")
    agreement = _agreements(p, [invoice]).get(invoice.agreement_year)
    name = agreement.name_of(invoice.municipality, p.lang) if agreement else invoice.municipality
    return render_line(p, heading=p.t("web.runs.line.title", draft=draft.id, municipality=name, position=position),
                       back_url=p.url(f"runs/{draft.id}") + f"#document-{k}",
                       back_label=p.t("web.runs.line.back", draft=draft.id),
                       line=explained_line(invoice, agreement, p.lang, line, line.explanation))


@router.post("/areas/{area}/runs/{draft_id}/approve")
async def approve(draft_id: DraftId, request: Request, p: Page = Depends(APPROVE)):
    """Approve the draft as it was shown (its hash in the form); refusals shown on its page."""
    from osuus.services import approval

    form = await request.form()
    expected = str(form.get("expected", "")).strip()
    await run_in_threadpool(_draft, p, draft_id)
    if not expected:
        raise PageError(400, "web.runs.error.expected")
    try:
        await run_in_threadpool(lambda: approval.approve(p.ledger, draft_id, expected_hash=expected))
    except ProblemsError as exc:
        codes = {problem.code for problem in exc.problems}
        status = 403 if "draft.own" in codes else 409
        return await run_in_threadpool(_show, p, draft_id, status=status, errors=refusal_errors(p, exc, FIELDS))
    return redirect(p.url(f"runs/{draft_id}") + "?done=approved")


@router.post("/areas/{area}/runs/{draft_id}/reject")
async def reject(draft_id: DraftId, request: Request, p: Page = Depends(APPROVE)):
    """Reject the draft, with a reason: it is removed; its audit record stays."""
    from osuus.services import approval

    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return await run_in_threadpool(_show, p, draft_id, status=400,
                                       errors=[("reason", p.t("web.runs.error.reason"))])
    await run_in_threadpool(_draft, p, draft_id)
    try:
        await run_in_threadpool(approval.reject, p.ledger, draft_id, reason)
    except ProblemsError as exc:
        return await run_in_threadpool(_show, p, draft_id, status=409, errors=refusal_errors(p, exc, FIELDS),
                                       reason=reason)
    return redirect(p.url("runs") + "?rejected=" + str(draft_id))


@router.post("/areas/{area}/runs/{draft_id}/recompute")
async def recompute(draft_id: DraftId, p: Page = Depends(WRITE)):
    """Compute the draft again from the ledger as it is now (after new events, say)."""
    from osuus.services.approval import recompute_draft

    await run_in_threadpool(_draft, p, draft_id)
    try:
        done = await run_in_threadpool(recompute_draft, p.ledger, draft_id)
    except ProblemsError as exc:
        return await run_in_threadpool(_show, p, draft_id, status=409, errors=refusal_errors(p, exc, FIELDS))
    return redirect(p.url(f"runs/{draft_id}") + ("?done=recomputed" if done.changed else "?done=unchanged"))


@router.get("/areas/{area}/runs/{draft_id}/documents.zip")
def documents_zip(draft_id: DraftId, format: Literal["all", "pdf", "finvoice", "peppol"] = Query("all"),
                  p: Page = Depends(READ)):
    """Every document of an approved draft in one zip: PDFs (in the reader's language), Finvoice
    and Peppol messages, or all three; made as the API makes each (and cached alike)."""
    import io
    import zipfile

    from osuus.api.routes.invoices import DOCUMENTS, document_tag
    from osuus.einvoice.finvoice import finvoice_xml
    from osuus.einvoice.peppol import peppol_xml
    from osuus.render.pdf.letters import invoice_pdf
    from osuus.services.approval import issued_documents

    draft = _draft(p, draft_id)
    pdfs, einvoices = format in ("all", "pdf"), format in ("all", "finvoice", "peppol")
    issued = issued_documents(p.reader, draft, einvoice=einvoices)
    if not issued:
        raise PageError(404, "web.error.not_found")
    ctx = p.api
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice, doc in issued:
            def pdf(lang: str):
                return DOCUMENTS.get_or_make(p.area, document_tag(ctx, invoice, "pdf", lang),
                                             lambda: invoice_pdf(doc, lang))

            if pdfs:
                archive.writestr(f"{invoice.number}.pdf", pdf(p.lang))
            if format in ("all", "finvoice"):
                archive.writestr(f"{invoice.number}.finvoice.xml", finvoice_xml(doc))
            if format in ("all", "peppol"):
                archive.writestr(f"{invoice.number}.peppol.xml", DOCUMENTS.get_or_make(
                    p.area, document_tag(ctx, invoice, "peppol"), lambda: peppol_xml(doc, pdf("fi"))))
    name = f"{draft.subject}-{format}.zip"
    return Response(out.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
