"""store.db.analyze refreshes the planner's statistics of the ledger's tables, on both databases;
on PostgreSQL only what the connected role may analyze (not the application role's)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from osuus.store.db import analyze
from tests.store.test_unbilled_count import _batch, _event


def _analysed(session) -> set[str]:
    if session.get_bind().dialect.name == "postgresql":
        return set(session.execute(text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"))
                   .scalars())
    has_stats = session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    return set(session.execute(text("SELECT tbl FROM sqlite_stat1")).scalars()) if has_stats else set()


def test_the_tables_named_are_analysed(Session):
    with Session.begin() as session:  # SQLite keeps no statistics of an empty table
        batch = _batch(session)
        for day in range(1, 4):
            _event(session, batch, dt.date(2021, 1, day), str(day))
    with Session.begin() as session:
        assert "service_events" not in _analysed(session)
        assert analyze(session, ["service_events", "import_batches"]) == ["service_events", "import_batches"]
    with Session() as session:
        assert {"service_events", "import_batches"} <= _analysed(session)


def test_only_the_ledgers_tables(Session):
    with Session.begin() as session, pytest.raises(ValueError, match="not a table of the ledger: sqlite_master"):
        analyze(session, ["service_events", "sqlite_master"])


def test_a_role_that_owns_nothing_analyses_nothing(database_url, engine, Session):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no roles")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP ROLE IF EXISTS osuus_analyze_test")
        connection.exec_driver_sql("CREATE ROLE osuus_analyze_test NOLOGIN")
    try:
        with Session.begin() as session:
            session.execute(text("SET LOCAL ROLE osuus_analyze_test"))
            assert analyze(session, ["service_events"]) == []
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP ROLE osuus_analyze_test")
