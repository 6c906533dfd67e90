"""Faults and races of the ledger, on SQLite and on PostgreSQL.

1. The approval of an invoice run over 100 000 service events killed with SIGKILL
   halfway (OSUUS_FAULT_POINT=invoice.run.middle): nothing of it is left behind, the
   draft is still a draft, the audit chain still verifies, and approving it again
   bills everything once, with contiguous invoice numbers and the exact euro total
   of the events.
2. Two approvals of the same run at once: one bills, the other finds the draft
   approved already; one set of invoices, numbers contiguous.
3. Imports are all or nothing (Hypothesis): a file with any bad row is refused
   whole, with a problem for every bad row, and nothing at all is stored; a good
   file is stored whole, and the same file again adds nothing.

The program runs as a real subprocess (`python -m osuus`), so it can be killed.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from osuus.calendar import Period
from osuus.problems import ProblemsError
from osuus.store.db import make_engine, session_factory
from osuus.services.imports import import_events
from osuus.services.ledger import Ledger
from osuus.store.tables import Invoice, InvoiceLine

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
HOST = "837"  # Tampere: produces the services, is never invoiced
#: The 21 members of the 2021 agreement (official codes), with a Finnish or Swedish name for some.
MEMBERS = ("020", "108", "143", "177", "211", "250", "418", "508", "536", "562", "581", "604", "619",
           "635", "702", "790", "887", "908", "922", "936", "980")
NAMES = {"604": ("Pirkkala", "birkala"), "020": ("Akaa", "ACKAS"), "790": ("Sastamala",), "980": ("Ylöjärvi",)}
#: The agreed prices of kohta 5 (€): Mainio per hour, alkukartoitus per assessment, Tredu per customer.
PRICES = {"mainio": Decimal(40), "alkukartoitus": Decimal(140), "tredu": Decimal(280)}
FAULT = "invoice.run.middle"
FAULT_LINE = f"fault point {FAULT} reached"

BIG = 100_000


# --------------------------------------------------------------------------
# helpers: the program as a subprocess, and looking at the database
# --------------------------------------------------------------------------

def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["PYTHONUTF8"] = "1"
    env["NO_COLOR"] = "1"
    env["OSUUS_USER"] = "faults-test"
    env["OSUUS_SELF_APPROVAL"] = "1"  # one user drafts and approves (tests/store/test_approval.py: two)
    for name in ("FORCE_COLOR", "COLUMNS", "LINES", "OSUUS_FAULT_POINT", "OSUUS_FAULT_SLEEP", "OSUUS_DATABASE_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


def osuus(url: str, *args: str | os.PathLike, timeout: float = 300) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "osuus", *map(str, args), "--db", url],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=_env(), timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def ok(url: str, *args: str | os.PathLike) -> str:
    code, out, err = osuus(url, *args)
    assert code == 0, f"osuus {' '.join(map(str, args))}: exit {code}\n{out}\n{err}"
    return out


@dataclass
class Running:
    proc: subprocess.Popen
    out: Path
    err: Path

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")

    def wait_for(self, line: str, timeout: float = 120) -> None:
        """Until `line` is on the process's stderr (fails if the process ends first)."""
        deadline = time.monotonic() + timeout
        while line not in self.stderr():
            if self.proc.poll() is not None:
                pytest.fail(f"the process ended ({self.proc.returncode}) before printing {line!r}:\n"
                            f"{self.stdout()}\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"no {line!r} within {timeout} s")
            time.sleep(0.02)


def start(url: str, folder: Path, name: str, *args: str, **env: str) -> Running:
    """`osuus ARGS --db URL` in the background; its stdout and stderr go to files (no pipe to fill)."""
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "osuus", *args, "--db", url], stdout=o, stderr=e,
                                cwd=ROOT, env=_env(**env))
    return Running(proc, out, err)


