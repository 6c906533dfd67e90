"""The ledger commands of `osuus`: database, agreements, imports and the yearly cycle.

Every command that writes runs in one transaction: all of it or nothing. A
user's mistake (bad file, unknown invoice, un-migrated database) prints every
problem and exits with status 2; nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Iterator, Optional

import typer

from osuus.cli import EXIT_PROBLEMS, _fail, _stderr, app

DB_OPTION = typer.Option(None, "--db", envvar="OSUUS_DATABASE_URL",
                         help="Tietokanta: SQLite-tiedosto tai URL (oletus: käyttäjän datakansio)")


class Fmt(str, enum.Enum):
    text = "text"
    json = "json"


db_app = typer.Typer(help="Tietokanta: alustus ja päivitys.", no_args_is_help=True)
agreement_app = typer.Typer(help="Sopimukset tietokannassa.", no_args_is_help=True)
import_app = typer.Typer(help="Tuonnit: palvelutapahtumat, jakoperusteet, toteutuneet kustannukset.",
                         no_args_is_help=True)
audit_app = typer.Typer(help="Muutosloki ja sen eheys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(agreement_app, name="agreement")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")


def _actor() -> str:
    from osuus.store.audit import current_actor

    return current_actor()


@contextlib.contextmanager
def ledger(db: Optional[str], *, readonly: bool = False) -> Iterator:
    """A session in one transaction on a migrated database; problems → exit 2, rolled back.
    `readonly` commands (exports) do not take SQLite's write lock."""
    from osuus.problems import ProblemsError
    from osuus.store.db import NotMigrated, make_engine, require_migrated, resolve_url, session_factory

    url = resolve_url(db)
    engine = make_engine(url, readonly=readonly)
    try:
        require_migrated(engine)
    except NotMigrated as exc:
        _stderr(str(exc))
        raise typer.Exit(EXIT_PROBLEMS)
    try:
        with session_factory(engine)() as session:
            with session.begin():
                yield session
    except ProblemsError as exc:
        _fail(exc.problems, "Syötteessä")
    finally:
        engine.dispose()


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _money(value: Decimal) -> str:
    from osuus.money import fmt_number

    return fmt_number(value, 2)


