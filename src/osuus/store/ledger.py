"""The ledger: every step of the yearly cycle as one database transaction.

Each function takes a Session, does its reads and writes, appends an audit
record and leaves the commit to the caller (`transaction()` in the CLI): a
step either happens whole or not at all, and a crash leaves nothing behind.
Running a step again finds its earlier result and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from sqlalchemy import and_, exists, func, select, text, update
from sqlalchemy.orm import Session

from osuus.agreement import parse_agreement
from osuus.agreement.model import Agreement
from osuus.billing.estimate import YearEstimate, estimate_from_actuals, estimate_from_agreement
from osuus.billing.invoicing import EventSum, InvoiceDraft, draft_period
from osuus.billing.periods import Period
from osuus.billing.records import ServiceEventRecord
from osuus.billing.settlement import ActualCost, YearSettlement, settle_year
from osuus.engine import allocate
from osuus.ids import viitenumero
from osuus.money import ZERO
from osuus.problems import Problem, ProblemsError
from osuus.store import audit
from osuus.store.tables import (
    ActualCost as ActualCostRow,
    AgreementVersion,
    Estimate,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceRun,
    ReferenceCount,
    ServiceEvent,
    Settlement,
    YearClosing,
)

_RUN_LOCK = 7_202_103  # pg_advisory_xact_lock key of billing writes (invoice runs, closings, credits)


def fault_point(name: str) -> None:
    """A place where tests stop the process on purpose (OSUUS_FAULT_POINT=name): it
    announces itself on stderr and waits, so that a test can kill it mid-transaction."""
    if os.environ.get("OSUUS_FAULT_POINT") == name:
        print(f"fault point {name} reached", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("OSUUS_FAULT_SLEEP", "60")))


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def lock_billing(session: Session) -> None:
    """Serialise billing writes. PostgreSQL: an advisory lock held to the end of the
    transaction; SQLite: the engine already begins every transaction IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RUN_LOCK})


# --------------------------------------------------------------------------
# agreements
# --------------------------------------------------------------------------

@dataclass
class AgreementAdded:
    version: AgreementVersion
    created: bool
    previous_revision: int | None = None


def add_agreement(session: Session, path: Path, actor: str) -> AgreementAdded:
    """Store an agreement file. The same content again adds nothing; edited content makes
    a new revision of its year and keeps the old one (invoices keep referring to theirs)."""
    raw = path.read_bytes()
    source = raw.decode("utf-8")
    agreement, problems = parse_agreement(source, str(path))
    if problems:
        raise ProblemsError(problems)
    content_hash = hashlib.sha256(raw).hexdigest()
    lock_billing(session)
    existing = session.scalar(select(AgreementVersion).where(
        AgreementVersion.year == agreement.year, AgreementVersion.content_hash == content_hash))
    if existing is not None:
        return AgreementAdded(existing, False)
    latest = session.scalar(select(func.max(AgreementVersion.revision)).where(AgreementVersion.year == agreement.year))
    version = AgreementVersion(agreement_id=agreement.id, year=agreement.year, revision=(latest or 0) + 1,
                               host=agreement.host_municipality.code, content_hash=content_hash, content=source,
                               file_name=path.name, added_at=now(), added_by=actor)
    session.add(version)
    session.flush()
    audit.append(session, actor=actor, action="agreement.add", subject=f"{agreement.id} rev {version.revision}",
                 details={"year": agreement.year, "revision": version.revision, "sha256": content_hash,
                          "file": path.name})
    return AgreementAdded(version, True, latest)


_parsed: dict[str, Agreement] = {}


def agreement_of(version: AgreementVersion) -> Agreement:
    """Parse a stored version (cached by content hash: stored content never changes)."""
    cached = _parsed.get(version.content_hash)
    if cached is None:
        agreement, problems = parse_agreement(version.content, f"{version.file_name} (rev {version.revision})")
        if problems:
            raise ProblemsError(problems)
        cached = _parsed[version.content_hash] = agreement
    return cached


def current_version(session: Session, year: int) -> AgreementVersion | None:
    return session.scalar(select(AgreementVersion).where(AgreementVersion.year == year)
                          .order_by(AgreementVersion.revision.desc()).limit(1))


def current_agreement(session: Session, year: int) -> Agreement | None:
    version = current_version(session, year)
    return agreement_of(version) if version else None


def stored_years(session: Session) -> list[int]:
    return list(session.scalars(select(AgreementVersion.year).distinct().order_by(AgreementVersion.year)))


