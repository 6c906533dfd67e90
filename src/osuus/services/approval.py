"""Four eyes: an invoice run or a credit note is a draft until someone else approves it.

`prepare_run` and `prepare_credit` compute what would be issued and keep it as a
draft (`Draft`): its documents as structure (`content`, money as decimal strings),
the SHA-256 of their canonical JSON (`content_hash`) and what pins the computation
(`params`: the period and invoice date, or the invoice credited, its reason and date;
the last event id and the agreement version seen). A draft has no number, is in no
table of issued documents, and is never exported. One draft of a period (or of an
invoice credited) is open at a time.

`approve` issues a draft, by an approver who is not its preparer (unless the
installation lets one person approve their own drafts, `OSUUS_SELF_APPROVAL=1`,
recorded as such in the draft and in the audit record). It computes the documents
again from the ledger as it is now, with the draft's params: if they are not exactly
those reviewed (their hash differs: events imported, an agreement stored, an invoice
credited meanwhile), approval is refused until the draft is computed again
(`recompute_draft`). Otherwise they are issued as the draft shows them, numbered at
that moment, gaplessly. The first statement of the approval is the draft's
`UPDATE ... SET status = 'approved' WHERE status = 'draft'`: of two approvals at once,
one issues and the other finds the draft approved and is refused (the billing lock
and the unique constraints on runs and numbers are the further lines of defence).

`reject` removes a draft, with a reason: a rejected draft leaves nothing behind but
its audit record. Each step is one transaction with one audit record naming its actor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from osuus.calendar import Period
from osuus.privacy import masked, personal_codes_in
from osuus.problems import refuse
from osuus.services.audit import checkpoint
from osuus.services.invoicing import (
    CreditPlan,
    RunPlan,
    RunResult,
    content_hash,
    credit_content,
    issue_credit,
    issue_run,
    plan_credit,
    plan_run,
    reason_problems,
    run_content,
    unnumbered_views,
    views,
)
from osuus.services.ledger import ENV_SELF_APPROVAL, Ledger, now
from osuus.services.views import InvoiceView
from osuus.store import queries
from osuus.store.tables import Draft

if TYPE_CHECKING:
    from osuus.documents.model import InvoiceDocument

__all__ = ["ENV_SELF_APPROVAL", "Approved", "DraftHead", "DraftView", "Rejected", "approve", "draft_heads", "draft_id_of",
           "issued_documents", "issued_of", "list_drafts", "prepare_credit", "prepare_run", "recompute_draft", "reject",
           "self_approval", "show_draft"]

INVOICE_RUN, CREDIT_NOTE = "invoice_run", "credit_note"


def self_approval(ledger: Ledger) -> bool:
    """Whether this ledger's actor may approve their own drafts (`ledger.self_approval`, from
    $OSUUS_SELF_APPROVAL: a one-person test installation; such approvals are recorded so)."""
    return bool(ledger.self_approval)


# --------------------------------------------------------------------------
# what the use cases return
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class DraftView:
    """A draft as its reviewer sees it: its documents without numbers, and who made it when."""

    id: int
    kind: str  # invoice_run | credit_note
    subject: str  # the period (2021-03), or the number of the invoice credited
    status: str  # draft | approved
    prepared_by: str
    prepared_at: dt.datetime
    content_hash: str
    period: Period
    issue_date: dt.date
    invoices: tuple[InvoiceView, ...]  # unnumbered
    total: Decimal
    events: int = 0  # an invoice run: the service events it bills
    allowed_gap: tuple[str, ...] = ()  # an invoice run: earlier periods passed over on purpose
    credited: str = ""  # a credit note: the invoice it credits
    reason: str = ""  # a credit note's reason
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    self_approved: bool = False
    changed: bool | None = None  # recompute_draft: whether the documents changed

    @property
    def is_run(self) -> bool:
        return self.kind == INVOICE_RUN


@dataclass(frozen=True)
class Approved:
    """An approved draft and what its approval issued: a run, or a credit note."""

    draft: DraftView
    run: RunResult | None = None
    credit_note: InvoiceView | None = None


@dataclass(frozen=True)
class Rejected:
    id: int
    kind: str
    subject: str
    prepared_by: str
    rejected_by: str
    reason: str


def _at(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands times back naive (stored in UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


def _view(draft: Draft, changed: bool | None = None) -> DraftView:
    content = draft.content
    invoices = unnumbered_views(content)
    return DraftView(draft.id, draft.kind, draft.subject, draft.status, draft.prepared_by, _at(draft.prepared_at),
                     draft.content_hash, Period.parse(content["period"]), dt.date.fromisoformat(content["issue_date"]),
                     invoices, Decimal(content["total"]), int(content.get("events", 0)),
                     tuple(content.get("allowed_gap", ())), content.get("invoice", "") if draft.kind == CREDIT_NOTE
                     else "", content.get("reason", ""), draft.approved_by, _at(draft.approved_at),
                     bool(draft.self_approved), changed)


# --------------------------------------------------------------------------
# preparing
# --------------------------------------------------------------------------

def _compute(session: Session, kind: str, params: dict) -> tuple[RunPlan | CreditPlan, dict]:
    """The plan of a draft's params, computed from the ledger as it is now, and its content."""
    issue_date = dt.date.fromisoformat(params["issue_date"])
    if kind == INVOICE_RUN:
        plan = plan_run(session, Period.parse(params["period"]), issue_date, allow_gap=bool(params["allow_gap"]))
        return plan, run_content(plan)
    plan = plan_credit(session, params["invoice"], params["reason"], issue_date)
    return plan, credit_content(plan)


