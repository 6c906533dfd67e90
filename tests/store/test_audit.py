"""The audit log's hash chain: intact, edited, a record removed, concurrent appends."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from decimal import Decimal

from sqlalchemy import select, text

from osuus.store import audit
from osuus.store.tables import AuditRecord


def _append_three(Session) -> list[int]:
    with Session.begin() as session:
        ids = [
            audit.append(session, actor="tiina", action="agreement.add", subject="pirkanmaa-2021 r1",
                         details={"file": "pirkanmaa-2021.toml"}).id,
            audit.append(session, actor="tiina", action="import.events", subject="events-2021-03.csv",
                         reason="maaliskuu", details={"rows": 120, "total": Decimal("4800.00")}).id,
            audit.append(session, actor="matti", action="invoice.run", subject="2021-03",
                         details={"invoices": ["TRE-2021-1", "TRE-2021-2"], "när": "ääkköset"}).id,
        ]
    return ids


def test_hash_is_sha256_of_prev_hash_and_canonical_json(Session):
    with Session.begin() as session:
        record = audit.append(session, actor="tiina", action="test", subject="s",
                              details={"b": Decimal("1.50"), "a": [1, "ä"]})
    assert record.prev_hash == "0" * 64
    assert record.details == {"a": [1, "ä"], "b": "1.50"}  # stored as it was hashed
    at = record.at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    payload = json.dumps([at, "tiina", "test", "s", "", {"a": [1, "ä"], "b": "1.50"}],
                         sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert record.hash == hashlib.sha256(("0" * 64 + payload).encode("utf-8")).hexdigest()


def test_chain_is_linked_and_verifies(Session):
    ids = _append_three(Session)
    with Session() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        assert [r.id for r in records] == ids
        assert records[0].prev_hash == audit.GENESIS
        assert records[1].prev_hash == records[0].hash
        assert records[2].prev_hash == records[1].hash
        assert records[1].details == {"rows": 120, "total": "4800.00"}
        assert audit.verify(session) == []


def test_an_edited_record_is_reported(Session):
    ids = _append_three(Session)
    with Session.begin() as session:
        session.execute(text("UPDATE audit_log SET details = :d WHERE id = :id"),
                        {"d": '{"rows": 12, "total": "480.00"}', "id": ids[1]})
    with Session() as session:
        problems = audit.verify(session)
    assert len(problems) == 1
    assert f"record {ids[1]}: hash mismatch" in problems[0]
    assert "edited" in problems[0]


def test_an_edit_is_seen_even_by_the_session_that_wrote_the_records(Session):
    with Session() as session:
        first = audit.append(session, actor="a", action="x", subject="1")
        audit.append(session, actor="a", action="x", subject="2")
        session.execute(text("UPDATE audit_log SET subject = 'changed' WHERE id = :id"), {"id": first.id})
        assert first.subject == "1"  # the object in the session is stale ...
        problems = audit.verify(session)  # ... but verify reads the database
        session.rollback()
    assert len(problems) == 1 and f"record {first.id}" in problems[0]


def test_a_removed_record_breaks_the_link(Session):
    ids = _append_three(Session)
    with Session.begin() as session:
        session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[1]})
    with Session() as session:
        problems = audit.verify(session)
    assert len(problems) == 1
    assert f"record {ids[2]}: prev_hash mismatch" in problems[0]
    assert f"between {ids[0]} and {ids[2]}" in problems[0]
    assert "removed" in problems[0]


def test_removing_the_first_record_is_reported(Session):
    ids = _append_three(Session)
    with Session.begin() as session:
        session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[0]})
    with Session() as session:
        problems = audit.verify(session)
    assert len(problems) == 1 and f"record {ids[1]}: prev_hash mismatch" in problems[0]


def test_verify_streams_a_long_chain(Session):
    with Session.begin() as session:
        for i in range(250):
            audit.append(session, actor="a", action="x", subject=str(i), details={"i": i})
    with Session() as session:
        assert audit.verify(session, batch_size=7) == []


def test_concurrent_appends_keep_one_chain(Session):
    errors: list[BaseException] = []

    def work(worker: int):
        try:
            for i in range(10):
                with Session.begin() as session:
                    audit.append(session, actor=f"w{worker}", action="x", subject=str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session() as session:
        assert session.scalar(select(text("count(*)")).select_from(AuditRecord)) == 40
        assert audit.verify(session) == []


def test_current_actor(monkeypatch):
    monkeypatch.setenv("OSUUS_USER", "kirjanpitäjä")
    assert audit.current_actor() == "kirjanpitäjä"
    monkeypatch.delenv("OSUUS_USER")
    monkeypatch.setattr(audit.getpass, "getuser", lambda: "login")
    assert audit.current_actor() == "login"
