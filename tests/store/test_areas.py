"""Areas are kept apart: by the store's filters on both databases, and on PostgreSQL by
row-level security alone, with the filters switched off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from osuus.problems import ProblemsError
from osuus.services.agreements import add_agreement, list_agreements
from osuus.services.areas import add_area, list_areas
from osuus.services.ledger import Ledger
from osuus.store import audit
from osuus.store.db import grant_app_role, make_engine, rls_bypass_reasons, session_factory
from osuus.store.tables import AgreementVersion, AreaScoped, AuditRecord, Base

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
APP_ROLE = "osuus_app_test"


def _two_areas(url: str) -> None:
    with Ledger(url, "lead", choose_area=False) as ledger:
        add_area(ledger, "pohjanmaa", "Pohjanmaan työllisyysalue")
    with Ledger(url, "tiina", area="default") as ledger:
        add_agreement(ledger, AGREEMENT)


def test_every_area_table_is_an_area_scoped_model():
    """The tables with an area column are exactly the models that keep to their area."""
    with_column = {name for name, table in Base.metadata.tables.items() if "area_id" in table.c}
    scoped = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, AreaScoped)}
    assert with_column == scoped
    assert {"invoices", "invoice_lines", "audit_log", "service_events", "drafts", "api_keys"} <= scoped


def test_the_areas_do_not_see_each_other(migrated_url):
    _two_areas(migrated_url)
    with Ledger(migrated_url, "tiina", area="default") as ledger:
        assert [a.year for a in list_agreements(ledger)] == [2021]
    with Ledger(migrated_url, "pekka", area="pohjanmaa") as ledger:
        assert list_agreements(ledger) == []
        add_agreement(ledger, AGREEMENT)  # the same file again: in this area it is new
        assert [(a.year, a.revision) for a in list_agreements(ledger)] == [(2021, 1)]
    with Ledger(migrated_url, "x", choose_area=False) as ledger:
        assert [a.code for a in list_areas(ledger)] == ["default", "pohjanmaa"]
    # each area's chain is its own, and each verifies
    engine = make_engine(migrated_url)
    try:
        for area_id, actions in ((1, ["agreement.add"]), (2, ["area.add", "agreement.add"])):
            with session_factory(engine, area_id=area_id)() as session:
                assert [r.action for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))] == actions
                assert audit.verify(session) == []
                assert audit.verify_content(session).findings == []
    finally:
        engine.dispose()


def test_an_area_must_be_named_when_there_are_several(migrated_url):
    _two_areas(migrated_url)
    with pytest.raises(ProblemsError) as refused:
        Ledger(migrated_url, "tiina")
    assert [p.code for p in refused.value.problems] == ["area.ambiguous"]
    with pytest.raises(ProblemsError) as refused:
        Ledger(migrated_url, "tiina", area="lappi")
    assert [p.code for p in refused.value.problems] == ["area.unknown"]


@pytest.mark.parametrize("code", ["", "Pirkanmaa", "-x", "a b", "a" * 41, "åland"])
def test_a_bad_area_code_is_refused(migrated_url, code):
    with Ledger(migrated_url, "lead", choose_area=False) as ledger, pytest.raises(ProblemsError) as refused:
        add_area(ledger, code, "Nimi")
    assert [p.code for p in refused.value.problems] == ["area.code"]


# ---------------------------------------------------------------------------
# PostgreSQL: row-level security
# ---------------------------------------------------------------------------

@pytest.fixture
def pg_url(migrated_url):
    if make_url(migrated_url).get_backend_name() != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    return migrated_url


def test_every_table_with_an_area_column_has_forced_rls_and_a_policy(pg_url):
    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection:
            tables = [t for t in inspect(connection).get_table_names()
                      if "area_id" in {c["name"] for c in inspect(connection).get_columns(t)}]
            flags = dict(connection.execute(text(
                "SELECT relname, (relrowsecurity AND relforcerowsecurity) FROM pg_class "
                "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")).all())
            policies = {name: (using, check) for name, using, check in connection.execute(text(
                "SELECT tablename, qual, with_check FROM pg_policies WHERE schemaname = 'public'"))}
    finally:
        engine.dispose()
    assert len(tables) == 17
    for table in tables:
        assert flags[table] is True, table
        using, check = policies[table]
        assert "osuus_current_area()" in using and "osuus_current_area()" in check, table


def _as_app_role(url: str) -> str:
    grant_app_role(url, APP_ROLE)
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


def test_the_application_role_is_held_by_rls(pg_url):
    assert rls_bypass_reasons(make_engine(pg_url))  # the owner (a superuser here) is not
    engine = make_engine(_as_app_role(pg_url))
    try:
        assert rls_bypass_reasons(engine) == []
    finally:
        engine.dispose()


def test_row_level_security_alone_keeps_the_areas_apart(pg_url):
    """With the store's filters switched off, the database still shows and takes only the
    transaction's area; with no area set, nothing."""
    _two_areas(pg_url)
    with Ledger(pg_url, "pekka", area="pohjanmaa") as ledger:
        add_agreement(ledger, AGREEMENT)
    engine = make_engine(_as_app_role(pg_url))
    try:
        for area_id in (1, 2):
            with session_factory(engine, area_id=area_id)() as session:
                session.info["area_filter"] = False
                rows = session.scalars(select(AgreementVersion)).all()
                assert [r.area_id for r in rows] == [area_id]
                assert {r.area_id for r in session.scalars(select(AuditRecord))} == {area_id}
        with session_factory(engine)() as session:  # no area named: nothing
            assert session.execute(text("SELECT count(*) FROM agreement_versions")).scalar_one() == 0
            assert session.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
        with session_factory(engine, area_id=1)() as session, pytest.raises(DBAPIError) as refused:
            session.execute(text(
                "INSERT INTO import_batches (kind, file_name, content_hash, rows, added_rows, imported_at, "
                "imported_by, area_id) VALUES ('events', 'f', 'h', 0, 0, now(), 'x', 2)"))
        assert "row-level security" in str(refused.value)
        with session_factory(engine, area_id=1)() as session, pytest.raises(DBAPIError) as refused:
            session.execute(text("UPDATE agreement_versions SET area_id = 2 WHERE area_id = 1"))  # moved away
        assert "row-level security" in str(refused.value)
        with session_factory(engine, area_id=1)() as session:
            # the other area's rows are not there to change or remove
            assert session.execute(text("DELETE FROM agreement_versions WHERE area_id = 2")).rowcount == 0
            session.rollback()
        with session_factory(engine, area_id=1)() as session, pytest.raises(DBAPIError):
            session.execute(text("DELETE FROM audit_log"))  # append-only: not granted
    finally:
        engine.dispose()


def test_serve_warns_when_row_level_security_does_not_hold_it(pg_url, caplog):
    """`osuus serve` as a superuser works (the store's filters hold it), but says at start that the
    database's own lock is open; as the application's role it says nothing."""
    import logging

    from osuus.cli.serve import _warn_if_rls_is_bypassed

    log = logging.getLogger("osuus.test.serve")
    with caplog.at_level(logging.WARNING, logger="osuus.test.serve"):
        _warn_if_rls_is_bypassed(pg_url, log)
    assert any("superuser" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="osuus.test.serve"):
        _warn_if_rls_is_bypassed(_as_app_role(pg_url), log)
    assert caplog.records == []