def _pins(plan: RunPlan | CreditPlan) -> dict:
    """What the computation was made from, besides its own params (kept to show, not to compute)."""
    if isinstance(plan, RunPlan):
        return {"max_event_id": plan.max_event_id, "agreement_version_id": plan.version_id}
    return {"agreement_version_id": plan.version_id}


def _open_draft(session: Session, kind: str, subject: str) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.kind == kind, Draft.subject == subject,
                                              Draft.status == "draft").order_by(Draft.id).limit(1))


def _prepare(ledger: Ledger, kind: str, subject: str, params: dict) -> DraftView:
    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
        existing = _open_draft(session, kind, subject)
        if existing is not None:
            what = f"the invoice run of {subject}" if kind == INVOICE_RUN else f"the credit note of {subject}"
            raise refuse(f"{what} is already drafted: draft {existing.id}, prepared by {existing.prepared_by} on "
                         f"{_at(existing.prepared_at):%Y-%m-%d %H:%M}; approve it (osuus approve {existing.id}), "
                         f"compute it again (osuus drafts {existing.id} --recompute) or reject it (osuus reject "
                         f"{existing.id} --reason TEXT)", key="PERIOD" if kind == INVOICE_RUN else "invoice",
                         code="draft.exists")
        plan, content = _compute(session, kind, params)
        digest = content_hash(content)
        draft = Draft(kind=kind, subject=subject, params={**params, **_pins(plan)}, content=content,
                      content_hash=digest, status="draft", prepared_by=tx.actor, prepared_at=now(),
                      self_approved=False)
        session.add(draft)
        session.flush()
        details = {"draft": draft.id, "kind": kind, "content_hash": digest, "documents": len(content["invoices"]),
                   "total": content["total"], "issue_date": params["issue_date"]}
        if kind == INVOICE_RUN:
            details["events"] = content["events"]
            if content.get("allowed_gap"):
                details["allowed_gap"] = content["allowed_gap"]
        tx.audit("draft.prepare", subject, details, reason=params.get("reason", ""))
        return _view(draft)


def prepare_run(ledger: Ledger, period: Period, issue_date: dt.date, *, allow_gap: bool = False) -> DraftView:
    """A period's invoice run as a draft: computed exactly as it would be issued, nothing issued.

    Refused as the run itself would be (a period invoiced already: `AlreadyInvoiced`, with the
    run it has; an invoice date out of range; an earlier period not invoiced yet, unless
    `allow_gap`), and when the period has an open draft already (naming it)."""
    return _prepare(ledger, INVOICE_RUN, period.code,
                    {"period": period.code, "issue_date": issue_date.isoformat(), "allow_gap": bool(allow_gap)})


def prepare_credit(ledger: Ledger, number: str, reason: str, issue_date: dt.date) -> DraftView:
    """The credit note of invoice `number` (the whole of it) as a draft, with its reason."""
    reason_problems(reason)
    return _prepare(ledger, CREDIT_NOTE, number,
                    {"invoice": number, "reason": reason, "issue_date": issue_date.isoformat()})


def _draft(session: Session, draft_id: int, *, lock: bool = False) -> Draft:
    draft = session.get(Draft, draft_id, with_for_update=lock)
    if draft is None:
        raise refuse(f"no draft {draft_id} (a rejected draft is removed; `osuus drafts` lists the open ones)",
                     key="DRAFT", code="draft.unknown")
    return draft