def query(url: str, sql: str, **params):
    """All rows of one query, on a connection of its own (closed afterwards)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params):
    return query(url, sql, **params)[0][0]


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def other_backends(url: str) -> list[tuple]:
    """PostgreSQL: the other connections to this test database (pid, state, query)."""
    return query(url, "SELECT pid, state, left(query, 80) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def wait_no_other_backends(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while (left := other_backends(url)):
        if time.monotonic() > deadline:
            pytest.fail(f"connections left hanging on the test database: {left}")
        time.sleep(0.1)


def month(code: str, alias: str = "") -> str:
    """SQL for "the period is the month `code`" (a period is three columns: year, kind, index)."""
    year, index = code.split("-")
    prefix = f"{alias}." if alias else ""
    return (f"{prefix}period_year = {int(year)} AND {prefix}period_kind = 'month' "
            f"AND {prefix}period_index = {int(index)}")


def ledger_state(url: str, period: str) -> dict:
    """What a run of `period` would change, and the chain's head."""
    return {
        "runs": scalar(url, f"SELECT count(*) FROM invoice_runs WHERE {month(period)}"),
        "invoices": scalar(url, f"SELECT count(*) FROM invoices WHERE {month(period)}"),
        "all_invoices": scalar(url, "SELECT count(*) FROM invoices"),
        "lines": scalar(url, "SELECT count(*) FROM invoice_lines"),
        "orphan_lines": scalar(url, "SELECT count(*) FROM invoice_lines l LEFT JOIN invoices i "
                                    "ON i.id = l.invoice_id WHERE i.id IS NULL"),
        "unbilled": scalar(url, "SELECT count(*) FROM service_events e WHERE NOT EXISTS (SELECT 1 FROM invoice_runs r WHERE r.max_event_id >= e.id AND r.period_end >= e.date)"),
        "counters": query(url, "SELECT host, year, next_number FROM invoice_counters ORDER BY host, year"),
        "audit": query(url, "SELECT count(*), max(id) FROM audit_log"),
        "audit_head": query(url, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"),
        "drafts": query(url, "SELECT id, status FROM drafts ORDER BY id"),
    }


def event_amounts(url: str, period: str) -> Decimal:
    """The sum of the event lines of a period's invoices, summed in SQL through the Money type (exact)."""
    engine = make_engine(url)
    try:
        with session_factory(engine, area_id=1)() as session:
            return session.scalar(select(func.sum(InvoiceLine.amount)).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                                  .where(Invoice.period == Period.parse(period), InvoiceLine.kind == "event"))
    finally:
        engine.dispose()


def sequences(url: str, year: int) -> list[int]:
    return [r[0] for r in query(url, "SELECT sequence FROM invoices WHERE year = :y ORDER BY sequence", y=year)]


# --------------------------------------------------------------------------
# the event files
# --------------------------------------------------------------------------

def write_events(path: Path, n: int, *, year: int, month: int, prefix: str, seed: int) -> Decimal:
    """`n` valid events of members in one month (deterministic); returns their value at the agreed prices.

    Mainio quantities are quarter hours, so every amount is whole cents and the
    invoices (which round each line to cents) must add up to this exactly."""
    rng = random.Random(seed)
    days = calendar.monthrange(year, month)[1]
    total = Decimal(0)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("event_id,date,component,municipality,customer,quantity\n")
        for i in range(1, n + 1):
            component = rng.choices(("mainio", "alkukartoitus", "tredu"), weights=(8, 1, 1))[0]
            if component == "mainio":
                quarters = rng.randint(1, 12)
                quantity = Decimal(quarters) / 4
            else:
                quantity = Decimal(rng.randint(1, 2))
            total += quantity * PRICES[component]
            fh.write(f"{prefix}{i:07d},{year}-{month:02d}-{rng.randint(1, days):02d},{component},"
                     f"{rng.choice(MEMBERS)},C-{rng.randint(1, 30_000):06d},{quantity}\n")
    return total


@pytest.fixture(scope="module")
def big_march_file(tmp_path_factory) -> tuple[Path, Decimal, float]:
    path = tmp_path_factory.mktemp("faults") / "events-2021-03.csv"
    started = time.perf_counter()
    total = write_events(path, BIG, year=2021, month=3, prefix="EV-2021-03-", seed=20210301)
    return path, total, time.perf_counter() - started


# --------------------------------------------------------------------------
# 1. SIGKILL halfway through an invoice run over 100 000 events
# --------------------------------------------------------------------------

def test_sigkill_mid_invoice_run_leaves_nothing_and_rerun_bills_once(migrated_url, big_march_file, tmp_path):
    url = migrated_url
    events_file, expected_total, generated_in = big_march_file
    timings = {"generate": generated_in}

    ok(url, "agreement", "add", AGREEMENT)
    t = time.perf_counter()
    out = ok(url, "import", "events", events_file)
    timings["import"] = time.perf_counter() - t
    assert f"{BIG} lisätty" in out.replace("\u00a0", " ")
    assert scalar(url, "SELECT count(*) FROM service_events") == BIG
    for period, issue in (("2021-01", "2021-02-01"), ("2021-02", "2021-03-01"), ("2021-03", "2021-04-01")):
        ok(url, "invoice", period, "--date", issue)  # the draft
        if period != "2021-03":
            ok(url, "approve", period)
    before = ledger_state(url, "2021-03")
    assert before["drafts"] == [(1, "approved"), (2, "approved"), (3, "draft")]
    assert before["all_invoices"] == len(MEMBERS) * 2 and before["unbilled"] == BIG
    assert before["counters"] == [(HOST, 2021, 2 * len(MEMBERS) + 1)]  # numbering has started

    t = time.perf_counter()
    run = start(url, tmp_path, "killed", "approve", "2021-03", OSUUS_FAULT_POINT=FAULT, OSUUS_FAULT_SLEEP="120")
    run.wait_for(FAULT_LINE)
    # the run holds its write transaction open at the fault point
    if is_postgres(url):
        states = [state for _pid, state, _q in other_backends(url)]
        assert "idle in transaction" in states, states
    else:
        probe = sqlite3.connect(make_url(url).database, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()
    os.kill(run.proc.pid, signal.SIGKILL)
    assert run.proc.wait(timeout=30) == -signal.SIGKILL
    timings["run until killed"] = time.perf_counter() - t
    assert "Laskutettu" not in run.stdout()

    if is_postgres(url):
        # the server notices the dead client, rolls its transaction back and ends the backend
        wait_no_other_backends(url)
        assert query(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                          "(SELECT oid FROM pg_database WHERE datname = current_database())") == [(0,)]

    after = ledger_state(url, "2021-03")
    assert after["runs"] == 0, "an invoice_runs row of the killed run survived"
    assert after["invoices"] == 0, "invoices of the killed run survived"
    assert after["orphan_lines"] == 0
    assert after["unbilled"] == BIG, "events were marked billed by the killed run"
    assert after == before, "the killed run changed the ledger"
    code, out, err = osuus(url, "audit", "verify")
    assert code == 0, out + err

    t = time.perf_counter()
    out = ok(url, "approve", "2021-03")
    timings["rerun"] = time.perf_counter() - t
    assert "Laskutettu maaliskuu 2021" in out and f"{BIG} palvelutapahtumaa" in out, out
    assert scalar(url, f"SELECT count(*) FROM invoice_runs WHERE {month('2021-03')}") == 1
    march = scalar(url, f"SELECT count(*) FROM invoices WHERE {month('2021-03')}")
    assert march == len(MEMBERS)  # every member has advances and events
    assert sequences(url, 2021) == list(range(1, 3 * len(MEMBERS) + 1)), "gap or duplicate in the invoice numbers"
    assert query(url, "SELECT next_number FROM invoice_counters WHERE host = :h AND year = 2021",
                 h=HOST) == [(3 * len(MEMBERS) + 1,)]
    assert scalar(url, "SELECT count(*) FROM service_events e WHERE NOT EXISTS (SELECT 1 FROM invoice_runs r WHERE r.max_event_id >= e.id AND r.period_end >= e.date)") == 0
    # every event was billed by the one rerun of 2021-03 (the first run reaching its id and date)
    assert scalar(url, "SELECT count(*) FROM service_events e WHERE NOT EXISTS (SELECT 1 FROM invoice_runs r "
                       f"WHERE {month('2021-03', 'r')} AND r.max_event_id >= e.id AND r.period_end >= e.date)") == 0
    assert event_amounts(url, "2021-03") == expected_total
    assert not query(url, "SELECT 1 FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
                          f"WHERE {month('2021-03', 'i')} AND l.kind NOT IN ('advance', 'event')")
    assert ledger_state(url, "2021-03")["orphan_lines"] == 0
    code, out, err = osuus(url, "audit", "verify")
    assert code == 0, out + err
    if is_postgres(url):
        wait_no_other_backends(url)
    print(f"\n[{make_url(url).get_backend_name()}] " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


# --------------------------------------------------------------------------
# 2. Two runs of the same period at once
# --------------------------------------------------------------------------

def test_two_approvals_of_one_run_at_once_bill_it_once(migrated_url, tmp_path):
    url = migrated_url
    events_file = tmp_path / "events-2021-04.csv"
    expected_total = write_events(events_file, 2_000, year=2021, month=4, prefix="EV-2021-04-", seed=20210401)
    ok(url, "agreement", "add", AGREEMENT)
    ok(url, "import", "events", events_file)

    # April alone: the months before it are passed over on purpose
    ok(url, "invoice", "2021-04", "--date", "2021-05-01", "--allow-gap")  # the draft
    # the first approval holds its transaction (and the billing lock) for 3 s halfway; the second starts meanwhile
    first = start(url, tmp_path, "first", "approve", "2021-04", OSUUS_FAULT_POINT=FAULT, OSUUS_FAULT_SLEEP="3")
    first.wait_for(FAULT_LINE)
    second = start(url, tmp_path, "second", "approve", "1")
    assert first.proc.poll() is None, "the first approval ended before the second started: no overlap"
    codes = (first.proc.wait(timeout=120), second.proc.wait(timeout=120))
    outputs = (first.stdout() + first.stderr(), second.stdout() + second.stderr())
    assert codes == (0, 2), outputs

    assert "draft 1 is approved already" in outputs[1], outputs
    assert sum("Laskutettu huhtikuu 2021" in o for o in outputs) == 1, outputs
    assert scalar(url, f"SELECT count(*) FROM invoice_runs WHERE {month('2021-04')}") == 1
    assert scalar(url, "SELECT count(*) FROM invoice_runs") == 1
    rows = query(url, f"SELECT municipality FROM invoices WHERE {month('2021-04')}")
    assert sorted(m for (m,) in rows) == sorted(MEMBERS)  # one invoice per member, none for the host
    assert sequences(url, 2021) == list(range(1, len(MEMBERS) + 1))
    assert scalar(url, "SELECT count(*) FROM service_events e WHERE NOT EXISTS (SELECT 1 FROM invoice_runs r WHERE r.max_event_id >= e.id AND r.period_end >= e.date)") == 0
    assert event_amounts(url, "2021-04") == expected_total
    assert scalar(url, "SELECT count(*) FROM audit_log WHERE action = 'invoice.run'") == 1
    code, out, err = osuus(url, "audit", "verify")
    assert code == 0, out + err
    if is_postgres(url):
        wait_no_other_backends(url)


# --------------------------------------------------------------------------
# 3. Imports: all or nothing
# --------------------------------------------------------------------------

INVALID_KINDS = ("negative_quantity", "unknown_municipality", "unknown_component", "date_outside_2021",
                 "non_numeric_km", "duplicate_event_id", "personal_code")
CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_example_numbers = itertools.count(1)


def personal_code(born: dt.date, individual: int) -> str:
    """A valid Finnish personal identity code (henkilötunnus) of someone born in the 1900s."""
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}-{individual:03d}{CHECK_CHARS[int(digits) % 31]}"


@dataclass(frozen=True)
class Row:
    kind: str  # "valid" or one of INVALID_KINDS
    cells: tuple[str, ...]


@st.composite
def event_rows(draw) -> list[Row]:
    """5–40 rows of a service-event file (id placeholders `{id}`); some files all valid, others mixed."""
    n = draw(st.integers(5, 40))
    all_valid = draw(st.booleans())
    rows: list[Row] = []
    for i in range(n):
        kind = "valid" if all_valid or not draw(st.integers(0, 3)) == 0 else draw(st.sampled_from(INVALID_KINDS))
        if kind == "duplicate_event_id" and not rows:
            kind = "valid"
        event_id = f"{{p}}-{i:03d}"
        date = draw(st.dates(dt.date(2021, 1, 1), dt.date(2021, 12, 31)))
        date_text = date.isoformat() if draw(st.booleans()) else f"{date.day}.{date.month}.{date.year}"
        component = draw(st.sampled_from(("mainio", "alkukartoitus", "tredu", "MAINIO")))
        code = draw(st.sampled_from(MEMBERS))
        municipality = draw(st.sampled_from((code, code.lstrip("0"), *NAMES.get(code, ()))))
        customer = f"C-{draw(st.integers(1, 999_999)):06d}"
        quarters = draw(st.integers(0, 40))
        quantity = str(Decimal(quarters) / 4).replace(".", draw(st.sampled_from((".", ","))))
        km = draw(st.sampled_from(("", "0", "12", "12,5", "1 234,25")))
        if kind == "negative_quantity":
            quantity = "-" + str(draw(st.integers(1, 9)))
        elif kind == "unknown_municipality":
            municipality = draw(st.sampled_from(("Helsinki", "091", "Tamperee", "999")))
        elif kind == "unknown_component":
            component = draw(st.sampled_from(("kahvi", "yhteiset", "johtaminen", "mainiot")))
        elif kind == "date_outside_2021":
            date_text = draw(st.sampled_from(("2020-12-31", "2022-01-01", "1.6.2019", "2030-05-05")))
        elif kind == "non_numeric_km":
            km = draw(st.sampled_from(("abc", "12 km", "1e3", "--")))
        elif kind == "duplicate_event_id":
            event_id = rows[draw(st.integers(0, len(rows) - 1))].cells[0]
        elif kind == "personal_code":
            customer = personal_code(draw(st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31))),
                                     draw(st.integers(2, 899)))
        rows.append(Row(kind, (event_id, date_text, component, municipality, customer, quantity, km)))
    return rows


