"""Writing documents to a folder: atomically, the same bytes every time, with an index.

Each file is written to a temporary name and renamed into place, so a crash
never leaves half a document; the documents are deterministic (fixed PDF
timestamp, message time from the issue date), so exporting again rewrites the
same bytes. `export_year` writes every document of a year and an index
(CSV) of what it wrote, last, once everything else is in place.
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from osuus.problems import Problem, ProblemsError, gather

EINVOICE_FORMATS = ("finvoice", "peppol")
_FILE_WORDS = {  # file names in the document's language
    "fi": {"invoice": "lasku", "credit_note": "hyvityslasku", "estimate": "arvio", "report": "vuosiraportti",
           "tables": "liite-taulukot", "index": "hakemisto"},
    "sv": {"invoice": "faktura", "credit_note": "kreditnota", "estimate": "uppskattning", "report": "arsrapport",
           "tables": "bilaga-tabeller", "index": "forteckning"},
    "en": {"invoice": "invoice", "credit_note": "credit-note", "estimate": "estimate", "report": "annual-report",
           "tables": "appendix-tables", "index": "index"},
}


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


def select_invoices(session: Session, *, number: str | None = None, period: str | None = None,
                    year: int | None = None) -> list:
    """The invoices and credit notes asked for: one by number, a billing period's, or a year's."""
    from osuus.store.tables import Invoice

    given = [x for x in (number, period, year) if x is not None]
    if len(given) != 1:
        raise ProblemsError([Problem("name exactly one of: an invoice number, --period or --year", key="invoice")])
    query = select(Invoice).order_by(Invoice.year, Invoice.sequence)
    if number is not None:
        query = query.where(Invoice.number == number)
    elif period is not None:
        from osuus.billing.periods import parse_period

        try:
            code = parse_period(period).code
        except ValueError as exc:
            raise ProblemsError([Problem(str(exc), key="--period")]) from None
        query = query.where(Invoice.period == code, Invoice.kind == "invoice")
    else:
        query = query.where(Invoice.year == year)
    found = list(session.scalars(query))
    if not found:
        what = f"invoice {number}" if number else f"invoices of period {period}" if period else f"invoices of {year}"
        raise ProblemsError([Problem(f"no {what} in the ledger", key="invoice")])
    return found


def einvoice_bytes(doc, fmt: str) -> bytes:
    if fmt == "finvoice":
        from osuus.einvoice.finvoice import finvoice_xml

        return finvoice_xml(doc)
    if fmt == "peppol":
        from osuus.einvoice.peppol import peppol_xml

        return peppol_xml(doc)
    raise ProblemsError([Problem(f"unknown e-invoice format {fmt!r}; expected finvoice or peppol", key="--format")])


def _member_folder(out: Path, code: str, name: str) -> Path:
    return out / f"{code}-{slug(name)}"


def _invoice_name(doc, suffix: str, lang: str) -> str:
    return f"{_FILE_WORDS[lang][doc.kind]}-{doc.number}{suffix}"


def export_einvoices(session: Session, invoices: Iterable, fmt: str, out: Path, *, rf: bool | None = None,
                     validate: Callable[[bytes], list] | None = None) -> list[Written]:
    """Finvoice or Peppol files of `invoices`, in a folder per municipality."""
    docs = einvoice_documents(session, invoices, rf)  # every missing field of every party first, then write
    return [write_einvoice(doc, fmt, out, validate) for doc in docs]


def einvoice_documents(session: Session, invoices: Iterable, rf: bool | None = None) -> list:
    """The documents of `invoices` with what e-invoices need; all missing fields at once."""
    from osuus.documents.build import ADDRESS, EINVOICE, invoice_document

    return gather(lambda invoice: invoice_document(session, invoice, needs=ADDRESS + EINVOICE, rf=rf), invoices)


def write_einvoice(doc, fmt: str, out: Path, validate: Callable[[bytes], list] | None = None) -> Written:
    data = einvoice_bytes(doc, fmt)
    findings = _rule_ids(validate(data)) if validate else ""
    path = _member_folder(out, doc.buyer.code, doc.buyer.name) / _invoice_name(doc, f".{fmt}.xml", "fi")
    return Written(doc.kind, doc.number, doc.buyer.code, doc.buyer.name, fmt, "", path,
                   write_atomic(path, data), str(doc.total), findings)


def write_invoice_pdf(doc, out: Path, lang: str) -> Written:
    from osuus.render.pdf.letters import invoice_pdf

    path = _member_folder(out, doc.buyer.code, doc.buyer.name) / _invoice_name(doc, ".pdf", lang)
    return Written(doc.kind, doc.number, doc.buyer.code, doc.buyer.name, "pdf", lang, path,
                   write_atomic(path, invoice_pdf(doc, lang)), str(doc.total))


def _rule_ids(findings: list) -> str:
    return " ".join(sorted({f.rule_id for f in findings if f.severity != "warning"}))


def export_invoice_pdfs(session: Session, invoices: Iterable, out: Path, lang: str = "fi", *,
                        rf: bool | None = None) -> list[Written]:
    from osuus.documents.build import invoice_document

    docs = gather(lambda invoice: invoice_document(session, invoice, rf=rf), invoices)
    return [write_invoice_pdf(doc, out, lang) for doc in docs]


def export_estimates(session: Session, year: int, out: Path, lang: str = "fi", *, date: dt.date | None = None,
                     municipality: str | None = None) -> list[Written]:
    from osuus.documents.build import estimate_letters
    from osuus.render.pdf.letters import estimate_pdf

    written = []
    for letter in estimate_letters(session, year, date):
        if municipality and letter.buyer.code != municipality:
            continue
        path = _member_folder(out, letter.buyer.code, letter.buyer.name) / f"{_FILE_WORDS[lang]['estimate']}-{year}.pdf"
        written.append(Written("estimate", str(year), letter.buyer.code, letter.buyer.name, "pdf", lang, path,
                               write_atomic(path, estimate_pdf(letter, lang)), str(letter.amount)))
    return written


def export_reports(session: Session, year: int, out: Path, lang: str = "fi", *, date: dt.date,
                   municipality: str | None = None) -> list[Written]:
    from osuus.documents.build import annual_report_document
    from osuus.render.pdf.reports import annual_report_pdf
    from osuus.store.ledger import current_agreement

    agreement = current_agreement(session, year)
    if agreement is None:
        raise ProblemsError([Problem(f"no agreement for {year} is stored")])
    members = [m for m in agreement.municipalities
               if m.name != agreement.host and (not municipality or m.code == municipality)]
    docs = gather(lambda member: annual_report_document(session, year, member.code, date), members)
    written = []
    for doc in docs:
        path = _member_folder(out, doc.buyer.code, doc.buyer.name) / f"{_FILE_WORDS[lang]['report']}-{year}.pdf"
        written.append(Written("report", str(year), doc.buyer.code, doc.buyer.name, "pdf", lang, path,
                               write_atomic(path, annual_report_pdf(doc, lang)),
                               str(doc.actual if doc.actual is not None else doc.billed)))
    return written


def export_tables(agreement, out: Path, lang: str = "fi") -> Written:
    """The appendix tables (Taulukko 1 and 2 ...) of an agreement, A4 landscape."""
    from osuus.engine import allocate
    from osuus.render.pdf.reports import appendix_pdf

    allocation = allocate(agreement)
    if allocation.problems:
        raise ProblemsError(list(allocation.problems))
    path = out / f"{_FILE_WORDS[lang]['tables']}-{agreement.year}.pdf"
    return Written("tables", str(agreement.year), "", agreement.title, "pdf", lang, path,
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
    path = out / f"{_FILE_WORDS[lang]['index']}.csv"
    write_atomic(path, buffer.getvalue().encode("utf-8"))
    return path


@dataclass(frozen=True, slots=True)
class YearExport:
    written: tuple[Written, ...]
    index: Path
    invalid: tuple[Written, ...]  # e-invoices with findings (empty when all pass or not validated)


@dataclass(frozen=True, slots=True)
class YearPlan:
    """What `export_year` will write; `steps` is what its progress counts."""

    year: int
    agreement: object
    invoices: tuple
    has_estimate: bool

    @property
    def steps(self) -> int:
        members = len(self.agreement.members)
        return len(self.invoices) + (members if self.has_estimate else 0) + members + 1


def plan_year(session: Session, year: int) -> YearPlan:
    """The year's agreement and invoices, and whether an estimate for it was made."""
    from osuus.store.ledger import current_agreement
    from osuus.store.tables import Estimate, Invoice

    agreement = current_agreement(session, year)
    if agreement is None:
        raise ProblemsError([Problem(f"no agreement for {year} is stored")])
    invoices = tuple(session.scalars(select(Invoice).where(Invoice.year == year).order_by(Invoice.sequence)))
    has_estimate = session.scalar(select(Estimate.id).where(Estimate.year == year).limit(1)) is not None
    return YearPlan(year, agreement, invoices, has_estimate)


