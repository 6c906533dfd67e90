"""The document commands: `export …` and `validate`.

Documents are read from the ledger and written to a folder; nothing in the
ledger changes. A missing field of a party (an address, an e-invoice address,
the host's account) is reported for every party at once, with exit status 2,
before any file is written. A command's files are written all or none, never
through a link, and an existing file is replaced only with --force (cli/files.py).
"""

from __future__ import annotations

import contextlib
import enum
import sys
from pathlib import Path
from typing import List, NoReturn, Optional

import typer

from osuus.cli.edge import (
    DB_OPTION,
    EXIT_PROBLEMS,
    app,
    fail,
    lang,
    ledger,
    n,
    parse_date,
    parse_year,
    problems_exit,
    refuse,
    stderr,
    t,
)

export_app = typer.Typer(help=t("cli.help.export"), no_args_is_help=True)
app.add_typer(export_app, name="export")


class EinvoiceFormat(str, enum.Enum):
    finvoice = "finvoice"
    peppol = "peppol"


class Lang(str, enum.Enum):
    fi = "fi"
    sv = "sv"
    en = "en"


def _folder(value: Path) -> Path:
    """The output folder may be new (it is made), but not a file nor inside one: refused
    before the ledger is read."""
    from osuus.cli.files import folder_problems

    problems = folder_problems(value)
    if problems:
        fail(problems, "output_files")
    return value


@contextlib.contextmanager
def _output(folder: Path, force: bool):
    """The command's files (cli/files.py): all of them in place when the block ends, or none
    and exit 2 with the path and the reason."""
    from osuus.cli.files import OutputFiles, OutputProblems
    from osuus.problems import ProblemsError

    try:
        with OutputFiles(folder, force=force) as out:
            yield out
    except OutputProblems as exc:
        fail(exc.problems, "output_files")
    except ProblemsError as exc:  # a document that cannot be made: nothing is left either
        fail(exc.problems)


OUTPUT = typer.Option(..., "--output", "-o", help=t("cli.option.output_folder"), callback=_folder)
FORCE = typer.Option(False, "--force", help=t("cli.option.force"))
LANG = typer.Option(None, "--lang", help=t("cli.option.document_language"))
RF = typer.Option(None, "--rf/--national", help=t("cli.option.rf"))


def _lang(value: Optional[Lang]) -> str:
    return value.value if value is not None else lang()


def _report(written) -> None:
    for w in written:
        print(w.path)
    print(n("cli.export.written", len(written)))


FORMAT_NAMES = {"finvoice": "Finvoice", "peppol": "Peppol"}
#: The mark a written e-invoice that could not be checked gets in the export's index
#: (the `findings` column), naming the layers that did not run.
NOT_CHECKED = "NOT-CHECKED"


def _unavailable_text(exc) -> str:
    """Why a format's e-invoices cannot be checked here, and what to do, in the reader's language."""
    format = getattr(exc, "format", None)
    key = f"cli.validate.unavailable_{format}" if format in FORMAT_NAMES else "cli.validate.unavailable"
    return t(key, reason=str(exc))


def _unavailable(exc: Exception) -> NoReturn:
    """The validators cannot run here: say which format and what to do, exit 2."""
    stderr(_unavailable_text(exc))
    raise typer.Exit(EXIT_PROBLEMS)


class _Checker:
    """Validates the e-invoices an export writes, each with the rules of its format.

    A format whose rules are missing here (`unavailable`) is not checked: its
    documents get one finding, ``NOT-CHECKED:<layers>``, so that the index never
    shows them as passing; `not_checked` counts them per format."""

    def __init__(self, v, unavailable: dict):
        self.v = v
        self.unavailable = unavailable
        self.not_checked: dict[str, int] = {}

    def marker(self, format: str) -> str:
        return f"{NOT_CHECKED}:" + "+".join(self.v.LAYERS[format])

    def __call__(self, data: bytes) -> list:
        v = self.v
        format = v.detect_format(data)
        if format in self.unavailable:
            self.not_checked[format] = self.not_checked.get(format, 0) + 1
            return [v.finding(self.marker(format), "error", "/", str(self.unavailable[format]))]
        if format == "peppol":  # osuus writes Peppol BIS: its rules always apply
            return v.validate_peppol(data, peppol=True)
        return v.validate_bytes(data)


def _validator(required: Optional[bool], formats: tuple[str, ...] = ("peppol", "finvoice")):
    """The validating function for the e-invoices of `formats` (None with --no-validate).

    Each format is prepared on its own (the Finvoice schema fetched on first use): one that
    cannot be checked here does not stop the other. --validate (True) insists: a format that
    cannot be checked is refused with exit 2, naming it and what to do, before anything is
    written. By default it is said, the files are written, and they are marked not checked."""
    if required is False:
        return None
    from osuus.einvoice import validate as v

    status = v.availability(formats, fetch=True)
    unavailable = {f: exc for f, exc in status.items() if exc is not None}
    for exc in unavailable.values():
        stderr(_unavailable_text(exc))
    if unavailable and required:
        raise typer.Exit(EXIT_PROBLEMS)
    return _Checker(v, unavailable)  # even when no format can be checked: it marks them


