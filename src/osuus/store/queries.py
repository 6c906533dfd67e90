"""Typed queries of the ledger: what the services read, in the core's own values.

No policy and no words here: a query answers one question of the tables (which
events are unbilled, what a member was billed for a year, the lines of an
invoice) and returns records of the core (`EventSum`, `Line`, figures), so
that the use cases above never write SQL and the core below never sees a table.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterable

from sqlalchemy import String, and_, bindparam, case, exists, func, or_, select, text, union_all
from sqlalchemy.orm import Session

from osuus.billing.kinds import SHARE_KINDS, DocumentKind, LineKind, SettlementKind
from osuus.billing.lines import EventSum, Line
from osuus.billing.settlement import ActualCost
from osuus.calendar import Period
from osuus.engine.trace import Figure, figure, given, sum_expr
from osuus.money import ZERO
from osuus.store.tables import (
    ActualCost as ActualCostRow,
    AgreementVersion,
    Estimate,
    ImportBatch,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceRun,
    ReferenceCount,
    ServiceEvent,
    Settlement,
    YearClosing,
)

_BILLING_LOCK = 7_202_103  # pg_advisory_xact_lock key of billing writes (invoice runs, closings, credits, imports)


def lock_billing(session: Session) -> None:
    """Serialise billing writes. PostgreSQL: an advisory lock held to the end of the
    transaction; SQLite: the engine already begins every transaction IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        # one lock per area (two keys: the lock's, and the area): areas do not wait for each other
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :area)"),
                        {"key": _BILLING_LOCK >> 32, "area": int(session.info.get("area_id") or 0)})


# --------------------------------------------------------------------------
# agreements
# --------------------------------------------------------------------------

def agreement_version(session: Session, year: int) -> AgreementVersion | None:
    """The revision in force of a year: the newest."""
    return session.scalar(select(AgreementVersion).where(AgreementVersion.year == year)
                          .order_by(AgreementVersion.revision.desc()).limit(1))


def version_by_hash(session: Session, year: int, content_hash: str) -> AgreementVersion | None:
    return session.scalar(select(AgreementVersion).where(AgreementVersion.year == year,
                                                         AgreementVersion.content_hash == content_hash))


def latest_revision(session: Session, year: int) -> int | None:
    return session.scalar(select(func.max(AgreementVersion.revision)).where(AgreementVersion.year == year))


def stored_years(session: Session) -> list[int]:
    return list(session.scalars(select(AgreementVersion.year).distinct().order_by(AgreementVersion.year)))


def all_versions(session: Session) -> list[AgreementVersion]:
    return list(session.scalars(select(AgreementVersion).order_by(AgreementVersion.year, AgreementVersion.revision)))


# --------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------

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


def billing_frontier(session: Session) -> list[tuple[dt.date, int]]:
    """The runs that decide which events are billed, as (period_end, max_event_id): those no other
    run reaches in both (a run reached in both bills nothing the other does not). In order of
    period_end; their max_event_id then falls."""
    rows = session.execute(select(InvoiceRun.period_end, InvoiceRun.max_event_id)
                           .order_by(InvoiceRun.period_end.desc(), InvoiceRun.max_event_id.desc()))
    frontier: list[tuple[dt.date, int]] = []
    for end, top in rows:  # the latest first: kept when its id reaches beyond every later run's
        if not frontier or top > frontier[-1][1]:
            frontier.append((end, top))
    return frontier[::-1]


#: A row read by its id (the table's row) costs about this many read from an index of dates.
_ROW_BY_ID_COST = 4


