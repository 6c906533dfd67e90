"""The audit log: every write, chained by hashes, with the content hashes of what it wrote.

The chain. Each record's hash is

    sha256(prev_hash + canonical JSON of [at, actor, action, subject, reason, details])

where `prev_hash` is the hash of the record before it (64 zeros for the first),
`at` is the UTC time in ISO 8601 with microseconds, and canonical JSON is
`json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)`.
`verify` recomputes the chain: a record whose hash does not match its contents
was edited; a record whose prev_hash is not the hash of the record before it
marks a record removed (or one inserted) at that place.

The content. A record written through `osuus.services.ledger` also carries, in
`details["content"]` (so inside the chain), the content hashes of every row its
transaction inserted, changed or removed in the tables the log covers
(`COVERED`: agreement versions, import batches with their events, counts and
costs, invoice runs, invoices and their lines, estimates, year closings and
settlements):

    {"v": 1,
     "tables": {"invoices": {"keys": [[12, 32]], "rows": 21, "chunk": 1,
                             "chunks": ["<16 hex>", ...], "sha256": "<64 hex>"}, ...},
     "before": {"settlements": {"5": "<64 hex>"}},    # rows it changed: their digest before
     "removed": {...}}                                # rows it removed: their digest before

A row's digest is the SHA-256 of the canonical JSON of `[table, {column: value}]`
over the table's columns in `COVERED` (NULLs left out; money and quantities as
decimal strings with the column's fixed places, dates ISO, times UTC ISO with
microseconds, JSON columns as JSON, kinds as their value): the same text on
SQLite and PostgreSQL. The rows a record covers (`keys`, ranges of primary
keys) are taken in key order in chunks of `chunk` rows (1 up to `CHUNKS` rows,
so that each row can be named; more for a large import); a chunk's digest is
the SHA-256 of its rows' digests, `chunks` keeps the first 16 hex digits of
each (to find which rows changed) and `sha256` is the SHA-256 of all chunk
digests. A row changed by a later write is checked by that write's record; the
earlier record is checked with the digest the later one kept in `before`.
`verify_content` recomputes all of it from the tables.

A new column of a covered table is added to its `COVERED` entry; as long as it
is NULL in rows written before, their digests stay the same (NULLs are left
out). A column that is filled in for old rows needs a new content version.
The area of a row (`area_id`, revision 0004) is not in its digest: the rows
written before were given the first area, and each area is checked on its own
(its records, its rows), so a row moved to another area is found missing from
its own area and uncovered in the other.

Each area has its own chain: a record links to the previous record of its area.

Appends are serialised so the chain stays a single line: on PostgreSQL by a
transaction-level advisory lock (`lock_chain`) taken before the last hash is
read; on SQLite by `BEGIN IMMEDIATE`, which `osuus.store.db.make_engine` emits
for every transaction. The lock is held until the transaction ends.

The chain cannot prove from inside one database that its newest records were
not removed, or the whole tail rewritten with fresh hashes: for that, keep a
checkpoint (the head's number and hash) somewhere else. On both databases a
trigger (revision 0003, `GUARDS`) refuses UPDATE and DELETE of audit records.
"""

from __future__ import annotations

import datetime as dt
import enum
import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Iterator

from json.encoder import encode_basestring

from sqlalchemy import JSON, Date, DateTime, Integer, event, func, inspect, or_, select, text, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from osuus.store.areas import area_clause
from osuus.store.tables import AuditRecord, Base
from osuus.store.types import _ScaledDecimal

GENESIS = "0" * 64
# pg_advisory_xact_lock key: the bytes "osuusaud" as a signed 64-bit integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"osuusaud", "big", signed=True)
ENV_USER = "OSUUS_USER"
#: The key of a record's details under which it keeps the content hashes of its write.
CONTENT = "content"
CONTENT_VERSION = 1
#: At most this many chunk digests per table and record: up to this many rows, one row each.
CHUNKS = 1000
SHORT = 16
#: The triggers that keep the log append-only (made by revision 0003), by database.
GUARDS = {
    "postgresql": ("audit_log_append_only", "audit_log_no_truncate"),
    "sqlite": ("audit_log_no_update", "audit_log_no_delete"),
}