def export_year(session: Session, plan: YearPlan, out: Path, *, lang: str = "fi", date: dt.date,
                validate: Callable[[bytes], list] | None = None, rf: bool | None = None,
                advance: Callable[[int], None] = lambda n: None) -> YearExport:
    """Every document about the plan's year, for every member: its invoices and credit notes
    (PDF, Finvoice, Peppol), the estimate letter, the annual report; and the appendix tables.

    `advance(n)` is called as work is done (n documents), for a progress bar.
    The index is written last: a folder with an index is a complete export."""
    written: list[Written] = []
    for doc in einvoice_documents(session, plan.invoices, rf):  # all missing fields before any file
        written.append(write_invoice_pdf(doc, out, lang))
        written += [write_einvoice(doc, fmt, out, validate) for fmt in EINVOICE_FORMATS]
        advance(1)
    if plan.has_estimate:
        letters = export_estimates(session, plan.year, out, lang)  # dated the day the estimate was made
        written += letters
        advance(len(letters))
    reports = export_reports(session, plan.year, out, lang, date=date)
    written += reports
    advance(len(reports))
    written.append(export_tables(plan.agreement, out, lang))
    advance(1)
    index = write_index(written, out, lang)
    return YearExport(tuple(written), index, tuple(w for w in written if w.findings))
