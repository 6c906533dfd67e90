"""Where a year's cycle stands, and what to do next: the host's "year at a glance".

The yearly cycle (docs: DOMAIN, "the yearly cycle"): the agreement is stored; the
reference counts and the service events are imported; each period is drafted and
approved; in August the estimate of the next year is made; after the year its actual
costs are imported, the year is closed and the annual reports go out. `year_status`
reads all of it in one read transaction and says what comes next as machine codes
(`next_steps`), which the edges put into words from the message catalogue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from osuus.billing.kinds import DocumentKind
from osuus.calendar import Period, PeriodKind, periods_of_year
from osuus.services.agreements import Agreements
from osuus.services.ledger import Ledger
from osuus.store import queries
from osuus.store.tables import (
    ActualCost,
    AgreementVersion,
    Draft,
    Estimate,
    Invoice,
    ReferenceCount,
    ServiceEvent,
    YearClosing,
)

__all__ = ["STEPS", "WaitingDraft", "YearStatus", "next_steps", "year_status", "years"]

#: The codes of `YearStatus.next_steps`, in the order of the cycle. Some carry an argument
#: after a colon: `draft-month:3` (or `draft-quarter:2`, `draft-year:1`), `approve-draft:5`.
STEPS = ("store-agreement", "import-counts", "import-events", "approve-draft", "draft-month", "draft-quarter",
         "draft-year", "make-estimate", "import-costs", "close-year", "annual-reports")

#: The estimate of the next year is made in August.
ESTIMATE_MONTH = 8


@dataclass(frozen=True)
class WaitingDraft:
    """A draft of the year waiting for an approver: an invoice run, or a credit note of an
    invoice of the year's periods."""

    id: int
    kind: str  # invoice_run | credit_note
    subject: str  # the period (2021-03), or the number of the invoice credited
    prepared_by: str
    prepared_at: dt.datetime


@dataclass(frozen=True)
class YearStatus:
    year: int
    agreement_revision: int | None  # the revision in force; None: no agreement of the year is stored
    billing_period: PeriodKind  # how the year is invoiced (as its agreement, else the one before, says)
    counts: int  # reference counts of the year (dated from 31 December before it to 30 December)
    count_municipalities: int
    costs: int  # rows of actual costs and funding of the year
    events: int  # service events of the year
    unbilled_events: int
    invoiced: tuple[Period, ...]  # the periods with an issued invoice run, in order
    drafts: tuple[WaitingDraft, ...]  # open drafts of the year, oldest first
    estimate_revision: int | None  # of the next year's estimate; None: not made
    estimate_made_at: dt.datetime | None
    closed_at: dt.datetime | None
    closed_by: str | None
    invoices: int  # issued for the year's periods
    credit_notes: int
    next_steps: tuple[str, ...]  # codes of STEPS, what to do next first

    @property
    def agreement_revisions(self) -> int:
        """How many revisions of the year's agreement are stored (they are numbered 1, 2, ...)."""
        return self.agreement_revision or 0

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def invoiced_months(self) -> tuple[int, ...]:
        """The months (1–12) the issued runs cover (a quarter's run covers its three)."""
        return tuple(sorted({m for p in self.invoiced for m in range(p.start.month, p.end.month + 1)}))


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands times back naive (stored in UTC)."""
    return at.replace(tzinfo=dt.timezone.utc) if at is not None and at.tzinfo is None else at


def _counts(session: Session, year: int) -> tuple[int, int]:
    """The reference counts that describe the year: the population on the eve of it (31 December
    before) and the figures of the year itself; a count of 31 December serves the year after."""
    r = ReferenceCount
    rows, municipalities = session.execute(
        select(func.count(), func.count(r.municipality.distinct()))
        .where(r.date >= dt.date(year - 1, 12, 31), r.date < dt.date(year, 12, 31))).one()
    return rows or 0, municipalities or 0


def _drafts(session: Session, year: int) -> tuple[WaitingDraft, ...]:
    """The open drafts of the year's periods (without reading their documents): a run's subject
    is its period, a credit note's the number of the invoice it credits."""
    rows = session.execute(select(Draft.id, Draft.kind, Draft.subject, Draft.prepared_by, Draft.prepared_at)
                           .where(Draft.status == "draft").order_by(Draft.id)).all()
    credited = [r.subject for r in rows if r.kind != "invoice_run"]
    years_of = dict(session.execute(select(Invoice.number, Invoice.period_year)
                                    .where(Invoice.number.in_(credited))).all()) if credited else {}
    out = []
    for r in rows:
        of = Period.parse(r.subject).year if r.kind == "invoice_run" else years_of.get(r.subject)
        if of == year:
            out.append(WaitingDraft(r.id, r.kind, r.subject, r.prepared_by, _aware(r.prepared_at)))
    return tuple(out)