def current_actor() -> str:
    """Who is writing: $OSUUS_USER, else the login name."""
    actor = os.environ.get(ENV_USER, "").strip()
    if actor:
        return actor
    try:
        return getpass.getuser()
    except Exception:  # no login name (e.g. a container user without a passwd entry)
        return "unknown"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso_utc(at: dt.datetime) -> str:
    # SQLite hands timestamps back naive (they are stored in UTC); PostgreSQL
    # hands them back in the session's time zone. Both become the same text.
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def record_hash(
    prev_hash: str,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    reason: str,
    details: Any,
) -> str:
    payload = canonical_json([_iso_utc(at), actor, action, subject, reason, details])
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def _area(session: Session) -> int | None:
    """The session's area (osuus.store.areas); None before revision 0004 made areas."""
    return session.info.get("area_id")


def _where_area(session: Session, first: bool = True) -> str:
    """The same as SQL text, for the statements written as text (an integer, never a string)."""
    area_id = _area(session)
    if area_id is None:
        return ""
    return f"{' WHERE' if first else ' AND'} area_id = {int(area_id)}"


def lock_chain(session: Session) -> None:
    """Take the lock of the area's chain (PostgreSQL: an advisory lock to the end of the
    transaction, one per area; SQLite: the transaction began with BEGIN IMMEDIATE and holds
    the write lock)."""
    if session.get_bind(AuditRecord).dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :area)"),
                        {"key": ADVISORY_LOCK_KEY >> 32, "area": int(_area(session) or 0)})


_lock_chain = lock_chain


def _last_hash(session: Session) -> str:
    columns = AuditRecord.__table__.c
    stmt = select(columns.hash).order_by(columns.id.desc()).limit(1)
    where = area_clause(AuditRecord.__table__, session)
    if where is not None:
        stmt = stmt.where(where)
    last = session.connection().execute(stmt).scalar_one_or_none()
    return last or GENESIS


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    reason: str = "",
    details: dict | None = None,
    content: dict | None = None,
) -> AuditRecord:
    """Add a record to the chain (flushed, not committed: it commits with the caller's work).
    `content` (see `ContentTracker`) goes into the details under `CONTENT`."""
    lock_chain(session)
    prev_hash = _last_hash(session)
    at = dt.datetime.now(dt.timezone.utc)
    details = dict(details or {})
    if content is not None:
        if CONTENT in details:
            raise ValueError(f"the details of {action} already have a key {CONTENT!r}")
        details[CONTENT] = content
    # Store exactly what is hashed: Decimals and dates become strings, tuples
    # lists, keys strings; reading the record back then gives the same JSON.
    stored_details = json.loads(canonical_json(details))
    values = dict(at=at, actor=actor, action=action, subject=subject, reason=reason, details=stored_details,
                  prev_hash=prev_hash, hash=record_hash(prev_hash, at, actor, action, subject, reason, stored_details))
    if _area(session) is not None:  # before revision 0004 (a migration appending) there is no area
        values["area_id"] = _area(session)
    session.flush()
    table = AuditRecord.__table__
    record_id = session.connection().execute(table.insert().values(**values).returning(table.c.id)).scalar_one()
    return Appended(id=record_id, **values)


@dataclass(frozen=True)
class Appended:
    """An audit record as appended (written as Core: the record of revision 0003 is appended
    before the log has an area column)."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    reason: str
    details: dict
    prev_hash: str
    hash: str
    area_id: int | None = None


# --------------------------------------------------------------------------
# findings: what verification found, as data (words are made by osuus.render)
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One thing found wrong. `kind` says what (see `KINDS`); `record` is the audit record
    concerned, `table` and `key` the row (`last` the last key of a group of rows), `names`
    what names the row (filled in by the use case), `params` the rest."""

    kind: str
    record: int | None = None
    table: str | None = None
    key: int | None = None
    last: int | None = None
    params: dict = field(default_factory=dict)
    names: dict | None = None


KINDS = (
    "record.edited", "record.unlinked", "record.first_unlinked", "record.without_content",
    "row.edited", "rows.edited", "row.deleted", "row.inserted", "row.covered_twice", "rows.more",
    "content.mismatch", "log.empty", "guard.missing",
)