def _table(title: str, header: list[str], rows: list[list[str]], *, total: list[str] | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right", no_wrap=(i == 0))
    for n, row in enumerate(rows):
        table.add_row(*row, end_section=(total is not None and n == len(rows) - 1))
    if total:
        table.add_row(*total, style="bold")
    Console(highlight=False, width=None if sys.stdout.isatty() else 200).print(table)


def _parse_date(value: Optional[str]) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        from osuus.problems import Problem

        _fail([Problem(f"expected a date such as 2021-02-01, found {value!r}", "--date")], "Komennossa")


# --------------------------------------------------------------------------
# db, agreement, audit
# --------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(db: Optional[str] = DB_OPTION) -> None:
    """Luo tai päivitä tietokannan rakenne (Alembic-migraatiot)."""
    from osuus.store.db import display_name, resolve_url, upgrade

    url = resolve_url(db)
    before, after = upgrade(url)
    if before == after:
        print(f"{display_name(url)}: ajan tasalla ({after}).")
    else:
        print(f"{display_name(url)}: päivitetty {before or 'tyhjä'} → {after}.")


@agreement_app.command("add")
def agreement_add(file: Path = typer.Argument(..., help="Sopimustiedosto (TOML)"), db: Optional[str] = DB_OPTION) -> None:
    """Tallenna sopimus. Sama sisältö uudelleen ei lisää mitään; muutettu sisältö on uusi versio."""
    from osuus.agreement import load_agreement
    from osuus.store.ledger import add_agreement

    _agreement, problems = load_agreement(file)
    if problems:
        _fail(problems, "Sopimustiedostossa")
    with ledger(db) as session:
        result = add_agreement(session, file, _actor())
        v = result.version
        if result.created:
            print(f"Tallennettu: {v.agreement_id}, vuosi {v.year}, versio {v.revision} (sha256 {v.content_hash[:12]}…).")
        else:
            print(f"Ei muutoksia: sama sisältö on jo tallennettu ({v.agreement_id}, vuosi {v.year}, versio {v.revision}).")


@agreement_app.command("list")
def agreement_list(db: Optional[str] = DB_OPTION) -> None:
    """Näytä tallennetut sopimukset ja niiden versiot."""
    from sqlalchemy import select

    from osuus.store.tables import AgreementVersion

    with ledger(db) as session:
        rows = [[str(v.year), str(v.revision), v.agreement_id, v.file_name, v.content_hash[:12],
                 v.added_at.strftime("%Y-%m-%d %H:%M"), v.added_by]
                for v in session.scalars(select(AgreementVersion).order_by(AgreementVersion.year,
                                                                           AgreementVersion.revision))]
    _table("Sopimukset", ["Vuosi", "Versio", "Sopimus", "Tiedosto", "SHA-256", "Tallennettu", "Tallentaja"], rows)


@audit_app.command("verify")
def audit_verify(db: Optional[str] = DB_OPTION) -> None:
    """Tarkista muutoslokin ketju: jokainen tietue viittaa edellisen tiivisteeseen."""
    from sqlalchemy import func, select

    from osuus.store.audit import verify
    from osuus.store.tables import AuditRecord

    with ledger(db) as session:
        broken = verify(session)
        count = session.scalar(select(func.count()).select_from(AuditRecord))
    if broken:
        for b in broken:
            _stderr(b)
        _stderr(f"Muutoslokissa on {len(broken)} virhettä: ketju on katkennut tai tietueita on muutettu.")
        raise typer.Exit(EXIT_PROBLEMS)
    print(f"Muutosloki eheä: {count} tietuetta.")


@audit_app.command("log")
def audit_log(db: Optional[str] = DB_OPTION, limit: int = typer.Option(50, help="Montako viimeisintä")) -> None:
    """Näytä muutoslokin viimeisimmät tietueet."""
    from sqlalchemy import select

    from osuus.store.tables import AuditRecord

    with ledger(db) as session:
        rows = [[str(r.id), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.action, r.subject, r.reason, r.hash[:12]]
                for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit))]
    _table("Muutosloki", ["#", "Aika", "Kuka", "Mitä", "Kohde", "Miksi", "Tiiviste"], list(reversed(rows)))


# --------------------------------------------------------------------------
# the cycle
# --------------------------------------------------------------------------

@app.command()
def estimate(year: int = typer.Argument(..., help="Vuosi, jolle arvio tehdään"), db: Optional[str] = DB_OPTION,
             format: Fmt = typer.Option(Fmt.text, "--format", "-f")) -> None:
    """Elokuun kustannusarvio seuraavan vuoden talousarvioon, kunnittain."""
    from osuus.store.ledger import make_estimate

    with ledger(db) as session:
        result = make_estimate(session, year, _actor())
    est = result.estimate
    if format is Fmt.json:
        _print_json({"year": year, "revision": result.revision, "created": result.created, "basis": est.basis,
                     "members": [{"municipality": m.name, "code": m.municipality, "amount": str(m.amount),
                                  "parts": [{"id": c, "label": label, "amount": str(v)} for c, label, v in m.parts]}
                                 for m in est.members]})
        return
    print(("Tallennettu" if result.created else "Ei muutoksia: sama arvio on jo tallennettu") +
          f": kustannusarvio {year}, versio {result.revision}.")
    print(f"Peruste: {est.basis}")
    columns = {pid: label for m in est.members for pid, label, _ in m.parts}  # every part any member has
    values = [{pid: v for pid, _, v in m.parts} for m in est.members]
    rows = [[m.name, *(_money(v.get(pid, Decimal(0))) for pid in columns), _money(m.amount)]
            for m, v in zip(est.members, values)]
    totals = ["Yhteensä", *(_money(sum((v.get(pid, Decimal(0)) for v in values), Decimal(0))) for pid in columns),
              _money(sum((m.amount for m in est.members), Decimal(0)))]
    _table(f"Kustannusarvio {year} (euroa)", ["Kunta", *columns.values(), "Yhteensä"], rows, total=totals)


