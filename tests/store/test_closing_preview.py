"""The preview of a year's closing, on SQLite and PostgreSQL: it is what closing the year then
commits (every member's settlement, the confirmed prices), it writes nothing (no row of any
table, no audit record), and it refuses what closing refuses.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from osuus.calendar import Period
from osuus.problems import ProblemsError
from osuus.services import agreements, closing, imports
from osuus.services.explain import explain_settlement
from osuus.services.ledger import Ledger
from osuus.store.db import upgrade
from tests.approving import invoice_period
from tests.api.conftest import backend_url  # noqa: F401  (a module-scoped empty database of each backend)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "2021"
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
TAMPERE = "837"  # the host


def stored(url: str) -> dict:
    """How many rows each table holds, and the audit log as its chain of hashes."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                    for name in inspect(connection).get_table_names()}
            chain = list(connection.execute(text("SELECT id, hash FROM audit_log ORDER BY id")))
    finally:
        engine.dispose()
    return {"rows": rows, "audit": chain}


@pytest.fixture(scope="module")
def ready(backend_url) -> str:
    """The 2021 example year invoiced to December with its costs: ready to close."""
    url = backend_url
    upgrade(url)
    with Ledger(url, "valmistelija") as ledger:
        agreements.add_agreement(ledger, AGREEMENT)
        imports.import_events(ledger, EXAMPLES / "events.csv")
        for month in range(1, 13):
            invoice_period(ledger, Period.month(2021, month),
                           dt.date(2021, month + 1, 1) if month < 12 else dt.date(2022, 1, 3))
        imports.import_costs(ledger, EXAMPLES / "costs.csv")
    return url


def test_the_preview_is_what_closing_commits_and_writes_nothing(ready):
    before = stored(ready)
    with Ledger(ready, "valmistelija") as ledger:
        preview = closing.preview_close(ledger, 2021)
        assert stored(ready) == before
        assert (preview.year, preview.created, preview.preview) == (2021, False, True)
        assert len(preview.settlements) == 21 and preview.prices
        assert all(s.difference == s.actual - s.billed for s in preview.settlements)
        assert closing.preview_close(ledger, 2021) == preview  # the same ledger, the same preview
        explained = {s.municipality: closing.preview_settlement(ledger, 2021, s.municipality)
                     for s in preview.settlements}
        assert closing.preview_settlement(ledger, 2021, TAMPERE) is None  # the host settles nothing
        assert stored(ready) == before
        closed = closing.close_year(ledger, 2021)
        after = stored(ready)
        shown = closing.show_closing(ledger, 2021)
        again = closing.preview_close(ledger, 2021)
        # each member's explanation as stored, and as a closed year previews it
        assert {code: explain_settlement(ledger, 2021, code).figures for code in explained} == {
            code: (figure,) for code, figure in explained.items()}
        assert {code: closing.preview_settlement(ledger, 2021, code) for code in explained} == explained
    assert all(f.value == s.difference for s, f in zip(preview.settlements, explained.values()))
    assert (closed.created, closed.preview) == (True, False)
    assert (closed.settlements, closed.prices) == (preview.settlements, preview.prices)
    # as committed and read back
    assert (shown.settlements, shown.prices) == (preview.settlements, preview.prices)
    # closing wrote one audit record, one closing and a settlement a member
    assert after["audit"][:len(before["audit"])] == before["audit"] and len(after["audit"]) == len(before["audit"]) + 1
    assert (after["rows"]["year_closings"], after["rows"]["settlements"]) == (1, 21)
    # a closed year is previewed as it was closed
    assert again == shown and (again.created, again.preview) == (False, False)


def refusal(call, *args) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        call(*args)
    return [p.code for p in caught.value.problems]


def test_the_preview_refuses_what_closing_refuses(migrated_url, tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("event_id,date,component,municipality,customer,quantity\n"
                      "T-1,2021-01-04,mainio,508,A-000001,1.5\n"
                      "T-2,2021-02-09,alkukartoitus,790,A-000002,1\n", encoding="utf-8")
    with Ledger(migrated_url, "valmistelija") as ledger:
        steps = [("no agreement", lambda: None, ["close.no-agreement"]),
                 ("nothing invoiced", lambda: agreements.add_agreement(ledger, AGREEMENT), ["close.not-invoiced"]),
                 ("events waiting", lambda: imports.import_events(ledger, events),
                  ["close.not-invoiced", "close.events-waiting"]),
                 ("January invoiced", lambda: invoice_period(ledger, Period.month(2021, 1), dt.date(2021, 2, 1)),
                  ["close.not-invoiced", "close.events-waiting"])]
        for what, step, codes in steps:
            step()
            before = stored(migrated_url)
            assert refusal(closing.preview_close, ledger, 2021) == codes, what
            assert refusal(closing.preview_settlement, ledger, 2021, "790") == codes, what
            assert refusal(closing.close_year, ledger, 2021) == codes, what
            assert stored(migrated_url) == before, what
