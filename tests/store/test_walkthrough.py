"""The README's walkthrough of the yearly cycle, run as written, on SQLite and on PostgreSQL.

The commands are taken from the README itself: the fenced code block right after
`<!-- walkthrough -->`. Each line runs as the real program in a subprocess
(`python -m osuus ...` from the repository root) with OSUUS_DATABASE_URL set to
the test's database, and must exit 0. Then the books are checked by reading the
database with SQLAlchemy and the programs' `--format json` outputs:

- every member's 2021 money adds up: what it was billed for 2021 (advance and
  event lines, late ones and credit notes included) plus its 2021 settlement line
  equals its actual 2021 share, to the cent; and that actual share is recomputed
  here independently from the example files (see `expected_actual_shares`);
- the advance lines of 2021 add up, per member, to its Taulukko 1 payment
  rounded to the cent (`invoiced` of `osuus allocate ... --format json`);
- invoice numbers run 1..N without gaps per year and are unique; each reference
  is a valid Finnish reference (viitenumero) made from year and sequence; each
  due date is the issue date + 21 days;
- the host (Tampere, 837) is never invoiced;
- running the steps again changes nothing (row counts, invoices, audit log);
- the audit chain verifies;
- a credited invoice is unchanged, and its credit note negates it and refers to it;
- four eyes: every run and the credit note was drafted by one user (`valmistelija`, the
  walkthrough's OSUUS_USER) and approved by another (the lines `OSUUS_USER=hyvaksyja osuus
  approve ...`), as the audit log records.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import os
import re
import shlex
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from osuus.agreement import load_agreement
from osuus.agreement.model import PoolComponent
from osuus.billing.pricing import event_price
from osuus.calendar import Period
from osuus.engine import allocate
from osuus.ids import viitenumero
from osuus.store.db import make_engine, session_factory
from osuus.store.tables import AuditRecord, Base, Invoice, InvoiceLine, Settlement

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = "<!-- walkthrough -->"
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
AGREEMENT_2022 = ROOT / "examples" / "2022" / "agreement.toml"  # synthetic, stored after January 2022 was invoiced
EVENTS_CSV = ROOT / "examples" / "2021" / "events.csv"
COSTS_CSV = ROOT / "examples" / "2021" / "costs.csv"
HOST_CODE = "837"  # Tampere
CENT = Decimal("0.01")
TERMS = dt.timedelta(days=21)

PREPARER, APPROVER = "valmistelija", "hyvaksyja"


def approve(subject: str) -> str:
    return f"OSUUS_USER={APPROVER} osuus approve {subject}"


# The commands the walkthrough must hold, in this order (the credit line and its approval are
# checked apart: they name an invoice of the walkthrough). Each draft is approved by another user.
REQUIRED = [
    "osuus db upgrade",
    "osuus agreement add agreements/pirkanmaa-2021.toml",
    "osuus estimate 2021",
    "osuus import counts examples/2021/counts.csv",
    "osuus import events examples/2021/events.csv",
    *(line for m in range(1, 12)
      for line in (f"osuus invoice 2021-{m:02d} --date 2021-{m + 1:02d}-01", approve(f"2021-{m:02d}"))),
    "osuus invoice 2021-12 --date 2022-01-03",
    approve("2021-12"),
    "osuus import costs examples/2021/costs.csv",
    "osuus close-year 2021",
    "osuus estimate 2022",
    "osuus invoice 2022-01 --date 2022-02-01",
    approve("2022-01"),
    "osuus report 2021 --municipality Sastamala",
    "osuus agreement add examples/2022/agreement.toml",
    "osuus invoice 2022-02 --date 2022-03-01",
    approve("2022-02"),
    "osuus audit verify",
]

# Every step again, after the walkthrough: none of them may change anything.
RERUN = [
    "osuus agreement add agreements/pirkanmaa-2021.toml",
    "osuus import events examples/2021/events.csv",
    "osuus import events examples/2021/events.xlsx",  # the same events in another file: adds nothing
    "osuus invoice 2021-05 --date 2021-06-01",
    "osuus close-year 2021",
    "osuus estimate 2022",
    "osuus invoice 2022-01 --date 2022-02-01",
]

# The agreed unit prices of the event-billed services, copied by hand from kohta 5 of the
# appendix (not read from the program): Mainio 40 €/hour; initial assessment 140 €; OMA
# coaching 750 / 1 150 / 1 400 € a customer-year by integration year (years 4 and 5 as 3);
# business coordinator 490 €; Tredu 280 €.
AGREED_PRICES = {
    "mainio": {None: Decimal(40)},
    "alkukartoitus": {None: Decimal(140)},
    "omavalmentaja": {1: Decimal(750), 2: Decimal(1150), 3: Decimal(1400), 4: Decimal(1400), 5: Decimal(1400)},
    "yrityskoordinaattori": {None: Decimal(490)},
    "tredu": {None: Decimal(280)},
}


# ---------------------------------------------------------------------------
# the README block and the program
# ---------------------------------------------------------------------------

def walkthrough_commands() -> list[str]:
    """The lines of the fenced code block right after the marker (blank lines skipped); a line
    may set environment variables for its command (`OSUUS_USER=hyvaksyja osuus approve 2021-01`)."""
    readme = README.read_text(encoding="utf-8")
    assert readme.count(MARKER) == 1, f"README.md should hold {MARKER} exactly once"
    after = readme.split(MARKER, 1)[1]
    block = re.match(r"\s*```[^\n]*\n(.*?)^```", after, re.S | re.M)
    assert block, f"no fenced code block right after {MARKER} in README.md"
    lines = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    assert lines and all(re.match(r"([A-Z_]+=\S+ )*osuus ", line) for line in lines), lines
    return lines


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(OSUUS_DATABASE_URL=url, OSUUS_USER=PREPARER, PYTHONUTF8="1", NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    for name in ("FORCE_COLOR", "COLUMNS", "LINES", "OSUUS_FAULT_POINT", "OSUUS_SELF_APPROVAL"):
        env.pop(name, None)
    return env


def run(line: str, url: str) -> subprocess.CompletedProcess:
    words = shlex.split(line)
    settings = dict(w.split("=", 1) for w in words[:words.index("osuus")])
    return subprocess.run([sys.executable, "-m", "osuus", *words[words.index("osuus") + 1:]], cwd=ROOT,
                          env={**_env(url), **settings}, capture_output=True, text=True, encoding="utf-8",
                          timeout=300)


def run_ok(line: str, url: str) -> str:
    proc = run(line, url)
    context = f"{line}\n--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"
    assert proc.returncode == 0, context
    assert "Traceback" not in proc.stdout + proc.stderr, context
    return proc.stdout


# ---------------------------------------------------------------------------
# the expectation, computed here from the example files
# ---------------------------------------------------------------------------

def _euros(text_value: str) -> Decimal:
    """A Finnish Excel number: decimal comma, maybe spaces grouping thousands."""
    return Decimal(text_value.replace("\u00a0", "").replace(" ", "").replace(",", "."))


def actual_net_costs() -> dict[str, Decimal]:
    """examples/2021/costs.csv read with the csv module: cost − funding per component."""
    cost: dict[str, Decimal] = {}
    funding: dict[str, Decimal] = defaultdict(Decimal)
    with open(COSTS_CSV, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            assert row["year"] == "2021"
            if row["kind"] in ("kustannus", "cost"):
                cost[row["component"]] = _euros(row["amount"])
            else:
                assert row["kind"] in ("rahoitus", "funding"), row
                funding[row["component"]] += _euros(row["amount"])
    return {c: cost[c] - funding[c] for c in cost}


def event_volumes() -> dict[tuple[str, str, int | None], Decimal]:
    """examples/2021/events.csv read with the csv module: quantity per (member code, component, integration year)."""
    volumes: dict[tuple[str, str, int | None], Decimal] = defaultdict(Decimal)
    with open(EVENTS_CSV, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            assert row["date"].startswith("2021-"), row
            code = row["municipality"]
            assert len(code) == 3 and code.isdigit(), f"the example file names municipalities by code: {row}"
            iy = int(row["integration_year"]) if row["integration_year"] else None
            volumes[code, row["component"], iy] += Decimal(row["quantity"])
    return volumes


def _price(component: str, iy: int | None) -> Decimal:
    prices = AGREED_PRICES[component]
    return prices[iy] if iy in prices else prices[None] if None in prices else prices[3]


def expected_actual_shares(agreement) -> dict[str, Decimal]:
    """Each member's actual 2021 share, derived without the settlement code:

    advance part (Taulukko 1): the agreement with every pool's cost replaced by its actual
        net cost (cost − funding, from costs.csv) is allocated again with osuus.engine.allocate;
        the member's part is its `invoiced` amount (its payment rounded to the cent) of Taulukko 1;
    event part (each event-billed service c):
        member's volume × agreed price × (actual net cost of c / (all volume × agreed price)),
        where "all volume" is every municipality's, the host's own residents included (the host
        pays the rest of the cost), quantities from events.csv, agreed prices from kohta 5
        (AGREED_PRICES above), computed with Decimal in 50 digits and rounded half up to the
        cent per service;
    actual share = advance part + every event part.
    """
    net = actual_net_costs()
    components = {cid: comp._replace(cost=comp.cost._replace(value=net[cid]))
                  if isinstance(comp, PoolComponent) and cid in net else comp
                  for cid, comp in agreement.components.items()}
    with_actuals = agreement._replace(components=components)
    allocation = allocate(with_actuals)
    assert not allocation.problems, allocation.problems
    volumes = event_volumes()
    members = [m for m in agreement.municipalities if m.code != agreement.host]
    out: dict[str, Decimal] = {}
    with decimal.localcontext(decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)):
        at_agreed_prices = defaultdict(Decimal)  # (code or "*", component) -> volume × agreed price
        for (code, component, iy), qty in volumes.items():
            value = qty * _price(component, iy)
            at_agreed_prices[code, component] += value
            at_agreed_prices["*", component] += value
        for m in members:
            share = allocation.table("yhteiset").row(m.code).invoiced.value
            for component in AGREED_PRICES:
                mine = at_agreed_prices.get((m.code, component), Decimal(0))
                part = mine * net[component] / at_agreed_prices["*", component]
                share += part.quantize(CENT, rounding=decimal.ROUND_HALF_UP)
            out[m.code] = share
    return out


# ---------------------------------------------------------------------------
# looking at the database
# ---------------------------------------------------------------------------

def snapshot(Session) -> dict:
    """Every table's row count, every invoice's (number, total), and the audit log's length."""
    with Session() as session:
        counts = {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
        invoices = sorted(session.execute(select(Invoice.number, Invoice.total)).all())
        audit = (session.scalar(select(func.count()).select_from(AuditRecord)),
                 session.scalar(select(func.max(AuditRecord.id))))
    return {"counts": counts, "invoices": invoices, "audit": audit}


def invoice_state(Session, number: str) -> tuple:
    with Session() as session:
        inv = session.scalar(select(Invoice).where(Invoice.number == number))
        assert inv is not None, f"the walkthrough credits {number}, which is no invoice of it"
        lines = session.execute(select(InvoiceLine.position, InvoiceLine.kind, InvoiceLine.component,
                                       InvoiceLine.details, InvoiceLine.quantity, InvoiceLine.unit_price,
                                       InvoiceLine.amount, InvoiceLine.period_year, InvoiceLine.period_kind,
                                       InvoiceLine.period_index)
                                .where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.position)).all()
        return (inv.id, inv.kind, inv.municipality, inv.period, inv.issue_date, inv.due_date, inv.reference,
                inv.total, tuple(tuple(line) for line in lines))


