"""No money skipped silently: the edges of the year, through the command line, on the small
agreement of tests/billing/small.py, every figure computed by hand.

- 2025: population H 50, A 30, B 20; p (1 200 €, by population) is billed in advance:
  A 360 €/year (30 € a month), B 240 €/year (20 € a month).
- 2026's agreement arrives after January 2026 has been invoiced. Until then the 2025
  agreement's `[billing.without_agreement] advances = "last_agreement"` bills January by it:
  A 30,00, B 20,00. The 2026 agreement costs p 1 500 €: A 450 €/year, B 300 €/year.
  February recomputes what is left over the eleven instalments left, each rounded up to the
  cent (the spare cents first) and the last taking the rest:
  - A: 420 / 11 = 38,1818… → 38,19; 381,81 / 10 = 38,181 → 38,19; 343,62 / 9 = 38,18 exactly,
    so April–December 38,18. 30 + 2 × 38,19 + 9 × 38,18 = 450,00.
  - B: 280 / 11 = 25,4545… → 25,46; 254,54 / 10 → 25,46; 229,08 / 9 → 25,46;
    203,62 / 8 → 25,46; 178,16 / 7 → 25,46; 152,70 / 6 = 25,45 exactly, so August–December
    25,45. 20 + 5 × 25,46 + 6 × 25,45 = 300,00.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from osuus.store.db import make_engine, session_factory
from osuus.store.tables import AuditRecord
from tests.billing.small import TEXT
from tests.store.test_ledger_errors import snapshot

LAST_AGREEMENT = """
[billing.without_agreement]
advances = "last_agreement"
reference = "next-year-clause"
"""
TEXT_2026 = TEXT.replace('id = "small-2025"', 'id = "small-2026"').replace("year = 2025", "year = 2026") \
    .replace("cost = 1200", "cost = 1500")
assert TEXT_2026.count("2026") == 2 and "cost = 1500" in TEXT_2026


def run(url: str, *args, user: str = "test") -> tuple[int, str, str]:
    from osuus.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], env={"OSUUS_DATABASE_URL": url, "OSUUS_USER": user})
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def osuus(url: str, *args, user: str = "test") -> str:
    code, stdout, stderr = run(url, *args, user=user)
    assert code == 0, (args, stdout, stderr)
    return stdout


def invoice(url: str, period: str, *args) -> str:
    """The period's run drafted (`invoice`), then approved by another user (`approve`)."""
    osuus(url, "invoice", period, *args)
    return osuus(url, "approve", period, user="approver")


def refused(url: str, *args) -> str:
    before = snapshot(url)
    code, stdout, stderr = run(url, *args)
    assert code == 2, (args, stdout, stderr)
    assert snapshot(url) == before, "a refused command wrote"
    return stderr


def ledger(folder: Path, url: str, extra_2025: str = "", extra_2026: str = "") -> str:
    (folder / "small-2025.toml").write_text(TEXT + extra_2025, encoding="utf-8")
    (folder / "small-2026.toml").write_text(TEXT_2026 + extra_2026, encoding="utf-8")
    osuus(url, "db", "upgrade")
    osuus(url, "agreement", "add", folder / "small-2025.toml")
    return url


def advances(url: str, code: str) -> list[tuple[str, D, dict, str]]:
    """(period, amount, details, text) of each advance line billed to `code` for 2026."""
    invoices = [i for year in ("2026", "2027")  # December's invoice is numbered in 2027
                for i in json.loads(osuus(url, "invoices", "--year", year, "-m", code, "--format", "json"))
                if i["period"].startswith("2026")]
    return [(i["period"], D(line["amount"]), line["details"], line["description"])
            for i in sorted(invoices, key=lambda i: i["period"]) if i["kind"] == "invoice"
            for line in i["lines"] if line["kind"] == "advance"]


def test_without_the_years_agreement_the_default_refuses_and_names_what_is_missing(tmp_path):
    url = ledger(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")
    stderr = refused(url, "invoice", "2026-01", "--date", "2026-02-02")
    assert "2026" in stderr and "osuus agreement add" in stderr and "billing.without_agreement" in stderr
    # with the year's agreement stored, the same run goes through
    osuus(url, "agreement", "add", tmp_path / "small-2026.toml")
    invoice(url, "2026-01", "--date", "2026-02-02")
    assert [(p, a) for p, a, _, _ in advances(url, "002")] == [("2026-01", D("37.50"))]  # 450 / 12


def test_the_year_by_the_estimate_is_refused_without_an_estimate(tmp_path):
    url = ledger(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}",
                 extra_2025=LAST_AGREEMENT.replace("last_agreement", "estimate"))
    stderr = refused(url, "invoice", "2026-01", "--date", "2026-02-02")
    assert "osuus estimate 2026" in stderr


def test_advances_add_up_to_the_payment_when_the_agreement_comes_late(database_url, tmp_path):
    url = ledger(tmp_path, database_url, extra_2025=LAST_AGREEMENT)
    invoice(url, "2026-01", "--date", "2026-02-02")
    ((period, amount, details, text),) = advances(url, "002")
    assert (period, amount, details["basis"], details["basis_year"]) == ("2026-01", D("30.00"), "last_agreement", 2025)
    assert "vuoden 2025 sopimuksen mukaan" in text
    osuus(url, "agreement", "add", tmp_path / "small-2026.toml")
    for month in range(2, 13):
        invoice(url, f"2026-{month:02d}", "--date", f"2026-{month + 1:02d}-01" if month < 12 else "2027-01-04")

    a = advances(url, "002")
    assert [amount for _, amount, _, _ in a] == [D("30.00"), D("38.19"), D("38.19")] + [D("38.18")] * 9
    assert sum(amount for _, amount, _, _ in a) == D("450.00")
    _, _, february, text = a[1]
    assert (D(february["billed"]), february["left"]) == (D("30.00"), 11)
    assert "tarkistettu erä" in text and "jäljellä 420,00" in text.replace("\xa0", " ")

    b = advances(url, "003")
    assert [amount for _, amount, _, _ in b] == [D("20.00")] + [D("25.46")] * 5 + [D("25.45")] * 6
    assert sum(amount for _, amount, _, _ in b) == D("300.00")


def test_invoice_dates_and_gaps(tmp_path):
    url = ledger(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")
    osuus(url, "agreement", "add", tmp_path / "small-2026.toml")
    invoice(url, "2026-01", "--date", "2026-02-02")
    # the period has not ended on its last day
    assert "--date" in refused(url, "invoice", "2026-02", "--date", "2026-02-28")
    assert "--date" in refused(url, "invoice", "2026-02", "--date", "2025-12-31")
    # a year after the next
    assert "--date" in refused(url, "invoice", "2026-02", "--date", "2028-01-01")
    # March before February: refused, naming February, unless said on purpose
    stderr = refused(url, "invoice", "2026-03", "--date", "2026-04-01")
    assert "2026-02" in stderr and "--allow-gap" in stderr
    invoice(url, "2026-03", "--date", "2026-04-01", "--allow-gap")
    engine = make_engine(url)
    try:
        with session_factory(engine, area_id=1)() as session:
            record = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
            assert record.details["allowed_gap"] == ["2026-02"]
    finally:
        engine.dispose()
    # the gap is filled afterwards, on the ordinary path
    invoice(url, "2026-02", "--date", "2026-04-02")
    assert [p for p, _, _, _ in advances(url, "002")] == ["2026-01", "2026-02", "2026-03"]