def _not_checked_marker(findings: str) -> bool:
    return bool(findings) and all(code.startswith(NOT_CHECKED + ":") for code in findings.split())


def _exit_on_findings(written, check=None) -> None:
    """Say which e-invoices break rules (exit 1) and which were written without being checked."""
    if isinstance(check, _Checker):
        for format, count in sorted(check.not_checked.items()):
            stderr(n("cli.export.not_checked", count, format=FORMAT_NAMES[format],
                     layers=", ".join(check.v.LAYERS[format]), marker=check.marker(format)))
    bad = [w for w in written if w.findings and not _not_checked_marker(w.findings)]
    if bad:
        for w in bad:
            stderr(t("cli.validate.findings", path=w.path, findings=w.findings))
        raise typer.Exit(1)


@export_app.command("einvoice", help=t("cli.help.export_einvoice"))
def export_einvoice(
    number: Optional[str] = typer.Argument(None, help=t("cli.arg.invoice_number")),
    period: Optional[str] = typer.Option(None, "--period", help=t("cli.option.period")),
    year: Optional[int] = typer.Option(None, "--year", help=t("cli.option.year_documents"), parser=parse_year),
    format: EinvoiceFormat = typer.Option(..., "--format", "-f", help=t("cli.option.einvoice_format")),
    output: Path = OUTPUT,
    force: bool = FORCE,
    rf: Optional[bool] = RF,
    validate: Optional[bool] = typer.Option(None, "--validate/--no-validate", help=t("cli.option.validate")),
    db: Optional[str] = DB_OPTION,
) -> None:
    from osuus.cli.files import write_einvoice_files
    from osuus.services.documents import invoice_documents, select_invoices

    check = _validator(validate, (format.value,))
    with ledger(db, readonly=True) as opened, opened.read() as session:
        docs = invoice_documents(session, select_invoices(session, number=number, period=period, year=year),
                                 einvoice=True, rf=rf)
    with _output(output, force) as out:
        written = [w for doc in docs for w in write_einvoice_files(doc, format.value, out, check)]
    _report(written)
    _exit_on_findings(written, check)


@export_app.command("pdf", help=t("cli.help.export_pdf"))
def export_pdf(
    number: Optional[str] = typer.Argument(None, help=t("cli.arg.invoice_number")),
    period: Optional[str] = typer.Option(None, "--period", help=t("cli.option.period")),
    year: Optional[int] = typer.Option(None, "--year", help=t("cli.option.year_documents"), parser=parse_year),
    output: Path = OUTPUT,
    force: bool = FORCE,
    lang: Optional[Lang] = LANG,
    rf: Optional[bool] = RF,
    db: Optional[str] = DB_OPTION,
) -> None:
    from osuus.cli.files import write_invoice_pdf
    from osuus.services.documents import invoice_documents, select_invoices

    with ledger(db, readonly=True) as opened, opened.read() as session:
        docs = invoice_documents(session, select_invoices(session, number=number, period=period, year=year), rf=rf)
    with _output(output, force) as out:
        written = [write_invoice_pdf(doc, out, _lang(lang)) for doc in docs]
    _report(written)


@export_app.command("estimate", help=t("cli.help.export_estimate"))
def export_estimate(
    year: int = typer.Argument(..., help=t("cli.arg.estimate_year"), parser=parse_year),
    output: Path = OUTPUT,
    force: bool = FORCE,
    municipality: Optional[str] = typer.Option(None, "--municipality", "-m", help=t("cli.option.municipality_only")),
    date: Optional[str] = typer.Option(None, "--date", help=t("cli.option.letter_date")),
    lang: Optional[Lang] = LANG,
    db: Optional[str] = DB_OPTION,
) -> None:
    from osuus.cli.files import write_estimates
    from osuus.services.documents import estimate_letters
    from osuus.services.invoicing import municipality_code

    with ledger(db, readonly=True) as opened:
        code = municipality_code(opened, municipality, year) if municipality else None
        with opened.read() as session:
            letters = estimate_letters(session, year, parse_date(date) if date else None, code)
    with _output(output, force) as out:
        written = write_estimates(letters, out, _lang(lang))
    _report(written)