def unbilled_count(session: Session, year: int, events: int | None = None) -> int:
    """How many of the year's events no run has billed (`unbilled()`), counted in ranges rather
    than by looking for a run for each event (a million of them).

    With the runs of `billing_frontier` in order of period_end (ends e1 < e2 < ..., ids m1 > m2
    > ...), an event dated in (e[i-1], e[i]] is billed exactly when its id is at most m[i] (the
    runs reaching its date are the i-th and those after it, whose ids reach less), and one dated
    after the last end by none. Each range is counted either by date (the year's rows of the
    range in ix_service_events_area_year_date, their ids in it too) or by id (the area's rows
    after m[i]: the events imported since the run), whichever reads fewer rows: estimated from
    the year's `events` (counted here when not given) spread over its days, and the area's
    largest id. Years are those of the events' dates (as the import writes them)."""
    e = ServiceEvent
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    ranges, after = [], None  # (after, until, max id): dated in (after, until], unbilled above max id
    for end, top in billing_frontier(session):
        if end >= first and (after is None or after < last):
            ranges.append((after, end, top))
        after = end
    # the year's events dated after every run's period: billed by none
    if after is None or after < first:
        if not ranges and events is not None:
            return events
        tail = e.year == year
    elif after < last:
        tail = and_(e.year == year, e.date > after)
    else:
        tail = None  # the runs reach past the year's end

    def dated(lo: dt.date | None, hi: dt.date) -> list:
        return [e.date <= hi] if lo is None else [e.date > lo, e.date <= hi]

    by_id, counts = [], []
    if ranges:
        top_id = max_event_id(session)
        if events is None:
            events = session.scalar(select(func.count()).select_from(e).where(e.year == year)) or 0
        days = (last - first).days + 1
        for lo, hi, top in ranges:
            span = (min(hi, last) - max(first if lo is None else lo + dt.timedelta(days=1), first)).days + 1
            if (top_id - top) * _ROW_BY_ID_COST < events * span / days:
                by_id.append((lo, hi, top))
            else:
                counts.append(select(func.count()).select_from(e).where(e.year == year, *dated(lo, hi), e.id > top))
    if tail is not None:
        counts.append(select(func.count()).select_from(e).where(tail))
    total = 0
    if by_id:
        # the year and the dates only inside the count, so that the rows are found by id (after
        # the lowest max id), not among the year's
        hit = or_(*(and_(*dated(lo, hi), e.id > top) for lo, hi, top in by_id))
        total += session.scalar(select(func.count(case((and_(e.year == year, hit), 1))))
                                .where(e.id > min(top for _, _, top in by_id))) or 0
    if counts:
        total += sum(n or 0 for n in session.scalars(union_all(*counts)))
    return total


def max_event_id(session: Session) -> int:
    return session.scalar(select(func.max(ServiceEvent.id))) or 0


def volumes(session: Session, year: int) -> dict[tuple[str, str, int | None], Decimal]:
    """The year's quantities by (municipality code, component, integration year)."""
    e = ServiceEvent
    rows = session.execute(select(e.municipality, e.component, e.integration_year, func.sum(e.quantity))
                           .where(e.year == year).group_by(e.municipality, e.component, e.integration_year))
    return {(m, c, iy): q for m, c, iy, q in rows}


def services_of(session: Session, year: int, code: str) -> list[tuple[str, int, Decimal, int]]:
    """(component, events, quantity, distinct customers) of a member's year."""
    e = ServiceEvent
    return [(c, n, q or ZERO, k) for c, n, q, k in session.execute(
        select(e.component, func.count(), func.sum(e.quantity), func.count(e.customer.distinct()))
        .where(e.year == year, e.municipality == code).group_by(e.component).order_by(e.component))]


def customers_of(session: Session, year: int, code: str) -> int:
    e = ServiceEvent
    return session.scalar(select(func.count(e.customer.distinct())).where(e.year == year, e.municipality == code)) or 0


def stored_events(session: Session, ids: list[str]) -> list[tuple]:
    """The stored fields of the events with these source ids (to compare a re-sent event's content)."""
    e = ServiceEvent
    if session.get_bind().dialect.name == "postgresql":  # one array parameter, not thousands
        from sqlalchemy.dialects.postgresql import ARRAY

        match = e.source_id == func.any(bindparam("ids", ids, type_=ARRAY(String)))
    else:
        match = e.source_id.in_(ids)
    return list(session.execute(select(e.source_id, e.date, e.component, e.municipality, e.customer, e.quantity,
                                       e.integration_year, e.travel_days, e.km, e.interpretation).where(match)))


# --------------------------------------------------------------------------
# imports
# --------------------------------------------------------------------------

def batch_by_hash(session: Session, kind: str, content_hash: str) -> ImportBatch | None:
    return session.scalar(select(ImportBatch).where(ImportBatch.kind == kind, ImportBatch.content_hash == content_hash))


def reference_count(session: Session, key: str, code: str, date: dt.date) -> ReferenceCount | None:
    return session.scalar(select(ReferenceCount).where(ReferenceCount.key == key, ReferenceCount.municipality == code,
                                                       ReferenceCount.date == date))


def actual_cost_row(session: Session, year: int, component: str, kind: str) -> ActualCostRow | None:
    return session.scalar(select(ActualCostRow).where(ActualCostRow.year == year, ActualCostRow.component == component,
                                                      ActualCostRow.kind == kind))


