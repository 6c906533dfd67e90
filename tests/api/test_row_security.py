"""Row-level security alone keeps the areas apart: the API on PostgreSQL, connected as the
application's role (`osuus db app-role`: no superuser, no BYPASSRLS, owns no table), with the
store's area filters deliberately switched off, still answers another area's admin as if the
area's documents were not there.

The same requests with the filters off on SQLite (which has no row security), or as the
owner of the tables (whom FORCE ROW LEVEL SECURITY holds, but a superuser passes) show the
filters are really off: there the other area's invoice is found.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.api.conftest import AKAA, AREA, OTHER_AREA, app_for, client_for, make_ledger, pg_clean

ROLE = "osuus_api_test"


def _filters_off(app) -> None:
    """Every transaction of the app's ledgers runs without the store's area filter."""
    for readonly in (False, True):
        sessions = app.state.ledgers.base(readonly)._sessions
        event.listen(sessions, "after_begin",
                     lambda session, transaction, connection: session.info.__setitem__("area_filter", False))


@pytest.fixture(scope="module")
def pg_ledger(postgres_test_database, cheap_passwords):
    pg_clean(postgres_test_database)
    return make_ledger(postgres_test_database, months=1)


def _ask(app, ledger, person: str, path: str):
    client = client_for(app)
    return client.get(f"/api/v1/areas/{OTHER_AREA}{path}", headers={"Authorization": f"Bearer {ledger.tokens[person]}"})


def _app_role_url(url: str) -> str:
    from osuus.store.db import grant_app_role

    grant_app_role(url, ROLE)
    return make_url(url).set(username=ROLE, password=None).render_as_string(hide_password=False)


def test_row_security_alone_refuses_another_areas_rows(pg_ledger):
    app = app_for(_app_role_url(pg_ledger.url))
    try:
        from osuus.store.db import rls_bypass_reasons

        assert rls_bypass_reasons(app.state.ledgers.base().engine) == []  # held by row-level security
        _filters_off(app)
        number = pg_ledger.invoices[AKAA]
        assert _ask(app, pg_ledger, "lappilainen", f"/invoices/{number}").status_code == 404
        listed = _ask(app, pg_ledger, "lappilainen", "/invoices").json()
        assert (listed["total"], listed["items"]) == (0, [])
        assert _ask(app, pg_ledger, "lappilainen", "/agreements").json()["total"] == 0
        log = _ask(app, pg_ledger, "lappilainen", "/audit/log").json()
        assert {e["action"] for e in log["items"]} <= {"area.add", "user.role.grant"}
        # and the area's own people still see its rows through the same app
        own = client_for(app).get(f"/api/v1/areas/{AREA}/invoices/{number}",
                                  headers={"Authorization": f"Bearer {pg_ledger.tokens['akaa']}"})
        assert own.status_code == 200 and own.json()["municipality"] == AKAA
    finally:
        app.state.ledgers.close()


def test_without_row_security_the_filters_off_would_let_it_through(pg_ledger):
    """The control: as the tables' owner (a superuser passes row security), with the filters
    off, the other area's admin finds the invoice, so the test above can fail."""
    app = app_for(pg_ledger.url)
    try:
        _filters_off(app)
        number = pg_ledger.invoices[AKAA]
        assert _ask(app, pg_ledger, "lappilainen", f"/invoices/{number}").status_code == 200
        _filters_on = app_for(pg_ledger.url)
        try:
            assert _ask(_filters_on, pg_ledger, "lappilainen", f"/invoices/{number}").status_code == 404
        finally:
            _filters_on.state.ledgers.close()
    finally:
        app.state.ledgers.close()
