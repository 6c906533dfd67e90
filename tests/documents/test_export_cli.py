"""`osuus export ...` and `osuus validate` as a user runs them (subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys


from tests.documents.conftest import AGREEMENT, ROOT

MEMBERS = 21


def osuus(*args: str, url: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "OSUUS_DATABASE_URL": url, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "osuus", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, encoding="utf-8", timeout=600)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def test_export_period_and_validate_every_file(walkthrough_url, validator, tmp_path):
    out = tmp_path / "out"
    proc = osuus("export", "einvoice", "--period", "2021-03", "--format", "peppol", "--output", str(out),
                 url=walkthrough_url)
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.glob("*/*.peppol.xml"))
    assert len(files) == MEMBERS  # one invoice per member; the host is not invoiced
    assert not any(f.parent.name.startswith("837-") for f in files)  # Tampere (837)
    assert (out / "790-sastamala").is_dir()
    proc = osuus("validate", *map(str, files), url=walkthrough_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("kunnossa") == MEMBERS


def test_validate_prints_rule_location_and_message(walkthrough_url, validator, tmp_path):
    out = tmp_path / "one"
    assert osuus("export", "einvoice", "2021-00016", "-f", "peppol", "-o", str(out), url=walkthrough_url).returncode == 0
    (good,) = out.glob("*/*.xml")
    text = good.read_text(encoding="utf-8")
    start = text.index("<cbc:PayableAmount")
    end = text.index("</cbc:PayableAmount>")
    broken = tmp_path / "broken.xml"
    broken.write_text(text[:start] + '<cbc:PayableAmount currencyID="EUR">1.00' + text[end:], encoding="utf-8")
    proc = osuus("validate", str(broken), url=walkthrough_url)
    assert proc.returncode == 1
    line = next(x for x in proc.stdout.splitlines() if "BR-CO-16" in x)
    assert "PayableAmount" in line or "LegalMonetaryTotal" in line  # where
    assert line.startswith(f"{broken}: fatal: BR-CO-16 at ")


def test_validate_user_mistakes_exit_2(walkthrough_url, tmp_path):
    proc = osuus("validate", str(tmp_path / "missing.xml"), url=walkthrough_url)
    assert proc.returncode == 2 and "file not found" in proc.stderr
    proc = osuus("validate", url=walkthrough_url)
    assert proc.returncode == 2


def test_export_needs_one_selection(walkthrough_url, tmp_path):
    proc = osuus("export", "einvoice", "-f", "finvoice", "-o", str(tmp_path / "x"), url=walkthrough_url)
    assert proc.returncode == 2 and "exactly one" in proc.stderr
    proc = osuus("export", "pdf", "2099-00001", "-o", str(tmp_path / "x"), url=walkthrough_url)
    assert proc.returncode == 2 and "no invoice 2099-00001" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_a_party_without_an_address_stops_the_export_before_any_file(tmp_path):
    """Parkano's postal and e-invoice addresses removed: exit 2, Parkano and the fields named, nothing written."""
    text = AGREEMENT.read_text(encoding="utf-8")
    start = text.index('[parties."Parkano"]')
    end = text.index("[parties.", start + 5)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(text[:start] + '[parties."Parkano"]\ncity = "Parkano"\n\n' + text[end:], encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    for args in (("db", "upgrade"), ("agreement", "add", str(agreement)), ("estimate", "2021"),
                 ("invoice", "2021-01", "--date", "2021-02-01"), ("approve", "2021-01")):
        assert osuus(*args, url=url, env={"OSUUS_SELF_APPROVAL": "1"}).returncode == 0  # one user drafts, approves
    out = tmp_path / "out"
    proc = osuus("export", "einvoice", "--period", "2021-01", "-f", "finvoice", "-o", str(out), url=url)
    assert proc.returncode == 2
    problems = [x for x in proc.stderr.splitlines() if "Parkano" in x]
    assert any("street" in x for x in problems) and any("einvoice_address" in x for x in problems)
    assert not out.exists()


def test_an_export_reads_while_another_command_holds_the_write_lock(walkthrough_url, tmp_path):
    """SQLite: exports begin DEFERRED (WAL), so a running invoice run does not hold them up, nor they it."""
    from osuus.store.db import make_engine

    engine = make_engine(walkthrough_url)  # a writer's engine: BEGIN IMMEDIATE
    try:
        with engine.begin() as writer:
            writer.exec_driver_sql("SELECT 1")  # the write lock is taken and held until the block ends
            proc = osuus("export", "pdf", "2021-00001", "-o", str(tmp_path / "pdf"), url=walkthrough_url)
            assert proc.returncode == 0, proc.stderr
    finally:
        engine.dispose()
    assert len(list((tmp_path / "pdf").glob("*/*.pdf"))) == 1


def test_validate_without_the_finvoice_schema_says_what_to_install(walkthrough_url, tmp_path):
    out = tmp_path / "fin"
    assert osuus("export", "einvoice", "2021-00016", "-f", "finvoice", "-o", str(out),
                 "--no-validate", url=walkthrough_url).returncode == 0
    (xml,) = out.glob("*/*.finvoice.xml")
    (attachments,) = out.glob("*/*.finvoice-attachments.xml")
    proc = osuus("validate", str(xml), url=walkthrough_url, env={"OSUUS_FINVOICE_XSD": str(tmp_path / "none.xsd")})
    assert proc.returncode == 2
    assert "--install-finvoice-xsd" in proc.stderr and "none.xsd" in proc.stderr  # how to get the schema
    # the attachments message has no schema: osuus's own checks need none
    proc = osuus("--language", "en", "validate", str(attachments), url=walkthrough_url,
                 env={"OSUUS_FINVOICE_XSD": str(tmp_path / "none.xsd")})
    assert proc.returncode == 0 and "valid" in proc.stdout, proc.stdout + proc.stderr


def test_a_finvoice_export_lists_and_counts_the_attachments_messages(walkthrough_url, tmp_path):
    out = tmp_path / "fin"
    proc = osuus("--language", "en", "export", "einvoice", "2021-00016", "-f", "finvoice", "-o", str(out),
                 "--no-validate", url=walkthrough_url)
    assert proc.returncode == 0, proc.stderr
    listed = sorted(line for line in proc.stdout.splitlines() if line.endswith(".xml"))
    assert sorted(p.rsplit(".", 2)[-2] for p in listed) == ["finvoice", "finvoice-attachments"]
    assert "2 files" in proc.stdout


def test_an_output_that_is_a_file_is_refused(walkthrough_url, tmp_path):
    taken = tmp_path / "taken.txt"
    taken.write_text("not a folder")
    for output in (taken, taken / "inside"):
        proc = osuus("--language", "en", "export", "pdf", "2021-00001", "-o", str(output), url=walkthrough_url)
        assert proc.returncode == 2 and f"[--output] {taken} is a file" in proc.stderr, proc.stderr
    assert taken.read_text() == "not a folder"