def latest_agreement(session: Session, before: int | None = None) -> Agreement | None:
    years = [y for y in stored_years(session) if before is None or y < before]
    return current_agreement(session, years[-1]) if years else None


# --------------------------------------------------------------------------
# invoices
# --------------------------------------------------------------------------

@dataclass
class RunResult:
    period: Period
    run: InvoiceRun
    created: bool
    invoices: list[Invoice] = field(default_factory=list)
    events_billed: int = 0


def unbilled():
    """SQL condition: no invoice run has billed the event (none reaches both its id and its date)."""
    r, e = InvoiceRun, ServiceEvent
    return ~exists().where(r.max_event_id >= e.id, r.period_end >= e.date)


def event_sums(session: Session, until: dt.date) -> list[EventSum]:
    """Unbilled events up to a date, summed in SQL by member, component, month and tier."""
    e = ServiceEvent
    rows = session.execute(
        select(e.municipality, e.component, e.year, e.month, e.integration_year,
               func.sum(e.quantity), func.sum(e.travel_days), func.sum(e.km), func.sum(e.interpretation),
               func.count())
        .where(e.date <= until, unbilled())
        .group_by(e.municipality, e.component, e.year, e.month, e.integration_year)
    )
    return [EventSum(m, c, y, mo, iy, q or ZERO, t or ZERO, k or ZERO, i or ZERO, n)
            for m, c, y, mo, iy, q, t, k, i, n in rows]


def open_settlements(session: Session, before_year: int) -> dict[str, list[tuple[int, Decimal, str]]]:
    out: dict[str, list[tuple[int, Decimal, str]]] = {}
    for s in session.scalars(select(Settlement).where(Settlement.carried_invoice_id.is_(None),
                                                      Settlement.year < before_year)
                             .order_by(Settlement.year, Settlement.id)):
        out.setdefault(s.municipality, []).append((s.year, s.difference, s.note))
    return out


def next_sequence(session: Session, host: str, year: int) -> InvoiceCounter:
    counter = session.scalar(select(InvoiceCounter).where(InvoiceCounter.host == host, InvoiceCounter.year == year)
                             .with_for_update())
    if counter is None:
        counter = InvoiceCounter(host=host, year=year, next_number=1)
        session.add(counter)
    return counter


def _write_invoice(session: Session, draft: InvoiceDraft, *, counter: InvoiceCounter, host: str, period: str,
                   run_id: int | None, version_id: int | None, issue_date: dt.date, terms: int,
                   credited: int | None = None, reason: str = "") -> Invoice:
    sequence = counter.next_number
    counter.next_number += 1
    year = issue_date.year
    invoice = Invoice(number=f"{year}-{sequence:05d}", host=host, year=year, sequence=sequence, kind=draft.kind,
                      municipality=draft.municipality, period=period, run_id=run_id, agreement_version_id=version_id,
                      issue_date=issue_date, due_date=issue_date + dt.timedelta(days=terms),
                      reference=viitenumero.from_invoice_number(year, sequence), total=draft.total,
                      credited_invoice_id=credited, reason=reason, created_at=now())
    session.add(invoice)
    session.flush()
    session.add_all(InvoiceLine(invoice_id=invoice.id, position=i, kind=line.kind, component=line.component,
                                description=line.description, quantity=line.quantity, unit=line.unit,
                                unit_price=line.unit_price, amount=line.amount, events_period=line.events_period,
                                reference=line.reference)
                    for i, line in enumerate(draft.lines, start=1))
    return invoice


