"""The document commands of `osuus`: `export ...` and `validate`.

Documents are read from the ledger and written to a folder; nothing in the
ledger changes. A missing field of a party (an address, an e-invoice address,
the host's account) is reported for every party at once, with exit status 2,
before any file is written.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import List, NoReturn, Optional

import typer

from osuus.cli import EXIT_PROBLEMS, _fail, _stderr, app
from osuus.cli_ledger import DB_OPTION, _municipality_code, _parse_date, ledger

export_app = typer.Typer(help="Asiakirjat: verkkolaskut (Finvoice, Peppol) ja PDF:t.", no_args_is_help=True)
app.add_typer(export_app, name="export")


class EinvoiceFormat(str, enum.Enum):
    finvoice = "finvoice"
    peppol = "peppol"


class Lang(str, enum.Enum):
    fi = "fi"
    sv = "sv"
    en = "en"


def _folder(value: Path) -> Path:
    """The output folder may be new (it is made), but not a file nor inside one."""
    existing = next((p for p in (value, *value.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise typer.BadParameter(f"{existing} is a file: expected a folder (made if missing)")
    return value


OUTPUT = typer.Option(..., "--output", "-o", help="Kansio, johon asiakirjat kirjoitetaan (luodaan tarvittaessa)",
                      callback=_folder)
LANG = typer.Option(Lang.fi, "--lang", help="Asiakirjojen kieli: fi, sv tai en")
RF = typer.Option(None, "--rf/--national", help="Maksuviite RF-muodossa (ISO 11649) tai kansallisena viitteenä "
                                                  "(oletus: sopimuksen billing.reference_form)")


def _report(written) -> None:
    for w in written:
        print(w.path)
    print(f"Kirjoitettu {len(written)} tiedosto{'' if len(written) == 1 else 'a'}.")


def _unavailable(exc: Exception) -> NoReturn:
    """The validators cannot run here: say what to install, exit 2."""
    _stderr(f"Tarkistus ei ole käytettävissä: {exc}\n"
            "Asenna tarkistimet: pip install 'osuus[validate]' ja Finvoice-skeema: "
            "osuus validate --install-finvoice-xsd")
    raise typer.Exit(EXIT_PROBLEMS)


def _validator(required: Optional[bool]):
    """The validating function, or None. Asked for (True) but unavailable: exit 2 with the install hint."""
    if required is False:
        return None
    from osuus.einvoice import validate as v

    try:
        v.warm_up()
    except v.ValidatorUnavailable as exc:  # the optional extra or the Finvoice XSD is missing
        if required:
            _unavailable(exc)
        _stderr(f"Huomio: verkkolaskuja ei tarkistettu ({exc}).")
        return None
    return v.validate_bytes


@export_app.command("einvoice")
def export_einvoice(
    number: Optional[str] = typer.Argument(None, help="Laskun tai hyvityslaskun numero, esim. 2021-00016"),
    period: Optional[str] = typer.Option(None, "--period", help="Laskutuskauden laskut, esim. 2021-03"),
    year: Optional[int] = typer.Option(None, "--year", help="Vuoden kaikki laskut ja hyvityslaskut"),
    format: EinvoiceFormat = typer.Option(..., "--format", "-f", help="finvoice tai peppol"),
    output: Path = OUTPUT,
    rf: Optional[bool] = RF,
    validate: Optional[bool] = typer.Option(None, "--validate/--no-validate",
                                            help="Tarkista viralliset säännöt (oletus: jos asennettu)"),
    db: Optional[str] = DB_OPTION,
) -> None:
    """Verkkolaskut: Finvoice 3.0 tai Peppol BIS Billing 3.0, kunnittain kansioihin."""
    from osuus.documents.export import export_einvoices, select_invoices

    check = _validator(validate)
    with ledger(db, readonly=True) as session:
        invoices = select_invoices(session, number=number, period=period, year=year)
        written = export_einvoices(session, invoices, format.value, output, rf=rf, validate=check)
    _report(written)
    _exit_on_findings(written)


def _exit_on_findings(written) -> None:
    bad = [w for w in written if w.findings]
    if bad:
        for w in bad:
            _stderr(f"{w.path}: sääntörikkeet {w.findings} (osuus validate {w.path} näyttää ne)")
        raise typer.Exit(1)


@export_app.command("pdf")
def export_pdf(
    number: Optional[str] = typer.Argument(None, help="Laskun tai hyvityslaskun numero"),
    period: Optional[str] = typer.Option(None, "--period", help="Laskutuskauden laskut, esim. 2021-03"),
    year: Optional[int] = typer.Option(None, "--year", help="Vuoden kaikki laskut ja hyvityslaskut"),
    output: Path = OUTPUT,
    lang: Lang = LANG,
    rf: Optional[bool] = RF,
    db: Optional[str] = DB_OPTION,
) -> None:
    """Laskut ja hyvityslaskut PDF:nä (pankkiviivakoodi mukana)."""
    from osuus.documents.export import export_invoice_pdfs, select_invoices

    with ledger(db, readonly=True) as session:
        invoices = select_invoices(session, number=number, period=period, year=year)
        written = export_invoice_pdfs(session, invoices, output, lang.value, rf=rf)
    _report(written)


@export_app.command("estimate")
def export_estimate(
    year: int = typer.Argument(..., help="Vuosi, jota arvio koskee"),
    output: Path = OUTPUT,
    municipality: Optional[str] = typer.Option(None, "--municipality", "-m", help="Vain tämä kunta"),
    date: Optional[str] = typer.Option(None, "--date", help="Kirjeen päiväys (oletus: arvion laatimispäivä)"),
    lang: Lang = LANG,
    db: Optional[str] = DB_OPTION,
) -> None:
    """Elokuun arviokirjeet kunnille PDF:nä."""
    from osuus.documents.export import export_estimates

    with ledger(db, readonly=True) as session:
        code = _municipality_code(session, municipality) if municipality else None
        written = export_estimates(session, year, output, lang.value, date=_parse_date(date) if date else None,
                                   municipality=code)
    _report(written)


@export_app.command("report")
def export_report(
    year: int = typer.Argument(...),
    output: Path = OUTPUT,
    municipality: Optional[str] = typer.Option(None, "--municipality", "-m", help="Vain tämä kunta"),
    date: Optional[str] = typer.Option(None, "--date", help="Raportin päiväys (oletus tänään)"),
    lang: Lang = LANG,
    db: Optional[str] = DB_OPTION,
) -> None:
    """Kuntien vuosiraportit PDF:nä (kaavio palveluittain ja edellinen vuosi rinnalla)."""
    from osuus.documents.export import export_reports

    with ledger(db, readonly=True) as session:
        code = _municipality_code(session, municipality) if municipality else None
        written = export_reports(session, year, output, lang.value, date=_parse_date(date), municipality=code)
    _report(written)


@export_app.command("tables")
def export_tables_cmd(
    agreement: Path = typer.Argument(..., help="Sopimustiedosto (TOML)"),
    output: Path = OUTPUT,
    lang: Lang = LANG,
) -> None:
    """Sopimusliitteen taulukot (Taulukko 1 ja 2) PDF:nä, A4 vaaka."""
    from osuus.cli import _load
    from osuus.documents.export import export_tables
    from osuus.problems import ProblemsError

    try:
        written = export_tables(_load(agreement), output, lang.value)
    except ProblemsError as exc:
        _fail(exc.problems, "Laskennassa")
    _report([written])


@export_app.command("year")
def export_year_cmd(
    year: int = typer.Argument(..., help="Vuosi"),
    output: Path = OUTPUT,
    lang: Lang = LANG,
    date: Optional[str] = typer.Option(None, "--date", help="Vuosiraporttien päiväys (oletus tänään); "
                                        "arviokirjeet päivätään arvion laatimispäivälle"),
    rf: Optional[bool] = RF,
    validate: Optional[bool] = typer.Option(None, "--validate/--no-validate",
                                            help="Tarkista verkkolaskut virallisilla säännöillä (oletus: jos asennettu)"),
    db: Optional[str] = DB_OPTION,
) -> None:
    """Vuoden kaikki asiakirjat kaikille kunnille: laskut (PDF, Finvoice, Peppol), arviokirjeet,
    vuosiraportit ja liitteen taulukot, sekä hakemisto (CSV) kirjoitetuista tiedostoista."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from osuus.documents.export import export_year, plan_year

    check = _validator(validate)
    with ledger(db, readonly=True) as session:
        plan = plan_year(session, year)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=not sys.stderr.isatty(),
                      console=_progress_console()) as progress:
            task = progress.add_task(f"Asiakirjat {year}", total=plan.steps)
            result = export_year(session, plan, output, lang=lang.value, date=_parse_date(date),
                                 validate=check, rf=rf, advance=lambda n: progress.advance(task, n))
    kinds: dict[str, int] = {}
    for w in result.written:
        kinds[w.format] = kinds.get(w.format, 0) + 1
    print(f"Kirjoitettu {len(result.written)} tiedostoa kansioon {output}: "
          + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    print(f"Hakemisto: {result.index}")
    if check is not None:
        print(f"Verkkolaskut tarkistettu: {kinds.get('finvoice', 0) + kinds.get('peppol', 0)}, "
              f"sääntörikkeitä {len(result.invalid)}.")
    _exit_on_findings(result.written)


def _progress_console():
    from rich.console import Console

    return Console(stderr=True)


@app.command("validate")
def validate_cmd(
    files: List[Path] = typer.Argument(None, help="Verkkolaskut (Finvoice 3.0 tai Peppol BIS 3 UBL)"),
    install_finvoice_xsd: bool = typer.Option(False, "--install-finvoice-xsd",
                                              help="Hae Finvoice 3.0 -skeema (PyPI) käyttäjän datakansioon"),
) -> None:
    """Tarkista verkkolaskut virallisilla säännöillä: Finvoice-XSD; UBL 2.1 -XSD, EN 16931 ja Peppol BIS 3.

    Vaatii lisäosan: pip install 'osuus[validate]'. Tulostaa jokaisen havainnon
    sääntötunnuksella, sijainnilla ja viestillä; virheitä löytyessä poistumiskoodi 1."""
    from osuus.einvoice import validate as v
    from osuus.problems import Problem

    try:
        if install_finvoice_xsd:
            print(v.install_finvoice_xsd(None))
            if not files:
                return
        if not files:
            _fail([Problem("name the files to check", key="FILES")], "Komennossa")
        missing = [Problem("file not found" if not f.exists() else "expected a file, found a folder", str(f))
                   for f in files if not f.is_file()]
        if missing:
            _fail(missing, "Komennossa")
        status = 0
        for f in files:
            findings = v.validate_file(f)
            for finding in findings:
                print(f"{f}: {v.format_finding(finding)}")
            if v.has_errors(findings):
                status = 1
            elif not findings:
                print(f"{f}: kunnossa (valid)")
    except v.ValidatorUnavailable as exc:
        _unavailable(exc)
    if status:
        raise typer.Exit(status)
