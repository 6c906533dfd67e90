"""The change log (muutosloki): its newest records, its checkpoint, and the audit of the
ledger against it.

`verify` recomputes the chain of hashes, and every audit record's content hashes
from the ledger (osuus.store.audit): an invoice, line, event, agreement version,
settlement or estimate edited, deleted or inserted behind the program's back is
found and named, with the record that wrote it. It also checks that invoice
numbers run without gaps, that each stored agreement's text still has its SHA-256,
that the log's append-only triggers are in place, and that the log is not empty
while the ledger holds rows.

The tail of a log cannot be proven from inside one database: `checkpoint` gives
the head's number and hash to keep somewhere else; `verify(ledger, checkpoint)`
then finds a log cut back behind it, or rewritten up to it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from osuus.billing.invoices import invoice_number
from osuus.problems import Problem, ProblemsError
from osuus.services.ledger import Ledger
from osuus.store import audit
from osuus.store.audit import Finding
from osuus.store.tables import AgreementVersion, AuditRecord, Invoice, InvoiceCounter

#: How many findings of one kind and table are listed (the rest are counted).
LISTED = 20


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
class Checkpoint:
    """The head of the log: its record's number (`sequence`; 0: the log is empty) and hash."""

    sequence: int
    hash: str
    at: dt.datetime | None = None
    records: int = 0


@dataclass(frozen=True)
class Verification:
    records: int  # in the log
    not_covered: int  # written before content hashes existed (revision 0003): counted, not checked
    first_covered: int | None  # the first record with content hashes (the baseline of an older ledger)
    rows: int  # rows of the ledger checked against the records that wrote them
    findings: tuple[Finding, ...]  # everything wrong; empty: the ledger is what its log says
    checkpoint: Checkpoint | None = None  # the checkpoint verified against, if any

    @property
    def broken(self) -> tuple[Finding, ...]:
        return self.findings


def verify(ledger: Ledger, checkpoint: Checkpoint | None = None) -> Verification:
    with ledger.read() as session:
        findings = list(audit.verify(session))
        content = audit.verify_content(session, limit=LISTED)
        findings += content.findings
        findings += [Finding("guard.missing", params={"name": name}) for name in audit.guards_missing(session)]
        findings += _numbering(session)
        findings += _agreement_bytes(session)
        if checkpoint is not None:
            findings += _against(session, checkpoint)
        findings = _named(session, findings)
    return Verification(content.records, content.not_covered, content.first_covered, content.rows,
                        tuple(findings), checkpoint)


def checkpoint(ledger: Ledger) -> Checkpoint:
    """The head of the log now, to keep somewhere else (and to verify against later)."""
    with ledger.read() as session:
        return head(session)


def head(session: Session) -> Checkpoint:
    last = session.execute(select(AuditRecord.id, AuditRecord.hash, AuditRecord.at)
                           .order_by(AuditRecord.id.desc()).limit(1)).first()
    count = session.scalar(select(func.count()).select_from(AuditRecord)) or 0
    if last is None:
        return Checkpoint(0, audit.GENESIS, None, 0)
    at = last.at if last.at.tzinfo else last.at.replace(tzinfo=dt.timezone.utc)
    return Checkpoint(last.id, last.hash, at.astimezone(dt.timezone.utc), count)


@dataclass(frozen=True)
class AuditPage:
    """A page of the log's records, newest first, and how many records the log holds."""

    entries: tuple[AuditEntry, ...]
    total: int


def audit_entries(ledger: Ledger, *, offset: int = 0, limit: int = 50, action: str = "", actor: str = "",
                  subject: str = "", since: dt.datetime | None = None,
                  before: dt.datetime | None = None) -> AuditPage:
    """The records of the ledger's area, newest first: `limit` of them after the `offset` newest,
    and how many there are in all. Given filters narrow both: the action and the actor exactly,
    `subject` as a part of the subject in any case, `since` and `before` the record's time."""
    r = AuditRecord
    where = []
    if action:
        where.append(r.action == action)
    if actor:
        where.append(r.actor == actor)
    if subject:
        where.append(r.subject.icontains(subject, autoescape=True))
    if since is not None:
        where.append(r.at >= since)
    if before is not None:
        where.append(r.at < before)
    with ledger.read() as session:
        total = session.scalar(select(func.count()).select_from(r).where(*where)) or 0
        rows = session.execute(select(r.id, r.at, r.actor, r.action, r.subject, r.reason, r.hash).where(*where)
                               .order_by(r.id.desc()).offset(offset).limit(limit)).all()
        return AuditPage(tuple(AuditEntry(*row) for row in rows), total)


def audit_choices(ledger: Ledger) -> tuple[list[str], list[str]]:
    """The actions and the actors the area's log holds, each sorted (what a filter can ask for)."""
    with ledger.read() as session:
        actions = sorted(session.scalars(select(AuditRecord.action).distinct()))
        actors = sorted(session.scalars(select(AuditRecord.actor).distinct()))
    return actions, actors


@dataclass(frozen=True)
class AuditRecordView(AuditEntry):
    """One record of the log whole: what it wrote (`details`) and the hash it is chained to."""

    details: dict
    prev_hash: str


def audit_record(ledger: Ledger, sequence: int) -> AuditRecordView | None:
    """One record of the area's log; None when the area has none of that number."""
    with ledger.read() as session:
        row = session.scalars(select(AuditRecord).where(AuditRecord.id == sequence)).one_or_none()
        if row is None:
            return None
        return AuditRecordView(row.id, row.at, row.actor, row.action, row.subject, row.reason, row.hash,
                               dict(row.details or {}), row.prev_hash)