@app.command()
def invoice(period: str = typer.Argument(..., help="Laskutuskausi: 2021-03 tai 2021-Q1"),
            date: Optional[str] = typer.Option(None, "--date", help="Laskun päivä (oletus tänään)"),
            db: Optional[str] = DB_OPTION, format: Fmt = typer.Option(Fmt.text, "--format", "-f")) -> None:
    """Laskuta kausi: ennakot, kauden palvelutapahtumat, matkakulut, tulkkaus ja tasaukset."""
    from osuus.billing.periods import parse_period
    from osuus.problems import Problem
    from osuus.store.ledger import lines_of, run_invoices

    try:
        parsed = parse_period(period)
    except ValueError as exc:
        _fail([Problem(str(exc), key="PERIOD")], "Komennossa")
    issue_date = _parse_date(date)
    with ledger(db) as session:
        result = run_invoices(session, parsed, issue_date, _actor())
        lines = lines_of(session, [i.id for i in result.invoices])
        invoices = [(i, lines.get(i.id, [])) for i in result.invoices]
        names = _names(session)
    if format is Fmt.json:
        _print_json({"period": parsed.code, "created": result.created, "events_billed": result.events_billed,
                     "invoices": [_invoice_json(i, ls) for i, ls in invoices]})
        return
    if not result.created:
        print(f"Kausi {parsed.code} on jo laskutettu ({result.run.run_at:%Y-%m-%d}); mitään ei luotu.")
    else:
        print(f"Laskutettu {parsed.label}: {len(invoices)} laskua, {result.events_billed} palvelutapahtumaa.")
    _invoice_table(f"Laskut {parsed.code}", [i for i, _ in invoices], names)


def _invoice_json(inv, lines) -> dict:
    return {"number": inv.number, "kind": inv.kind, "municipality": inv.municipality, "period": inv.period,
            "issue_date": inv.issue_date.isoformat(), "due_date": inv.due_date.isoformat(),
            "reference": inv.reference, "total": str(inv.total),
            "credited_invoice": inv.credited_invoice_id, "reason": inv.reason,
            "lines": [{"kind": ln.kind, "component": ln.component, "description": ln.description,
                       "quantity": str(ln.quantity), "unit": ln.unit, "unit_price": str(ln.unit_price),
                       "amount": str(ln.amount), "events_period": ln.events_period, "reference": ln.reference}
                      for ln in lines]}


def _invoice_table(title: str, invoices, names: dict[str, str] | None = None) -> None:
    from osuus.ids import viitenumero

    names = names or {}
    rows = [[i.number, "hyvityslasku" if i.kind == "credit_note" else "lasku", names.get(i.municipality, i.municipality),
             i.period,
             i.issue_date.isoformat(), i.due_date.isoformat(), viitenumero.format(i.reference), _money(i.total)]
            for i in invoices]
    total = ["Yhteensä", "", "", "", "", "", "", _money(sum((i.total for i in invoices), Decimal(0)))]
    _table(title, ["Numero", "Laji", "Kunta", "Kausi", "Päivä", "Eräpäivä", "Viite", "Summa €"], rows,
           total=total if rows else None)


@app.command("invoices")
def invoices_list(year: Optional[int] = typer.Option(None, "--year"),
                  municipality: Optional[str] = typer.Option(None, "--municipality", "-m"),
                  db: Optional[str] = DB_OPTION, format: Fmt = typer.Option(Fmt.text, "--format", "-f")) -> None:
    """Luettele laskut ja hyvityslaskut."""
    from osuus.store.ledger import invoices_of, lines_of

    with ledger(db) as session:
        code = _municipality_code(session, municipality) if municipality else None
        found = invoices_of(session, year=year, municipality=code)
        lines = lines_of(session, [i.id for i in found]) if format is Fmt.json else {}
        names = _names(session)
    if format is Fmt.json:
        _print_json([_invoice_json(i, lines.get(i.id, [])) for i in found])
        return
    _invoice_table("Laskut", found, names)


def _municipality_code(session, text: str) -> str:
    from osuus.problems import Problem
    from osuus.store.ledger import latest_agreement

    agreement = latest_agreement(session)
    found = agreement.find_municipality(text) if agreement else None
    if found is None:
        _fail([Problem(f"unknown municipality '{text}'", "--municipality")], "Komennossa")
    return found.code


