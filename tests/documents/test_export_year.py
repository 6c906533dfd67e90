"""`osuus export year`: every document of the year, an index that matches the disk, the same bytes twice
(but for the Finvoice messages, which are a new send each time: a fresh identifier and time stamp)."""

from __future__ import annotations

import csv
import hashlib
import io

from osuus.services.invoicing import list_invoices
from osuus.services.ledger import Ledger
from tests.documents.test_export_cli import osuus

MEMBERS = 21


def test_export_year_writes_everything_once_and_the_same_again(walkthrough_url, validator, tmp_path):
    with Ledger(walkthrough_url, readonly=True) as ledger:
        # every document about 2021: its periods' (the December invoice numbered in 2022, the credit
        # note of a 2021 invoice) and those carrying its settlement (the first invoices of 2022)
        about = [i for i in list_invoices(ledger) if i.period.year == 2021 or any(
            line.kind.value == "settlement" and line.period.year == 2021 for line in i.lines)]
        invoices = len(about)
    assert invoices == 12 * MEMBERS + 1 + MEMBERS
    assert {i.number for i in about if i.number.startswith("2022-")} >= {"2022-00016", "2022-00037"}
    out = tmp_path / "2021"
    proc = osuus("export", "year", "2021", "--output", str(out), "--date", "2022-03-31", "--validate",
                 url=walkthrough_url)
    assert proc.returncode == 0, proc.stderr
    assert "sääntörikkeitä 0" in proc.stdout

    index = out / "hakemisto.csv"
    rows = list(csv.DictReader(index.open(encoding="utf-8")))
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"hakemisto.csv"}
    assert {r["file"] for r in rows} == on_disk
    for r in rows:
        assert hashlib.sha256((out / r["file"]).read_bytes()).hexdigest() == r["sha256"], r["file"]
        assert r["findings"] == ""

    kinds = [(r["kind"], r["format"]) for r in rows]
    # PDF, Finvoice, its attachments message (the PDF), Peppol (the PDF inside)
    assert sum(1 for k in kinds if k[0] in ("invoice", "credit_note")) == 4 * invoices
    assert kinds.count(("invoice", "finvoice-attachments")) + kinds.count(("credit_note", "finvoice-attachments")) \
        == invoices
    assert kinds.count(("estimate", "pdf")) == MEMBERS
    assert kinds.count(("report", "pdf")) == MEMBERS
    assert kinds.count(("tables", "pdf")) == 1
    assert not any(r["municipality"] == "837" for r in rows)  # the host receives nothing

    # the same export again is refused (the files exist) and, with --force, writes the same bytes
    first = index.read_bytes()
    refused = osuus("export", "year", "2021", "--output", str(out), "--date", "2022-03-31", "--no-validate",
                    url=walkthrough_url)
    assert refused.returncode == 2 and "--force" in refused.stderr, refused.stderr
    again = osuus("export", "year", "2021", "--output", str(out), "--date", "2022-03-31", "--no-validate",
                  "--force", url=walkthrough_url)
    assert again.returncode == 0, again.stderr
    second = list(csv.DictReader(index.open(encoding="utf-8")))

    def unchanging(rows):  # a Finvoice message is a new send: its identifier and time stamp are new
        return [{**r, "sha256": ""} if r["format"].startswith("finvoice") else r for r in rows]

    assert unchanging(second) == unchanging(list(csv.DictReader(io.StringIO(first.decode("utf-8")))))
    resent = {r["file"]: r["sha256"] for r in second if r["format"] == "finvoice"}
    assert all(resent[r["file"]] != r["sha256"] for r in rows if r["format"] == "finvoice")


def test_export_year_in_swedish_names_files_in_swedish(walkthrough_url, tmp_path):
    out = tmp_path / "sv"
    proc = osuus("export", "report", "2021", "-m", "Birkala", "--lang", "sv", "-o", str(out), url=walkthrough_url)
    assert proc.returncode == 0, proc.stderr
    (report,) = out.glob("*/*.pdf")
    assert report.name == "arsrapport-2021.pdf" and report.parent.name == "604-pirkkala"
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(report).pages).replace("\u00ad", "")
    assert "Birkala" in text and "Årsrapport 2021" in text