def recompute_draft(ledger: Ledger, draft_id: int) -> DraftView:
    """Compute an open draft again from the ledger as it is now (after new events, say), with
    the same params. Whoever computes it is its preparer from then on: the content is theirs."""
    with ledger.write() as tx:
        session = tx.session
        draft = _draft(session, draft_id, lock=True)  # the draft's row first, then the billing lock: as approve
        queries.lock_billing(session)
        if draft.status != "draft":
            raise refuse(f"draft {draft_id} is approved already ({draft.approved_by}, "
                         f"{_at(draft.approved_at):%Y-%m-%d %H:%M}): an issued document is never computed again",
                         key="DRAFT", code="draft.approved")
        plan, content = _compute(session, draft.kind, draft.params)
        digest = content_hash(content)
        previous = draft.content_hash
        params = {k: v for k, v in draft.params.items()}
        draft.params = {**params, **_pins(plan)}
        draft.content, draft.content_hash = content, digest
        if digest != previous:  # new content is its recomputer's to vouch for; the same stays its preparer's
            draft.prepared_by, draft.prepared_at = tx.actor, now()
        tx.audit("draft.recompute", draft.subject, {"draft": draft.id, "kind": draft.kind, "content_hash": digest,
                                                    "previous_hash": previous, "changed": digest != previous})
        session.flush()
        return _view(draft, changed=digest != previous)


# --------------------------------------------------------------------------
# approving and rejecting
# --------------------------------------------------------------------------

