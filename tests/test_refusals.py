"""Every bad input is refused cleanly (issue 9, item 2): each case runs through the command line
and must

- exit with status 2 (not 1, not a crash: an exception escaping the command fails the case),
- name the file (and its line or row) or the option it is about,
- print no traceback,
- leave the database exactly as it was (every table's rows, compared by a digest) and write
  no file.

One small ledger (the shipped agreement, the example counts, a few events) is built once per
database and copied for each case: a file copy on SQLite; on PostgreSQL, where a database
takes a second to copy, the cases share it (each is checked to leave it as it was) and a case
that writes before its refusal gets a `CREATE DATABASE … TEMPLATE` copy. The cases marked `postgres` are the ones whose outcome depended on the database
(PostgreSQL refused a long id or a sum SQLite took, or the other way round); they run on both
when OSUUS_TEST_POSTGRES_URL is set. Everything runs in-process (Typer's CliRunner).

The limits these cases meet are stated in docs/agreement-format.md ("Limits") and
docs/import-formats.md ("Limits"). A full disk is made two honest ways without filling one:
under the database, SQLite's `PRAGMA max_page_count` (the file may not grow by a page, which
SQLite reports exactly as a full disk); under the output folder, `os.fsync` raising ENOSPC
(cli/files.py syncs every temporary file before anything is moved into place). A folder
nothing may be made in is `/proc/self` (for root too, whom a folder's mode does not stop);
the mode-locked folder runs only for other users. More output cases (a planted link, an
existing file, every step of a batch failing) are in tests/test_output_files.py.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import MetaData, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from typer.testing import CliRunner

from tests.conftest import PG_ENV, SHIPPED_AGREEMENT

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "2021"
EVENTS_HEADER = "event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost"
COSTS_HEADER = "year;component;kind;amount;note"
COUNTS_HEADER = "key,municipality,date,value,source"
BASE_EVENTS = [
    "B-1,2021-01-04,mainio,020,A-000001,1.5,,,,",
    "B-2,2021-02-08,omavalmentaja,108,A-000002,1,2,,,",
    "B-3,2021-03-15,alkukartoitus,211,A-000003,1,,1,120,80.00",
]


# ---------------------------------------------------------------------------
# the command line, the ledger and its digest
# ---------------------------------------------------------------------------

def cli(args: list[str], env: dict[str, str | None]) -> tuple[int, str, str, BaseException | None]:
    from osuus.cli import app

    result = CliRunner().invoke(app, args, env={"OSUUS_USER": "refusals", "OSUUS_FAULT_POINT": None, **env})
    return result.exit_code, result.stdout, result.stderr, result.exception


def ok(args: list[str], env: dict[str, str | None]) -> str:
    code, stdout, stderr, exc = cli(args, env)
    assert code == 0, f"osuus {' '.join(args)}: exit {code}\n{stdout}\n{stderr}\n{exc!r}"
    return stdout


def build_ledger(url: str, folder: Path) -> None:
    """The small ledger every case starts from: the shipped agreement, the example counts and a
    few events."""
    env = {"OSUUS_DATABASE_URL": url}
    ok(["db", "upgrade"], env)
    ok(["agreement", "add", str(SHIPPED_AGREEMENT)], env)
    ok(["import", "counts", str(EXAMPLES / "counts.csv")], env)
    events = folder / "base-events.csv"
    events.write_text("\n".join([EVENTS_HEADER, *BASE_EVENTS]) + "\n", encoding="utf-8")
    ok(["import", "events", str(events)], env)


def digest(url: str) -> dict[str, str]:
    """Every table's rows (in primary key order) as one hash per table: any write shows."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        out = {}
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(select(table).order_by(*order)).all()
                out[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
        return out
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_ledger(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("refusals-ledger")
    path = folder / "base.db"
    build_ledger(f"sqlite:///{path}", folder)
    with contextlib.closing(sqlite3.connect(path)) as connection:  # everything in the one file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


class PostgresLedgers:
    """A template database with the small ledger, and a fresh copy of it for each case."""

    def __init__(self, base: str, folder: Path):
        self.base = base
        self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []
        self.template = self._create()
        build_ledger(self.url(self.template), folder)

    def url(self, name: str) -> str:
        return make_url(self.base).set(database=name).render_as_string(hide_password=False)

    def _create(self, template: str | None = None) -> str:
        name = f"osuus_refusals_{os.getpid()}_{secrets.token_hex(4)}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.names.append(name)
        return name

    def copy(self) -> str:
        return self.url(self._create(self.template))

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in reversed(self.names):
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_ledgers(tmp_path_factory):
    base = os.environ.get(PG_ENV, "").strip()
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    from osuus.store.db import resolve_url

    ledgers = PostgresLedgers(resolve_url(base), tmp_path_factory.mktemp("refusals-postgres"))
    try:
        yield ledgers
    finally:
        ledgers.drop_all()


def ledger_copy(request, database: str, case: "Case", tmp_path: Path) -> str:
    """The small ledger for one case: a copy of it (SQLite), or the shared one (PostgreSQL:
    a refused case writes nothing, which its digest shows, and a database takes a second to
    copy there); a case that writes before its refusal (`before`) gets a copy of its own."""
    if database == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copyfile(request.getfixturevalue("sqlite_ledger"), path)
        return f"sqlite:///{path}"
    ledgers = request.getfixturevalue("postgres_ledgers")
    return ledgers.copy() if case.before else ledgers.url(ledgers.template)


@contextlib.contextmanager
def full_disk(path: Path):
    """SQLite as on a full disk: the database file may not grow by a page (PRAGMA max_page_count),
    which SQLite reports as "database or disk is full", exactly as when the disk is."""
    @event.listens_for(Engine, "connect")
    def _no_room(dbapi_connection, record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            files = [row[2] for row in cursor.execute("PRAGMA database_list")]
            if str(path) in files:
                pages = cursor.execute("PRAGMA page_count").fetchone()[0]
                cursor.execute(f"PRAGMA max_page_count = {pages}")
            cursor.close()

    try:
        yield
    finally:
        event.remove(Engine, "connect", _no_room)


# ---------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------

def agreement_text() -> str:
    return SHIPPED_AGREEMENT.read_text(encoding="utf-8")


def modified(old: str, new: str) -> Callable[[], str]:
    def make() -> str:
        text = agreement_text()
        assert text.count(old) == 1, f"the shipped agreement should hold {old!r} exactly once"
        return text.replace(old, new)
    return make


def appended(tail: str) -> Callable[[], str]:
    return lambda: agreement_text() + "\n" + tail + "\n"


def lines(*rows: str, header: str = EVENTS_HEADER) -> Callable[[], str]:
    return lambda: "\n".join([header, *rows]) + "\n"


@dataclass
class Case:
    args: list[str]  # {dir}: the case's folder; {db}: the ledger's URL
    expect: list[str]  # texts the output must hold: the file and its line or row, or the option
    files: dict[str, Callable[[], str]] = field(default_factory=dict)
    before: list[list[str]] = field(default_factory=list)  # commands that succeed first
    postgres: bool = False  # the outcome depended on the database: run on PostgreSQL too
    env: dict[str, str] = field(default_factory=dict)
    disk_full: bool = False
    server: bool = False  # needs a PostgreSQL server (OSUUS_TEST_POSTGRES_URL)
    folders: list[str] = field(default_factory=list)  # folders made in the case's folder first
    output_disk_full: bool = False  # writing an output file fails as on a full disk (ENOSPC)
    locked: str = ""  # a folder of the case's folder whose mode forbids writing (not for root)


ICT_COST = "cost = { value = 70_801"
AKAA_COUNT = '"Akaa" = 16_475'
SHOWN_UNIT = 'shown = { unit = "1"'
MAINIO_UNIT = 'unit = "tunti"'
YEAR_CELL = "2021;ict;kustannus;1000,00;"

CASES: dict[str, Case] = {
    # --- agreement files -----------------------------------------------------------------------
    "agreement: arrays nested 500 deep": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:deep = }"],
        {"bad.toml": appended("deep = " + "[" * 500 + "]" * 500)}),
    "agreement: inline tables nested 500 deep": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:deep = }"],
        {"bad.toml": appended("deep = " + "{ a = " * 500 + "1" + " }" * 500)}),
    "agreement: a dotted key of 1000 parts": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:k.k.k}"],
        {"bad.toml": appended(".".join(["k"] * 1000) + " = 1")}),
    "agreement: a table header of 1000 parts": Case(
        ["check", "{dir}/bad.toml"], ["bad.toml:{line:[k.k.k}"],
        {"bad.toml": appended("[" + ".".join(["k"] * 1000) + "]\nx = 1")}),
    "agreement: an integer of 4 400 digits": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:99999999}", "4300 digits"],
        {"bad.toml": modified(ICT_COST, "cost = { value = " + "9" * 4400)}),
    "agreement: an amount of 1e400": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:1e400}", "[components.ict.cost]"],
        {"bad.toml": modified(ICT_COST, "cost = { value = 1e400")}),
    "agreement: a count of 1e400 (check)": Case(
        ["check", "{dir}/bad.toml"], ["bad.toml:{line:1e400}", "keys.asukasluku.values.Akaa"],
        {"bad.toml": modified(AKAA_COUNT, '"Akaa" = 1e400')}),
    "agreement: a count of 1e400 (allocate)": Case(
        ["allocate", "{dir}/bad.toml"], ["bad.toml:{line:1e400}", "keys.asukasluku.values.Akaa"],
        {"bad.toml": modified(AKAA_COUNT, '"Akaa" = 1e400')}),
    "agreement: a rounding unit of 1e-400": Case(
        ["allocate", "{dir}/bad.toml"], ["bad.toml:{line:1e-400}", "rounding.shown.unit"],
        {"bad.toml": modified(SHOWN_UNIT, "shown = { unit = 1e-400")}),
    "agreement: an amount the ledger cannot sum": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:[components.ict]}", "1 000 000 000 000 €"],
        {"bad.toml": modified(ICT_COST, "cost = { value = 999_999_999_999")}, postgres=True),
    "agreement: an id longer than the ledger's column": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:pppp}", "[agreement.id]"],
        {"bad.toml": modified('id = "pirkanmaa-2021"', 'id = "' + "p" * 101 + '"')}, postgres=True),
    "agreement: a component id longer than the ledger's column": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:[components.mainio" + "x" * 60 + "]}"],
        {"bad.toml": lambda: agreement_text().replace("components.mainio]", "components.mainio" + "x" * 60 + "]")
         .replace('"mainio"', '"mainio' + "x" * 60 + '"').replace("events.mainio]", "events.mainio" + "x" * 60 + "]")},
        postgres=True),
    "agreement: a unit longer than the ledger's column": Case(
        ["agreement", "add", "{dir}/bad.toml"], ["bad.toml:{line:tuntitunti}", "billing.events.mainio.unit"],
        {"bad.toml": modified(MAINIO_UNIT, 'unit = "' + "tunti" * 5 + '"')}, postgres=True),

    # --- imports ---------------------------------------------------------------------------------
    "events: an integer cell of 5 000 digits": Case(
        ["import", "events", "{dir}/events.csv"], ["events.csv:2: [integration_year="],
        {"events.csv": lines("N-1,2021-03-01,omavalmentaja,020,A-1,1," + "9" * 5000 + ",,,")}),
    "events: a quantity of 5 000 digits": Case(
        ["import", "events", "{dir}/events.csv"], ["events.csv:2: [quantity="],
        {"events.csv": lines("N-1,2021-03-01,mainio,020,A-1," + "9" * 5000 + ",,,,")}),
    "events: one quantity of 99 999 999 999 999,9999": Case(
        ["import", "events", "{dir}/events.csv"], ["events.csv:2: [quantity=", "below 1 000 000 000"],
        {"events.csv": lines('N-1,2021-03-01,mainio,020,A-1,"99 999 999 999 999,9999",,,,')}, postgres=True),
    "events: ten quantities of 99 999 999 999 999,9999": Case(
        ["import", "events", "{dir}/events.csv"], [f"events.csv:{n}: [quantity=" for n in range(2, 12)],
        {"events.csv": lines(*(f'N-{i},2021-03-0{i % 9 + 1},mainio,020,A-1,"99 999 999 999 999,9999",,,,'
                               for i in range(10)))}, postgres=True),
    "events: a year of a member beyond what the ledger bills": Case(
        ["import", "events", "{dir}/events.csv"], ["events.csv:3:", "1 000 000 000 000 €"],
        {"events.csv": lines("N-1,2021-03-01,mainio,020,A-1,1,,,,600000000000",
                             "N-2,2021-03-02,mainio,020,A-1,1,,,,600000000000")}, postgres=True),
    "events: stored and imported together beyond the limit": Case(
        ["import", "events", "{dir}/second.csv"], ["second.csv:2:", "stored and imported"],
        {"first.csv": lines("F-1,2021-04-01,mainio,020,A-1,1,,,,999999999000"),
         "second.csv": lines("S-1,2021-04-02,mainio,020,A-1,25,,,,")},
        before=[["import", "events", "{dir}/first.csv"]], postgres=True),
    "events: a km sum of a year beyond the limit": Case(
        ["import", "events", "{dir}/events.csv"], ["events.csv:1002: [km]", "1 000 000 000 000"],
        {"events.csv": lines(*(f"K-{i},2021-05-0{i % 9 + 1},mainio,020,A-1,0,,,999999999.9999,"
                               for i in range(1001)))}, postgres=True),
    "counts: a value of 5 000 digits": Case(
        ["import", "counts", "{dir}/counts.csv"], ["counts.csv:2: [value="],
        {"counts.csv": lines("asukasluku,020,2021-12-31," + "9" * 5000 + ",", header=COUNTS_HEADER)}),
    "costs: a year of 5 000 digits": Case(
        ["import", "costs", "{dir}/costs.csv"], ["costs.csv:2: [year="],
        {"costs.csv": lines("9" * 5000 + ";ict;kustannus;1000,00;", header=COSTS_HEADER)}),
    "costs: an amount beyond the limit": Case(
        ["import", "costs", "{dir}/costs.csv"], ["costs.csv:2: [amount=", "1 000 000 000 000"],
        {"costs.csv": lines("2021;ict;kustannus;1 000 000 000 000,00;", header=COSTS_HEADER)}, postgres=True),
    "costs: a year's costs beyond the limit": Case(
        ["import", "costs", "{dir}/costs.csv"], ["costs.csv:3: [amount]", "1 000 000 000 000"],
        {"costs.csv": lines("2021;ict;kustannus;600 000 000 000,00;", "2021;mainio;kustannus;600 000 000 000,00;",
                            header=COSTS_HEADER)}, postgres=True),

    # --- dates and years -------------------------------------------------------------------------
    "invoice --date 0001-01-01": Case(["invoice", "2021-04", "--date", "0001-01-01"], ["[--date]", "1900–2200"]),
    "invoice --date 9999-12-31": Case(["invoice", "2021-04", "--date", "9999-12-31"], ["[--date]", "1900–2200"]),
    "credit --date 9999-12-31": Case(["credit", "2021-00001", "--reason", "x", "--date", "9999-12-31"], ["[--date]"]),
    "close-year 99999999999999999999": Case(["close-year", "99999999999999999999"], ["'year'", "1900 to 2200"]),
    "estimate 99999999999": Case(["estimate", "99999999999"], ["'year'", "1900 to 2200"]),
    "report 0": Case(["report", "0"], ["'year'"]),
    "invoices --year 99999": Case(["invoices", "--year", "99999"], ["'--year'"]),
    "import events --year 99999999999999999999": Case(
        ["import", "events", str(EXAMPLES / "events.csv"), "--year", "99999999999999999999"], ["'--year'"]),
    "explain settlement 12345": Case(["explain", "settlement", "12345", "-m", "Akaa"], ["[YEAR]"]),
    "export estimate 99999": Case(["export", "estimate", "99999", "-o", "{dir}/out"], ["'year'"]),
    "export report --date 9999-12-31": Case(["export", "report", "2021", "-o", "{dir}/out", "--date", "9999-12-31"],
                                            ["[--date]"]),

    # --- the database ----------------------------------------------------------------------------
    "--db in a missing folder": Case(["invoices", "--db", "{dir}/no/such/folder/x.db"], ["[--db]", "does not exist"]),
    "--db a file that is not a database": Case(["invoices", "--db", "{dir}/junk.db"], ["[--db]", "junk.db"],
                                               {"junk.db": lambda: "not a database\n" * 100}),
    "--db a folder": Case(["invoices", "--db", "{dir}"], ["[--db]", "is a folder"]),
    "--db an unknown scheme": Case(["invoices", "--db", "mysql://user@localhost/osuus"], ["[--db]", "mysql"]),
    "--db a PostgreSQL server that does not answer": Case(
        ["invoices", "--db", "postgresql://osuus@127.0.0.1:9/osuus"], ["[--db]", "cannot connect"]),
    "--db an unknown PostgreSQL database": Case(
        ["invoices", "--db", "{postgres}/osuus_no_such_database"], ["[--db]", "does not exist"], server=True),
    "--db before the command and another after it": Case(["--db", "{db}", "invoices", "--db", "{dir}/other.db"],
                                                         ["[--db]", "name one database"]),
    "--db before the command, in a missing folder": Case(["--db", "{dir}/no/such/x.db", "invoices"], ["[--db]"]),
    "OSUUS_DATABASE_URL in a missing folder": Case(["invoices"], ["[OSUUS_DATABASE_URL]", "does not exist"],
                                                   env={"OSUUS_DATABASE_URL": "{dir}/no/such/x.db"}),
    "db upgrade of a file that is not a database": Case(["db", "upgrade", "--db", "{dir}/junk.db"], ["[--db]"],
                                                        {"junk.db": lambda: "not a database\n" * 100}),
    "a full disk under the database": Case(["import", "events", str(EXAMPLES / "events.csv")],
                                           ["[--db]", "disk", "is full"], disk_full=True),
    "OSUUS_USER longer than the ledger's column": Case(
        ["import", "costs", "{dir}/costs.csv"], ["[OSUUS_USER]", "at most 100 characters", "found 101"],
        {"costs.csv": lines(YEAR_CELL, header=COSTS_HEADER)}, env={"OSUUS_USER": "k" * 101}, postgres=True),

    # --- output files --------------------------------------------------------------------------
    "allocate --output a folder": Case(
        ["allocate", str(SHIPPED_AGREEMENT), "-f", "json", "-o", "{dir}/jako"], ["[--output]", "{dir}/jako"],
        folders=["jako"]),
    "allocate --output in a folder nothing may be made in (/proc/self)": Case(
        ["allocate", str(SHIPPED_AGREEMENT), "-f", "json", "-o", "/proc/self/jako.json"],
        ["[--output]", "/proc/self/jako.json"]),
    "allocate --output under /proc": Case(
        ["allocate", str(SHIPPED_AGREEMENT), "-f", "json", "-o", "/proc/osuus-refusals/jako.json"],
        ["[--output]", "/proc/osuus-refusals"]),
    "allocate --output in a folder whose mode forbids writing": Case(
        ["allocate", str(SHIPPED_AGREEMENT), "-f", "json", "-o", "{dir}/locked/jako.json"],
        ["[--output]", "{dir}/locked/jako.json"], locked="locked"),
    "allocate --output on a full disk": Case(
        ["allocate", str(SHIPPED_AGREEMENT), "-f", "json", "-o", "{dir}/jako.json"],
        ["[--output]", "{dir}/jako.json"], output_disk_full=True),
    "export year --output a file": Case(
        ["export", "year", "2021", "--no-validate", "-o", "{dir}/taken.txt"], ["[--output]", "{dir}/taken.txt"],
        {"taken.txt": lambda: "not a folder\n"}),
    "export year --output under /proc": Case(
        ["export", "year", "2021", "--no-validate", "-o", "/proc/osuus-refusals"], ["[--output]", "/proc/osuus-refusals"]),
    "export year --output /proc/self": Case(
        ["export", "year", "2021", "--no-validate", "-o", "/proc/self"], ["[--output]", "/proc/self/"]),
    "export year --output on a full disk": Case(
        ["export", "year", "2021", "--no-validate", "-o", "{dir}/2021"], ["[--output]", "{dir}/2021"],
        output_disk_full=True),
}