def actual_costs(session: Session, year: int) -> dict[str, ActualCost]:
    out: dict[str, ActualCost] = {}
    for row in session.scalars(select(ActualCostRow).where(ActualCostRow.year == year)):
        current = out.get(row.component, ActualCost())
        if row.kind == "cost":
            out[row.component] = ActualCost(row.amount, current.funding)
        else:
            out[row.component] = ActualCost(current.cost, row.amount)
    return out


def latest_counts(session: Session) -> dict[str, dict[str, Decimal]]:
    """The newest imported value of each count key for each municipality (by code)."""
    newest = (select(ReferenceCount.key, ReferenceCount.municipality, func.max(ReferenceCount.date).label("d"))
              .group_by(ReferenceCount.key, ReferenceCount.municipality).subquery())
    rows = session.execute(select(ReferenceCount.key, ReferenceCount.municipality, ReferenceCount.value).join(
        newest, and_(ReferenceCount.key == newest.c.key, ReferenceCount.municipality == newest.c.municipality,
                     ReferenceCount.date == newest.c.d)))
    out: dict[str, dict[str, Decimal]] = {}
    for key, code, value in rows:
        out.setdefault(key, {})[code] = value
    return out


# --------------------------------------------------------------------------
# invoices
# --------------------------------------------------------------------------

def run_of(session: Session, period: Period) -> InvoiceRun | None:
    return session.scalar(select(InvoiceRun).where(InvoiceRun.period == period))


def run_periods(session: Session, year: int) -> set[Period]:
    return {r.period for r in session.scalars(select(InvoiceRun).where(InvoiceRun.period_year == year))}


def invoices_of_run(session: Session, run_id: int) -> list[Invoice]:
    return list(session.scalars(select(Invoice).where(Invoice.run_id == run_id).order_by(Invoice.id)))


def invoice_by_number(session: Session, number: str) -> Invoice | None:
    return session.scalar(select(Invoice).where(Invoice.number == number))


def credit_note_of(session: Session, invoice_id: int) -> Invoice | None:
    return session.scalar(select(Invoice).where(Invoice.credited_invoice_id == invoice_id))


def credit_note_numbers(session: Session, invoice_ids: Iterable[int]) -> dict[int, str]:
    """The number of the credit note of each of these invoices that has one."""
    ids = [i for i in set(invoice_ids) if i is not None]
    out: dict[int, str] = {}
    for chunk in range(0, len(ids), 500):
        rows = session.execute(select(Invoice.credited_invoice_id, Invoice.number)
                               .where(Invoice.credited_invoice_id.in_(ids[chunk:chunk + 500])))
        out.update((credited, number) for credited, number in rows)
    return out


def next_sequence(session: Session, host: str, year: int) -> InvoiceCounter:
    counter = session.scalar(select(InvoiceCounter).where(InvoiceCounter.host == host, InvoiceCounter.year == year)
                             .with_for_update())
    if counter is None:
        counter = InvoiceCounter(host=host, year=year, next_number=1)
        session.add(counter)
    return counter


def invoices_where(session: Session, *, year: int | None = None, municipality: str | None = None,
                   period: Period | None = None, kind: DocumentKind | None = None,
                   number: str | None = None) -> list[Invoice]:
    q = select(Invoice).order_by(Invoice.year, Invoice.sequence)
    if year is not None:
        q = q.where(Invoice.year == year)
    if municipality is not None:
        q = q.where(Invoice.municipality == municipality)
    if period is not None:
        q = q.where(Invoice.period == period)
    if kind is not None:
        q = q.where(Invoice.kind == kind)
    if number is not None:
        q = q.where(Invoice.number == number)
    return list(session.scalars(q))


def _invoice_conditions(year: int | None, municipality: str | None, period: Period | None,
                        kind: DocumentKind | None, number: str | None) -> list:
    conditions = []
    if year is not None:
        conditions.append(Invoice.year == year)
    if municipality is not None:
        conditions.append(Invoice.municipality == municipality)
    if period is not None:
        conditions.append(Invoice.period == period)
    if kind is not None:
        conditions.append(Invoice.kind == kind)
    if number is not None:
        conditions.append(Invoice.number == number)
    return conditions