def run_invoices(session: Session, period: Period, issue_date: dt.date, actor: str) -> RunResult:
    """Invoice a period once. A second run of the same period finds the first and writes nothing."""
    lock_billing(session)
    existing = session.scalar(select(InvoiceRun).where(InvoiceRun.period == period.code))
    if existing is not None:
        invoices = list(session.scalars(select(Invoice).where(Invoice.run_id == existing.id).order_by(Invoice.id)))
        return RunResult(period, existing, False, invoices)
    version = current_version(session, period.year)
    agreement = agreement_of(version) if version else None
    if agreement is not None and agreement.billing is not None and agreement.billing.period != period.kind:
        example = f"{period.year}-01" if agreement.billing.period == "month" else f"{period.year}-Q1"
        raise ProblemsError([Problem(f"the {period.year} agreement bills by {agreement.billing.period}: expected a "
                                     f"period such as {example}, found {period.code}", key="PERIOD")])
    base = agreement or latest_agreement(session, before=period.year)
    if base is None:
        raise ProblemsError([Problem(f"no agreement is stored for {period.year} or before; "
                                     "run `osuus agreement add FILE` first")])
    allocation = allocate(agreement) if agreement is not None else None
    versions: dict[int, Agreement | None] = {}

    def agreement_of_year(year: int) -> Agreement | None:
        if year not in versions:
            versions[year] = current_agreement(session, year)
        return versions[year]

    sums = event_sums(session, period.end)
    drafts = draft_period(period, agreement_of_year, allocation, sums, open_settlements(session, period.year))
    if drafts.problems:
        raise ProblemsError(list(drafts.problems))
    host = base.host_municipality.code
    terms = base.billing.payment_terms_days if base.billing else 21
    # what this run bills: the events up to the period's end stored by now (imports take the same
    # lock, so no event can be stored between the sums above and this)
    max_event_id = session.scalar(select(func.max(ServiceEvent.id))) or 0
    run = InvoiceRun(period=period.code, year=period.year, period_end=period.end, max_event_id=max_event_id,
                     agreement_version_id=version.id if version else None,
                     issue_date=issue_date, run_at=now(), run_by=actor)
    session.add(run)
    session.flush()
    counter = next_sequence(session, host, issue_date.year)
    invoices = []
    for n, draft in enumerate(drafts.invoices):
        if n == len(drafts.invoices) // 2:
            fault_point("invoice.run.middle")
        invoice = _write_invoice(session, draft, counter=counter, host=host, period=period.code, run_id=run.id,
                                 version_id=version.id if version else None, issue_date=issue_date, terms=terms)
        invoices.append(invoice)
        if draft.settles_year is not None:
            session.execute(update(Settlement).where(Settlement.municipality == draft.municipality,
                                                     Settlement.carried_invoice_id.is_(None),
                                                     Settlement.year < period.year)
                            .values(carried_invoice_id=invoice.id))
    billed = sum(s.events for s in sums)
    audit.append(session, actor=actor, action="invoice.run", subject=period.code,
                 details={"invoices": [i.number for i in invoices], "events": billed,
                          "total": str(sum((i.total for i in invoices), ZERO)), "issue_date": issue_date.isoformat()})
    return RunResult(period, run, True, invoices, billed)


def credit_invoice(session: Session, number: str, reason: str, issue_date: dt.date, actor: str) -> Invoice:
    """A credit note for the whole of an invoice. The invoice itself is never changed."""
    lock_billing(session)
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        raise ProblemsError([Problem(f"no invoice numbered {number}", key="invoice")])
    if invoice.kind != "invoice":
        raise ProblemsError([Problem(f"{number} is a credit note; only invoices are credited", key="invoice")])
    if not reason.strip():
        raise ProblemsError([Problem("a credit note needs a reason (--reason)", key="reason")])
    from osuus.privacy import masked, personal_codes_in

    codes = personal_codes_in(reason)
    if codes:  # the reason is printed on the credit note and sent to the member
        raise ProblemsError([Problem(f"the reason holds a personal identity code ({masked(codes[0])}); "
                                     "write it without one: credit notes name no persons", key="reason")])
    already = session.scalar(select(Invoice).where(Invoice.credited_invoice_id == invoice.id))
    if already is not None:
        raise ProblemsError([Problem(f"{number} is already credited by {already.number}", key="invoice")])
    lines = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                            .order_by(InvoiceLine.position))
    from osuus.billing.invoicing import LineDraft

    draft = InvoiceDraft(invoice.municipality, "credit_note", tuple(
        LineDraft(line.kind, line.component, f"Hyvitys: {line.description}", line.quantity, line.unit,
                  line.unit_price, -line.amount, line.events_period, line.reference) for line in lines))
    version = session.get(AgreementVersion, invoice.agreement_version_id) if invoice.agreement_version_id else None
    terms = agreement_of(version).billing.payment_terms_days if version and agreement_of(version).billing else 21
    counter = next_sequence(session, invoice.host, issue_date.year)
    note = _write_invoice(session, draft, counter=counter, host=invoice.host, period=invoice.period, run_id=None,
                          version_id=invoice.agreement_version_id, issue_date=issue_date, terms=terms,
                          credited=invoice.id, reason=reason)
    carried = _carry_credit_of_closed_years(session, invoice, note, draft)
    audit.append(session, actor=actor, action="invoice.credit", subject=number, reason=reason,
                 details={"credit_note": note.number, "total": str(note.total),
                          "carried_to_settlement": {str(y): str(v) for y, v in carried.items()}})
    return note