@app.command()
def credit(number: str = typer.Argument(..., help="Hyvitettävän laskun numero"),
           reason: str = typer.Option(..., "--reason", help="Hyvityksen syy"),
           date: Optional[str] = typer.Option(None, "--date", help="Hyvityslaskun päivä (oletus tänään)"),
           db: Optional[str] = DB_OPTION) -> None:
    """Hyvityslasku laskulle. Laskua itseään ei koskaan muuteta."""
    from osuus.store.ledger import credit_invoice

    issue_date = _parse_date(date)
    with ledger(db) as session:
        note = credit_invoice(session, number, reason, issue_date, _actor())
        print(f"Hyvityslasku {note.number} laskulle {number}: {_money(note.total)} €.")


@app.command("close-year")
def close_year_cmd(year: int = typer.Argument(...), db: Optional[str] = DB_OPTION,
                   format: Fmt = typer.Option(Fmt.text, "--format", "-f")) -> None:
    """Päätä vuosi: toteutuneet kustannukset, vahvistetut hinnat ja kuntien tasaukset."""
    from osuus.store.ledger import close_year

    with ledger(db) as session:
        result = close_year(session, year, _actor())
        rows = [(s.municipality, s.actual, s.billed, s.difference) for s in result.rows]
        names = _names(session)
        prices = result.settlement.prices if result.settlement else ()
    if format is Fmt.json:
        _print_json({"year": year, "created": result.created,
                     "settlements": [{"municipality": names.get(c, c), "code": c, "actual": str(a), "billed": str(b),
                                      "difference": str(d)} for c, a, b, d in rows],
                     "prices": [{"component": p.component, "integration_year": p.integration_year,
                                 "agreed": str(p.agreed), "confirmed": str(p.confirmed), "basis": p.basis}
                                for p in prices]})
        return
    if not result.created:
        print(f"Vuosi {year} on jo päätetty; mitään ei muutettu.")
    else:
        print(f"Vuosi {year} päätetty. Tasaukset lisätään seuraavan vuoden ensimmäiseen laskuun.")
    _table(f"Tasaus {year} (euroa)", ["Kunta", "Toteutunut osuus", "Laskutettu", "Tasaus"],
           [[names.get(c, c), _money(a), _money(b), _money(d)] for c, a, b, d in rows],
           total=["Yhteensä", *(_money(sum((r[i] for r in rows), Decimal(0))) for i in (1, 2, 3))])


def _names(session) -> dict[str, str]:
    from osuus.store.ledger import latest_agreement

    agreement = latest_agreement(session)
    return {m.code: m.name for m in agreement.municipalities} if agreement else {}


@app.command()
def report(year: int = typer.Argument(...),
           municipality: Optional[str] = typer.Option(None, "--municipality", "-m",
                                                      help="Kunta (oletus: kaikki jäsenkunnat)"),
           db: Optional[str] = DB_OPTION, format: Fmt = typer.Option(Fmt.text, "--format", "-f")) -> None:
    """Kuntakohtainen vuosiraportti: asiakasmäärät, tuotetut palvelut, arvio, laskutus, toteuma ja tasaus."""
    from osuus.store.ledger import annual_report, current_agreement

    with ledger(db) as session:
        agreement = current_agreement(session, year)
        if agreement is None:
            from osuus.problems import Problem

            _fail([Problem(f"no agreement for {year} is stored")], "Komennossa")
        codes = [_municipality_code(session, municipality)] if municipality else \
            [m.code for m in agreement.municipalities if m.name != agreement.host]
        reports = [annual_report(session, year, code) for code in codes]
    if format is Fmt.json:
        _print_json([_report_json(r) for r in reports])
        return
    for r in reports:
        _print_report(r)


def _opt(value) -> str:
    return "" if value is None else _money(value)


