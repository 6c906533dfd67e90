"""A ledger written before lines were structure (revision 0001) migrates, and what it issued stays
as it was issued.

tests/store/data/ledger-0001.json holds every row that osuus 0001 wrote for a small year
(make_ledger_0001.sh there): Tampere hosts Akaa and Kangasala; January's late event was
billed in March as an "adjustment" line; Kangasala's February invoice was credited; the year
was closed and settled on the first invoice of 2026; the 2026 estimate has a basis in words.
The rows are loaded into a database at 0001 (SQLite and PostgreSQL), which is then upgraded.

The words expected below are those the old release wrote on the documents (they are in the
rows). The settlement is computed by hand: Akaa's actual share is p 1 800 × 30 % = 540,00 +
u 300 × 800/900 = 266,67 + m 112 × 500/432 = 129,63 + t 30,00 = 966,30 €; billed
360 + 112 + 300 + 30 = 802,00 €; difference 164,30 €.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from decimal import Decimal as D
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import JSON, Boolean, Date, DateTime, MetaData, Numeric, text
from typer.testing import CliRunner

from osuus.store.db import alembic_config, head_revision, make_engine, upgrade
from tests.pdf.test_letters import pdf_text

DATA = Path(__file__).parent / "data" / "ledger-0001.json"
LATE_EVENT_AS_ISSUED = "Jälkikirjaus (tammikuu 2025): u: 1 kpl × 100,00 € (1 tapahtumaa)"


def _value(column, value, dialect: str):
    """A value as SQLite stored it, for this database: on PostgreSQL money and quantities are
    NUMERIC, on SQLite integers of the smallest unit (osuus.store.types)."""
    if value is None:
        return None
    if dialect != "sqlite" and isinstance(column.type, Numeric) and column.type.scale:
        return Decimal(value).scaleb(-column.type.scale)
    if isinstance(column.type, Boolean):
        return bool(value)
    if isinstance(column.type, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column.type, JSON):
        return json.loads(value)
    return value


def load_legacy(url: str) -> None:
    """The rows of ledger-0001.json in a database migrated to 0001 (the old release's schema)."""
    command.upgrade(alembic_config(url), "0001")
    rows = json.loads(DATA.read_text(encoding="utf-8"))
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.begin() as connection:
            for table in metadata.sorted_tables:
                if table.name not in rows:
                    continue
                data = rows[table.name]
                records = [{name: _value(table.c[name], value, engine.dialect.name) for name, value in zip(data["columns"], row)}
                           for row in data["rows"]]
                if records:
                    connection.execute(table.insert(), records)
            if engine.dialect.name == "postgresql":  # the ids were given: move the sequences past them
                for table in metadata.sorted_tables:
                    if "id" in table.c and rows.get(table.name, {}).get("rows"):
                        connection.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT max(id) FROM {table.name}))"))
    finally:
        engine.dispose()


@pytest.fixture
def legacy_url(database_url) -> str:
    load_legacy(database_url)
    assert upgrade(database_url) == ("0001", head_revision())
    return database_url


def osuus(url: str, *args, user: str = "test") -> str:
    from osuus.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], env={"OSUUS_DATABASE_URL": url, "OSUUS_USER": user})
    assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
    return result.stdout


def test_issued_lines_are_shown_as_issued_in_every_language(legacy_url, tmp_path):
    (march,) = [i for i in json.loads(osuus(legacy_url, "invoices", "--year", "2025", "-m", "Akaa", "--format", "json"))
                if i["period"] == "2025-03" and i["kind"] == "invoice"]
    assert march["number"] == "2025-00005" and D(march["total"]) == D("227.50")
    # the late event: an event line for January on March's invoice, its unit an id
    late = march["lines"][1]
    assert (late["kind"], late["period"], late["unit"]) == ("event", "2025-01", "piece")
    assert late["description"] == LATE_EVENT_AS_ISSUED
    for lang, heading in (("fi", "Rivi 2"), ("sv", "Rad 2"), ("en", "Line 2")):
        explained = osuus(legacy_url, "--language", lang, "explain", "invoice", "2025-00005", "--line", "2")
        assert f"{heading}: {LATE_EVENT_AS_ISSUED}" in explained, lang
    osuus(legacy_url, "export", "pdf", "2025-00005", "--lang", "sv", "-o", tmp_path)
    (pdf,) = tmp_path.rglob("*.pdf")
    _, pages = pdf_text(pdf.read_bytes())
    page = " ".join(pages).replace("\xa0", " ")
    assert "Faktura" in page and "Jälkikirjaus (tammikuu 2025)" in page and "227,50" in page


def test_the_credit_note_and_the_settlement_as_they_were_made(legacy_url):
    credit = osuus(legacy_url, "explain", "invoice", "2025-00007")
    assert "Hyvitys: u: 1 kpl × 100,00 € (1 tapahtumaa)" in credit
    doc = json.loads(osuus(legacy_url, "explain", "settlement", "2025", "-m", "Akaa", "--format", "json"))
    (fig,) = doc["figures"]
    assert (fig["name"], D(fig["value"])) == ("settlement.issued", D("164.30"))
    assert [(d["number"], D(d["amount"])) for d in doc["documents"]] == [("2026-00003", D("164.30"))]
    estimate = osuus(legacy_url, "explain", "estimate", "2026", "-m", "Kangasala")
    assert "Ei sopimusta vuodelle 2026: arvio sopimuksen legacy-2025 pohjalta" in estimate


def test_the_audit_chain_survives_and_the_ledger_works_on(legacy_url):
    assert "21" in osuus(legacy_url, "audit", "verify")
    # a correction after the move: the credit note of a legacy invoice repeats its lines as issued
    osuus(legacy_url, "credit", "2025-00005", "--reason", "Väärä kunta", "--date", "2026-03-02")
    osuus(legacy_url, "approve", "2025-00005", user="approver")
    invoices = json.loads(osuus(legacy_url, "invoices", "--year", "2026", "-m", "Akaa", "--format", "json"))
    (note,) = [i for i in invoices if i["kind"] == "credit_note"]
    assert D(note["total"]) == D("-227.50") and note["credited_invoice"] == "2025-00005"
    assert any(LATE_EVENT_AS_ISSUED in line["description"] for line in note["lines"])
    osuus(legacy_url, "audit", "verify")


def test_downgrade_gives_the_old_rows_back(legacy_url):
    command.downgrade(alembic_config(legacy_url), "0001")
    engine = make_engine(legacy_url)
    try:
        with engine.connect() as connection:
            lines = connection.execute(text(
                "SELECT l.kind, l.description, l.unit, l.events_period FROM invoice_lines l "
                "JOIN invoices i ON i.id = l.invoice_id WHERE i.number = '2025-00005' ORDER BY l.position")).all()
            basis = connection.execute(text(
                "SELECT basis FROM estimates WHERE year = 2026 AND municipality = '211'")).scalar_one()
    finally:
        engine.dispose()
    assert lines[1] == ("adjustment", LATE_EVENT_AS_ISSUED, "kpl", "2025-01")
    assert [line[0] for line in lines] == ["advance", "adjustment", "event", "interpretation"]
    assert basis.startswith("Ei sopimusta vuodelle 2026")