def _carry_credit_of_closed_years(session: Session, invoice: Invoice, note: Invoice, draft: InvoiceDraft) -> dict[int, Decimal]:
    """Crediting shares of a closed year would leave them unsettled: carry them to the next invoice.

    The year's settlement was fixed at close-year from what had been billed. A credit
    of that year's advance, event or settlement lines lowers what was billed, so the
    same amount is added as a settlement row, to be charged on the next invoice
    (a corrected invoice is not issued twice: the credit undoes, the settlement redoes)."""
    closed = _closed_years(session)
    by_year: dict[int, Decimal] = {}
    for line in draft.lines:
        if line.kind not in ("advance", "event", "adjustment", "settlement"):
            continue
        year_text = line.events_period[:4]
        if year_text.isdigit() and int(year_text) in closed:
            by_year[int(year_text)] = by_year.get(int(year_text), ZERO) - line.amount
    for year, amount in by_year.items():
        if amount:
            year_end = session.scalar(select(Settlement).where(
                Settlement.year == year, Settlement.municipality == invoice.municipality, Settlement.kind == "year_end"))
            session.add(Settlement(year=year, municipality=invoice.municipality, kind="credit",
                                   actual=year_end.actual if year_end else ZERO,
                                   billed=(year_end.billed if year_end else ZERO) - amount, difference=amount,
                                   note=f"Vuoden {year} tasaus: hyvityslaskulla {note.number} hyvitetty lasku "
                                        f"{invoice.number} laskutetaan uudelleen",
                                   credit_note_id=note.id))
    return by_year


# --------------------------------------------------------------------------
# closing the year
# --------------------------------------------------------------------------

def actual_costs(session: Session, year: int) -> dict[str, ActualCost]:
    out: dict[str, ActualCost] = {}
    for row in session.scalars(select(ActualCostRow).where(ActualCostRow.year == year)):
        current = out.get(row.component, ActualCost())
        if row.kind == "cost":
            out[row.component] = ActualCost(row.amount, current.funding)
        else:
            out[row.component] = ActualCost(current.cost, row.amount)
    return out


def volumes(session: Session, year: int) -> dict[tuple[str, str, int | None], Decimal]:
    e = ServiceEvent
    rows = session.execute(select(e.municipality, e.component, e.integration_year, func.sum(e.quantity))
                           .where(e.year == year).group_by(e.municipality, e.component, e.integration_year))
    return {(m, c, iy): q for m, c, iy, q in rows}


def billed_for_year(session: Session, year: int) -> dict[str, Decimal]:
    """What each member was billed for the year's shares: advances of the year and the year's
    events (late ones included), credit notes deducted; travel and interpretation excluded."""
    line, inv = InvoiceLine, Invoice
    rows = session.execute(
        select(inv.municipality, func.sum(line.amount))
        .join(inv, inv.id == line.invoice_id)
        .where(line.kind.in_(("advance", "event", "adjustment")), line.events_period.like(f"{year}-%"))
        .group_by(inv.municipality))
    return {m: total or ZERO for m, total in rows}


@dataclass
class CloseResult:
    year: int
    created: bool
    settlement: YearSettlement | None
    rows: list[Settlement]