def _write_rows(path: Path, prefix: str, rows: list[Row]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(["event_id", "date", "component", "municipality", "customer", "quantity", "km"])
        for row in rows:
            writer.writerow([row.cells[0].replace("{p}", prefix), *row.cells[1:]])


def _counts(session) -> dict:
    return {
        "events": session.scalar(text("SELECT count(*) FROM service_events")),
        "batches": session.scalar(text("SELECT count(*) FROM import_batches")),
        "audit": tuple(session.execute(text("SELECT count(*), max(id) FROM audit_log")).one()),
        "head": session.scalar(text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")),
    }


@pytest.fixture
def agreement_stored(migrated_url) -> str:
    ok(migrated_url, "agreement", "add", AGREEMENT)
    return migrated_url


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=event_rows())
def test_import_is_all_or_nothing(agreement_stored, tmp_path, rows):
    url = agreement_stored
    number = next(_example_numbers)
    prefix = f"H{number:04d}"
    path = tmp_path / f"events-{number}.csv"
    _write_rows(path, prefix, rows)
    invalid_lines = {n for n, row in enumerate(rows, start=2) if row.kind != "valid"}
    event("all rows valid" if not invalid_lines else f"{len(invalid_lines)} bad rows")

    ledger = Ledger(url, "hypothesis")
    try:
        with ledger.read() as session:
            before = _counts(session)
        if not invalid_lines:
            result = import_events(ledger, path)
            assert (result.rows, result.added, result.created) == (len(rows), len(rows), True)
            with ledger.read() as session:
                stored = _counts(session)
            assert stored["events"] == before["events"] + len(rows)
            assert stored["batches"] == before["batches"] + 1
            assert stored["audit"][0] == before["audit"][0] + 1
            # the same file again adds nothing
            again = import_events(ledger, path)
            assert again.added == 0 and not again.created
            with ledger.read() as session:
                assert _counts(session) == stored
            return
        with pytest.raises(ProblemsError) as caught:
            import_events(ledger, path)
        problems = caught.value.problems
        reported = {p.row for p in problems if p.row is not None}
        missing = invalid_lines - reported
        assert not missing, f"no problem reported for bad rows {sorted(missing)}: {[str(p) for p in problems]}"
        wrongly = reported - invalid_lines
        assert not wrongly, f"problems reported for good rows {sorted(wrongly)}: {[str(p) for p in problems]}"
        for row in rows:
            if row.kind == "personal_code":
                assert all(row.cells[4] not in str(p) for p in problems), "a personal identity code shown whole"
        with ledger.read() as session:
            assert _counts(session) == before, "a refused file left something behind"
    finally:
        ledger.close()


def test_cli_refuses_a_file_with_one_bad_row_whole(agreement_stored, tmp_path):
    url = agreement_stored
    path = tmp_path / "events.csv"
    rows = [Row("valid", ("{p}-1", "2021-05-03", "mainio", "604", "C-000001", "1,5", "")),
            Row("valid", ("{p}-2", "4.5.2021", "tredu", "Birkala", "C-000002", "1", "12")),
            Row("personal_code", ("{p}-3", "2021-05-04", "alkukartoitus", "790", "131052-308T", "1", ""))]
    _write_rows(path, "CLI", rows)
    audit_before = query(url, "SELECT count(*), max(id) FROM audit_log")
    code, out, err = osuus(url, "import", "events", path)
    assert code == 2, out + err
    assert "events.csv:4" in err and "131052-***T" in err and "131052-308T" not in out + err
    assert scalar(url, "SELECT count(*) FROM service_events") == 0
    assert scalar(url, "SELECT count(*) FROM import_batches") == 0
    assert query(url, "SELECT count(*), max(id) FROM audit_log") == audit_before
    _write_rows(path, "CLI", rows[:2])
    code, out, err = osuus(url, "import", "events", path)
    assert code == 0 and "2 lisätty" in out, out + err
    code, out, err = osuus(url, "import", "events", path)
    assert code == 0 and "mitään ei lisätty" in out, out + err
    assert scalar(url, "SELECT count(*) FROM service_events") == 2
