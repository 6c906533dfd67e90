"""Imports into the ledger: all or nothing; the same file twice adds nothing.

Every row is checked (osuus.imports); any bad row, or a record already stored
with other content, rejects the whole file, and nothing is written. Records
already stored as they are are skipped, so a re-sent file adds only what is new.
Each import is one transaction with one audit record (none when nothing is new).

A file whose name holds a personal identity code is refused before anything is
read, written or audited. What the ledger could not bill is refused here too,
so that a month can never be blocked for good: a member's service events of a
year, those stored and those imported together, stay below the limits of
`osuus.agreement.checks` (each component's quantity, travel days and km below
VOLUME_LIMIT, their value at the agreed prices below AMOUNT_LIMIT), and so do a
year's actual costs and its funding (docs/import-formats.md).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from osuus.agreement.checks import AMOUNT_LIMIT, VOLUME_LIMIT
from osuus.billing.pricing import event_price
from osuus.billing.records import ServiceEventRecord
from osuus.imports import ImportContext, ProblemList, problem_total, row_problem
from osuus.imports.tables import file_name_problem, shown_limit
from osuus.money import CONTEXT, ZERO
from osuus.problems import Problem, ProblemsError
from osuus.services.agreements import Agreements
from osuus.services.ledger import Ledger, Tx, now
from osuus.services.views import ImportResult
from osuus.store import queries
from osuus.store.tables import ActualCost as ActualCostRow, ImportBatch, ReferenceCount, ServiceEvent

#: How many problems a refused file lists (all are counted).
LISTED = 1000


def _refuse_name(path: Path) -> None:
    """A personal identity code in the file's name: refused before anything is written or audited."""
    named = file_name_problem(path)
    if named is not None:
        raise ProblemsError([named])


class _YearSums:
    """What each member's service events of a year come to, those stored and those being
    imported together, row by row: a row that takes a sum to the ledger's limit is refused."""

    COLUMNS = ("quantity", "travel days", "km", "interpretation")

    def __init__(self, session: Session, context: ImportContext):
        self.session = session
        self.context = context
        self.volumes: dict[tuple[int, str, str, int | None], list[Decimal]] = {}
        self.euros: dict[tuple[int, str], Decimal] = {}
        self.loaded: set[int] = set()
        self.reported: set[tuple] = set()

    def _load(self, year: int) -> None:
        e = ServiceEvent
        rows = self.session.execute(
            select(e.municipality, e.component, e.integration_year, func.sum(e.quantity), func.sum(e.travel_days),
                   func.sum(e.km), func.sum(e.interpretation))
            .where(e.year == year).group_by(e.municipality, e.component, e.integration_year))
        for code, component, tier, *sums in rows:
            sums = [s or ZERO for s in sums]
            self.volumes[year, code, component, tier] = sums
            self.euros[year, code] = self.euros.get((year, code), ZERO) + self._value(year, component, tier, sums)
        self.loaded.add(year)

    def _value(self, year: int, component: str, tier: int | None, sums: list[Decimal]) -> Decimal:
        """Quantity, travel days, km and interpretation at the agreed prices of the year."""
        quantity, days, km, interpretation = sums
        agreement = self.context.agreements.get(year)
        with decimal.localcontext(CONTEXT):
            value = interpretation
            price = event_price(agreement, component, tier) if agreement is not None else None
            if price is not None:
                value += quantity * price.value
            travel = agreement.billing.travel if agreement is not None and agreement.billing else None
            if travel is not None:
                value += days * travel.per_diem.value + km * travel.km_rate.value
            return value

    def add(self, r: ServiceEventRecord) -> Problem | None:
        year = r.date.year
        if year not in self.loaded:
            self._load(year)
        key = (year, r.municipality, r.component, r.integration_year)
        sums = self.volumes.setdefault(key, [ZERO] * 4)
        row = [r.quantity, r.travel_days, r.km, r.interpretation]
        for i, value in enumerate(row):
            sums[i] += value
        euros = self.euros[year, r.municipality] = (self.euros.get((year, r.municipality), ZERO)
                                                   + self._value(year, r.component, r.integration_year, row))
        for i, name in enumerate(self.COLUMNS[:3]):
            if sums[i] >= VOLUME_LIMIT and key + (name,) not in self.reported:
                self.reported.add(key + (name,))
                return _problem_at(r, name.replace(" ", "_"), f"with this row the {name} of {r.component} of "
                                   f"municipality {r.municipality} in {year} come to {sums[i]:f} (stored and imported "
                                   f"events together): the ledger bills below {shown_limit(VOLUME_LIMIT)} a year",
                                   "import.limit")
        if euros >= AMOUNT_LIMIT and (year, r.municipality) not in self.reported:
            self.reported.add((year, r.municipality))
            return _problem_at(r, "", f"with this row the service events of municipality {r.municipality} "
                               f"in {year} come to {euros:.2f} € at the agreed prices (stored and imported events "
                               f"together): the ledger bills below {shown_limit(AMOUNT_LIMIT)} € of events per "
                               "municipality and year", "import.limit")
        return None