def close_year(session: Session, year: int, actor: str) -> CloseResult:
    lock_billing(session)
    existing = session.get(YearClosing, year)
    if existing is not None:
        rows = list(session.scalars(select(Settlement).where(Settlement.year == year, Settlement.kind == "year_end")
                                    .order_by(Settlement.municipality)))
        return CloseResult(year, False, None, rows)
    version = current_version(session, year)
    if version is None:
        raise ProblemsError([Problem(f"no agreement for {year} is stored")])
    agreement = agreement_of(version)
    last = Period(year, 12, "month") if agreement.billing is None or agreement.billing.period == "month" \
        else Period(year, 4, "quarter")
    runs = set(session.scalars(select(InvoiceRun.period).where(InvoiceRun.year == year)))
    problems = []
    if last.code not in runs:
        problems.append(Problem(f"the last period of {year} ({last.code}) is not invoiced yet; invoice every "
                                "period of the year before closing it", key="close-year"))
    waiting = session.scalar(select(func.count()).select_from(ServiceEvent)
                             .where(ServiceEvent.year == year, unbilled()))
    if waiting:
        problems.append(Problem(f"{waiting} events of {year} are not invoiced yet", key="close-year"))
    if problems:
        raise ProblemsError(problems)
    result = settle_year(agreement, actual_costs(session, year), volumes(session, year), billed_for_year(session, year))
    if result.problems:
        raise ProblemsError(list(result.problems))
    session.add(YearClosing(year=year, agreement_version_id=version.id, closed_at=now(), closed_by=actor, details={
        "prices": [{"component": p.component, "integration_year": p.integration_year, "agreed": str(p.agreed),
                    "confirmed": str(p.confirmed), "basis": p.basis} for p in result.prices],
        "members": {m.municipality: {"parts": [[c, label, str(v)] for c, label, v in m.parts]}
                    for m in result.members},
    }))
    session.flush()
    rows = [Settlement(year=year, municipality=m.municipality, kind="year_end", actual=m.actual, billed=m.billed,
                       difference=m.difference, note=f"Vuoden {year} tasaus: toteutunut osuus − laskutettu")
            for m in result.members]
    session.add_all(rows)
    audit.append(session, actor=actor, action="year.close", subject=str(year), details={
        "settlements": {m.municipality: str(m.difference) for m in result.members}})
    return CloseResult(year, True, result, rows)


# --------------------------------------------------------------------------
# estimates
# --------------------------------------------------------------------------

@dataclass
class EstimateResult:
    estimate: YearEstimate
    revision: int
    created: bool


def latest_counts(session: Session, agreement: Agreement) -> dict[str, dict[str, Decimal]]:
    """The newest imported value of each count key for each municipality (by name)."""
    names = {m.code: m.name for m in agreement.municipalities}
    out: dict[str, dict[str, Decimal]] = {}
    newest = (select(ReferenceCount.key, ReferenceCount.municipality, func.max(ReferenceCount.date).label("d"))
              .group_by(ReferenceCount.key, ReferenceCount.municipality).subquery())
    rows = session.execute(select(ReferenceCount).join(newest, and_(
        ReferenceCount.key == newest.c.key, ReferenceCount.municipality == newest.c.municipality,
        ReferenceCount.date == newest.c.d)))
    for (row,) in rows:
        if row.municipality in names:
            out.setdefault(row.key, {})[names[row.municipality]] = row.value
    return out


def make_estimate(session: Session, year: int, actor: str) -> EstimateResult:
    lock_billing(session)
    agreement = current_agreement(session, year)
    if agreement is not None:
        estimate = estimate_from_agreement(agreement)
    else:
        last = latest_agreement(session, before=year)
        if last is None:
            raise ProblemsError([Problem(f"no agreement for {year} or before is stored")])
        closing = session.get(YearClosing, last.year)
        confirmed = {}
        if closing is not None:
            confirmed = {(p["component"], p["integration_year"]): Decimal(p["confirmed"])
                         for p in closing.details.get("prices", [])}
        estimate = estimate_from_actuals(year, last, actual_costs(session, last.year), latest_counts(session, last),
                                         volumes(session, last.year), confirmed)
    if estimate.problems:
        raise ProblemsError(list(estimate.problems))
    details = {m.municipality: [[c, label, str(v)] for c, label, v in m.parts] for m in estimate.members}
    inputs_hash = hashlib.sha256(json.dumps([estimate.basis, details], sort_keys=True).encode()).hexdigest()
    latest = session.scalar(select(func.max(Estimate.revision)).where(Estimate.year == year))
    if latest is not None:
        same = session.scalar(select(Estimate.inputs_hash).where(Estimate.year == year, Estimate.revision == latest)
                              .limit(1))
        if same == inputs_hash:
            return EstimateResult(estimate, latest, False)
    revision = (latest or 0) + 1
    created = now()
    session.add_all(Estimate(year=year, revision=revision, municipality=m.municipality, amount=m.amount,
                             basis=estimate.basis, details={"parts": details[m.municipality]},
                             inputs_hash=inputs_hash, created_at=created) for m in estimate.members)
    audit.append(session, actor=actor, action="estimate", subject=str(year), details={
        "revision": revision, "basis": estimate.basis, "total": str(sum((m.amount for m in estimate.members), ZERO))})
    return EstimateResult(estimate, revision, True)


def invoices_of(session: Session, *, year: int | None = None, municipality: str | None = None) -> list[Invoice]:
    q = select(Invoice).order_by(Invoice.year, Invoice.sequence)
    if year is not None:
        q = q.where(Invoice.year == year)
    if municipality is not None:
        q = q.where(Invoice.municipality == municipality)
    return list(session.scalars(q))


