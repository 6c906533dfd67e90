"""A stored year keeps its past: the checks it was accepted under, and the names it had.

- An agreement accepted before a check was added (or before a bank registry changed its
  verdict) stays readable, invoiceable and exportable: it is read back with the checks it
  was accepted under, while `osuus check` and `osuus agreement add` apply today's.
- A member renamed by the next year's agreement (Mänttä-Vilppula → Mänttä, code 508) keeps
  its history: it is found by either name, and the 2021 documents keep the 2021 name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.pdf.test_letters import pdf_text

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT_2021 = ROOT / "agreements" / "pirkanmaa-2021.toml"


def run(url: str, *args, user: str = "test"):
    from osuus.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], env={"OSUUS_DATABASE_URL": url, "OSUUS_USER": user})


def osuus(url: str, *args, user: str = "test") -> str:
    result = run(url, *args, user=user)
    assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
    return result.stdout


def invoice(url: str, period: str, *args) -> str:
    """The period's run drafted (`invoice`), then approved by another user (`approve`)."""
    osuus(url, "invoice", period, *args)
    return osuus(url, "approve", period, user="approver")


@pytest.fixture
def fresh_checks(monkeypatch):
    """The registered checks, changeable by one test, and no agreement parsed under other checks."""
    from osuus.agreement import checks
    from osuus.services import agreements

    monkeypatch.setattr(checks, "CHECKS", list(checks.CHECKS))
    monkeypatch.setattr(agreements, "_parsed", {})
    return checks


@pytest.fixture
def ledger_2021(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    osuus(url, "db", "upgrade")
    osuus(url, "agreement", "add", AGREEMENT_2021)
    invoice(url, "2021-01", "--date", "2021-02-01")
    return url


def test_a_check_added_later_does_not_lock_a_stored_year(ledger_2021, fresh_checks, tmp_path):
    from osuus.agreement.model import Agreement
    from osuus.problems import Problem

    @fresh_checks.check("later.no-host")  # a new rule that this agreement fails
    def _refuse_all(agreement: Agreement):
        yield Problem("a host is no longer allowed", key="agreement.host")

    # today's checks refuse the file …
    result = run(ledger_2021, "check", AGREEMENT_2021)
    assert result.exit_code == 2 and "a host is no longer allowed" in result.stderr
    result = run(ledger_2021, "agreement", "add", AGREEMENT_2021)
    assert result.exit_code == 2 and "a host is no longer allowed" in result.stderr
    # … but the stored year is read with the checks it was accepted under
    invoices = json.loads(osuus(ledger_2021, "invoices", "--year", "2021", "--format", "json"))
    assert len(invoices) == 21  # January's advance invoices, one per member
    invoice(ledger_2021, "2021-02", "--date", "2021-03-01")
    out = tmp_path / "pdf"
    osuus(ledger_2021, "export", "pdf", "--period", "2021-02", "-o", out)
    assert len(list(out.rglob("*.pdf"))) == 21


def test_a_changed_registry_verdict_does_not_lock_a_stored_year(ledger_2021, fresh_checks, tmp_path):
    """The host's bank account was accepted against the registry of its day; a later registry
    that no longer knows the bank must not make the year unreadable."""
    from osuus.problems import Problem

    (i,) = [i for i, c in enumerate(fresh_checks.CHECKS) if c.registry]
    registry_check = fresh_checks.CHECKS[i]
    fresh_checks.CHECKS[i] = registry_check._replace(
        run=lambda agreement: [Problem("the bank is not in the registry", key="parties.host.iban")])

    result = run(ledger_2021, "check", AGREEMENT_2021)
    assert result.exit_code == 2 and "not in the registry" in result.stderr
    invoice(ledger_2021, "2021-02", "--date", "2021-03-01")
    out = tmp_path / "einvoice"
    osuus(ledger_2021, "export", "einvoice", "--period", "2021-02", "--format", "finvoice", "-o", out)
    assert len(list(out.rglob("*.finvoice.xml"))) == 21  # each with its attachments message beside it


def renamed_2022(tmp_path: Path) -> Path:
    text = AGREEMENT_2021.read_text(encoding="utf-8")
    text = text.replace('id = "pirkanmaa-2021"', 'id = "pirkanmaa-2022"').replace("\nyear = 2021\n", "\nyear = 2022\n")
    assert text.count("Mänttä-Vilppula") > 5
    path = tmp_path / "pirkanmaa-2022.toml"
    path.write_text(text.replace("Mänttä-Vilppula", "Mänttä"), encoding="utf-8")
    return path


def test_a_renamed_member_keeps_its_history(ledger_2021, tmp_path):
    osuus(ledger_2021, "agreement", "add", renamed_2022(tmp_path))
    # the 2021 report by the 2021 name, by the 2022 name and by the code: one member
    by_old = json.loads(osuus(ledger_2021, "report", "2021", "-m", "Mänttä-Vilppula", "--format", "json"))
    by_new = json.loads(osuus(ledger_2021, "report", "2021", "-m", "Mänttä", "--format", "json"))
    by_code = json.loads(osuus(ledger_2021, "report", "2021", "-m", "508", "--format", "json"))
    assert by_old == by_new == by_code
    text = osuus(ledger_2021, "report", "2021", "-m", "Mänttä")
    assert "Mänttä-Vilppula" in text
    # the 2021 invoice keeps the 2021 name; 2022's invoice has the new one
    invoice(ledger_2021, "2022-01", "--date", "2022-02-01")
    out = tmp_path / "pdf"
    osuus(ledger_2021, "export", "pdf", "--year", "2021", "-o", out)
    osuus(ledger_2021, "export", "pdf", "--year", "2022", "-o", out)
    by_number = {json_invoice["number"]: json_invoice for year in (2021, 2022) for json_invoice in
                 json.loads(osuus(ledger_2021, "invoices", "--year", year, "-m", "Mänttä", "--format", "json"))}
    assert {n[:4] for n in by_number} == {"2021", "2022"}
    for number in by_number:
        (pdf,) = out.rglob(f"*{number}*.pdf")
        _, pages = pdf_text(pdf.read_bytes())
        text = " ".join(pages)
        if number.startswith("2021"):
            assert "Mänttä-Vilppula" in text, number
        else:
            assert "Mänttä" in text and "Mänttä-Vilppula" not in text, number