def _file_hash(path: Path) -> str:
    """The file's SHA-256; an unreadable file is the user's problem, not a traceback."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise ProblemsError([Problem("file not found", str(path), code="file.missing")]) from None
    except IsADirectoryError:
        raise ProblemsError([Problem("expected a file, found a folder", str(path), code="file.folder")]) from None
    except OSError as exc:
        raise ProblemsError([Problem(f"cannot read the file: {exc.strerror}", str(path),
                                     code="file.unreadable")]) from None
    return digest.hexdigest()


def _refuse(problems: list[Problem], extra: list[Problem]) -> ProblemsError:
    items = list(problems) + extra
    total = problem_total(problems) + len(extra)
    if len(items) < total:
        items.append(Problem(f"… and {total - len(items)} more problems (only the first {len(items)} are listed)",
                             code="import.more"))
    return ProblemsError(items)


def _context(session: Session, year: int | None) -> ImportContext:
    agreements = Agreements(session)
    return ImportContext({y: agreements.of_year(y) for y in agreements.years()}, year)


def _batch(tx: Tx, kind: str, path: Path, content_hash: str) -> tuple[ImportBatch, bool]:
    existing = queries.batch_by_hash(tx.session, kind, content_hash)
    if existing is not None:
        return existing, False
    batch = ImportBatch(kind=kind, file_name=path.name, content_hash=content_hash, rows=0, added_rows=0,
                        imported_at=now(), imported_by=tx.actor)
    tx.session.add(batch)
    tx.session.flush()
    return batch, True


def _finish(tx: Tx, batch: ImportBatch, kind: str, path: Path, rows: int, added: int) -> ImportResult:
    if added == 0:
        tx.session.delete(batch)  # nothing new: no trace but the answer
        return ImportResult(kind, path.name, rows, 0, True)
    batch.rows, batch.added_rows = rows, added
    tx.audit(f"import.{kind}", path.name, {"rows": rows, "added": added, "sha256": batch.content_hash,
                                           "batch": batch.id})
    return ImportResult(kind, path.name, rows, added, True)


def _problem_at(record, column: str, message: str, code: str) -> Problem:
    """A problem on the file row a record came from (its `source` is `file:row`)."""
    file, _, row = record.source.rpartition(":")
    return row_problem(file, int(row) if row.isdigit() else None, column, "", message, code)


def import_events(ledger: Ledger, path: Path, year: int | None = None, *, chunk_size: int = 5000,
                  progress: Callable[[int], None] | None = None) -> ImportResult:
    """Stream a service-event file into the ledger in one transaction."""
    from osuus.imports.events import iter_events

    _refuse_name(path)
    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
        batch, created = _batch(tx, "events", path, _file_hash(path))
        if not created:
            return ImportResult("events", path.name, batch.rows, 0, False)
        problems = ProblemList(limit=LISTED)
        conflicts: list[Problem] = []
        closed = queries.closed_years(session)
        context = _context(session, year)
        sums = _YearSums(session, context)
        rows = added = 0
        chunk: list[ServiceEventRecord] = []

        def flush() -> int:
            # events sent before: compared field by field (as content hashes), only these few
            stored = {row[0]: ServiceEventRecord(*row).content_hash()
                      for row in queries.stored_events(session, [r.event_id for r in chunk])}
            new = []
            for r in chunk:
                if r.event_id in stored:
                    if stored[r.event_id] != r.content_hash() and len(conflicts) < LISTED:
                        conflicts.append(_problem_at(r, "event_id", f"event id {r.event_id} is already stored with "
                                                     "other content; a changed event is not overwritten (send a new "
                                                     "event id, or credit and re-bill)", "import.conflict"))
                    continue
                if r.date.year in closed:
                    conflicts.append(_problem_at(r, "date", f"the year {r.date.year} is closed; its events can no "
                                                 "longer change", "import.closed-year"))
                    continue
                beyond = sums.add(r)
                if beyond is not None:
                    conflicts.append(beyond)
                new.append({"source_id": r.event_id, "date": r.date, "year": r.date.year, "month": r.date.month,
                            "component": r.component, "municipality": r.municipality, "customer": r.customer,
                            "quantity": r.quantity, "integration_year": r.integration_year,
                            "travel_days": r.travel_days, "km": r.km, "interpretation": r.interpretation,
                            "batch_id": batch.id, "area_id": batch.area_id})
            if new and not problems and not conflicts:
                session.execute(ServiceEvent.__table__.insert(), new)
            chunk.clear()
            return len(new)

        for record in iter_events(path, context, problems):
            rows += 1
            chunk.append(record)
            if len(chunk) >= chunk_size:
                added += flush()
                if progress:
                    progress(rows)
        if chunk:
            added += flush()
        if problems or conflicts:
            raise _refuse(problems, conflicts)
        return _finish(tx, batch, "events", path, rows, added)


def _import_rows(ledger: Ledger, kind: str, path: Path, parse,
                 store: Callable[[Session, object, int], bool | Problem]) -> ImportResult:
    """A small import (counts, costs): parse, then `store(session, record, batch_id)` each record,
    which returns True (added), False (already stored as it is) or a Problem (a conflict)."""
    _refuse_name(path)
    with ledger.write() as tx:
        queries.lock_billing(tx.session)
        batch, created = _batch(tx, kind, path, _file_hash(path))
        if not created:
            return ImportResult(kind, path.name, batch.rows, 0, False)
        records, problems = parse(path, _context(tx.session, None))
        conflicts, added = [], 0
        for record in records:
            outcome = store(tx.session, record, batch.id)
            if isinstance(outcome, Problem):
                conflicts.append(outcome)
            elif outcome:
                added += 1
        if problems or conflicts:
            raise _refuse(problems, conflicts)
        return _finish(tx, batch, kind, path, len(records), added)


def _store_count(session: Session, r, batch_id: int) -> bool | Problem:
    stored = queries.reference_count(session, r.key, r.municipality, r.date)
    if stored is not None:
        return False if stored.value == r.value else _problem_at(
            r, "value", f"{r.key} of {r.municipality} on {r.date} is already stored as {stored.value}; "
                        "a stored count is not overwritten", "import.conflict")
    session.add(ReferenceCount(key=r.key, municipality=r.municipality, date=r.date, value=r.value,
                               source=r.source_note[:300], batch_id=batch_id))
    return True


def import_counts(ledger: Ledger, path: Path) -> ImportResult:
    from osuus.imports.counts import parse_counts

    return _import_rows(ledger, "counts", path, parse_counts, _store_count)


def import_costs(ledger: Ledger, path: Path) -> ImportResult:
    from osuus.imports.costs import parse_costs

    closed: set[int] | None = None
    totals: dict[tuple[int, str], Decimal] = {}

    def store(session: Session, r, batch_id: int) -> bool | Problem:
        nonlocal closed
        if closed is None:
            closed = queries.closed_years(session)
        if r.year in closed:
            return _problem_at(r, "year", f"the year {r.year} is closed; its costs can no longer change",
                               "import.closed-year")
        stored = queries.actual_cost_row(session, r.year, r.component, r.kind)
        if stored is not None:
            return False if stored.amount == r.amount else _problem_at(
                r, "amount", f"the {r.kind} of {r.component} in {r.year} is already stored as {stored.amount}; "
                             "a stored figure is not overwritten", "import.conflict")
        if (r.year, r.kind) not in totals:
            totals[r.year, r.kind] = session.scalar(
                select(func.sum(ActualCostRow.amount)).where(ActualCostRow.year == r.year,
                                                             ActualCostRow.kind == r.kind)) or ZERO
        before = totals[r.year, r.kind]
        totals[r.year, r.kind] += r.amount
        if totals[r.year, r.kind] >= AMOUNT_LIMIT > before:
            return _problem_at(r, "amount", f"with this row the {r.kind} of {r.year} comes to "
                               f"{totals[r.year, r.kind]:.2f} € (stored and imported rows together): the ledger "
                               f"settles below {shown_limit(AMOUNT_LIMIT)} € of {r.kind} a year", "import.limit")
        session.add(ActualCostRow(year=r.year, component=r.component, kind=r.kind, amount=r.amount,
                                  note=r.note[:300], batch_id=batch_id))
        return True

    return _import_rows(ledger, "costs", path, parse_costs, store)


# --------------------------------------------------------------------------
# what is imported so far
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportedYear:
    """A year's rows in the ledger: service events, reference counts (of the year they
    describe: a count of 31 December serves the year after) and rows of actual costs."""

    year: int
    events: int
    counts: int
    costs: int


@dataclass(frozen=True)
class ImportedFile:
    kind: str  # events | counts | costs
    file: str
    rows: int
    added: int
    at: dt.datetime
    by: str


@dataclass(frozen=True)
class ImportSummary:
    years: tuple[ImportedYear, ...]  # newest first
    files: tuple[ImportedFile, ...]  # the files imported last, newest first


def import_summary(ledger: Ledger, *, recent: int = 20) -> ImportSummary:
    """What the ledger holds so far, per year, and the `recent` files imported last."""
    years: dict[int, dict[str, int]] = {}

    def add(year: int, kind: str, count: int) -> None:
        row = years.setdefault(year, {"events": 0, "counts": 0, "costs": 0})
        row[kind] += count

    with ledger.read() as session:
        for year, count in session.execute(select(ServiceEvent.year, func.count()).group_by(ServiceEvent.year)):
            add(year, "events", count)
        for date, count in session.execute(select(ReferenceCount.date, func.count()).group_by(ReferenceCount.date)):
            add(date.year + 1 if (date.month, date.day) == (12, 31) else date.year, "counts", count)
        for year, count in session.execute(select(ActualCostRow.year, func.count()).group_by(ActualCostRow.year)):
            add(year, "costs", count)
        batches = session.execute(
            select(ImportBatch.kind, ImportBatch.file_name, ImportBatch.rows, ImportBatch.added_rows,
                   ImportBatch.imported_at, ImportBatch.imported_by)
            .order_by(ImportBatch.imported_at.desc(), ImportBatch.id.desc()).limit(recent)).all()
    return ImportSummary(tuple(ImportedYear(y, **counts) for y, counts in sorted(years.items(), reverse=True)),
                         tuple(ImportedFile(b.kind, b.file_name, b.rows, b.added_rows, _aware(b.imported_at),
                                            b.imported_by) for b in batches))


def _aware(at: dt.datetime) -> dt.datetime:
    """SQLite hands stored UTC times back naive."""
    return at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else at


__all__ = ["ImportResult", "ImportSummary", "ImportedFile", "ImportedYear", "import_costs", "import_counts",
           "import_events", "import_summary", "Iterable"]