def invoices_page(session: Session, *, offset: int = 0, limit: int | None = None, year: int | None = None,
                  municipality: str | None = None, period: Period | None = None, kind: DocumentKind | None = None,
                  number: str | None = None) -> tuple[list[Invoice], int]:
    """The invoices and credit notes that match, in number order, from the `offset`-th, at most
    `limit` of them (None: all), and how many match in all: the page and the count in SQL, so
    that no other row is read."""
    conditions = _invoice_conditions(year, municipality, period, kind, number)
    query = select(Invoice).where(*conditions).order_by(Invoice.year, Invoice.sequence, Invoice.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = list(session.scalars(query))
    if (limit is None or len(rows) < limit) and (rows or offset == 0):
        return rows, offset + len(rows)  # the last page: the count is known without counting
    total = session.scalar(select(func.count()).select_from(Invoice).where(*conditions)) or 0
    return rows, total


def invoice_heads(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, dt.date]]:
    """The number and issue date of each of these invoices (one query for them all)."""
    wanted = sorted({i for i in ids if i is not None})
    out: dict[int, tuple[str, dt.date]] = {}
    for chunk in range(0, len(wanted), 500):
        rows = session.execute(select(Invoice.id, Invoice.number, Invoice.issue_date)
                               .where(Invoice.id.in_(wanted[chunk:chunk + 500])))
        out.update((i, (number, date)) for i, number, date in rows)
    return out


def version_years(session: Session, version_ids: Iterable[int]) -> dict[int, int]:
    """The year of each of these agreement versions (without reading their texts)."""
    wanted = sorted({i for i in version_ids if i is not None})
    if not wanted:
        return {}
    return dict(session.execute(select(AgreementVersion.id, AgreementVersion.year)
                                .where(AgreementVersion.id.in_(wanted))).all())


def advances_billed(session: Session, period: Period) -> dict[tuple[str, str], Decimal]:
    """The advances of `period`'s year billed for the periods before it, net of credit notes:
    (member, table) -> amount."""
    line, inv = InvoiceLine, Invoice
    rows = session.execute(
        select(inv.municipality, line.component, func.sum(line.amount)).join(inv, inv.id == line.invoice_id)
        .where(line.kind == LineKind.ADVANCE, line.period_year == period.year, line.period_kind == period.kind,
               line.period_index < period.index)
        .group_by(inv.municipality, line.component))
    return {(code, table): amount for code, table, amount in rows}


def invoices_about_year(session: Session, year: int) -> list[Invoice]:
    """Every invoice and credit note about `year`: those of its periods (the December invoice
    numbered in the next year among them) and those carrying its settlement."""
    settling = select(InvoiceLine.invoice_id).where(InvoiceLine.kind == LineKind.SETTLEMENT,
                                                   InvoiceLine.period_year == year)
    return list(session.scalars(select(Invoice).where(or_(Invoice.period_year == year, Invoice.id.in_(settling)))
                                .order_by(Invoice.year, Invoice.sequence)))


def invoice_numbers(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(wanted))).all())


def line_of(row: InvoiceLine, *, explanation: bool = True) -> Line:
    """A stored line (a row of `invoice_lines`, or its columns as `lines_of` reads them) as the
    core's `Line`; `explanation` False: without its explanation."""
    return Line(row.kind, row.component, row.period, row.quantity, row.unit, row.unit_price, row.amount,
                row.reference or "", dict(row.details or {}),
                Figure.from_data(row.explanation) if explanation and row.explanation else None, row.position,
                row.issued_text)


_LINE_COLUMNS = (InvoiceLine.invoice_id, InvoiceLine.position, InvoiceLine.kind, InvoiceLine.component,
                 InvoiceLine.period, InvoiceLine.quantity, InvoiceLine.unit, InvoiceLine.unit_price,
                 InvoiceLine.amount, InvoiceLine.reference, InvoiceLine.details, InvoiceLine.issued_text)


def lines_of(session: Session, invoice_ids: Iterable[int], *, explanations: bool = True) -> dict[int, list[Line]]:
    """The lines of each invoice, in order (read as columns, not as rows of the ORM: a page of
    documents has hundreds of lines). `explanations` False: the lines without their
    explanations (None), which are then neither fetched nor parsed: for what shows none, such
    as a list of invoices, whose work they would be most of."""
    ids = list(invoice_ids)
    out: dict[int, list[Line]] = {i: [] for i in ids}
    if not ids:
        return out
    columns = _LINE_COLUMNS + ((InvoiceLine.explanation,) if explanations else ())
    for row in session.execute(select(*columns).where(InvoiceLine.invoice_id.in_(ids))
                               .order_by(InvoiceLine.invoice_id, InvoiceLine.position)):
        out[row.invoice_id].append(line_of(row, explanation=explanations))
    return out