@export_app.command("report", help=t("cli.help.export_report"))
def export_report(
    year: int = typer.Argument(..., help=t("cli.arg.year"), parser=parse_year),
    output: Path = OUTPUT,
    force: bool = FORCE,
    municipality: Optional[str] = typer.Option(None, "--municipality", "-m", help=t("cli.option.municipality_only")),
    date: Optional[str] = typer.Option(None, "--date", help=t("cli.option.report_date")),
    lang: Optional[Lang] = LANG,
    db: Optional[str] = DB_OPTION,
) -> None:
    from osuus.cli.files import write_reports
    from osuus.services.documents import annual_report_documents
    from osuus.services.invoicing import municipality_code

    with ledger(db, readonly=True) as opened:
        code = municipality_code(opened, municipality, year) if municipality else None
        with opened.read() as session:
            documents = annual_report_documents(session, year, parse_date(date), code)
    with _output(output, force) as out:
        written = write_reports(documents, out, _lang(lang))
    _report(written)


@export_app.command("tables", help=t("cli.help.export_tables"))
def export_tables_cmd(
    agreement: Path = typer.Argument(..., help=t("cli.arg.agreement")),
    output: Path = OUTPUT,
    force: bool = FORCE,
    lang: Optional[Lang] = LANG,
) -> None:
    from osuus.cli.files import write_tables
    from osuus.services.allocation import allocate_file

    with problems_exit("agreement"):
        allocation = allocate_file(agreement)
    with _output(output, force) as out:
        written = write_tables(allocation, out, _lang(lang))
    _report([written])


@export_app.command("year", help=t("cli.help.export_year"))
def export_year_cmd(
    year: int = typer.Argument(..., help=t("cli.arg.year"), parser=parse_year),
    output: Path = OUTPUT,
    force: bool = FORCE,
    lang: Optional[Lang] = LANG,
    date: Optional[str] = typer.Option(None, "--date", help=t("cli.option.year_date")),
    rf: Optional[bool] = RF,
    validate: Optional[bool] = typer.Option(None, "--validate/--no-validate", help=t("cli.option.validate")),
    db: Optional[str] = DB_OPTION,
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from osuus.cli.files import export_year
    from osuus.services.documents import plan_year

    check = _validator(validate)
    language = _lang(lang)
    with ledger(db, readonly=True) as opened:
        with opened.read() as session:
            plan = plan_year(session, year)
        with _output(output, force) as out, \
                Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                         TimeElapsedColumn(), transient=not sys.stderr.isatty(),
                         console=Console(stderr=True)) as progress:
            task = progress.add_task(t("cli.export.progress", year=year), total=plan.steps)
            result = export_year(opened, plan, out, lang=language, date=parse_date(date),
                                 validate=check, rf=rf, advance=lambda n: progress.advance(task, n))
    kinds: dict[str, int] = {}
    for w in result.written:
        kinds[w.format] = kinds.get(w.format, 0) + 1
    print(n("cli.export.year_written", len(result.written), folder=output,
            kinds=", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))))
    print(t("cli.export.index", path=result.index))
    if check is not None:
        checked = [w for w in result.written if w.format in FORMAT_NAMES and w.format not in check.unavailable]
        print(t("cli.export.validated", count=len(checked), findings=sum(1 for w in checked if w.findings)))
    _exit_on_findings(result.written, check)


@app.command("validate", help=t("cli.help.validate"))
def validate_cmd(
    files: List[Path] = typer.Argument(None, help=t("cli.arg.einvoice_files")),
    install_finvoice_xsd: bool = typer.Option(False, "--install-finvoice-xsd", help=t("cli.option.install_xsd")),
    version: bool = typer.Option(False, "--version", help=t("cli.option.version")),
) -> None:
    """Each file is checked with the rules of its own format: a Peppol file needs no Finvoice schema, and
    a Finvoice file fetches the schema on first use. A file that cannot be checked here is reported
    (exit 2) and the others are still checked."""
    from osuus.einvoice import validate as v
    from osuus.problems import Problem

    if version:  # the rule sets' releases and their sources' commits
        print("\n".join(v.version_lines()))
        if not files and not install_finvoice_xsd:
            return
    if install_finvoice_xsd:
        try:
            print(v.install_finvoice_xsd(None))
        except v.ValidatorUnavailable as exc:
            _unavailable(exc)
        if not files:
            return
    if not files:
        refuse("name the files to check", "FILES")
    missing = [Problem("file not found" if not f.exists() else "expected a file, found a folder", str(f))
               for f in files if not f.is_file()]
    if missing:
        fail(missing, "command")
    status = 0
    for f in files:
        try:
            findings = v.validate_file(f)
        except v.ValidatorUnavailable as exc:  # this file's format cannot be checked here: said, exit 2
            stderr(f"{f}: " + _unavailable_text(exc))
            status = EXIT_PROBLEMS
            continue
        for found in findings:
            print(f"{f}: {v.format_finding(found)}")
        data = f.read_bytes()
        applied = v.layers(data)
        if "UBL-XSD" in applied and "PEPPOL" not in applied:
            print(t("cli.validate.en16931", file=f, customization=v.customization_id(data)))
        if v.has_errors(findings):
            status = max(status, 1)
        elif not findings:
            print(t("cli.validate.valid", file=f))
    if status:
        raise typer.Exit(status)
