"""The audit log: every write, chained by hashes so that edits and removals show.

Each record's hash is

    sha256(prev_hash + canonical JSON of [at, actor, action, subject, reason, details])

where `prev_hash` is the hash of the record before it (64 zeros for the first),
`at` is the UTC time in ISO 8601 with microseconds, and canonical JSON is
`json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)`.

`verify` recomputes the chain: a record whose hash does not match its contents
was edited; a record whose prev_hash is not the hash of the record before it
marks a record removed (or one inserted) at that place. The chain cannot show
that the newest records were removed, or that the whole tail was rewritten with
fresh hashes: for that, keep the latest hash somewhere else as well (print it
on the documents, or send it to the parties).

Appends are serialised so the chain stays a single line: on PostgreSQL by a
transaction-level advisory lock taken before the last hash is read; on SQLite
by `BEGIN IMMEDIATE`, which `osuus.store.db.make_engine` emits for every
transaction (a session on an engine made otherwise is not protected). Commit
soon after appending: the lock is held until the transaction ends.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from osuus.store.tables import AuditRecord

GENESIS = "0" * 64
# pg_advisory_xact_lock key: the bytes "osuusaud" as a signed 64-bit integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"osuusaud", "big", signed=True)
ENV_USER = "OSUUS_USER"


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


def _lock_chain(session: Session) -> None:
    if session.get_bind(AuditRecord).dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    # SQLite: the transaction began with BEGIN IMMEDIATE and holds the write lock.


def _last_hash(session: Session) -> str:
    last = session.execute(
        select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
    ).scalar_one_or_none()
    return last or GENESIS


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    reason: str = "",
    details: dict | None = None,
) -> AuditRecord:
    """Add a record to the chain (flushed, not committed: it commits with the caller's work)."""
    _lock_chain(session)
    prev_hash = _last_hash(session)
    at = dt.datetime.now(dt.timezone.utc)
    # Store exactly what is hashed: Decimals and dates become strings, tuples
    # lists, keys strings; reading the record back then gives the same JSON.
    stored_details = json.loads(canonical_json(details if details is not None else {}))
    record = AuditRecord(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        reason=reason,
        details=stored_details,
        prev_hash=prev_hash,
        hash=record_hash(prev_hash, at, actor, action, subject, reason, stored_details),
    )
    session.add(record)
    session.flush()
    return record


def verify(session: Session, *, batch_size: int = 1000) -> list[str]:
    """Recompute the whole chain in id order; describe every broken link (empty: intact)."""
    problems: list[str] = []
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
    expected_prev = GENESIS
    previous_id: int | None = None
    for row in session.execute(stmt):
        recomputed = record_hash(
            row.prev_hash, row.at, row.actor, row.action, row.subject, row.reason, row.details
        )
        if recomputed != row.hash:
            problems.append(
                f"tietue {row.id}: tiiviste ei vastaa sisältöä, tietuetta on muutettu jälkikäteen "
                f"(record {row.id}: hash mismatch, the record was edited after it was written)"
            )
        if row.prev_hash != expected_prev:
            if previous_id is None:
                problems.append(
                    f"tietue {row.id}: ensimmäinen tietue ei linkity ketjun alkuun: sitä ennen on poistettu "
                    f"tietueita, tai se on lisätty (record {row.id}: prev_hash mismatch, the first record does not link "
                    f"to the start of the chain: records were removed before it, or it was inserted)"
                )
            else:
                problems.append(
                    f"tietue {row.id}: ei linkity edeltävään tietueeseen {previous_id}: niiden välistä on "
                    f"poistettu tietue tai väliin on lisätty tietue "
                    f"(record {row.id}: prev_hash mismatch, it does not link to record {previous_id} "
                    f"before it: a record was removed or inserted between {previous_id} and {row.id})"
                )
        expected_prev = row.hash
        previous_id = row.id
    return problems