def _fill(text: str, case_dir: Path, url: str) -> str:
    postgres = os.environ.get(PG_ENV, "").strip().rsplit("/", 1)[0]
    return text.replace("{dir}", str(case_dir)).replace("{db}", url).replace("{postgres}", postgres)


def _expected(text: str, files: dict[str, str]) -> str:
    """`file:{line:marker}` becomes `file:N:`, N the one line of the file holding the marker."""
    if "{line:" not in text:
        return text
    name, rest = text.split(":{line:", 1)
    marker = rest[:-1]
    found = [n for n, line in enumerate(files[name].splitlines(), start=1) if marker in line]
    assert found, f"{marker!r} is not in {name}"
    return f"{name}:{found[0]}:"


RUNS = [("sqlite", case) for case in CASES.values()] + \
       [("postgresql", case) for case in CASES.values() if case.postgres]
RUN_IDS = [f"sqlite-{name}" for name in CASES] + [f"postgresql-{name}" for name, c in CASES.items() if c.postgres]


@pytest.mark.parametrize("database, case", RUNS, ids=RUN_IDS)
def test_refused_cleanly(database: str, case: Case, request, tmp_path: Path, monkeypatch) -> None:
    if case.server and not os.environ.get(PG_ENV, "").strip():
        pytest.skip(f"{PG_ENV} not set")
    if case.locked and os.geteuid() == 0:
        pytest.skip("running as root, whom a folder's mode does not stop: the cases under /proc/self stand for "
                    "a folder nothing may be made in")
    ledger_url = ledger_copy(request, database, case, tmp_path)
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    written = {name: make() for name, make in case.files.items()}
    for name, text in written.items():
        (case_dir / name).write_text(text, encoding="utf-8")
    for name in case.folders:
        (case_dir / name).mkdir()
    if case.locked:
        (case_dir / case.locked).mkdir()
        (case_dir / case.locked).chmod(0o555)
    env = {"OSUUS_DATABASE_URL": ledger_url, **{k: _fill(v, case_dir, ledger_url) for k, v in case.env.items()}}
    for command in case.before:
        ok([_fill(a, case_dir, ledger_url) for a in command], env)
    args = [_fill(a, case_dir, ledger_url) for a in case.args]
    before, files_before = digest(ledger_url), sorted(p.name for p in case_dir.iterdir())

    database = Path(make_url(ledger_url).database or "")
    if case.output_disk_full:
        # the output's disk fills up: every fsync of a file written (cli/files.py syncs each
        # temporary file before anything is moved into place) fails as on a full disk
        def no_space(*_args, **_kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", no_space)
    with full_disk(database) if case.disk_full else contextlib.nullcontext():
        code, stdout, stderr, exc = cli(args, env)
    monkeypatch.undo()

    context = f"osuus {' '.join(args)}\n--- stdout:\n{stdout[-3000:]}\n--- stderr:\n{stderr[-3000:]}"
    assert exc is None or isinstance(exc, SystemExit), f"crashed with {exc!r}\n{context}"
    assert code == 2, context
    assert "Traceback" not in stdout + stderr, context
    for text in case.expect:
        expected = _fill(_expected(text, written), case_dir, ledger_url)
        assert expected in stderr, f"expected {expected!r} in stderr\n{context}"
    assert digest(ledger_url) == before, f"the database changed\n{context}"
    assert sorted(p.name for p in case_dir.iterdir()) == files_before, f"a file was written\n{context}"


# ---------------------------------------------------------------------------
# what the cases rest on
# ---------------------------------------------------------------------------

def test_db_before_the_command_is_the_database(sqlite_ledger, tmp_path):
    """`osuus --db FILE COMMAND` uses FILE, over $OSUUS_DATABASE_URL; the same --db after it too."""
    path = tmp_path / "ledger.db"
    shutil.copyfile(sqlite_ledger, path)
    elsewhere = {"OSUUS_DATABASE_URL": str(tmp_path / "elsewhere.db")}
    listed = ok(["--db", str(path), "agreement", "list"], elsewhere)
    assert "pirkanmaa-2021" in listed
    assert ok(["--db", str(path), "agreement", "list", "--db", str(path)], elsewhere) == listed
    assert not (tmp_path / "elsewhere.db").exists()


def test_the_year_range_is_the_agreements():
    from osuus.agreement.checks import FIRST_YEAR, LAST_YEAR
    from osuus.cli import edge

    assert (edge.FIRST_YEAR, edge.LAST_YEAR) == (FIRST_YEAR, LAST_YEAR)


def test_the_limits_fit_the_ledgers_columns():
    """What the limits let through sums, with room to spare, in the columns of both databases:
    NUMERIC(18, 2) euros and NUMERIC(18, 4) quantities on PostgreSQL, 64-bit integers of cents
    and ten-thousandths on SQLite (the smaller of the two bounds is the one that holds)."""
    from osuus.agreement.checks import AMOUNT_LIMIT, COUNT_LIMIT, VOLUME_LIMIT
    from osuus.store.types import Money, Price, Quantity, capacity

    euros, quantities, prices = capacity(Money), capacity(Quantity), capacity(Price)
    assert AMOUNT_LIMIT * 1000 <= euros  # a thousand years of a member's events on one invoice
    assert VOLUME_LIMIT * 100 <= quantities
    assert COUNT_LIMIT < VOLUME_LIMIT
    assert AMOUNT_LIMIT <= prices


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_every_sum_at_the_limits_is_stored_and_billed(database, request, tmp_path):
    """Right below the limits an import is accepted, and the ledger bills it on both databases:
    the month is not blocked (SQLite's integer sums and PostgreSQL's NUMERIC(18, 4) overflowed
    before)."""
    folder = tmp_path
    url = ledger_copy(request, database, Case([], [], before=[["a copy of its own"]]), tmp_path)
    env = {"OSUUS_DATABASE_URL": url}
    rows = [f"L-{i},2021-01-{i % 28 + 1:02d},mainio,020,A-1,999999999.9999,,,,999999999.99" for i in range(24)]
    (folder / "big.csv").write_text("\n".join([EVENTS_HEADER, *rows]) + "\n", encoding="utf-8")
    ok(["import", "events", str(folder / "big.csv")], env)
    ok(["invoice", "2021-01", "--date", "2021-02-01"], env)  # a draft, approved by another user
    billed = json.loads(ok(["approve", "2021-01", "-f", "json"], {**env, "OSUUS_USER": "approver"}))["run"]
    akaa = next(i for i in billed["invoices"] if i["municipality"] == "020")
    lines = {line["kind"]: line for line in akaa["lines"]}
    # by hand: 1.5 h (B-1 of the small ledger) + 24 × 999 999 999.9999 h = 24 000 000 001.4976 h at
    # 40 €/h (the agreement's price of mainio) = 960 000 000 059.904 € → 960 000 000 059.90 €;
    # interpretation 24 × 999 999 999.99 € = 23 999 999 999.76 €
    assert lines["event"]["quantity"] == "24000000001.4976"
    assert lines["event"]["amount"] == "960000000059.90"
    assert lines["interpretation"]["amount"] == "23999999999.76"