def lines_of(session: Session, invoice_ids: Iterable[int]) -> dict[int, list[InvoiceLine]]:
    out: dict[int, list[InvoiceLine]] = {}
    for line in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id.in_(list(invoice_ids)))
                                .order_by(InvoiceLine.invoice_id, InvoiceLine.position)):
        out.setdefault(line.invoice_id, []).append(line)
    return out


# --------------------------------------------------------------------------
# the annual report
# --------------------------------------------------------------------------

@dataclass
class ServiceLine:
    component: str
    label: str
    unit: str
    events: int
    quantity: Decimal
    customers: int  # distinct pseudonymous customers; shown masked under 5


@dataclass
class MoneyLine:
    id: str
    label: str
    estimate: Decimal | None
    billed: Decimal
    actual: Decimal | None


@dataclass
class AnnualReport:
    year: int
    municipality: str
    name: str
    customers: int
    services: list[ServiceLine]
    money: list[MoneyLine]
    travel_and_interpretation: Decimal
    estimate: Decimal | None
    billed: Decimal
    actual: Decimal | None
    settlement: Decimal | None
    settlement_invoice: str | None
    estimate_basis: str = ""


def annual_report(session: Session, year: int, code: str) -> AnnualReport:
    """A member's year: customers, services produced, and estimate, billed, actual and settled side by side."""
    agreement = current_agreement(session, year)
    if agreement is None:
        raise ProblemsError([Problem(f"no agreement for {year} is stored")])
    member = agreement.by_code(code)
    if member is None:
        raise ProblemsError([Problem(f"municipality {code} is not in the {year} agreement", key="--municipality")])
    e = ServiceEvent
    services = []
    units = {cid: p.unit for cid, p in (agreement.billing.events.items() if agreement.billing else ())}
    for comp, n, qty, customers in session.execute(
            select(e.component, func.count(), func.sum(e.quantity), func.count(e.customer.distinct()))
            .where(e.year == year, e.municipality == code).group_by(e.component).order_by(e.component)):
        label = agreement.components[comp].label if comp in agreement.components else comp
        services.append(ServiceLine(comp, label, units.get(comp, ""), n, qty or ZERO, customers))
    customers = session.scalar(select(func.count(e.customer.distinct())).where(e.year == year, e.municipality == code)) or 0
    # money by table (advance) or component (events)
    line, inv = InvoiceLine, Invoice
    billed_by: dict[str, Decimal] = {}
    passthrough = ZERO
    for kind, comp, amount in session.execute(
            select(line.kind, line.component, func.sum(line.amount)).join(inv, inv.id == line.invoice_id)
            .where(inv.municipality == code, line.events_period.like(f"{year}-%"))
            .group_by(line.kind, line.component)):
        if kind in ("travel", "interpretation"):
            passthrough += amount
        else:
            billed_by[comp] = billed_by.get(comp, ZERO) + amount
    estimate_rev = session.scalar(select(func.max(Estimate.revision)).where(Estimate.year == year))
    estimate_row = session.scalar(select(Estimate).where(Estimate.year == year, Estimate.revision == estimate_rev,
                                                         Estimate.municipality == code)) if estimate_rev else None
    estimate_by = {c: Decimal(v) for c, _label, v in (estimate_row.details.get("parts", []) if estimate_row else [])}
    closing = session.get(YearClosing, year)
    actual_by = {c: Decimal(v) for c, _label, v in
                 (closing.details["members"].get(code, {}).get("parts", []) if closing else [])}
    ids = list(dict.fromkeys([*(t.id for t in agreement.tables), *billed_by, *actual_by]))
    money = []
    for i in ids:
        if i in {t.id for t in agreement.tables}:
            table = next(t for t in agreement.tables if t.id == i)
            label = table.title
            if agreement.billing and i not in agreement.billing.advance_tables:
                # an event-billed table: its estimate is the table; billed and actual are by component
                money.append(MoneyLine(i, label + " (arvio)", estimate_by.get(i), ZERO, None))
                continue
        else:
            label = agreement.components[i].label if i in agreement.components else i
        money.append(MoneyLine(i, label, estimate_by.get(i), billed_by.get(i, ZERO),
                               actual_by.get(i) if closing else None))
    settled = list(session.scalars(select(Settlement).where(Settlement.year == year, Settlement.municipality == code)
                                   .order_by(Settlement.id)))
    year_end = next((x for x in settled if x.kind == "year_end"), None)
    carried = [session.get(Invoice, x.carried_invoice_id) for x in settled if x.carried_invoice_id]
    return AnnualReport(
        year, code, member.name, customers, services, money, passthrough,
        estimate_row.amount if estimate_row else None, sum(billed_by.values(), ZERO),
        year_end.actual if year_end else None,
        sum((x.difference for x in settled), ZERO) if settled else None,
        ", ".join(i.number for i in carried) or None, estimate_row.basis if estimate_row else "")


