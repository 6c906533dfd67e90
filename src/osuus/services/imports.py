"""Imports into the ledger: all or nothing; the same file twice adds nothing.

Every row is checked (osuus.imports); any bad row, or a record already stored
with other content, rejects the whole file, and nothing is written. Records
already stored as they are are skipped, so a re-sent file adds only what is new.
Each import is one transaction with one audit record (none when nothing is new).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy.orm import Session

from osuus.billing.records import ServiceEventRecord
from osuus.imports import ImportContext, ProblemList, problem_total, row_problem
from osuus.problems import Problem, ProblemsError
from osuus.services.agreements import Agreements
from osuus.services.ledger import Ledger, Tx, now
from osuus.services.views import ImportResult
from osuus.store import queries
from osuus.store.tables import ActualCost as ActualCostRow, ImportBatch, ReferenceCount, ServiceEvent

#: How many problems a refused file lists (all are counted).
LISTED = 1000


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

    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
        batch, created = _batch(tx, "events", path, _file_hash(path))
        if not created:
            return ImportResult("events", path.name, batch.rows, 0, False)
        problems = ProblemList(limit=LISTED)
        conflicts: list[Problem] = []
        closed = queries.closed_years(session)
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
                new.append({"source_id": r.event_id, "date": r.date, "year": r.date.year, "month": r.date.month,
                            "component": r.component, "municipality": r.municipality, "customer": r.customer,
                            "quantity": r.quantity, "integration_year": r.integration_year,
                            "travel_days": r.travel_days, "km": r.km, "interpretation": r.interpretation,
                            "batch_id": batch.id})
            if new and not problems and not conflicts:
                session.execute(ServiceEvent.__table__.insert(), new)
            chunk.clear()
            return len(new)

        for record in iter_events(path, _context(session, year), problems):
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
        return stored.value == r.value or _problem_at(
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

    def store(session: Session, r, batch_id: int) -> bool | Problem:
        nonlocal closed
        if closed is None:
            closed = queries.closed_years(session)
        if r.year in closed:
            return _problem_at(r, "year", f"the year {r.year} is closed; its costs can no longer change",
                               "import.closed-year")
        stored = queries.actual_cost_row(session, r.year, r.component, r.kind)
        if stored is not None:
            return stored.amount == r.amount or _problem_at(
                r, "amount", f"the {r.kind} of {r.component} in {r.year} is already stored as {stored.amount}; "
                             "a stored figure is not overwritten", "import.conflict")
        session.add(ActualCostRow(year=r.year, component=r.component, kind=r.kind, amount=r.amount,
                                  note=r.note[:300], batch_id=batch_id))
        return True

    return _import_rows(ledger, "costs", path, parse_costs, store)


__all__ = ["ImportResult", "import_costs", "import_counts", "import_events", "Iterable"]