def verify(session: Session, *, batch_size: int = 1000) -> list[Finding]:
    """Recompute the whole chain in id order; every broken link (empty: intact)."""
    problems: list[Finding] = []
    columns = AuditRecord.__table__.c
    stmt = (
        # Columns, not entities: the rows are read from the database, never
        # from objects this session already holds.
        select(
            columns.id, columns.at, columns.actor, columns.action, columns.subject,
            columns.reason, columns.details, columns.prev_hash, columns.hash,
        )
        .order_by(columns.id)
        .execution_options(yield_per=batch_size)
    )
    where = area_clause(AuditRecord.__table__, session)
    if where is not None:
        stmt = stmt.where(where)
    expected_prev = GENESIS
    previous_id: int | None = None
    for row in session.execute(stmt):
        recomputed = record_hash(
            row.prev_hash, row.at, row.actor, row.action, row.subject, row.reason, row.details
        )
        if recomputed != row.hash:
            problems.append(Finding("record.edited", record=row.id))
        if row.prev_hash != expected_prev:
            if previous_id is None:
                problems.append(Finding("record.first_unlinked", record=row.id))
            else:
                problems.append(Finding("record.unlinked", record=row.id, params={"previous": previous_id}))
        expected_prev = row.hash
        previous_id = row.id
    return problems


