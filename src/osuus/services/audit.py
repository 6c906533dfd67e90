"""The change log (muutosloki): its newest records, and the verification of its chain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from osuus.services.ledger import Ledger
from osuus.store import audit
from osuus.store.tables import AuditRecord


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    reason: str
    hash: str


@dataclass(frozen=True)
class Verification:
    records: int
    broken: tuple[str, ...]  # every broken link, described; empty: the chain is intact


def verify(ledger: Ledger) -> Verification:
    with ledger.read() as session:
        broken = audit.verify(session)
        count = session.scalar(select(func.count()).select_from(AuditRecord)) or 0
    return Verification(count, tuple(broken))


def newest(ledger: Ledger, limit: int = 50) -> list[AuditEntry]:
    """The newest records, oldest first."""
    with ledger.read() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit))
        return [AuditEntry(r.id, r.at, r.actor, r.action, r.subject, r.reason, r.hash) for r in reversed(list(rows))]
