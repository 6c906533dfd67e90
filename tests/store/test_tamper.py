"""The tamper matrix: whatever is changed behind the program's back, `osuus audit verify` finds
it and names it (exit 2), on SQLite and on PostgreSQL.

One small ledger per database is built through the command line (the small agreement of
tests/billing/small.py, a year invoiced, closed and settled on the first invoice of 2026, and
the 2026 estimate); each cell works on a copy of it (SQLite: the file copied; PostgreSQL: a
database made from it as a template) and changes it the way someone who owns the database
would: as the superuser with the log's triggers set aside (`tamper`). Then:

- edit, delete and insert × invoice, invoice line, event, agreement version, settlement,
  estimate and audit record: each found, naming the row (its number or id) and the audit
  record that wrote it;
- the newest records removed together with everything they wrote: the chain alone cannot see
  it (verify passes), a checkpoint kept from before (text or JSON) does; so does a head
  rewritten with fresh hashes;
- the log emptied while the ledger holds rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from osuus.store import audit
from tests.billing.small import TEXT
from tests.conftest import PG_ENV
from tests.store.test_explain_billed import COSTS, EVENTS

TEXT_2026 = TEXT.replace('id = "small-2025"', 'id = "small-2026"').replace("year = 2025", "year = 2026")


def osuus(url: str, *args, lang: str = "en") -> tuple[int, str, str]:
    from osuus.cli import app

    result = CliRunner().invoke(app, ["--language", lang, *[str(a) for a in args]],
                                env={"OSUUS_DATABASE_URL": url, "OSUUS_USER": "test"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def ok(url: str, *args) -> str:
    code, out, err = osuus(url, *args)
    assert code == 0, (args, out, err)
    return out


def build(url: str, folder: Path) -> None:
    """The small ledger: 2025 invoiced month by month, closed, its settlement carried on 2026-01
    (through the use cases the commands call: quicker than the command line, the same writes)."""
    from osuus.calendar import Period
    from osuus.services.agreements import add_agreement
    from osuus.services.closing import close_year
    from osuus.services.estimates import make_estimate
    from osuus.services.imports import import_costs, import_events
    from tests.approving import invoice_period as run_period
    from osuus.services.ledger import Ledger as Opened
    from osuus.store.db import upgrade

    for name, content in (("small.toml", TEXT), ("small-2026.toml", TEXT_2026), ("events.csv", EVENTS),
                          ("costs.csv", COSTS)):
        (folder / name).write_text(content, encoding="utf-8")
    upgrade(url)
    with Opened(url, "test") as opened:
        add_agreement(opened, folder / "small.toml")
        import_events(opened, folder / "events.csv")
        for month in range(1, 13):
            run_period(opened, Period.parse(f"2025-{month:02d}"),
                       dt.date(2025, month + 1, 1) if month < 12 else dt.date(2026, 1, 5))
        import_costs(opened, folder / "costs.csv")
        close_year(opened, 2025)
        make_estimate(opened, 2026)
        add_agreement(opened, folder / "small-2026.toml")
        run_period(opened, Period.parse("2026-01"), dt.date(2026, 2, 2))


# --------------------------------------------------------------------------
# tampering as the owner of the database
# --------------------------------------------------------------------------

def _sqlite_path(url: str) -> str:
    return make_url(url).database


@contextlib.contextmanager
def unguarded(url: str):
    """A connection (DB-API) that can change anything: the log's append-only triggers set aside
    (PostgreSQL: session_replication_role = replica, which also skips foreign keys and needs a
    superuser; SQLite: the triggers dropped and made again afterwards, foreign keys off)."""
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                yield connection
        finally:
            engine.dispose()
        return
    connection = sqlite3.connect(_sqlite_path(url), isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        triggers = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                      "AND tbl_name = 'audit_log'").fetchall()
        for name, _ in triggers:
            connection.execute(f"DROP TRIGGER {name}")
        yield _SqliteConnection(connection)
        for _, sql in triggers:
            connection.execute(sql)
        connection.execute("COMMIT")
    finally:
        connection.close()


class _SqliteConnection:
    """The few calls the cells make, the same on both databases."""

    def __init__(self, connection):
        self.connection = connection

    def exec_driver_sql(self, sql: str, params=()):
        return self.connection.execute(sql, params)


def tamper(url: str, *statements: str) -> None:
    with unguarded(url) as connection:
        for sql in statements:
            connection.exec_driver_sql(sql)


def one(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).one()
    finally:
        engine.dispose()


def copy_of(table: str, key: int, **overrides) -> str:
    """INSERT … SELECT: a copy of a row with some columns given (an id among them)."""
    columns = audit.BY_TABLE[table].columns + ("area_id",)
    values = ", ".join(overrides.get(c, c) for c in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {table} WHERE id = {key}"


# --------------------------------------------------------------------------
# one ledger per database, copied per cell
# --------------------------------------------------------------------------

@dataclass
class Ledger:
    kind: str
    url: str
    folder: Path
    admin: object = None  # PostgreSQL: an AUTOCOMMIT engine on the server's maintenance database
    facts: dict = field(default_factory=dict)
    made: list = field(default_factory=list)
    dropper: ThreadPoolExecutor | None = None
    dropping: list = field(default_factory=list)

    def copy(self) -> str:
        if self.kind == "sqlite":
            target = self.folder / f"cell-{secrets.token_hex(4)}.db"
            source = sqlite3.connect(_sqlite_path(self.url))
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)
            finally:
                source.close()
                destination.close()
            return f"sqlite:///{target}"
        base = make_url(self.url).database
        name = f"{base}_{secrets.token_hex(3)}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
        self.made.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop(self, names) -> None:
        with self.admin.connect() as connection:
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_later(self, name: str) -> None:
        """Dropped by a thread of its own while the next cells run (a drop waits for the disk)."""
        if self.dropper is None:
            self.dropper = ThreadPoolExecutor(max_workers=2)
        self.made.remove(name)
        self.dropping.append(self.dropper.submit(self.drop, [name]))

    def finish(self) -> None:
        if self.dropper is not None:
            self.dropper.shutdown(wait=True)
            for done in self.dropping:
                done.result()


def _facts(url: str) -> dict:
    """Where things are in the built ledger: the rows the cells change, and their records."""
    record = lambda action, subject: one(url, f"SELECT id FROM audit_log WHERE action = '{action}' "  # noqa: E731
                                              f"AND subject = '{subject}'")[0]
    invoice_id, number = one(url, "SELECT id, number FROM invoices WHERE period_year = 2025 AND period_index = 3 "
                                  "AND municipality = '002'")
    line_id, position = one(url, f"SELECT id, position FROM invoice_lines WHERE invoice_id = {invoice_id} "
                                 "ORDER BY position LIMIT 1")
    return {
        "invoice": invoice_id, "number": number, "line": line_id, "position": position,
        "run_record": record("invoice.run", "2025-03"),
        "event": one(url, "SELECT id FROM service_events WHERE source_id = 'e1'")[0],
        "import_record": record("import.events", "events.csv"),
        "agreement": one(url, "SELECT id FROM agreement_versions WHERE year = 2025")[0],
        "agreement_record": record("agreement.add", "small-2025 rev 1"),
        "settlement": one(url, "SELECT id FROM settlements WHERE municipality = '002'")[0],
        "carry_record": record("invoice.run", "2026-01"),
        "close_record": record("year.close", "2025"),
        "estimate": one(url, "SELECT id FROM estimates WHERE year = 2026 AND municipality = '002'")[0],
        "estimate_record": record("estimate", "2026"),
        "head": one(url, "SELECT max(id) FROM audit_log")[0],
        "max": {t: one(url, f"SELECT max(id) FROM {t}")[0] for t in
                ("invoices", "invoice_lines", "service_events", "agreement_versions", "settlements", "estimates")},
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ledger(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"tamper-{request.param}")
    if request.param == "sqlite":
        made = Ledger("sqlite", f"sqlite:///{folder / 'base.db'}", folder)
        build(made.url, folder)
        made.facts = _facts(made.url)
        yield made
        return
    import os

    server = os.environ.get(PG_ENV, "").strip()
    if not server:
        pytest.skip(f"{PG_ENV} not set")
    from osuus.store.db import resolve_url

    server = resolve_url(server)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    base = f"osuus_tamper_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{base}"')
    made = Ledger("postgresql", make_url(server).set(database=base).render_as_string(hide_password=False), folder,
                  admin)
    try:
        build(made.url, folder)
        made.facts = _facts(made.url)
        yield made
    finally:
        made.finish()
        made.drop(made.made + [base])
        admin.dispose()


@pytest.fixture
def cell(ledger):
    """A fresh copy of the ledger for one cell (PostgreSQL: dropped afterwards)."""
    url = ledger.copy()
    yield url
    if ledger.kind == "postgresql":
        ledger.drop_later(make_url(url).database)


def found(url: str, *args, lang: str = "en") -> str:
    """`osuus audit verify` on a tampered ledger: exit 2, no traceback; what it printed."""
    code, out, err = osuus(url, "audit", "verify", *args, lang=lang)
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    assert "The audit found" in err or lang != "en", err
    return err


def words_only(ledger) -> None:
    """Words and files, not the database: once is enough."""
    if ledger.kind != "sqlite":
        pytest.skip("the same on every database: run on SQLite")


# --------------------------------------------------------------------------
# the matrix
# --------------------------------------------------------------------------

def test_the_untouched_ledger_verifies(ledger, cell):
    out = ok(cell, "audit", "verify")
    assert "The change log is intact" in out and "The ledger matches the change log's content hashes" in out


# (what, how, SQL to run, what verify must say), the facts filled in
MATRIX = {
    ("invoice", "edit"): (["UPDATE invoices SET due_date = issue_date WHERE id = {invoice}"],
                          ["invoice {number} (id {invoice}) was edited",
                           "record {run_record} (invoice.run 2025-03)"]),
    ("invoice", "delete"): (["DELETE FROM invoices WHERE id = {invoice}"],
                            ["invoice (id {invoice}) was deleted: it was written by record {run_record} "
                             "(invoice.run 2025-03)", "A gap in the invoice numbers: {number} missing"]),
    ("invoice", "insert"): ([copy_of("invoices", 0, id="{new}", number="'2026-00090'", sequence="90")],
                            ["invoice 2026-00090 (id {new}) was inserted behind the program's back"]),
    ("invoice line", "edit"): (["UPDATE invoice_lines SET amount = amount + 100 WHERE id = {line}"],
                               ["line {position} of invoice {number} (id {line}) was edited",
                                "record {run_record} (invoice.run 2025-03)"]),
    ("invoice line", "delete"): (["DELETE FROM invoice_lines WHERE id = {line}"],
                                 ["invoice line (id {line}) was deleted: it was written by record {run_record}"]),
    ("invoice line", "insert"): ([copy_of("invoice_lines", 0, id="{new}", position="9")],
                                 ["line 9 of invoice {number} (id {new}) was inserted behind the program's back"]),
    ("event", "edit"): (["UPDATE service_events SET customer = 'A-9' WHERE id = {event}"],
                        ["service event e1 (id {event}) was edited", "record {import_record} (import.events "
                                                                     "events.csv)"]),
    ("event", "delete"): (["DELETE FROM service_events WHERE id = {event}"],
                          ["service event (id {event}) was deleted: it was written by record {import_record}"]),
    ("event", "insert"): ([copy_of("service_events", 0, id="{new}", source_id="'e99'")],
                          ["service event e99 (id {new}) was inserted behind the program's back"]),
    ("agreement version", "edit"): (["UPDATE agreement_versions SET content = replace(content, '1200', '1300') "
                                     "WHERE id = {agreement}"],
                                    ["agreement small-2025 (2025, revision 1, id {agreement}) was edited",
                                     "record {agreement_record} (agreement.add small-2025 rev 1)",
                                     "its text does not match its stored SHA-256"]),
    ("agreement version", "delete"): (["DELETE FROM agreement_versions WHERE id = {agreement}"],
                                      ["agreement version (id {agreement}) was deleted: it was written by record "
                                       "{agreement_record}"]),
    ("agreement version", "insert"): ([copy_of("agreement_versions", 0, id="{new}", revision="2",
                                               content_hash="'" + "1" * 64 + "'")],
                                      ["agreement small-2025 (2025, revision 2, id {new}) was inserted behind the "
                                       "program's back"]),
    # a settlement was written by close-year and changed (carried) by the 2026-01 run
    ("settlement", "edit"): (["UPDATE settlements SET difference = 0 WHERE id = {settlement}"],
                             ["settlement 2025 / 002 (year_end, id {settlement}) was edited",
                              "record {carry_record} (invoice.run 2026-01)"]),
    ("settlement", "delete"): (["DELETE FROM settlements WHERE id = {settlement}"],
                               ["settlement (id {settlement}) was deleted: it was written by record {carry_record}"]),
    ("settlement", "insert"): ([copy_of("settlements", 0, id="{new}")],
                               ["settlement 2025 / 002 (year_end, id {new}) was inserted behind the program's back"]),
    ("estimate", "edit"): (["UPDATE estimates SET amount = 0 WHERE id = {estimate}"],
                           ["estimate 2026 revision 1 / 002 (id {estimate}) was edited",
                            "record {estimate_record} (estimate 2026)"]),
    ("estimate", "delete"): (["DELETE FROM estimates WHERE id = {estimate}"],
                             ["estimate (id {estimate}) was deleted: it was written by record {estimate_record}"]),
    ("estimate", "insert"): ([copy_of("estimates", 0, id="{new}", revision="2")],
                             ["estimate 2026 revision 2 / 002 (id {new}) was inserted behind the program's back"]),
    ("audit record", "edit"): (["UPDATE audit_log SET reason = 'x' WHERE id = {run_record}"],
                               ["record {run_record} (invoice.run 2025-03): its hash does not match its contents"]),
    ("audit record", "delete"): (["DELETE FROM audit_log WHERE id = {run_record}"],
                                 ["does not link to record {before_run} before it",
                                  "invoice {number} (id {invoice}) was inserted behind the program's back"]),
}
SOURCE = {"invoice": ("invoices", "invoice"), "invoice line": ("invoice_lines", "line"),
          "event": ("service_events", "event"), "agreement version": ("agreement_versions", "agreement"),
          "settlement": ("settlements", "settlement"), "estimate": ("estimates", "estimate")}


@pytest.mark.parametrize("what,how", list(MATRIX))
def test_tampering_is_found_and_named(ledger, cell, what, how):
    statements, expected = MATRIX[(what, how)]
    facts = dict(ledger.facts, before_run=ledger.facts["run_record"] - 1)
    if what in SOURCE:
        table, fact = SOURCE[what]
        facts["new"] = ledger.facts["max"][table] + 100
        statements = [s.replace("WHERE id = 0", f"WHERE id = {ledger.facts[fact]}") for s in statements]
    tamper(cell, *[s.format(**facts) for s in statements])
    err = found(cell)
    for phrase in expected:
        assert phrase.format(**facts) in err, (phrase.format(**facts), err)


def test_an_audit_record_inserted_is_found(ledger, cell):
    """A record forged into the chain (its hash made the way osuus makes them) after record 3,
    and one without content hashes at the head."""
    at = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    (third_hash,) = one(cell, "SELECT hash FROM audit_log WHERE id = 3")
    (head_hash,) = one(cell, f"SELECT hash FROM audit_log WHERE id = {ledger.facts['head']}")
    forged = []
    for record_id, prev in ((ledger.facts["head"] + 1, third_hash), (ledger.facts["head"] + 2, None)):
        prev = prev or forged[-1][1]
        digest = audit.record_hash(prev, at, "mallory", "invoice.credit", "2025-00001", "", {})
        forged.append((record_id, digest, prev))
    stored_at = at.isoformat(sep=" ") if ledger.kind == "postgresql" else at.strftime("%Y-%m-%d %H:%M:%S.%f")
    tamper(cell, *[f"INSERT INTO audit_log (id, at, actor, action, subject, reason, details, prev_hash, hash, "
                   f"area_id) VALUES ({i}, '{stored_at}', 'mallory', 'invoice.credit', '2025-00001', '', '{{}}', "
                   f"'{prev}', '{digest}', 1)" for i, digest, prev in forged])
    err = found(cell)
    head = ledger.facts["head"]
    assert f"record {head + 1} (invoice.credit 2025-00001): does not link to record {head} before it" in err, err
    assert f"record {head + 2} (invoice.credit 2025-00001): carries no content hashes" in err, err


def _cut_back(url: str, facts: dict) -> None:
    """The newest record (the 2026-01 run) removed with everything it wrote, its counter set back
    and the settlements it carried opened again: no trace left inside the database."""
    run = one(url, "SELECT id FROM invoice_runs WHERE period_year = 2026")[0]
    tamper(url,
           f"DELETE FROM invoice_lines WHERE invoice_id IN (SELECT id FROM invoices WHERE run_id = {run})",
           "UPDATE settlements SET carried_invoice_id = NULL",
           f"DELETE FROM invoices WHERE run_id = {run}",
           f"DELETE FROM invoice_runs WHERE id = {run}",
           "UPDATE invoice_counters SET next_number = (SELECT max(sequence) + 1 FROM invoices WHERE year = 2026) "
           "WHERE year = 2026",
           f"DELETE FROM audit_log WHERE id = {facts['head']}")


@pytest.mark.parametrize("form", ["text", "json"])
def test_a_log_cut_back_behind_a_checkpoint(ledger, cell, form, tmp_path):
    kept = tmp_path / f"checkpoint.{form}"
    kept.write_text(ok(cell, "audit", "checkpoint", "--format", form), encoding="utf-8")
    head = ledger.facts["head"]
    assert ok(cell, "audit", "verify", "--checkpoint", kept).endswith(
        f"The checkpoint matches: record {head} has the hash that was kept.\n")
    _cut_back(cell, ledger.facts)
    ok(cell, "audit", "verify")  # the chain alone cannot tell
    err = found(cell, "--checkpoint", kept)
    assert (f"The change log was cut back: the checkpoint names record {head}, but the log ends at record "
            f"{head - 1}") in err, err


def test_a_checkpoint_printed_in_finnish_is_read_back(ledger, cell, tmp_path):
    words_only(ledger)
    kept = tmp_path / "tarkistuspiste.txt"
    code, out, _ = osuus(cell, "audit", "checkpoint", lang="fi")
    assert code == 0 and f"tietue: {ledger.facts['head']}" in out
    kept.write_text(out, encoding="utf-8")
    _cut_back(cell, ledger.facts)
    err = found(cell, "--checkpoint", kept, lang="sv")
    assert f"Ändringsloggen har kortats: kontrollpunkten anger post {ledger.facts['head']}" in err, err


def test_a_head_rewritten_with_fresh_hashes(ledger, cell, tmp_path):
    kept = tmp_path / "checkpoint.json"
    kept.write_text(ok(cell, "audit", "checkpoint", "--format", "json"), encoding="utf-8")
    head = ledger.facts["head"]
    engine = create_engine(cell)
    try:
        with engine.connect() as connection:
            row = connection.execute(text(f"SELECT at, actor, action, subject, details, prev_hash FROM audit_log "
                                          f"WHERE id = {head}")).one()
    finally:
        engine.dispose()
    details = row.details if isinstance(row.details, dict) else json.loads(row.details)
    at = row.at if isinstance(row.at, dt.datetime) else dt.datetime.fromisoformat(row.at)
    rewritten = audit.record_hash(row.prev_hash, at, row.actor, row.action, row.subject, "rewritten", details)
    tamper(cell, f"UPDATE audit_log SET reason = 'rewritten', hash = '{rewritten}' WHERE id = {head}")
    ok(cell, "audit", "verify")  # a consistent rewrite of the head: only a checkpoint shows it
    err = found(cell, "--checkpoint", kept)
    assert f"Record {head} no longer has the checkpoint's hash: the log was rewritten" in err, err


def test_the_log_emptied(ledger, cell):
    tamper(cell, "DELETE FROM audit_log")
    err = found(cell)
    assert "The change log is empty while the ledger holds" in err and "the log was emptied" in err, err
    fi = found(cell, lang="fi")
    assert "Muutosloki on tyhjä" in fi and "loki on tyhjennetty" in fi, fi


def test_findings_in_finnish_and_swedish(ledger, cell):
    words_only(ledger)
    tamper(cell, f"UPDATE invoices SET due_date = issue_date WHERE id = {ledger.facts['invoice']}")
    number = ledger.facts["number"]
    assert f"lasku {number} (id {ledger.facts['invoice']}) on muutettu" in found(cell, lang="fi")
    assert f"faktura {number} (id {ledger.facts['invoice']}) har ändrats" in found(cell, lang="sv")


def test_a_bad_checkpoint_file_is_refused(ledger, cell, tmp_path):
    words_only(ledger)
    for name, content in (("missing.txt", None), ("empty.txt", ""), ("words.txt", "record: x\nhash: y\n"),
                          ("bad.json", '{"sequence": "7", "hash": "abc"}')):
        path = tmp_path / name
        if content is not None:
            path.write_text(content, encoding="utf-8")
        code, out, err = osuus(cell, "audit", "verify", "--checkpoint", path)
        assert code == 2 and str(path) in err and "--checkpoint" in err and "Traceback" not in err, (name, err)
