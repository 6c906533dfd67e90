"""Documents written to a folder: atomically, the same bytes every time, with an index.

Each file is written to a temporary name and renamed into place, so a crash
never leaves half a document; the documents are deterministic (fixed PDF
timestamp, message time from the issue date), so exporting again rewrites the
same bytes. `export_year` writes every document of a year and an index (CSV) of
what it wrote, last, once everything else is in place.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from osuus.problems import ProblemsError, refuse

EINVOICE_FORMATS = ("finvoice", "peppol")


@dataclass(frozen=True, slots=True)
class Written:
    """One file written: a row of the index."""

    kind: str  # invoice | credit_note | estimate | report | tables
    document: str  # invoice number, or the year
    municipality: str  # official code; empty for the appendix
    name: str
    format: str  # pdf | finvoice | peppol
    language: str
    path: Path
    sha256: str
    amount: str = ""
    findings: str = ""  # validation: "" when valid or not validated, else the rule ids


def slug(text: str) -> str:
    """A file-name-safe form of a municipality's name: 'Mänttä-Vilppula' → 'mantta-vilppula'."""
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "a", "Ö": "o", "Å": "a", " ": "-"})
    return "".join(c for c in text.translate(table).lower() if c.isalnum() or c == "-")


def write_atomic(path: Path, data: bytes) -> str:
    """Write `data` to `path` through a temporary file; return its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def _file_word(kind: str, lang: str) -> str:
    from osuus.render.i18n import catalogue

    return catalogue(lang).t(f"file.{kind}")


def einvoice_bytes(doc, fmt: str) -> bytes:
    if fmt == "finvoice":
        from osuus.einvoice.finvoice import finvoice_xml

        return finvoice_xml(doc)
    if fmt == "peppol":
        from osuus.einvoice.peppol import peppol_xml

        return peppol_xml(doc)
    raise refuse(f"unknown e-invoice format {fmt!r}; expected finvoice or peppol", key="--format")


def _member_folder(out: Path, code: str, name: str) -> Path:
    return out / f"{code}-{slug(name)}"


def _invoice_name(doc, suffix: str, lang: str) -> str:
    return f"{_file_word(doc.kind.value, lang)}-{doc.number}{suffix}"


def _rule_ids(findings: list) -> str:
    return " ".join(sorted({f.code for f in findings if f.is_error}))


def write_einvoice(doc, fmt: str, out: Path, validate: Callable[[bytes], list] | None = None) -> Written:
    data = einvoice_bytes(doc, fmt)
    findings = _rule_ids(validate(data)) if validate else ""
    path = _member_folder(out, doc.buyer.code, doc.buyer.name) / _invoice_name(doc, f".{fmt}.xml", "fi")
    return Written(doc.kind.value, doc.number, doc.buyer.code, doc.buyer.name, fmt, "", path,
                   write_atomic(path, data), str(doc.total), findings)


def write_invoice_pdf(doc, out: Path, lang: str) -> Written:
    from osuus.render.pdf.letters import invoice_pdf

    path = _member_folder(out, doc.buyer.code, doc.buyer.name) / _invoice_name(doc, ".pdf", lang)
    return Written(doc.kind.value, doc.number, doc.buyer.code, doc.buyer.name, "pdf", lang, path,
                   write_atomic(path, invoice_pdf(doc, lang)), str(doc.total))


def write_estimates(letters: Iterable, out: Path, lang: str) -> list[Written]:
    from osuus.render.pdf.letters import estimate_pdf

    written = []
    for letter in letters:
        path = _member_folder(out, letter.buyer.code, letter.buyer.name) / \
            f"{_file_word('estimate', lang)}-{letter.year}.pdf"
        written.append(Written("estimate", str(letter.year), letter.buyer.code, letter.buyer.name, "pdf", lang, path,
                               write_atomic(path, estimate_pdf(letter, lang)), str(letter.amount)))
    return written


def write_reports(documents: Iterable, out: Path, lang: str) -> list[Written]:
    from osuus.render.pdf.reports import annual_report_pdf

    written = []
    for doc in documents:
        report = doc.report
        path = _member_folder(out, doc.buyer.code, doc.buyer.name) / f"{_file_word('report', lang)}-{report.year}.pdf"
        written.append(Written("report", str(report.year), doc.buyer.code, doc.buyer.name, "pdf", lang, path,
                               write_atomic(path, annual_report_pdf(doc, lang)),
                               str(report.actual if report.actual is not None else report.billed)))
    return written


def write_tables(agreement, out: Path, lang: str = "fi") -> Written:
    """The appendix tables (Taulukko 1 and 2 ...) of an agreement, A4 landscape."""
    from osuus.engine import allocate
    from osuus.render.pdf.reports import appendix_pdf

    allocation = allocate(agreement)
    if allocation.problems:
        raise ProblemsError(allocation.problems)
    path = out / f"{_file_word('tables', lang)}-{agreement.year}.pdf"
    return Written("tables", str(agreement.year), "", agreement.title.get(lang), "pdf", lang, path,
                   write_atomic(path, appendix_pdf(allocation, lang)))


INDEX_COLUMNS = ("kind", "document", "municipality", "name", "format", "language", "file", "sha256", "amount",
                 "findings")


def write_index(written: list[Written], out: Path, lang: str = "fi") -> Path:
    """The CSV index of a batch: one row per file, paths relative to the folder."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INDEX_COLUMNS)
    for w in written:
        writer.writerow((w.kind, w.document, w.municipality, w.name, w.format, w.language,
                         w.path.relative_to(out).as_posix(), w.sha256, w.amount, w.findings))
    path = out / f"{_file_word('index', lang)}.csv"
    write_atomic(path, buffer.getvalue().encode("utf-8"))
    return path


@dataclass(frozen=True, slots=True)
class YearExport:
    written: tuple[Written, ...]
    index: Path
    invalid: tuple[Written, ...]  # e-invoices with findings (empty when all pass or not validated)


def export_year(ledger, plan, out: Path, *, lang: str = "fi", date: dt.date,
                validate: Callable[[bytes], list] | None = None, rf: bool | None = None,
                advance: Callable[[int], None] = lambda n: None) -> YearExport:
    """Every document about the plan's year, for every member: its invoices and credit notes
    (PDF, Finvoice, Peppol), the estimate letter, the annual report; and the appendix tables.

    `advance(n)` is called as work is done (n documents), for a progress bar.
    The index is written last: a folder with an index is a complete export."""
    from osuus.services import documents

    written: list[Written] = []
    with ledger.read() as session:
        docs = documents.invoice_documents(session, plan.invoices, einvoice=True, rf=rf)
        letters = documents.estimate_letters(session, plan.year) if plan.has_estimate else []
        reports = documents.annual_report_documents(session, plan.year, date)
    for doc in docs:  # every missing field of every party is found before any file is written
        written.append(write_invoice_pdf(doc, out, lang))
        written += [write_einvoice(doc, fmt, out, validate) for fmt in EINVOICE_FORMATS]
        advance(1)
    if letters:
        written += write_estimates(letters, out, lang)  # dated the day the estimate was made
        advance(len(letters))
    written += write_reports(reports, out, lang)
    advance(len(reports))
    written.append(write_tables(plan.agreement, out, lang))
    advance(1)
    index = write_index(written, out, lang)
    return YearExport(tuple(written), index, tuple(w for w in written if w.findings))
