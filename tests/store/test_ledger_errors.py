"""The ledger commands refuse a user's mistakes: exit status 2, a clear message, nothing written.

Every case runs `osuus.cli.app` in-process through Typer's CliRunner (quick) with
OSUUS_DATABASE_URL set to the test's database, on SQLite and on PostgreSQL. "Nothing
written" is checked by a snapshot of every table's row count (the audit log included)
taken before and after the refused command. No output may hold a traceback, and a
command may end only by exiting (an exception escaping the command is a failure).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from osuus.cli import app
from osuus.store.db import make_engine, session_factory
from osuus.store.tables import Base, ServiceEvent

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
EXAMPLES = ROOT / "examples" / "2021"

EVENTS_HEADER = "event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost\n"
HETU = "131052-308T"  # a valid personal identity code (the checksum example of the Finnish register)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def cli(url: str, *args) -> tuple[int, str, str]:
    """Run `osuus ARGS` on the database `url`; return (exit status, stdout, stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args],
                                env={"OSUUS_DATABASE_URL": url, "OSUUS_USER": "errors", "OSUUS_FAULT_POINT": None,
                                     "OSUUS_SELF_APPROVAL": "1"})  # one user drafts and approves
    context = f"osuus {' '.join(map(str, args))}\n--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}"
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{context}\n--- exception: {result.exception!r}"
    assert "Traceback" not in result.stdout + result.stderr, context
    return result.exit_code, result.stdout, result.stderr


def ok(url: str, *args) -> str:
    code, stdout, stderr = cli(url, *args)
    assert code == 0, f"osuus {' '.join(map(str, args))}: exit {code}\n{stdout}\n{stderr}"
    return stdout


def refused(url: str, *args) -> str:
    """The command exits 2 and says it wrote nothing; returns its stderr."""
    code, stdout, stderr = cli(url, *args)
    assert code == 2, f"osuus {' '.join(map(str, args))}: exit {code}\n{stdout}\n{stderr}"
    return stderr