# --------------------------------------------------------------------------
# imports: all or nothing; the same file twice adds nothing
# --------------------------------------------------------------------------

@dataclass
class ImportResult:
    kind: str
    file: str
    rows: int
    added: int
    created: bool  # False: the same file was imported before


def _file_hash(path: Path) -> str:
    """The file's SHA-256; an unreadable file is the user's problem, not a traceback."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise ProblemsError([Problem("file not found", str(path))]) from None
    except IsADirectoryError:
        raise ProblemsError([Problem("expected a file, found a folder", str(path))]) from None
    except OSError as exc:
        raise ProblemsError([Problem(f"cannot read the file: {exc.strerror}", str(path))]) from None
    return digest.hexdigest()


def _fail_rows(problems, extra: Iterable[Problem] = ()) -> None:
    from osuus.imports import problem_total

    items = [p.to_problem() for p in problems] + list(extra)
    total = problem_total(problems) + len(list(extra))
    if len(items) < total:
        items.append(Problem(f"… and {total - len(items)} more problems (only the first {len(items)} are listed)"))
    raise ProblemsError(items)


def import_context(session: Session, year: int | None):
    from osuus.imports import ImportContext

    return ImportContext({y: current_agreement(session, y) for y in stored_years(session)}, year)


def _batch(session: Session, kind: str, path: Path, content_hash: str, actor: str):
    from osuus.store.tables import ImportBatch

    existing = session.scalar(select(ImportBatch).where(ImportBatch.kind == kind,
                                                        ImportBatch.content_hash == content_hash))
    if existing is not None:
        return existing, False
    batch = ImportBatch(kind=kind, file_name=path.name, content_hash=content_hash, rows=0, added_rows=0,
                        imported_at=now(), imported_by=actor)
    session.add(batch)
    session.flush()
    return batch, True


def _closed_years(session: Session) -> set[int]:
    return set(session.scalars(select(YearClosing.year)))


def import_events(session: Session, path: Path, actor: str, year: int | None = None,
                  chunk_size: int = 5000, progress=None) -> ImportResult:
    """Stream a service-event file into the ledger in one transaction.

    Every row is checked; any bad row, or an event id already stored with other
    content, rejects the whole file (nothing is written). Events already stored
    with the same content are skipped, so a re-sent file adds only what is new."""
    from osuus.imports import ProblemList
    from osuus.imports.events import iter_events

    lock_billing(session)
    content_hash = _file_hash(path)
    batch, created = _batch(session, "events", path, content_hash, actor)
    if not created:
        return ImportResult("events", path.name, batch.rows, 0, False)
    problems: ProblemList = ProblemList()
    conflicts: list[Problem] = []
    closed = _closed_years(session)
    rows = added = 0
    chunk: list = []
    if session.get_bind().dialect.name == "postgresql":  # one array parameter, not thousands
        from sqlalchemy import String, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        def id_match(ids):
            return ServiceEvent.source_id == func.any(bindparam("ids", ids, type_=ARRAY(String)))
    else:
        def id_match(ids):
            return ServiceEvent.source_id.in_(ids)

    def flush() -> int:
        ids = [r.event_id for r in chunk]
        e = ServiceEvent
        # events sent before: compared field by field (as content hashes), only these few
        stored = {row[0]: ServiceEventRecord(*row).content_hash() for row in session.execute(
            select(e.source_id, e.date, e.component, e.municipality, e.customer, e.quantity, e.integration_year,
                   e.travel_days, e.km, e.interpretation).where(id_match(ids)))}
        new = []
        for r in chunk:
            if r.event_id in stored:
                if stored[r.event_id] != r.content_hash() and len(conflicts) < 1000:
                    conflicts.append(_problem_at(r, "event_id", f"event id {r.event_id} is already stored with "
                                                 "other content; a changed event is not overwritten (send a new "
                                                 "event id, or credit and re-bill)"))
                continue
            if r.date.year in closed:
                conflicts.append(_problem_at(r, "date", f"the year {r.date.year} is closed; its events can no "
                                                        "longer change"))
                continue
            new.append({"source_id": r.event_id, "date": r.date, "year": r.date.year, "month": r.date.month,
                        "component": r.component, "municipality": r.municipality, "customer": r.customer,
                        "quantity": r.quantity, "integration_year": r.integration_year,
                        "travel_days": r.travel_days, "km": r.km, "interpretation": r.interpretation,
                        "batch_id": batch.id})
        if new and not problems and not conflicts:
            session.execute(ServiceEvent.__table__.insert(), new)
        chunk.clear()
        return len(new)

    for record in iter_events(path, import_context(session, year), problems):
        rows += 1
        chunk.append(record)
        if len(chunk) >= chunk_size:
            added += flush()
            if progress:
                progress(rows)
    if chunk:
        added += flush()
    if problems or conflicts:
        _fail_rows(problems, conflicts)
    return _finish_batch(session, batch, "events", path, rows, added, actor)


def _row(source: str) -> int | None:
    tail = source.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _finish_batch(session: Session, batch, kind: str, path: Path, rows: int, added: int, actor: str) -> ImportResult:
    if added == 0:
        session.delete(batch)  # nothing new: no trace but the answer
        return ImportResult(kind, path.name, rows, 0, True)
    batch.rows, batch.added_rows = rows, added
    audit.append(session, actor=actor, action=f"import.{kind}", subject=path.name,
                 details={"rows": rows, "added": added, "sha256": batch.content_hash, "batch": batch.id})
    return ImportResult(kind, path.name, rows, added, True)


def _problem_at(record, column: str, message: str) -> Problem:
    """A problem on the file row a record came from (its `source` is `file:row`)."""
    file, _, _ = record.source.rpartition(":")
    return Problem(message, file, _row(record.source), column)


def _import_rows(session: Session, kind: str, path: Path, actor: str, parse, store) -> ImportResult:
    """A small import (counts, costs): parse, then `store(record, batch_id)` each record, which
    returns True (added), False (already stored as it is) or a Problem (a conflict)."""
    lock_billing(session)
    batch, created = _batch(session, kind, path, _file_hash(path), actor)
    if not created:
        return ImportResult(kind, path.name, batch.rows, 0, False)
    records, problems = parse(path, import_context(session, None))
    conflicts, added = [], 0
    for record in records:
        outcome = store(record, batch.id)
        if isinstance(outcome, Problem):
            conflicts.append(outcome)
        elif outcome:
            added += 1
    if problems or conflicts:
        _fail_rows(problems, conflicts)
    return _finish_batch(session, batch, kind, path, len(records), added, actor)


def import_counts(session: Session, path: Path, actor: str) -> ImportResult:
    from osuus.imports.counts import parse_counts

    def store(r, batch_id: int):
        stored = session.scalar(select(ReferenceCount).where(ReferenceCount.key == r.key,
                                                             ReferenceCount.municipality == r.municipality,
                                                             ReferenceCount.date == r.date))
        if stored is not None:
            return stored.value == r.value or _problem_at(
                r, "value", f"{r.key} of {r.municipality} on {r.date} is already stored as {stored.value}; "
                            "a stored count is not overwritten")
        session.add(ReferenceCount(key=r.key, municipality=r.municipality, date=r.date, value=r.value,
                                   source=r.source_note[:300], batch_id=batch_id))
        return True

    return _import_rows(session, "counts", path, actor, parse_counts, store)


def import_costs(session: Session, path: Path, actor: str) -> ImportResult:
    from osuus.imports.costs import parse_costs

    closed = _closed_years(session)

    def store(r, batch_id: int):
        if r.year in closed:
            return _problem_at(r, "year", f"the year {r.year} is closed; its costs can no longer change")
        stored = session.scalar(select(ActualCostRow).where(ActualCostRow.year == r.year,
                                                            ActualCostRow.component == r.component,
                                                            ActualCostRow.kind == r.kind))
        if stored is not None:
            return stored.amount == r.amount or _problem_at(
                r, "amount", f"the {r.kind} of {r.component} in {r.year} is already stored as {stored.amount}; "
                             "a stored figure is not overwritten")
        session.add(ActualCostRow(year=r.year, component=r.component, kind=r.kind, amount=r.amount,
                                  note=r.note[:300], batch_id=batch_id))
        return True

    return _import_rows(session, "costs", path, actor, parse_costs, store)