def approve(ledger: Ledger, draft_id: int, *, expected_hash: str | None = None) -> Approved:
    """Issue a draft: its documents numbered now. Refused when the approver prepared it (unless
    self-approval is allowed: recorded), when it is approved already, and when the ledger no
    longer gives exactly the documents reviewed (compute the draft again first)."""
    allowed_self = self_approval(ledger)
    with ledger.write() as tx:
        session = tx.session
        at = now()
        # first: take the draft (of two approvals at once, one changes the row, the other finds none)
        taken = session.execute(update(Draft).where(Draft.id == draft_id, Draft.status == "draft")
                                .values(status="approved", approved_by=tx.actor, approved_at=at)
                                .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            draft = _draft(session, draft_id)
            raise refuse(f"draft {draft_id} is approved already by {draft.approved_by} on "
                         f"{_at(draft.approved_at):%Y-%m-%d %H:%M}: nothing was issued again", key="DRAFT",
                         code="draft.approved")
        draft = _draft(session, draft_id)
        if expected_hash is not None and expected_hash != draft.content_hash:
            raise refuse(f"draft {draft_id} is not the one reviewed: it was computed again since; review it again",
                         key="DRAFT", code="draft.changed")
        own = draft.prepared_by == tx.actor
        if own and not allowed_self:
            raise refuse(f"draft {draft_id} was prepared by {tx.actor}, who cannot approve it too: another user "
                         f"approves it (four eyes); a one-person test installation may allow it with "
                         f"{ENV_SELF_APPROVAL}=1", key="DRAFT", code="draft.own")
        queries.lock_billing(session)
        plan, content = _compute(session, draft.kind, draft.params)
        if content_hash(content) != draft.content_hash:
            raise refuse(f"draft {draft_id} ({draft.subject}) is not what the ledger gives now (events, an agreement "
                         "or an invoice changed since it was prepared), so it cannot be approved as reviewed: compute "
                         f"it again (osuus drafts {draft_id} --recompute) and review it", key="DRAFT",
                         code="draft.stale")
        draft.self_approved = own
        approval = {"draft": draft.id, "content_hash": draft.content_hash, "prepared_by": draft.prepared_by,
                    "prepared_at": _at(draft.prepared_at).isoformat(timespec="microseconds")}
        if own:
            approval["self_approved"] = True
        run = note = None
        if isinstance(plan, RunPlan):
            run, details = issue_run(tx, plan)
            draft.run_id = queries.run_of(session, plan.period).id
            tx.audit("invoice.run", plan.period.code, {**details, "approval": approval})
        else:
            note, details = issue_credit(tx, plan)
            draft.invoice_id = queries.invoice_by_number(session, note.number).id
            tx.audit("invoice.credit", plan.number, {**details, "approval": approval}, reason=plan.reason)
        session.flush()
        view = _view(draft)
    if run is not None:
        run = dataclasses.replace(run, checkpoint=checkpoint(ledger))
    return Approved(view, run, note)


def reject(ledger: Ledger, draft_id: int, reason: str) -> Rejected:
    """Reject a draft, with a reason: the draft is removed; its audit record (who prepared what,
    its hash, who rejected it and why) stays. Its approver rejects it, or its preparer withdraws
    it (nothing is issued either way; who may, the edges decide: `osuus.access`)."""
    if not reason.strip():
        raise refuse("a rejection needs a reason (--reason)", key="reason", code="draft.no-reason")
    codes = personal_codes_in(reason)
    if codes:
        raise refuse(f"the reason holds a personal identity code ({masked(codes[0])}); the change log keeps it for "
                     "ever, so write it without one", key="reason", code="privacy.personal-code")
    with ledger.write() as tx:
        session = tx.session
        draft = _draft(session, draft_id, lock=True)
        if draft.status != "draft":
            raise refuse(f"draft {draft_id} is approved already ({draft.approved_by}): an issued document is "
                         "corrected by a credit note, not rejected", key="DRAFT", code="draft.approved")
        result = Rejected(draft.id, draft.kind, draft.subject, draft.prepared_by, tx.actor, reason)
        tx.audit("draft.reject", draft.subject,
                 {"draft": draft.id, "kind": draft.kind, "subject": draft.subject, "content_hash": draft.content_hash,
                  "prepared_by": draft.prepared_by,
                  "prepared_at": _at(draft.prepared_at).isoformat(timespec="microseconds"),
                  "params": draft.params}, reason=reason)
        session.delete(draft)
        session.flush()
        return result


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------

def list_drafts(ledger: Ledger, *, approved: bool = False) -> list[DraftView]:
    """The open drafts (with `approved`, the approved ones too), oldest first."""
    with ledger.read() as session:
        q = select(Draft).order_by(Draft.id)
        if not approved:
            q = q.where(Draft.status == "draft")
        return [_view(d) for d in session.scalars(q)]


def show_draft(ledger: Ledger, draft_id: int) -> DraftView:
    with ledger.read() as session:
        return _view(_draft(session, draft_id))


@dataclass(frozen=True)
class DraftHead:
    """What a list shows of a draft: without its documents, which are most of its weight."""

    id: int
    kind: str
    subject: str
    status: str
    prepared_by: str
    prepared_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None
    total: Decimal
    documents: int

    @property
    def is_run(self) -> bool:
        return self.kind == INVOICE_RUN


def draft_heads(ledger: Ledger, *, kind: str | None = None, subject: str | None = None,
                open_only: bool = False) -> list[DraftHead]:
    """The drafts, oldest first, as heads: their totals and document counts read inside the
    database from the content's JSON (`list_drafts` reads every document of every draft, which a
    year of runs makes too slow for a list)."""
    with ledger.read() as session:
        if session.get_bind().dialect.name == "postgresql":
            count = func.json_array_length(Draft.content["invoices"])
        else:
            count = func.json_array_length(Draft.content, "$.invoices")
        query = select(Draft.id, Draft.kind, Draft.subject, Draft.status, Draft.prepared_by, Draft.prepared_at,
                       Draft.approved_by, Draft.approved_at, Draft.content["total"].as_string(), count)
        if kind is not None:
            query = query.where(Draft.kind == kind)
        if subject is not None:
            query = query.where(Draft.subject == subject)
        if open_only:
            query = query.where(Draft.status == "draft")
        rows = session.execute(query.order_by(Draft.id)).all()
    return [DraftHead(*row[:5], _at(row[5]), row[6], _at(row[7]), Decimal(row[8]), int(row[9] or 0))
            for row in rows]


def _issued_rows(session: Session, draft: DraftView) -> list:
    """The rows an approved draft issued: the invoices of its run, or its credit note."""
    if draft.status != "approved":
        return []
    if draft.is_run:
        run = queries.run_of(session, draft.period)
        return queries.invoices_of_run(session, run.id) if run is not None else []
    credited = queries.invoice_by_number(session, draft.credited)
    note = queries.credit_note_of(session, credited.id) if credited is not None else None
    return [note] if note is not None else []


def issued_of(ledger: Ledger, draft: DraftView, *, lines: bool = False) -> list[InvoiceView]:
    """What an approved draft issued (nothing while it is open), without the lines' explanations;
    `lines` False: without lines at all."""
    with ledger.read() as session:
        return views(session, _issued_rows(session, draft), explanations=False, lines=lines)


def issued_documents(ledger: Ledger, draft: DraftView, *, einvoice: bool = False) -> list[tuple[InvoiceView, InvoiceDocument]]:
    """What an approved draft issued, each with its document (osuus.documents.model; `einvoice`:
    with what an e-invoice needs besides), read in one transaction."""
    from osuus.services.documents import invoice_documents

    with ledger.read() as session:
        invoices = views(session, _issued_rows(session, draft), explanations=False)
        return list(zip(invoices, invoice_documents(session, invoices, einvoice=einvoice)))


def draft_id_of(ledger: Ledger, text: str) -> int:
    """A draft named by its id (`12`), or the open draft of a period (`2021-03`) or of the
    invoice it credits (`2021-00016`)."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    with ledger.read() as session:
        found = list(session.scalars(select(Draft).where(Draft.subject == text, Draft.status == "draft")
                                     .order_by(Draft.id)))
    if not found:
        raise refuse(f"expected a draft's id (osuus drafts lists them), or a period or an invoice number with an open "
                     f"draft; found {text!r}, which has none", key="DRAFT", code="draft.unknown")
    return found[0].id