def test_readme_walkthrough(database_url):
    url = database_url
    commands = walkthrough_commands()
    credit_lines = [c for c in commands if c.startswith("osuus credit ")]
    assert len(credit_lines) == 1, commands
    credit_args = shlex.split(credit_lines[0])
    credited_number = credit_args[2]
    credit_reason = credit_args[credit_args.index("--reason") + 1]
    at = commands.index(credit_lines[0])
    assert commands[at + 1] == approve(credited_number), "the credit note's draft is approved next"
    fixed = commands[:at] + commands[at + 2:]
    assert fixed == REQUIRED, "the README walkthrough is not the documented sequence of commands"

    engine = make_engine(url)
    Session = session_factory(engine, area_id=1)
    try:
        # 1. the walkthrough, line by line, exactly as the README says
        before_credit = None
        estimate_2022 = None
        for line in commands:
            if line.startswith("osuus credit "):
                before_credit = invoice_state(Session, credited_number)
            run_ok(line, url)
            if line == "osuus estimate 2022":  # what January 2022's advances will be billed by
                estimate_2022 = json.loads(run_ok("osuus estimate 2022 --format json", url))

        # 2. what the appendix says each member pays for Taulukko 1, in cents
        allocation_json = json.loads(run_ok(f"osuus allocate {AGREEMENT.relative_to(ROOT)} --format json", url))
        taulukko1 = next(t for t in allocation_json["tables"] if t["id"] == "yhteiset")
        agreement, problems = load_agreement(AGREEMENT)
        assert not problems
        assert agreement.host_municipality.code == HOST_CODE
        members = {m.code: m.name for m in agreement.municipalities if m.code != agreement.host}
        assert len(members) == 21
        invoiced_t1 = {row["code"]: Decimal(row["invoiced"]) for row in taulukko1["rows"] if row["code"] in members}
        assert set(invoiced_t1) == set(members)
        # the hand-copied prices are those of the file (guards the test against a changed agreement)
        for component, prices in AGREED_PRICES.items():
            for iy, price in prices.items():
                assert event_price(agreement, component, iy).value == price, (component, iy)

        with Session() as session:
            invoices = list(session.scalars(select(Invoice).order_by(Invoice.year, Invoice.sequence)))
            lines = list(session.scalars(select(InvoiceLine).order_by(InvoiceLine.invoice_id, InvoiceLine.position)))
            settlements = {s.municipality: s for s in session.scalars(
                select(Settlement).where(Settlement.year == 2021, Settlement.kind == "year_end"))}
            credit_settlements = list(session.scalars(
                select(Settlement).where(Settlement.year == 2021, Settlement.kind == "credit")))
        by_id = {i.id: i for i in invoices}
        lines_of = defaultdict(list)
        for ln in lines:
            lines_of[ln.invoice_id].append(ln)

        # 3. the host is never invoiced
        assert not [i.number for i in invoices if i.municipality == HOST_CODE]
        assert {i.municipality for i in invoices} == set(members)

        # 4. numbers: per year 1..N without gaps, unique; reference from year and sequence; 21 days to pay
        assert len({i.number for i in invoices}) == len(invoices)
        by_year = defaultdict(list)
        for i in invoices:
            by_year[i.year].append(i.sequence)
            assert i.year == i.issue_date.year, i.number
            assert i.number == f"{i.year}-{i.sequence:05d}", i.number
            assert viitenumero.is_valid(i.reference), (i.number, i.reference)
            assert i.reference == viitenumero.from_invoice_number(i.year, i.sequence), (i.number, i.reference)
            assert i.due_date == i.issue_date + TERMS, i.number
            assert i.total == sum((ln.amount for ln in lines_of[i.id]), Decimal(0)), i.number
        assert set(by_year) == {2021, 2022}
        for year, sequences in by_year.items():
            assert sorted(sequences) == list(range(1, len(sequences) + 1)), f"gap or duplicate in {year}"
        # 11 monthly runs dated in 2021; December (dated 3.1.2022), January 2022, the credit note, February 2022
        assert len(by_year[2021]) == 11 * 21 and len(by_year[2022]) == 3 * 21 + 1

        # ... and `osuus invoices --format json` shows the same documents
        listed = json.loads(run_ok("osuus invoices --format json", url))
        assert [(d["number"], Decimal(d["total"]), d["reference"], d["issue_date"], d["due_date"]) for d in listed] == \
            [(i.number, i.total, i.reference, i.issue_date.isoformat(), i.due_date.isoformat()) for i in invoices]

        # 5. the advances of 2021 (as invoiced; credit notes aside) = Taulukko 1 payment in cents
        advances = defaultdict(Decimal)
        advance_count = defaultdict(int)
        for ln in lines:
            inv = by_id[ln.invoice_id]
            if ln.kind == "advance" and inv.kind == "invoice" and ln.period.year == 2021:
                advances[inv.municipality] += ln.amount
                advance_count[inv.municipality] += 1
        assert dict(advances) == invoiced_t1
        assert set(advance_count.values()) == {12}

        # 6. the credited invoice is unchanged; its credit note negates it and refers to it
        after_credit = invoice_state(Session, credited_number)
        assert after_credit == before_credit
        credited = by_id[before_credit[0]]
        notes = [i for i in invoices if i.credited_invoice_id is not None]
        assert len(notes) == 1
        note = notes[0]
        assert note.kind == "credit_note" and note.credited_invoice_id == credited.id
        assert note.municipality == credited.municipality and note.reason == credit_reason
        assert note.total == -credited.total
        assert [(ln.kind, ln.component, ln.quantity, ln.unit_price, -ln.amount, ln.period)
                for ln in lines_of[note.id]] == \
            [(ln.kind, ln.component, ln.quantity, ln.unit_price, ln.amount, ln.period)
             for ln in lines_of[credited.id]]

        # 7. every member's actual share = the independent recomputation, to the cent
        expected = expected_actual_shares(agreement)
        assert set(settlements) == set(members)
        assert {code: s.actual for code, s in settlements.items()} == expected

        # billed for 2021: advance and event lines of 2021 on all documents, credit notes included;
        # settled: the 2021 settlement line (on the first 2022 invoice, or a settlement credit note)
        billed = defaultdict(Decimal)
        settled = defaultdict(Decimal)
        settlement_docs = defaultdict(list)
        for ln in lines:
            inv = by_id[ln.invoice_id]
            if ln.kind in ("advance", "event") and ln.period.year == 2021:
                billed[inv.municipality] += ln.amount
            elif ln.kind == "settlement" and ln.period == Period.whole_year(2021):
                settled[inv.municipality] += ln.amount
                settlement_docs[inv.municipality].append(inv)
        carried_back = {c.municipality: c for c in credit_settlements}
        for code, s in settlements.items():
            docs = settlement_docs[code]
            assert docs[0].period == Period.month(2022, 1) and docs[0].issue_date == dt.date(2022, 2, 1), code
            assert s.carried_invoice_id == docs[0].id, code
            assert s.difference == s.actual - s.billed, code
            if code in carried_back:  # the credit after close-year, re-billed on February's invoice
                assert [d.period for d in docs] == [Period.month(2022, 1), Period.month(2022, 2)], code
                assert carried_back[code].carried_invoice_id == docs[1].id, code
                assert settled[code] == s.difference + carried_back[code].difference, code
            else:
                assert len(docs) == 1 and settled[code] == s.difference, code

        # the annual report and close-year say the same (as JSON)
        report = json.loads(run_ok("osuus report 2021 --municipality Sastamala --format json", url))[0]
        sastamala = settlements["790"]
        assert report["code"] == "790"
        # the report's settlement is the year-end one plus what the credit after close-year carried back
        assert Decimal(report["actual"]) == sastamala.actual
        assert Decimal(report["settlement"]) == sastamala.difference + sum(
            (c.difference for c in credit_settlements if c.municipality == "790"), Decimal(0))
        # every document that carries a part, each with the part it carries, and nothing left open
        carried_sastamala = carried_back["790"]
        assert [(d["number"], Decimal(d["amount"])) for d in report["settlement_documents"]] == [
            (by_id[sastamala.carried_invoice_id].number, sastamala.difference),
            (by_id[carried_sastamala.carried_invoice_id].number, carried_sastamala.difference)]
        assert Decimal(report["settlement_open"]) == 0

        # 8. running any step again changes nothing (the 2022 estimate, made again now that the
        # 2022 agreement is stored, is a new revision: once)
        assert json.loads(run_ok("osuus estimate 2022 --format json", url))["revision"] == 2
        before = snapshot(Session)
        for line in RERUN:
            run_ok(line, url)
        closed = json.loads(run_ok("osuus close-year 2021 --format json", url))
        assert closed["created"] is False
        assert {s["code"]: (Decimal(s["actual"]), Decimal(s["billed"]), Decimal(s["difference"]))
                for s in closed["settlements"]} == \
            {c: (s.actual, s.billed, s.difference) for c, s in settlements.items()}
        assert snapshot(Session) == before

        # 9. the audit chain verifies (tests/store/test_tamper.py edits the ledger behind its back)
        run_ok("osuus audit verify", url)
        # ... and says who drafted and who approved: 14 runs (2021, 2022-01, 2022-02) and the credit note
        with Session() as session:
            log = list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
        drafted = [(r.actor, r.subject) for r in log if r.action == "draft.prepare"]
        issued = [(r.actor, r.subject, r.details["approval"]["prepared_by"], "self_approved" in r.details["approval"])
                  for r in log if r.action in ("invoice.run", "invoice.credit")]
        assert len(drafted) == len(issued) == 12 + 2 + 1
        assert {d[0] for d in drafted} == {PREPARER}
        assert {(a, p, s) for a, _, p, s in issued} == {(APPROVER, PREPARER, False)}
        assert [d[1] for d in drafted] == [i[1] for i in issued]

        # 10. billed + settled = actual share, member by member. The credited member's credit
        # note (written after close-year) lowered its 2021 billing; the same amount was
        # carried back as a `credit` settlement, billed again on February's invoice.
        for code in members:
            assert billed[code] + settled[code] == settlements[code].actual, (code, members[code])
        [carried] = [c for c in credit_settlements if c.municipality == credited.municipality]
        credited_2021 = sum((ln.amount for ln in lines if ln.invoice_id == credited.id
                             and ln.kind in ("advance", "event") and ln.period.year == 2021), Decimal(0))
        assert carried.difference == credited_2021 and carried.credit_note_id == note.id

        # 11. 2022's advances: January's by the August estimate (the 2021 agreement's
        # [billing.without_agreement]), a twelfth cut to the cent; February's, once the 2022
        # agreement is stored, what is left of its payment spread over the eleven instalments
        # left, up to the cent (so the year ends exactly on the 2022 payment)
        assert estimate_2022["revision"] == 1
        estimated = {m["code"]: Decimal(next(p["amount"] for p in m["parts"] if p["id"] == "yhteiset"))
                     for m in estimate_2022["members"]}
        payment_2022 = {row["code"]: Decimal(row["invoiced"]) for row in next(
            t for t in json.loads(run_ok(f"osuus allocate {AGREEMENT_2022.relative_to(ROOT)} --format json", url))
            ["tables"] if t["id"] == "yhteiset")["rows"] if row["code"] in members}
        advance_2022 = defaultdict(dict)
        for ln in lines:
            if ln.kind == "advance" and ln.period.year == 2022:
                advance_2022[by_id[ln.invoice_id].municipality][ln.period.index] = ln
        assert set(advance_2022) == set(members)
        for code in members:
            january, february = advance_2022[code][1], advance_2022[code][2]
            assert january.amount == (estimated[code] / 12).quantize(CENT, rounding=decimal.ROUND_DOWN), code
            assert january.details["basis"] == "estimate", code
            rest = payment_2022[code] - january.amount
            assert february.amount == (rest / 11).quantize(CENT, rounding=decimal.ROUND_UP), code
            assert Decimal(february.details["billed"]) == january.amount and february.details["left"] == 11, code
        sastamala_feb = next(i for i in invoices if i.municipality == "790" and i.period == Period.month(2022, 2))
        explained = run_ok(f"osuus explain invoice {sastamala_feb.number} --line 1", url)
        assert "tarkistettu erä" in explained, explained
    finally:
        engine.dispose()