def add_lines(session: Session, invoice_id: int, lines: Iterable[Line]) -> None:
    session.add_all(InvoiceLine(invoice_id=invoice_id, position=i, kind=line.kind, component=line.component,
                                period=line.period, quantity=line.quantity, unit=line.unit,
                                unit_price=line.unit_price, amount=line.amount, reference=line.reference,
                                details=dict(line.details),
                                explanation=line.explanation.to_data() if line.explanation else None,
                                issued_text=line.issued_text)
                    for i, line in enumerate(lines, start=1))


def billed_for_year(session: Session, year: int) -> dict[str, Figure]:
    """What each member was billed for the year's shares, explained by the documents it was billed on:
    advances and events delivered in the year, credit notes deducted; travel and interpretation
    excluded (billed at cost, nothing to settle)."""
    line, inv = InvoiceLine, Invoice
    rows = session.execute(
        select(inv.municipality, inv.number, func.sum(line.amount))
        .join(inv, inv.id == line.invoice_id)
        .where(line.kind.in_([k.value for k in SHARE_KINDS]), line.period_year == year)
        .group_by(inv.municipality, inv.number, inv.year, inv.sequence)
        .order_by(inv.municipality, inv.year, inv.sequence))
    parts: dict[str, list[Figure]] = {}
    for code, number, amount in rows:
        parts.setdefault(code, []).append(given("billed.document", amount or ZERO, "", invoice=number))
    return {code: figure("settlement.billed", sum((p.value for p in ps), ZERO), sum_expr(p.value for p in ps), "",
                         tuple(ps), municipality=code, year=year)
            for code, ps in parts.items()}


def billed_by_item(session: Session, year: int, code: str) -> tuple[dict[str, Decimal], Decimal]:
    """A member's billing of the year's shares by table or component, and its travel and interpretation."""
    line, inv = InvoiceLine, Invoice
    by_item: dict[str, Decimal] = {}
    passthrough = ZERO
    for kind, comp, amount in session.execute(
            select(line.kind, line.component, func.sum(line.amount)).join(inv, inv.id == line.invoice_id)
            .where(inv.municipality == code, line.period_year == year, line.kind != LineKind.SETTLEMENT)
            .group_by(line.kind, line.component)):
        if kind in (LineKind.TRAVEL, LineKind.INTERPRETATION):
            passthrough += amount
        else:
            by_item[comp] = by_item.get(comp, ZERO) + amount
    return by_item, passthrough


def settlement_lines(session: Session, year: int, code: str) -> list[tuple[str, Decimal]]:
    """Every document that carries a part of a member's settlement of `year`: (number, amount)."""
    line, inv = InvoiceLine, Invoice
    return [(number, amount) for number, amount in session.execute(
        select(inv.number, func.sum(line.amount)).join(inv, inv.id == line.invoice_id)
        .where(inv.municipality == code, line.kind == LineKind.SETTLEMENT, line.period_year == year)
        .group_by(inv.number, inv.year, inv.sequence).order_by(inv.year, inv.sequence))]


# --------------------------------------------------------------------------
# settlements, closings, estimates
# --------------------------------------------------------------------------

def closed_years(session: Session) -> set[int]:
    return set(session.scalars(select(YearClosing.year)))


def closing(session: Session, year: int) -> YearClosing | None:
    return session.scalars(select(YearClosing).where(YearClosing.year == year)).one_or_none()


def open_settlements(session: Session, before_year: int) -> list[Settlement]:
    return list(session.scalars(select(Settlement).where(Settlement.carried_invoice_id.is_(None),
                                                         Settlement.year < before_year)
                                .order_by(Settlement.year, Settlement.id)))


def settlements_of(session: Session, year: int, code: str | None = None,
                   kind: SettlementKind | None = None) -> list[Settlement]:
    q = select(Settlement).where(Settlement.year == year)
    if code is not None:
        q = q.where(Settlement.municipality == code)
    if kind is not None:
        q = q.where(Settlement.kind == kind)
    return list(session.scalars(q.order_by(Settlement.municipality, Settlement.id)))


def estimate_revision(session: Session, year: int) -> int | None:
    return session.scalar(select(func.max(Estimate.revision)).where(Estimate.year == year))


def estimates_of(session: Session, year: int, revision: int, code: str | None = None) -> list[Estimate]:
    q = select(Estimate).where(Estimate.year == year, Estimate.revision == revision)
    if code is not None:
        q = q.where(Estimate.municipality == code)
    return list(session.scalars(q.order_by(Estimate.municipality)))