def _documents(session: Session, year: int) -> dict[DocumentKind, int]:
    return {DocumentKind(kind): n for kind, n in session.execute(
        select(Invoice.kind, func.count()).where(Invoice.period_year == year).group_by(Invoice.kind))}


def year_status(ledger: Ledger, year: int, *, today: dt.date | None = None) -> YearStatus:
    """Where `year`'s cycle stands in the ledger's area, and what to do next as of `today`."""
    today = today or dt.date.today()
    with ledger.read() as session:
        agreements = Agreements(session)
        revision = queries.latest_revision(session, year)
        base = agreements.for_year_or_before(year)
        kind = PeriodKind(base.billing.period) if base is not None and base.billing else PeriodKind.MONTH
        counts, municipalities = _counts(session, year)
        costs = session.scalar(select(func.count()).select_from(ActualCost).where(ActualCost.year == year)) or 0
        events = session.scalar(select(func.count()).select_from(ServiceEvent).where(ServiceEvent.year == year)) or 0
        unbilled = queries.unbilled_count(session, year, events) if events else 0
        invoiced = tuple(sorted(queries.run_periods(session, year)))
        drafts = _drafts(session, year)
        estimate = queries.estimate_revision(session, year + 1)
        estimated_at = session.scalar(select(func.max(Estimate.created_at)).where(
            Estimate.year == year + 1, Estimate.revision == estimate)) if estimate is not None else None
        closing = session.execute(select(YearClosing.closed_at, YearClosing.closed_by)
                                  .where(YearClosing.year == year)).first()
        documents = _documents(session, year)
    status = YearStatus(year, revision, kind, counts, municipalities, costs, events, unbilled, invoiced, drafts,
                        estimate, _aware(estimated_at), _aware(closing[0]) if closing else None,
                        closing[1] if closing else None, documents.get(DocumentKind.INVOICE, 0),
                        documents.get(DocumentKind.CREDIT_NOTE, 0), ())
    return dataclasses.replace(status, next_steps=next_steps(status, today, base is not None))


def next_steps(status: YearStatus, today: dt.date, any_agreement: bool = True) -> tuple[str, ...]:
    """What to do next with the year, in the order of the cycle (codes of STEPS).

    `any_agreement`: an agreement of the year or of one before is stored (without one,
    nothing but storing it can be done)."""
    year = status.year
    if status.closed:
        return (*_estimate_step(status, today), "annual-reports")
    steps = []
    if status.agreement_revision is None:
        steps.append("store-agreement")
        if not any_agreement:
            return tuple(steps)
    if not status.counts and status.estimate_revision is None:
        steps.append("import-counts")
    if not status.events and status.agreement_revision is not None and today >= dt.date(year, 1, 1):
        steps.append("import-events")
    steps += [f"approve-draft:{d.id}" for d in status.drafts]
    pending = next((p for p in periods_of_year(year, status.billing_period) if p not in status.invoiced), None)
    drafted = {d.subject for d in status.drafts if d.kind == "invoice_run"}
    if pending is not None and pending.end < today and pending.code not in drafted:
        steps.append(f"draft-{pending.kind.value}:{pending.index}")
    steps += _estimate_step(status, today)
    if today > dt.date(year, 12, 31):
        if not status.costs:
            steps.append("import-costs")
        elif pending is None and not status.unbilled_events and not status.drafts:
            steps.append("close-year")
    return tuple(steps)


def _estimate_step(status: YearStatus, today: dt.date) -> list[str]:
    """The next year's estimate is made from August on, once."""
    if status.estimate_revision is None and today >= dt.date(status.year, ESTIMATE_MONTH, 1):
        return ["make-estimate"]
    return []


def years(ledger: Ledger) -> list[int]:
    """The years the area has an agreement or an invoice for (of the invoice's period), newest first."""
    with ledger.read() as session:
        found = union(select(AgreementVersion.year), select(Invoice.period_year)).subquery()
        return sorted(session.scalars(select(found.c[0]).distinct()), reverse=True)