def guards_missing(session: Session) -> list[str]:
    """The append-only triggers of the log that are not there (or are disabled)."""
    dialect = session.get_bind(AuditRecord).dialect.name
    wanted = GUARDS.get(dialect, ())
    if not wanted:
        return []
    if dialect == "postgresql":
        present = set(session.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND tgenabled <> 'D'")))
    else:
        present = set(session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")))
    return [name for name in wanted if name not in present]


# --------------------------------------------------------------------------
# what the log covers, and a row's digest
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Covered:
    """A table whose rows the audit records cover, by primary key (`key`)."""

    table: str
    columns: tuple[str, ...]
    key: str = "id"
    serial: bool = True  # keys are ascending integers handed out by the database
    names: tuple[str, ...] = ()  # what names a row to a person (see row_names)


COVERED: tuple[Covered, ...] = (
    Covered("agreement_versions", ("id", "agreement_id", "year", "revision", "host", "content_hash", "content",
                                   "file_name", "added_at", "added_by", "checks"),
            names=("agreement_id", "year", "revision")),
    Covered("import_batches", ("id", "kind", "file_name", "content_hash", "rows", "added_rows", "imported_at",
                               "imported_by"), names=("kind", "file_name")),
    Covered("service_events", ("id", "source_id", "date", "year", "month", "component", "municipality", "customer",
                               "quantity", "integration_year", "travel_days", "km", "interpretation", "batch_id"),
            names=("source_id",)),
    Covered("reference_counts", ("id", "key", "municipality", "date", "value", "source", "batch_id"),
            names=("key", "municipality", "date")),
    Covered("actual_costs", ("id", "year", "component", "kind", "amount", "note", "batch_id"),
            names=("year", "component", "kind")),
    Covered("invoice_runs", ("id", "period_year", "period_kind", "period_index", "period_end", "max_event_id",
                             "agreement_version_id", "issue_date", "run_at", "run_by"),
            names=("period_year", "period_kind", "period_index")),
    Covered("invoices", ("id", "number", "host", "year", "sequence", "kind", "municipality", "period_year",
                         "period_kind", "period_index", "run_id", "agreement_version_id", "issue_date", "due_date",
                         "reference", "total", "credited_invoice_id", "reason", "created_at"),
            names=("number",)),
    Covered("invoice_lines", ("id", "invoice_id", "position", "kind", "component", "period_year", "period_kind",
                              "period_index", "quantity", "unit", "unit_price", "amount", "reference", "details",
                              "explanation", "issued_text"), names=("invoice_id", "position")),
    Covered("estimates", ("id", "year", "revision", "municipality", "amount", "basis", "details", "inputs_hash",
                          "created_at", "issued_basis"), names=("year", "revision", "municipality")),
    Covered("year_closings", ("year", "agreement_version_id", "details", "closed_at", "closed_by"),
            key="year", serial=False, names=("year",)),
    Covered("settlements", ("id", "year", "municipality", "kind", "actual", "billed", "difference",
                            "credit_note_id", "credited_invoice_id", "carried_invoice_id", "explanation",
                            "issued_text"), names=("year", "municipality", "kind")),
)
BY_TABLE = {c.table: c for c in COVERED}


def _scaled(scale: int):
    """A money or quantity column's value as its decimal text with `scale` places: from the
    integer of the smallest unit SQLite keeps, or the Decimal PostgreSQL gives."""
    unit = Decimal(1).scaleb(-scale)

    power = 10 ** scale

    def convert(value) -> str:
        if type(value) is int:
            whole, part = divmod(-value if value < 0 else value, power)
            return f'"{"-" if value < 0 else ""}{whole}.{part:0{scale}d}"'
        value = Decimal(value).quantize(unit)
        return f'"{format(value.copy_abs() if value == 0 else value, "f")}"'
    return convert


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def _json_from_text(value) -> str | None:
    """SQLite keeps a JSON column as its text (JSON null too, which counts as NULL)."""
    value = json.loads(value)
    return None if value is None else canonical_json(value)


class _Reader:
    """Reads a covered table's rows as the database keeps them and makes each row's digest.

    A row's line is canonical JSON, `canonical_json([table, {column: value}])` with the values
    described in the module's docstring; it is written here column by column, without the typed
    values, because a million events are hashed on each import (`line` is held to
    `canonical_line` of the typed values by a test)."""

    def __init__(self, covered: Covered):
        self.covered = covered
        self.table = Base.metadata.tables[covered.table]
        self.columns = [self.table.c[name] for name in covered.columns]
        self.key = self.table.c[covered.key]
        self.key_index = covered.columns.index(covered.key)
        self.head = "[" + encode_basestring(covered.table) + ",{"
        self._plans: dict[str, Any] = {}

    def plan(self, dialect):
        """The function that makes a row's line from the row as the database keeps it: one step
        per column, in the columns' sorted order (made once per table and database)."""
        found = self._plans.get(dialect.name)
        if found is not None:
            return found
        namespace: dict[str, Any] = {"enc": encode_basestring}
        body = ["def line(row):", "    parts = []"]
        for index, column in sorted(enumerate(self.columns), key=lambda pair: pair[1].name):
            kind, prefix = column.type, encode_basestring(column.name) + ":"
            body += [f"    v = row[{index}]", "    if v is not None:"]
            if isinstance(kind, _ScaledDecimal):
                namespace[f"c{index}"] = _scaled(kind.scale)
            elif isinstance(kind, DateTime):
                parse = kind.dialect_impl(dialect).result_processor(dialect, None)
                namespace[f"c{index}"] = (lambda parse: lambda v: encode_basestring(
                    _iso_utc(parse(v) if parse is not None and isinstance(v, str) else v)))(parse)
            elif isinstance(kind, Date):
                namespace[f"c{index}"] = lambda v: encode_basestring(v if isinstance(v, str) else v.isoformat())
            elif isinstance(kind, JSON):  # PostgreSQL's driver hands back the value, JSON null as None
                namespace[f"c{index}"] = _json_from_text if dialect.name == "sqlite" else canonical_json
            elif isinstance(kind, Integer):
                body.append(f"        parts.append({prefix!r} + str(v))")
                continue
            else:
                body.append(f"        parts.append({prefix!r} + enc(v))")
                continue
            body += [f"        v = c{index}(v)", "        if v is not None:",
                     f"            parts.append({prefix!r} + v)"]
        body.append(f"    return {self.head!r} + ','.join(parts) + '}}]'")
        exec("\n".join(body), namespace)  # noqa: S102 - made here from the column list, nothing outside
        found = self._plans[dialect.name] = namespace["line"]
        return found

    def line(self, row, plan) -> str:
        return plan(row)

    def canonical_line(self, typed_row) -> str:
        """The same line from the typed values (what `line` must equal)."""
        values = {}
        for column, value in zip(self.columns, typed_row):
            if value is None:
                continue
            kind = column.type
            if isinstance(kind, _ScaledDecimal):
                value = json.loads(_scaled(kind.scale)(value))
            elif isinstance(kind, DateTime):
                value = _iso_utc(value)
            elif isinstance(kind, Date):
                value = value.isoformat()
            values[column.name] = _plain(value)
        return canonical_json([self.covered.table, values])

    def rows(self, session: Session, where=None, *, batch_size: int = 5000) -> Iterator[tuple[int, bytes]]:
        """(key, digest) of the rows matching `where`, in key order."""
        connection = session.connection()
        plan = self.plan(connection.dialect)
        stmt = (select(*[type_coerce(c, NullType()) for c in self.columns]).order_by(self.key)
                .execution_options(yield_per=batch_size))
        if where is not None:
            stmt = stmt.where(where)
        area = area_clause(self.table, session)
        if area is not None:
            stmt = stmt.where(area)
        index, sha256 = self.key_index, hashlib.sha256
        for row in connection.execute(stmt):
            yield row[index], sha256(plan(row).encode("utf-8")).digest()

    def in_ranges(self, ranges: list[list[int]]):
        return or_(*[self.key.between(lo, hi) for lo, hi in ranges]) if ranges else self.key.is_(None)


_READERS: dict[str, _Reader] = {}


def reader(table: str) -> _Reader:
    found = _READERS.get(table)
    if found is None:
        found = _READERS[table] = _Reader(BY_TABLE[table])
    return found


def ranges_of(keys: Iterable[int]) -> list[list[int]]:
    """Ascending keys as inclusive ranges: 1, 2, 3, 7 → [[1, 3], [7, 7]]."""
    out: list[list[int]] = []
    for key in keys:
        if out and key == out[-1][1] + 1:
            out[-1][1] = key
        else:
            out.append([key, key])
    return out


def keys_of(ranges: list[list[int]]) -> Iterator[int]:
    for lo, hi in ranges:
        yield from range(lo, hi + 1)


class Summary:
    """The content entry of one table in one record, made row by row in key order."""

    def __init__(self, count: int, chunk: int | None = None):
        self.count = count
        self.chunk = chunk or max(1, -(-count // CHUNKS))
        self.keys: list[int] = []
        self.ranges: list[list[int]] = []
        self.chunk_digests: list[bytes] = []
        self._current = hashlib.sha256()
        self._in_chunk = 0
        self.added = 0

    def add(self, key: int, digest: bytes) -> None:
        if self.ranges and key == self.ranges[-1][1] + 1:
            self.ranges[-1][1] = key
        else:
            self.ranges.append([key, key])
        self._current.update(digest)
        self._in_chunk += 1
        self.added += 1
        if self._in_chunk == self.chunk:
            self._close_chunk()

    def _close_chunk(self) -> None:
        self.chunk_digests.append(self._current.digest())
        self._current = hashlib.sha256()
        self._in_chunk = 0

    def finish(self) -> dict:
        if self._in_chunk:
            self._close_chunk()
        return {"keys": self.ranges, "rows": self.added, "chunk": self.chunk,
                "chunks": [d.hex()[:SHORT] for d in self.chunk_digests],
                "sha256": hashlib.sha256(b"".join(self.chunk_digests)).hexdigest()}


def _max_keys(session: Session) -> dict[str, Any]:
    """Each covered table's largest key (a serial key), or its keys (year closings)."""
    out: dict[str, Any] = {}
    serial = [c for c in COVERED if c.serial]
    union = " UNION ALL ".join(f"SELECT '{c.table}', max({c.key}) FROM {c.table}{_where_area(session)}"
                               for c in serial)
    for name, value in session.connection().execute(text(union)):
        out[name] = value
    for c in COVERED:
        if not c.serial:
            r = reader(c.table)
            stmt = select(r.key)
            area = area_clause(r.table, session)
            if area is not None:
                stmt = stmt.where(area)
            out[c.table] = frozenset(session.connection().execute(stmt).scalars())
    return out


# --------------------------------------------------------------------------
# what one transaction writes
# --------------------------------------------------------------------------

class ContentTracker:
    """The rows of the covered tables that one transaction inserts, changes or removes.

    Made at the start of the transaction (it takes the chain's lock, so that no
    other writer's rows can come between): it notes each covered table's largest
    key; at the end every row past it is this transaction's. A row that was there
    before and is changed or removed (through the session's unit of work or an
    UPDATE/DELETE run by `session.execute`) has its digest from before noted
    first. `content()` then gives the record's content (None: nothing written)."""

    def __init__(self, session: Session):
        self.session = session
        lock_chain(session)
        self.start = _max_keys(session)
        self.before: dict[str, dict[int, str]] = {}
        self.removed: dict[str, dict[int, str]] = {}
        event.listen(session, "before_flush", self._before_flush)
        event.listen(session, "do_orm_execute", self._on_execute)

    def close(self) -> None:
        event.remove(self.session, "before_flush", self._before_flush)
        event.remove(self.session, "do_orm_execute", self._on_execute)

    def _existed(self, table: str, key) -> bool:
        start = self.start.get(table)
        if BY_TABLE[table].serial:
            return start is not None and key is not None and key <= start
        return key in start

    def _note(self, table: str, keys: Iterable, removed: bool) -> None:
        keys = [k for k in keys if self._existed(table, k)
                and k not in self.before.get(table, {}) and k not in self.removed.get(table, {})]
        if not keys:
            return
        r = reader(table)
        found = dict(r.rows(self.session, r.key.in_(keys)))
        target = (self.removed if removed else self.before).setdefault(table, {})
        for k in keys:
            if k in found:
                target[k] = found[k].hex()

    def _before_flush(self, session, flush_context, instances) -> None:
        for removed, objects in ((False, session.dirty), (True, session.deleted)):
            for obj in list(objects):
                state = inspect(obj)
                table = state.mapper.local_table.name
                if table not in BY_TABLE or state.identity is None:
                    continue
                if not removed and not session.is_modified(obj):
                    continue
                key = state.identity[0]
                if removed and key in self.before.get(table, {}):  # changed, then removed
                    self.removed.setdefault(table, {})[key] = self.before[table].pop(key)
                    continue
                self._note(table, [key], removed)

    def _on_execute(self, state) -> None:
        if not (state.is_update or state.is_delete):
            return
        target = getattr(state.statement, "table", None)
        name = getattr(target, "name", None)
        if name not in BY_TABLE:
            return
        r = reader(name)
        stmt = select(r.key)
        if state.statement.whereclause is not None:
            stmt = stmt.where(state.statement.whereclause)
        area = area_clause(r.table, self.session)
        if area is not None:
            stmt = stmt.where(area)
        parameters = state.parameters if isinstance(state.parameters, dict) else {}
        keys = list(self.session.connection().execute(stmt, parameters).scalars())
        self._note(name, keys, state.is_delete)

    def _new_rows(self) -> dict[str, int]:
        """How many rows past the start each covered table has now (one query)."""
        parts = []
        for c in COVERED:
            start = self.start.get(c.table)
            if c.serial:
                where = f" WHERE {c.key} > {int(start)}" if start is not None else ""
            else:
                where = f" WHERE {c.key} NOT IN ({', '.join(str(int(k)) for k in start)})" if start else ""
            parts.append(f"SELECT '{c.table}', count(*) FROM {c.table}{where}{_where_area(self.session, not where)}")
        return dict(self.session.connection().execute(text(" UNION ALL ".join(parts))).all())

    def content(self) -> dict | None:
        """What the transaction wrote, as a record's content (flush first); None: nothing."""
        session = self.session
        counts = self._new_rows()
        tables: dict[str, dict] = {}
        for c in COVERED:
            changed = [k for k in self.before.get(c.table, {}) if k not in self.removed.get(c.table, {})]
            if not counts.get(c.table) and not changed:
                continue
            r = reader(c.table)
            start = self.start.get(c.table)
            if c.serial:
                new = r.key > start if start is not None else r.key.is_not(None)
            else:
                new = r.key.not_in(list(start)) if start else r.key.is_not(None)
            where = or_(new, r.key.in_(changed)) if changed else new
            summary = Summary(counts.get(c.table, 0) + len(changed))
            for key, digest in r.rows(session, where):
                summary.add(key, digest)
            tables[c.table] = summary.finish()
        if not tables and not self.before and not self.removed:
            return None
        content: dict[str, Any] = {"v": CONTENT_VERSION, "tables": tables}
        for name, noted in (("before", self.before), ("removed", self.removed)):
            noted = {t: {str(k): d for k, d in sorted(keys.items())} for t, keys in noted.items() if keys}
            if noted:
                content[name] = noted
        return content


def empty_content() -> dict:
    return {"v": CONTENT_VERSION, "tables": {}}


# --------------------------------------------------------------------------
# checking the ledger against the records' content
# --------------------------------------------------------------------------

@dataclass
class ContentCheck:
    records: int = 0  # records in the log
    not_covered: int = 0  # records written before content hashes (revision 0003)
    first_covered: int | None = None  # the first record with content
    rows: int = 0  # rows checked against their records
    ledger_rows: int = 0  # rows in the covered tables
    findings: list[Finding] = field(default_factory=list)


def _records(session: Session) -> Iterator[tuple[int, dict | None]]:
    c = AuditRecord.__table__.c
    stmt = select(c.id, c.details).order_by(c.id).execution_options(yield_per=500)
    where = area_clause(AuditRecord.__table__, session)
    if where is not None:
        stmt = stmt.where(where)
    for record_id, details in session.connection().execute(stmt):
        content = details.get(CONTENT) if isinstance(details, dict) else None
        yield record_id, content if isinstance(content, dict) else None


class _Limited:
    """Findings of one kind and table listed up to `limit`; the rest counted."""

    def __init__(self, limit: int):
        self.limit = limit
        self.findings: list[Finding] = []
        self.counts: dict[tuple[str, str | None], int] = {}

    def add(self, finding: Finding) -> None:
        group = (finding.kind, finding.table)
        self.counts[group] = self.counts.get(group, 0) + 1
        if self.counts[group] <= self.limit:
            self.findings.append(finding)

    def all(self) -> list[Finding]:
        more = [Finding("rows.more", table=table, params={"kind": kind, "count": count - self.limit})
                for (kind, table), count in self.counts.items() if count > self.limit]
        return self.findings + more


def verify_content(session: Session, *, limit: int = 20) -> ContentCheck:
    """Recompute every record's content hashes from the covered tables; every row edited,
    removed, added or covered twice, by table and key, with the record concerned."""
    check = ContentCheck()
    found = _Limited(limit)
    entries: dict[str, list[tuple[int, dict]]] = {c.table: [] for c in COVERED}
    mentions: dict[tuple[str, int], list[tuple[int, str]]] = {}  # (table, key) → [(record, digest before)]
    for record_id, content in _records(session):
        check.records += 1
        if content is None:
            if check.first_covered is None:
                check.not_covered += 1
            else:
                found.add(Finding("record.without_content", record=record_id))
            continue
        if check.first_covered is None:
            check.first_covered = record_id
        for table, entry in (content.get("tables") or {}).items():
            if table in entries:
                entries[table].append((record_id, entry))
        for name in ("before", "removed"):
            for table, keys in (content.get(name) or {}).items():
                for key, digest in keys.items():
                    mentions.setdefault((table, int(key)), []).append((record_id, digest))

    for c in COVERED:
        r = reader(c.table)
        counting = select(func.count()).select_from(r.table)
        if area_clause(r.table, session) is not None:
            counting = counting.where(area_clause(r.table, session))
        total = session.connection().execute(counting).scalar_one()
        check.ledger_rows += total
        if check.records == 0:
            continue
        for record_id, entry in entries[c.table]:
            _check_entry(session, r, record_id, entry, mentions, found, check)
        _check_overlaps(c.table, entries[c.table], mentions, found)
        _check_uncovered(session, r, entries[c.table], found)
    if check.records == 0 and check.ledger_rows:
        found.add(Finding("log.empty", params={"rows": check.ledger_rows}))
    check.findings = found.all()
    return check


def _later(mentions, table: str, key: int, record_id: int) -> str | None:
    """The digest a later record kept of this row from before it changed it (None: none did)."""
    for later_id, digest in mentions.get((table, key), ()):
        if later_id > record_id:
            return digest
    return None


_MISSING = b"\0" * 32


def _check_entry(session, r: _Reader, record_id: int, entry: dict, mentions, found: _Limited,
                 check: ContentCheck) -> None:
    """One record's rows of one table, recomputed chunk by chunk."""
    table = r.covered.table
    ranges = [list(pair) for pair in entry.get("keys", [])]
    chunk = int(entry.get("chunk", 1)) or 1
    stored = list(entry.get("chunks", []))
    rows = r.rows(session, r.in_ranges(ranges))
    current = next(rows, None)
    digests: list[bytes] = []  # of each chunk
    spans: list[tuple[int, int]] = []  # the first and last key of each chunk
    with_deleted: set[int] = set()  # chunks with a row that is gone
    hasher, first, count = hashlib.sha256(), None, 0
    for key in keys_of(ranges):
        while current is not None and current[0] < key:
            current = next(rows, None)
        later = _later(mentions, table, key, record_id)
        if later is not None:  # changed or removed by a later write, which kept its digest from before
            digest = bytes.fromhex(later)
        elif current is not None and current[0] == key:
            digest = current[1]
            check.rows += 1
        else:
            digest = _MISSING
            found.add(Finding("row.deleted", record=record_id, table=table, key=key))
            with_deleted.add(len(digests))
        first = key if first is None else first
        hasher.update(digest)
        count += 1
        if count % chunk == 0:
            digests.append(hasher.digest())
            spans.append((first, key))
            hasher, first = hashlib.sha256(), None
    if first is not None:
        digests.append(hasher.digest())
        spans.append((first, key))
    if count != entry.get("rows") or len(digests) != len(stored):
        found.add(Finding("content.mismatch", record=record_id, table=table))
        return
    reported = bool(with_deleted)
    for index, digest in enumerate(digests):
        if index in with_deleted or digest.hex()[:SHORT] == stored[index]:
            continue
        reported = True
        lo, hi = spans[index]
        if lo == hi:
            found.add(Finding("row.edited", record=record_id, table=table, key=lo))
        else:
            found.add(Finding("rows.edited", record=record_id, table=table, key=lo, last=hi))
    if not reported and hashlib.sha256(b"".join(digests)).hexdigest() != entry.get("sha256"):
        found.add(Finding("content.mismatch", record=record_id, table=table))


def _check_overlaps(table: str, entries: list[tuple[int, dict]], mentions, found: _Limited) -> None:
    """A row covered by two records is allowed only when the later one (or one between)
    kept its digest from before (it changed or removed the row)."""
    spans = sorted((lo, hi, record_id) for record_id, entry in entries for lo, hi in entry.get("keys", []))
    reach: tuple[int, int] | None = None  # (hi, record) of the span reaching furthest so far
    for lo, hi, record_id in spans:
        if reach is not None and lo <= reach[0]:
            first, second = sorted((reach[1], record_id))
            for key in range(lo, min(hi, reach[0]) + 1):
                if not any(first < later <= second for later, _ in mentions.get((table, key), ())):
                    found.add(Finding("row.covered_twice", record=second, table=table, key=key,
                                      params={"previous": first}))
        if reach is None or hi > reach[0]:
            reach = (hi, record_id)


def _check_uncovered(session, r: _Reader, entries: list[tuple[int, dict]], found: _Limited) -> None:
    """Rows that no record covers: added behind the program's back."""
    spans = sorted((lo, hi) for _, entry in entries for lo, hi in entry.get("keys", []))
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    index = 0
    stmt = select(r.key).order_by(r.key).execution_options(yield_per=10000)
    if area_clause(r.table, session) is not None:
        stmt = stmt.where(area_clause(r.table, session))
    for key in session.connection().execute(stmt).scalars():
        while index < len(merged) and merged[index][1] < key:
            index += 1
        if index < len(merged) and merged[index][0] <= key:
            continue
        found.add(Finding("row.inserted", table=r.covered.table, key=key))


def row_names(session: Session, table: str, keys: Iterable[int]) -> dict[int, dict]:
    """What names each of these rows to a person (an invoice line: its invoice's number and
    its position), for the rows that are there."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    r = reader(table)
    names = BY_TABLE[table].names
    out: dict[int, dict] = {}
    named = select(r.key, *[r.table.c[n] for n in names]).where(r.key.in_(keys))
    if area_clause(r.table, session) is not None:
        named = named.where(area_clause(r.table, session))
    for row in session.connection().execute(named):
        out[row[0]] = {n: _plain(v) if not isinstance(v, (dt.date, Decimal)) else str(v)
                       for n, v in zip(names, row[1:])}
    if table == "invoice_lines":
        invoices = Base.metadata.tables["invoices"]
        wanted = {v["invoice_id"] for v in out.values()}
        numbers = dict(session.connection().execute(
            select(invoices.c.id, invoices.c.number).where(invoices.c.id.in_(wanted))
            .where(area_clause(invoices, session) if area_clause(invoices, session) is not None else True)).all())
        for v in out.values():
            v["number"] = numbers.get(v["invoice_id"], f"id {v['invoice_id']}")
    return out


def baseline_content(session: Session) -> dict | None:
    """The content of every covered row that no record covers yet (the rows written before
    content hashes began); None when there are none."""
    covered: dict[str, list[list[int]]] = {c.table: [] for c in COVERED}
    for _, content in _records(session):
        if content is not None:
            for table, entry in (content.get("tables") or {}).items():
                covered.setdefault(table, []).extend(entry.get("keys", []))
    tables = {}
    for c in COVERED:
        r = reader(c.table)
        spans = covered[c.table]
        where = ~r.in_ranges(spans) if spans else None
        stmt = select(func.count()).select_from(r.table)
        if area_clause(r.table, session) is not None:
            stmt = stmt.where(area_clause(r.table, session))
        count = session.connection().execute(stmt.where(where) if where is not None else stmt).scalar_one()
        if not count:
            continue
        summary = Summary(count)
        for key, digest in r.rows(session, where):
            summary.add(key, digest)
        tables[c.table] = summary.finish()
    return {"v": CONTENT_VERSION, "tables": tables} if tables else None
