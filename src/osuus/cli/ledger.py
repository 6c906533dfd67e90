"""The ledger commands: database, agreements, imports and the yearly cycle.

Every command that writes is one use case: one transaction, all of it or
nothing. A user's mistake (a bad file, an unknown invoice, a database that is not
migrated) prints every problem and exits with status 2; nothing is written.
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from osuus.cli.edge import DB_OPTION, app, lang, ledger, parse_date, parse_year, refuse, t, width

class Fmt(str, enum.Enum):
    text = "text"
    json = "json"


db_app = typer.Typer(help=t("cli.help.db"), no_args_is_help=True)
agreement_app = typer.Typer(help=t("cli.help.agreement"), no_args_is_help=True)
import_app = typer.Typer(help=t("cli.help.import"), no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(agreement_app, name="agreement")
app.add_typer(import_app, name="import")


def _text():
    from osuus.render.ledger_text import LedgerText

    return LedgerText(lang(), width())


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _agreement(opened, year: int | None = None):
    """The agreement of `year` (or the newest) for names and labels."""
    from osuus.services.agreements import Agreements

    with opened.read() as session:
        agreements = Agreements(session)
        return (agreements.of_year(year) if year is not None else None) or agreements.latest()


def _name_of(opened):
    """Each municipality's name in the reader's language, from the newest agreement that has it."""
    from osuus.services.agreements import Agreements

    with opened.read() as session:
        agreements = Agreements(session)
        by_year = [agreements.of_year(y) for y in reversed(agreements.years())]
    return lambda code: next((a.name_of(code, lang()) for a in by_year if a.by_code(code)), code)


# --------------------------------------------------------------------------
# db, agreement
# --------------------------------------------------------------------------

@db_app.command("upgrade", help=t("cli.help.db_upgrade"))
def db_upgrade(db: Optional[str] = DB_OPTION) -> None:
    from osuus.store.db import display_name, resolve_url, upgrade

    url = resolve_url(db)
    before, after = upgrade(url)
    print(_text().upgraded(display_name(url), before, after))


@agreement_app.command("add", help=t("cli.help.agreement_add"))
def agreement_add(file: Path = typer.Argument(..., help=t("cli.arg.agreement")), db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.agreements import add_agreement

    with ledger(db) as opened:
        print(_text().agreement_added(add_agreement(opened, file)))


@agreement_app.command("list", help=t("cli.help.agreement_list"))
def agreement_list(db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.agreements import list_agreements

    with ledger(db) as opened:
        print(_text().agreements(list_agreements(opened)), end="")


# --------------------------------------------------------------------------
# the cycle
# --------------------------------------------------------------------------

@app.command(help=t("cli.help.estimate"))
def estimate(year: int = typer.Argument(..., help=t("cli.arg.estimate_year"), parser=parse_year),
             db: Optional[str] = DB_OPTION,
             format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    from osuus.services.estimates import make_estimate

    with ledger(db) as opened:
        result = make_estimate(opened, year)
        agreement = _agreement(opened, year) or _agreement(opened)
    if format is Fmt.json:
        from osuus.render.ledger_json import estimate_json

        _print_json(estimate_json(result, agreement, lang()))
        return
    print(_text().estimate(result, agreement), end="")


@app.command(help=t("cli.help.invoice"))
def invoice(period: str = typer.Argument(..., help=t("cli.arg.period")),
            date: Optional[str] = typer.Option(None, "--date", help=t("cli.option.invoice_date")),
            allow_gap: bool = typer.Option(False, "--allow-gap", help=t("cli.option.allow_gap")),
            db: Optional[str] = DB_OPTION,
            format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    """A draft of the period's run, for another user to approve (`osuus approve`). A period
    invoiced already prints its run, as issued, and makes nothing."""
    from osuus.calendar import Period
    from osuus.services.approval import prepare_run
    from osuus.services.invoicing import AlreadyInvoiced

    try:
        parsed = Period.parse(period)
    except ValueError:
        parsed = None
    if parsed is None or parsed.kind.value == "year":
        refuse(f"expected a month such as 2021-03 or a quarter such as 2021-Q1, found {period!r}", "PERIOD")
    issue_date = parse_date(date)
    with ledger(db) as opened:
        try:
            draft, issued = prepare_run(opened, parsed, issue_date, allow_gap=allow_gap), None
        except AlreadyInvoiced as exc:
            draft, issued = None, exc.run
        agreement = _agreement(opened, parsed.year) or _agreement(opened)
        name_of = _name_of(opened)
    if format is Fmt.json:
        from osuus.render.ledger_json import draft_json, run_json

        _print_json(run_json(issued, lambda i: agreement, lang()) if issued is not None
                    else draft_json(draft, lambda i: agreement, lang()))
        return
    text = _text()
    print(text.run(issued, name_of) if issued is not None else text.draft(draft, name_of), end="")


@app.command("invoices", help=t("cli.help.invoices"))
def invoices_list(year: Optional[int] = typer.Option(None, "--year", help=t("cli.option.year"), parser=parse_year),
                  municipality: Optional[str] = typer.Option(None, "--municipality", "-m",
                                                             help=t("cli.option.municipality")),
                  db: Optional[str] = DB_OPTION,
                  format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    from osuus.services.invoicing import list_invoices, municipality_code

    with ledger(db) as opened:
        code = municipality_code(opened, municipality, year) if municipality else None
        found = list_invoices(opened, year=year, municipality=code, explanations=False)
        agreements = {y: _agreement(opened, y) for y in {i.agreement_year for i in found}}
        name_of = _name_of(opened)
    if format is Fmt.json:
        from osuus.render.ledger_json import invoice_json

        _print_json([invoice_json(i, agreements.get(i.agreement_year), lang()) for i in found])
        return
    print(_text().invoices(t("cli.invoice.title"), found, name_of), end="")


@app.command(help=t("cli.help.credit"))
def credit(number: str = typer.Argument(..., help=t("cli.arg.credit_number")),
           reason: str = typer.Option(..., "--reason", help=t("cli.option.reason")),
           date: Optional[str] = typer.Option(None, "--date", help=t("cli.option.credit_date")),
           db: Optional[str] = DB_OPTION,
           format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    """A draft of the credit note, for another user to approve (`osuus approve`)."""
    from osuus.services.approval import prepare_credit

    issue_date = parse_date(date)
    with ledger(db) as opened:
        draft = prepare_credit(opened, number, reason, issue_date)
        agreements = _agreements_of(opened, [draft])
        name_of = _name_of(opened)
    _print_draft(draft, agreements, name_of, format)


# --------------------------------------------------------------------------
# four eyes: drafts, approval, rejection
# --------------------------------------------------------------------------

def _agreements_of(opened, drafts) -> dict:
    return {y: _agreement(opened, y) for y in {i.agreement_year for d in drafts for i in d.invoices}}


def _print_draft(draft, agreements: dict, name_of, format: "Fmt", *, recomputed: bool = False) -> None:
    if format is Fmt.json:
        from osuus.render.ledger_json import draft_json

        _print_json(draft_json(draft, lambda i: agreements.get(i.agreement_year), lang()))
        return
    text = _text()
    print(text.recomputed(draft, name_of) if recomputed else text.draft(draft, name_of), end="")


@app.command(help=t("cli.help.approve"))
def approve(draft: str = typer.Argument(..., help=t("cli.arg.draft")),
            db: Optional[str] = DB_OPTION,
            format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    from osuus.services import approval

    with ledger(db) as opened:
        result = approval.approve(opened, approval.draft_id_of(opened, draft))
        issued = result.run.invoices if result.run is not None else (result.credit_note,)
        agreements = {y: _agreement(opened, y) for y in {i.agreement_year for i in issued}}
        name_of = _name_of(opened)
    if format is Fmt.json:
        from osuus.render.ledger_json import approved_json

        _print_json(approved_json(result, lambda i: agreements.get(i.agreement_year), lang()))
        return
    print(_text().approved(result, name_of), end="")


@app.command(help=t("cli.help.reject"))
def reject(draft: str = typer.Argument(..., help=t("cli.arg.draft")),
           reason: str = typer.Option(..., "--reason", help=t("cli.option.reject_reason")),
           db: Optional[str] = DB_OPTION) -> None:
    from osuus.services import approval

    with ledger(db) as opened:
        print(_text().rejected(approval.reject(opened, approval.draft_id_of(opened, draft), reason)))


@app.command("drafts", help=t("cli.help.drafts"))
def drafts_cmd(draft: Optional[str] = typer.Argument(None, help=t("cli.arg.draft_optional")),
               recompute: bool = typer.Option(False, "--recompute", help=t("cli.option.recompute")),
               all_: bool = typer.Option(False, "--all", help=t("cli.option.all_drafts")),
               db: Optional[str] = DB_OPTION,
               format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    from osuus.services import approval

    if recompute and draft is None:
        refuse("--recompute needs the draft to compute again: osuus drafts DRAFT --recompute", "--recompute")
    with ledger(db) as opened:
        if draft is None:
            found = approval.list_drafts(opened, approved=all_)
            agreements = _agreements_of(opened, found)
        else:
            draft_id = approval.draft_id_of(opened, draft)
            one = approval.recompute_draft(opened, draft_id) if recompute else approval.show_draft(opened, draft_id)
            agreements = _agreements_of(opened, [one])
            name_of = _name_of(opened)
    if draft is not None:
        _print_draft(one, agreements, name_of, format, recomputed=recompute)
        return
    if format is Fmt.json:
        from osuus.render.ledger_json import draft_json

        _print_json([draft_json(d, lambda i: agreements.get(i.agreement_year), lang()) for d in found])
        return
    print(_text().drafts(found), end="")


@app.command("close-year", help=t("cli.help.close_year"))
def close_year_cmd(year: int = typer.Argument(..., help=t("cli.arg.year"), parser=parse_year),
                   db: Optional[str] = DB_OPTION,
                   format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    from osuus.services.closing import close_year

    with ledger(db) as opened:
        result = close_year(opened, year)
        agreement = _agreement(opened, year)
    if format is Fmt.json:
        from osuus.render.ledger_json import close_json

        _print_json(close_json(result, agreement, lang()))
        return
    print(_text().closed(result, agreement), end="")


@app.command(help=t("cli.help.report"))
def report(year: int = typer.Argument(..., help=t("cli.arg.year"), parser=parse_year),
           municipality: Optional[str] = typer.Option(None, "--municipality", "-m",
                                                      help=t("cli.option.municipality_all")),
           db: Optional[str] = DB_OPTION,
           format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    from osuus.services.invoicing import municipality_code
    from osuus.services.reports import annual_report

    with ledger(db) as opened:
        agreement = _agreement(opened, year)
        if agreement is None:
            refuse(f"no agreement for {year} is stored")
        codes = [municipality_code(opened, municipality, year)] if municipality else list(agreement.members)
        reports = [annual_report(opened, year, code) for code in codes]
    if format is Fmt.json:
        from osuus.render.ledger_json import report_json

        _print_json([report_json(r, agreement, lang()) for r in reports])
        return
    text = _text()
    for r in reports:
        print(text.report(r, agreement), end="")


# --------------------------------------------------------------------------
# imports
# --------------------------------------------------------------------------

@import_app.command("events", help=t("cli.help.import_events"))
def import_events_cmd(file: Path = typer.Argument(..., help=t("cli.arg.import_file")),
                      year: Optional[int] = typer.Option(None, "--year", help=t("cli.option.import_year"),
                                                         parser=parse_year),
                      db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.imports import import_events

    with ledger(db) as opened:
        if sys.stderr.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn

            with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
                task = bar.add_task(t("cli.import.progress_start"))
                result = import_events(opened, file, year, progress=lambda n: bar.update(
                    task, description=t("cli.import.progress", rows=n)))
        else:
            result = import_events(opened, file, year)
    print(_text().imported(result))


@import_app.command("counts", help=t("cli.help.import_counts"))
def import_counts_cmd(file: Path = typer.Argument(..., help=t("cli.arg.import_file")),
                      db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.imports import import_counts

    with ledger(db) as opened:
        print(_text().imported(import_counts(opened, file)))


@import_app.command("costs", help=t("cli.help.import_costs"))
def import_costs_cmd(file: Path = typer.Argument(..., help=t("cli.arg.import_file")),
                     db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.imports import import_costs

    with ledger(db) as opened:
        print(_text().imported(import_costs(opened, file)))