def snapshot(url: str) -> dict[str, int]:
    """Every table's row count."""
    engine = make_engine(url)
    try:
        with session_factory(engine, area_id=1)() as session:
            return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def stored_events(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with session_factory(engine, area_id=1)() as session:
            return [tuple(r) for r in session.execute(
                select(ServiceEvent.source_id, ServiceEvent.date, ServiceEvent.municipality, ServiceEvent.customer,
                       ServiceEvent.quantity, ServiceEvent.km, ServiceEvent.batch_id)
                .order_by(ServiceEvent.source_id))]
    finally:
        engine.dispose()


def events_file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(EVENTS_HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


LEDGER_MODULES = {"osuus.cli.ledger", "osuus.cli.audit"}


def ledger_commands() -> set[str]:
    """Every command that the ledger's CLI modules register, as typed ("import events", "audit verify")."""
    def name(command) -> str:
        return command.name or command.callback.__name__.replace("_", "-")

    found = {name(c) for c in app.registered_commands if c.callback.__module__ in LEDGER_MODULES}
    for group in app.registered_groups:
        found |= {f"{group.name} {name(c)}" for c in group.typer_instance.registered_commands
                  if c.callback.__module__ in LEDGER_MODULES}
    return found


# The arguments each ledger command is given on an un-migrated database (all otherwise valid).
LEDGER_ARGS = {
    "agreement add": [AGREEMENT],
    "agreement list": [],
    "audit verify": [],
    "audit log": [],
    "audit checkpoint": [],
    "estimate": ["2021"],
    "invoice": ["2021-01", "--date", "2021-02-01"],
    "invoices": [],
    "credit": ["2021-00001", "--reason", "x", "--date", "2021-03-01"],
    "approve": ["1"],
    "reject": ["2021-01", "--reason", "x"],
    "drafts": [],
    "close-year": ["2021"],
    "report": ["2021"],
    "import events": [EXAMPLES / "events.csv"],
    "import counts": [EXAMPLES / "counts.csv"],
    "import costs": [EXAMPLES / "costs.csv"],
}


# ---------------------------------------------------------------------------
# an un-migrated database
# ---------------------------------------------------------------------------

def test_every_ledger_command_needs_a_migrated_database(database_url):
    commands = ledger_commands() - {"db upgrade"}
    assert commands == set(LEDGER_ARGS), "a ledger command was added or renamed: give it arguments in LEDGER_ARGS"
    for command in sorted(commands):
        stderr = refused(database_url, *command.split(), *LEDGER_ARGS[command])
        assert "osuus db upgrade" in stderr, f"{command}: {stderr}"
    engine = make_engine(database_url)
    try:
        assert inspect(engine).get_table_names() == [], "a refused command created tables"
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------
# a migrated database
# ---------------------------------------------------------------------------

def test_invoicing_needs_an_agreement_and_a_period_it_bills(migrated_url):
    url = migrated_url
    empty = snapshot(url)
    stderr = refused(url, "invoice", "2021-01", "--date", "2021-02-01")
    assert "no agreement is stored for 2021" in stderr and "osuus agreement add" in stderr, stderr
    assert snapshot(url) == empty

    ok(url, "agreement", "add", AGREEMENT)
    before = snapshot(url)
    stderr = refused(url, "invoice", "2021-13", "--date", "2021-02-01")
    assert "expected a month such as 2021-03 or a quarter such as 2021-Q1, found '2021-13'" in stderr, stderr
    stderr = refused(url, "invoice", "2021-Q1", "--date", "2021-04-01")
    assert "the 2021 agreement bills by month: expected a period such as 2021-01, found 2021-Q1" in stderr, stderr
    assert "nothing was written" in stderr, stderr
    assert snapshot(url) == before


def test_credit_of_an_unknown_or_credited_invoice_is_refused(migrated_url):
    url = migrated_url
    ok(url, "agreement", "add", AGREEMENT)
    ok(url, "invoice", "2021-01", "--date", "2021-02-01")
    ok(url, "approve", "2021-01")
    before = snapshot(url)
    stderr = refused(url, "credit", "NOPE", "--reason", "x")
    assert "no invoice numbered NOPE" in stderr, stderr
    # 131052-308T: the personal identity code of the Digital and Population Data Services
    # Agency's examples (check character T: 131052308 mod 31 = 25 → T, by hand)
    stderr = refused(url, "credit", "2021-00001", "--reason", "Asiakas 131052-308T muutti")
    assert "personal identity code" in stderr and "131052-308T" not in stderr, stderr
    assert snapshot(url) == before

    ok(url, "credit", "2021-00001", "--reason", "Väärä laskutusosoite", "--date", "2021-02-10")
    out = ok(url, "approve", "2021-00001")
    assert "2021-00022" in out, out  # 21 invoices of January, then the credit note
    once = snapshot(url)
    assert once["invoices"] == before["invoices"] + 1
    stderr = refused(url, "credit", "2021-00001", "--reason", "again", "--date", "2021-02-11")
    assert "2021-00001 is already credited by 2021-00022" in stderr, stderr
    stderr = refused(url, "credit", "2021-00022", "--reason", "a credit note", "--date", "2021-02-11")
    assert "2021-00022 is a credit note" in stderr, stderr
    assert snapshot(url) == once


def test_closing_a_year_before_its_last_period_is_invoiced_writes_nothing(migrated_url):
    url = migrated_url
    ok(url, "agreement", "add", AGREEMENT)
    ok(url, "import", "costs", EXAMPLES / "costs.csv")
    for month in range(1, 12):  # January … November; December not yet
        ok(url, "invoice", f"2021-{month:02d}", "--date", dt.date(2021, month + 1, 1).isoformat())
        ok(url, "approve", f"2021-{month:02d}")
    before = snapshot(url)
    stderr = refused(url, "close-year", "2021")
    assert "the last period of 2021 (2021-12) is not invoiced yet" in stderr, stderr
    assert "nothing was written" in stderr, stderr
    after = snapshot(url)
    assert after == before
    assert after["year_closings"] == after["settlements"] == 0


def test_an_events_file_with_bad_rows_is_refused_whole(migrated_url, tmp_path):
    url = migrated_url
    ok(url, "agreement", "add", AGREEMENT)
    bad = events_file(tmp_path, "events.csv", [
        "E-1,2021-01-14,mainio,790,A-000001,1.5,,,,",         # row 2: good
        "E-2,2021-01-15,mainio,790,A-000002,-3,,,,",          # row 3: a negative quantity
        f"E-3,2021-01-15,tredu,Pirkkala,{HETU},1,,,,",        # row 4: a personal identity code
        "E-4,2021-01-18,alkukartoitus,020,A-000004,1,,,,",    # row 5: good
    ])
    before = snapshot(url)
    code, stdout, stderr = cli(url, "import", "events", bad)
    assert code == 2, stdout + stderr
    problems = stderr.splitlines()
    row3 = [p for p in problems if "events.csv:3:" in p]
    row4 = [p for p in problems if "events.csv:4:" in p]
    assert row3 and "quantity" in row3[0] and "negative" in row3[0], stderr
    assert row4 and "131052-***T" in row4[0] and "henkilötunnus" in row4[0], stderr
    assert not [p for p in problems if "events.csv:2:" in p or "events.csv:5:" in p], stderr
    assert "(2 problems; nothing was written.)" in stderr, stderr
    assert HETU not in stdout + stderr, "the personal identity code was shown whole"
    after = snapshot(url)
    assert after == before
    assert after["service_events"] == 0 and after["import_batches"] == 0


def test_an_event_id_back_with_other_content_is_a_conflict(migrated_url, tmp_path):
    url = migrated_url
    ok(url, "agreement", "add", AGREEMENT)
    first = events_file(tmp_path, "events-1.csv", [
        "E-1,2021-01-14,mainio,790,A-000001,1.5,,,,",
        "E-2,2021-01-15,tredu,604,A-000002,1,,,,",
    ])
    ok(url, "import", "events", first)
    stored = stored_events(url)
    assert [(e[0], e[4]) for e in stored] == [("E-1", Decimal("1.5")), ("E-2", Decimal(1))]
    before = snapshot(url)

    changed = events_file(tmp_path, "events-2.csv", [
        "E-1,2021-01-14,mainio,790,A-000001,2.5,,,,",   # the same id, another quantity
        "E-3,2021-01-20,tredu,604,A-000003,1,,,,",      # new, but the file is refused whole
    ])
    stderr = refused(url, "import", "events", changed)
    assert "event id E-1 is already stored with other content" in stderr, stderr
    assert "events-2.csv:2:" in stderr, stderr
    assert snapshot(url) == before
    assert stored_events(url) == stored

    # the same content under the same id is no conflict: the file adds only what is new
    again = events_file(tmp_path, "events-3.csv", [
        "E-1,14.1.2021,mainio,Sastamala,A-000001,\"1,50\",,,,",  # E-1 written another way: same content
        "E-3,2021-01-20,tredu,604,A-000003,1,,,,",
    ])
    out = ok(url, "import", "events", again)
    assert "1 lisätty" in out, out
    assert [e[0] for e in stored_events(url)] == ["E-1", "E-2", "E-3"]
    assert stored_events(url)[:2] == stored


@pytest.mark.parametrize("kind", ["events", "counts", "costs"])
def test_an_import_of_a_missing_file_or_a_folder_is_refused(migrated_url, tmp_path, kind):
    before = snapshot(migrated_url)
    for target, message in ((tmp_path / "missing.csv", "file not found"), (tmp_path, "expected a file, found a folder")):
        stderr = refused(migrated_url, "import", kind, str(target))
        assert f"{target}: {message}" in stderr, stderr
    assert snapshot(migrated_url) == before


@pytest.mark.parametrize("kind,old,new,message", [
    ("costs", "122558,92", "122558,93", "the cost of johtaminen in 2021 is already stored as 122558.92"),
    ("counts", "16550", "16551", "asukasluku of 020 on 2020-12-31 is already stored as 16550"),
])
def test_a_changed_count_or_cost_is_a_conflict(migrated_url, tmp_path, kind, old, new, message):
    example = Path(__file__).parents[2] / "examples" / "2021" / f"{kind}.csv"
    ok(migrated_url, "agreement", "add", AGREEMENT)
    ok(migrated_url, "import", kind, str(example))
    before = snapshot(migrated_url)
    changed = tmp_path / f"{kind}.csv"
    changed.write_text(example.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    stderr = refused(migrated_url, "import", kind, str(changed))
    assert f"{changed.name}:2: [" in stderr and message in stderr, stderr  # rows are named by file name
    assert snapshot(migrated_url) == before