def newest(ledger: Ledger, limit: int = 50) -> list[AuditEntry]:
    """The newest records, oldest first."""
    return list(reversed(audit_entries(ledger, limit=limit).entries))


# --------------------------------------------------------------------------
# a checkpoint kept elsewhere
# --------------------------------------------------------------------------

_HASH = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_NUMBER_LINE = re.compile(r"^[^:\d]+:\s*(\d+)\s*$")


def read_checkpoint(text: str, source: str = "") -> Checkpoint:
    """A checkpoint as `osuus audit checkpoint` printed it: its JSON, or its text in any
    language (a line `label: NUMBER` and the 64-digit hash)."""
    def refused(message: str) -> ProblemsError:
        return ProblemsError([Problem(f"not a checkpoint as `osuus audit checkpoint` prints it: {message}", source,
                                      key="--checkpoint", code="audit.checkpoint")])

    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
            sequence, hash_ = data["sequence"], data["hash"]
        except (ValueError, KeyError, TypeError):
            raise refused("JSON without a number (sequence) and a hash") from None
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0 \
                or not isinstance(hash_, str) or not _HASH.fullmatch(hash_):
            raise refused("the sequence must be a number and the hash 64 hexadecimal digits")
        return Checkpoint(sequence, hash_)
    hashes = set(_HASH.findall(stripped))
    numbers = [int(m.group(1)) for line in stripped.splitlines() if (m := _NUMBER_LINE.match(line.strip()))]
    if len(hashes) != 1 or len(numbers) != 1:
        raise refused("expected one line with the record number and one 64-digit hash")
    return Checkpoint(numbers[0], hashes.pop())


def _against(session: Session, cp: Checkpoint) -> list[Finding]:
    if cp.sequence == 0:
        return []
    row = session.execute(select(AuditRecord.id, AuditRecord.hash).where(AuditRecord.id == cp.sequence)).first()
    if row is None:
        last = session.scalar(select(func.max(AuditRecord.id)))
        if last is None or last < cp.sequence:
            return [Finding("checkpoint.cut", params={"sequence": cp.sequence, "last": last or 0})]
        return [Finding("checkpoint.missing", params={"sequence": cp.sequence})]
    if row.hash != cp.hash:
        return [Finding("checkpoint.mismatch", params={"sequence": cp.sequence})]
    return []


# --------------------------------------------------------------------------
# invoice numbers and agreement texts
# --------------------------------------------------------------------------

def _numbering(session: Session) -> list[Finding]:
    """Numbers run without gaps per host and year, up to the counter's last number."""
    sequences: dict[tuple[str, int], list[int]] = {}
    for host, year, sequence in session.execute(
            select(Invoice.host, Invoice.year, Invoice.sequence).order_by(Invoice.host, Invoice.year, Invoice.sequence)):
        sequences.setdefault((host, year), []).append(sequence)
    counters = {(c.host, c.year): c.next_number for c in session.scalars(select(InvoiceCounter))}
    out = []
    for group in sorted(set(sequences) | set(counters)):
        host, year = group
        taken = sequences.get(group, [])
        last = taken[-1] if taken else 0
        counter = counters.get(group)
        end = max(last, counter - 1 if counter is not None else 0)
        present = set(taken)
        missing = [s for s in range(1, end + 1) if s not in present]
        if missing:
            shown = [invoice_number(year, s) for s in missing[:LISTED]]
            out.append(Finding("numbers.gap", params={"year": year, "host": host, "numbers": shown,
                                                      "count": len(missing)}))
        if counter is not None and counter <= last:
            out.append(Finding("numbers.counter", params={"year": year, "host": host, "counter": counter,
                                                          "last": invoice_number(year, last)}))
    return out


def _agreement_bytes(session: Session) -> list[Finding]:
    out = []
    for version_id, content, content_hash in session.execute(
            select(AgreementVersion.id, AgreementVersion.content, AgreementVersion.content_hash)):
        if hashlib.sha256((content or "").encode("utf-8")).hexdigest() != content_hash:
            out.append(Finding("agreement.bytes", table="agreement_versions", key=version_id))
    return out


# --------------------------------------------------------------------------
# naming what was found
# --------------------------------------------------------------------------

def _named(session: Session, findings: list[Finding]) -> list[Finding]:
    """Each finding with the names of its row (when the row is there) and of its record."""
    wanted: dict[str, set[int]] = {}
    for f in findings:
        if f.table and f.key is not None and f.table in audit.BY_TABLE and f.last is None:
            wanted.setdefault(f.table, set()).add(f.key)
    names = {table: audit.row_names(session, table, keys) for table, keys in wanted.items()}
    records = {f.record for f in findings if f.record is not None}
    records |= {f.params["previous"] for f in findings if "previous" in f.params}
    described = {}
    if records:
        for record_id, action, subject in session.execute(
                select(AuditRecord.id, AuditRecord.action, AuditRecord.subject).where(AuditRecord.id.in_(records))):
            described[record_id] = {"action": action, "subject": subject}
    out = []
    for f in findings:
        params = dict(f.params)
        if f.record is not None and f.record in described:
            params["record_action"] = described[f.record]["action"]
            params["record_subject"] = described[f.record]["subject"]
        row = names.get(f.table, {}).get(f.key) if f.table else None
        out.append(replace(f, params=params, names=row))
    return out


__all__ = ["AuditEntry", "AuditPage", "AuditRecordView", "Checkpoint", "Finding", "Verification", "audit_choices",
           "audit_entries", "audit_record", "checkpoint", "head", "newest", "read_checkpoint", "verify"]
