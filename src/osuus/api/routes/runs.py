"""Invoice runs and credit notes as drafts, for four eyes (osuus.services.approval).

A preparer drafts a period's run (`POST runs`) or a credit note (`POST invoices/{number}/credit`);
a draft has no number and is never exported. An approver who did not prepare it approves it
(`POST runs/{id}/approve`: its documents are issued and numbered then) or rejects it with a
reason. `GET runs/{id}` answers the draft with `ETag: "<content hash>"`: an approve with
`If-Match` approves only the content that was reviewed (412 when it was computed again since).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from osuus.access import Action, Resource
from osuus.api import models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import agreements_of, today
from osuus.api.paging import PageAsk, page, page_ask
from osuus.api.problems import ApiProblem, responses
from osuus.problems import Problem, ProblemsError

router = APIRouter(prefix="/areas/{area}/runs", route_class=GuardedRoute, tags=["runs"])

READ = require(Resource.RUNS, Action.READ)
WRITE = require(Resource.RUNS, Action.WRITE)
APPROVE = require(Resource.RUNS, Action.APPROVE)


def drafts_json(ctx: Context, drafts) -> list[dict]:
    from osuus.render.ledger_json import draft_json

    agreements = agreements_of(ctx.reader, {i.agreement_year for d in drafts for i in d.invoices})
    return [draft_json(d, lambda i: agreements.get(i.agreement_year), ctx.lang) for d in drafts]


def draft_answer(ctx: Context, response: Response, draft) -> dict:
    response.headers["ETag"] = f'"{draft.content_hash}"'
    response.headers["Location"] = f"/api/v1/areas/{ctx.area}/runs/{draft.id}"
    return drafts_json(ctx, [draft])[0]


def _period(text: str):
    from osuus.calendar import Period

    try:
        parsed = Period.parse(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.kind.value == "year":
        raise ProblemsError([Problem(f"expected a month such as 2021-03 or a quarter such as 2021-Q1, found {text!r}",
                                     key="period", code="period.invalid")])
    return parsed


@router.post("", response_model=models.Draft, status_code=201, responses=responses(401, 403, 404, 409, 422),
             summary="Draft a period's invoice run")
def prepare(body: models.RunRequest, request: Request, response: Response, ctx: Context = Depends(WRITE)) -> dict:
    """The run computed exactly as it would be issued, kept as a draft for an approver. A period
    invoiced already (409, `invoice.already`) or with an open draft (409, `draft.exists`) makes nothing."""
    from osuus.services.approval import prepare_run

    draft = prepare_run(ctx.ledger, _period(body.period), body.date or today(), allow_gap=body.allow_gap)
    return draft_answer(ctx, response, draft)


@router.get("", response_model=models.Page[models.Draft], responses=responses(401, 403, 404),
            summary="The drafts waiting for approval (with status=all, the approved ones too)")
def list_(request: Request, response: Response, ctx: Context = Depends(READ), ask: PageAsk = Depends(page_ask),
          status: str = Query("draft", pattern="^(draft|all)$")) -> dict:
    from osuus.services.approval import list_drafts

    found = list_drafts(ctx.reader, approved=status == "all")
    return page(request, response, drafts_json(ctx, found[ask.offset:ask.offset + ask.limit]), len(found), ask)


@router.get("/{draft_id}", response_model=models.Draft, responses=responses(401, 403, 404),
            summary="A draft: its documents without numbers, and the hash of what is reviewed")
def show(draft_id: int, response: Response, ctx: Context = Depends(READ)) -> dict:
    from osuus.services.approval import show_draft

    return draft_answer(ctx, response, show_draft(ctx.reader, draft_id))


@router.post("/{draft_id}/recompute", response_model=models.Draft, responses=responses(401, 403, 404, 409, 422),
             summary="Compute a draft again from the ledger as it is now")
def recompute(draft_id: int, request: Request, response: Response, ctx: Context = Depends(WRITE)) -> dict:
    from osuus.services.approval import recompute_draft

    return draft_answer(ctx, response, recompute_draft(ctx.ledger, draft_id))


@router.post("/{draft_id}/approve", response_model=models.Approved, responses=responses(401, 403, 404, 409, 412, 422),
             summary="Approve a draft: its documents are issued, numbered now")
def approve(draft_id: int, request: Request, ctx: Context = Depends(APPROVE),
            if_match: str | None = Header(None, description="the draft's ETag as reviewed: approve only that")
            ) -> dict:
    """Refused to the user who prepared the draft (403, `draft.own`), for a draft approved already
    (409, `draft.approved`) and for one the ledger no longer gives as reviewed (409, `draft.stale`:
    compute it again first). With `If-Match`, a draft computed again since it was reviewed: 412."""
    from osuus.render.ledger_json import approved_json
    from osuus.services import approval

    expected = None
    if if_match is not None:
        current = approval.show_draft(ctx.reader, draft_id)
        tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
        if f'"{current.content_hash}"' not in tags and "*" not in tags:
            raise ApiProblem(412, f"draft {draft_id} is not the one reviewed: it was computed again since (its "
                             "ETag differs); review it again", log_reason="draft-changed")
        # and checked again inside the approval's own transaction: a recompute in between is refused
        expected = current.content_hash if "*" not in tags else None
    try:
        result = approval.approve(ctx.ledger, draft_id, expected_hash=expected)
    except ProblemsError as exc:
        if any(p.code == "draft.changed" for p in exc.problems):
            raise ApiProblem(412, exc.problems[0].message, log_reason="draft-changed") from None
        raise
    issued = result.run.invoices if result.run is not None else (result.credit_note,)
    agreements = agreements_of(ctx.reader, {i.agreement_year for i in issued} |
                               {i.agreement_year for i in result.draft.invoices})
    return approved_json(result, lambda i: agreements.get(i.agreement_year), ctx.lang)


@router.post("/{draft_id}/reject", response_model=models.Rejected, responses=responses(401, 403, 404, 409, 422),
             summary="Reject a draft, with a reason: it is removed; its audit record stays")
def reject(draft_id: int, body: models.RejectRequest, request: Request, ctx: Context = Depends(APPROVE)) -> dict:
    from osuus.services.approval import reject as reject_draft

    done = reject_draft(ctx.ledger, draft_id, body.reason)
    return {"draft": done.id, "kind": done.kind, "subject": done.subject, "prepared_by": done.prepared_by,
            "rejected_by": done.rejected_by, "reason": done.reason}