def _report_json(r) -> dict:
    from osuus.privacy import shown_count

    def s(v):
        return None if v is None else str(v)

    return {"year": r.year, "municipality": r.name, "code": r.municipality, "customers": shown_count(r.customers),
            "services": [{"component": x.component, "label": x.label, "unit": x.unit, "events": x.events,
                          "quantity": str(x.quantity), "customers": shown_count(x.customers)} for x in r.services],
            "money": [{"id": m.id, "label": m.label, "estimate": s(m.estimate), "billed": str(m.billed),
                       "actual": s(m.actual)} for m in r.money],
            "travel_and_interpretation": str(r.travel_and_interpretation), "estimate": s(r.estimate),
            "billed": str(r.billed), "actual": s(r.actual), "settlement": s(r.settlement),
            "settlement_invoice": r.settlement_invoice, "estimate_basis": r.estimate_basis}


def _print_report(r) -> None:
    from osuus.money import fmt_count
    from osuus.privacy import shown_count

    print(f"\nVuosiraportti {r.year}: {r.name} ({r.municipality})")
    print(f"Asiakkaita palveluissa: {shown_count(r.customers)} (alle 5 näytetään muodossa <5)")
    _table("Tuotetut palvelut", ["Palvelu", "Tapahtumia", "Määrä", "Yksikkö", "Asiakkaita"],
           [[x.label, str(x.events), fmt_count(x.quantity), x.unit, shown_count(x.customers)] for x in r.services])
    _table("Kustannukset (euroa)", ["Erä", "Arvio", "Laskutettu", "Toteutunut"],
           [[m.label, _opt(m.estimate), _money(m.billed), _opt(m.actual)] for m in r.money],
           total=["Yhteensä", _opt(r.estimate), _money(r.billed), _opt(r.actual)])
    print(f"Matkakulut ja tulkkaus (toteutuneen mukaan): {_money(r.travel_and_interpretation)} €")
    if r.settlement is None:
        print("Vuotta ei ole vielä päätetty: tasaus lasketaan vuoden päätyttyä (osuus close-year).")
    else:
        where = f"laskulla {r.settlement_invoice}" if r.settlement_invoice else "seuraavan vuoden ensimmäisellä laskulla"
        print(f"Tasaus: {_money(r.settlement)} € ({'lisälasku' if r.settlement > 0 else 'hyvitys'}), {where}.")


def _import_done(result) -> None:
    if not result.created:
        print(f"{result.file}: sama tiedosto on jo tuotu; mitään ei lisätty.")
    elif result.added == 0:
        print(f"{result.file}: {result.rows} riviä, kaikki jo tallennettu; mitään ei lisätty.")
    else:
        print(f"{result.file}: {result.rows} riviä tarkistettu, {result.added} lisätty.")


@import_app.command("events")
def import_events_cmd(file: Path = typer.Argument(..., help="CSV- tai XLSX-tiedosto"),
                      year: Optional[int] = typer.Option(None, "--year", help="Hyväksy vain tämän vuoden tapahtumat"),
                      db: Optional[str] = DB_OPTION) -> None:
    """Tuo palvelutapahtumat. Yksikin virheellinen rivi hylkää koko tiedoston."""
    from osuus.store.ledger import import_events

    with ledger(db) as session:
        if sys.stderr.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn

            with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
                task = bar.add_task("Tuodaan…")
                result = import_events(session, file, _actor(), year,
                                       progress=lambda n: bar.update(task, description=f"Tarkistettu {n:,} riviä"
                                                                     .replace(",", " ")))
        else:
            result = import_events(session, file, _actor(), year)
    _import_done(result)


@import_app.command("counts")
def import_counts_cmd(file: Path = typer.Argument(..., help="CSV- tai XLSX-tiedosto"), db: Optional[str] = DB_OPTION) -> None:
    """Tuo jakoperusteiden luvut (asukasluku, asiakasmäärät) päivämäärineen."""
    from osuus.store.ledger import import_counts

    with ledger(db) as session:
        result = import_counts(session, file, _actor())
    _import_done(result)


@import_app.command("costs")
def import_costs_cmd(file: Path = typer.Argument(..., help="CSV- tai XLSX-tiedosto"), db: Optional[str] = DB_OPTION) -> None:
    """Tuo vuoden toteutuneet kustannukset ja ulkopuolinen rahoitus."""
    from osuus.store.ledger import import_costs

    with ledger(db) as session:
        result = import_costs(session, file, _actor())
    _import_done(result)
