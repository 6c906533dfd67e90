"""Invoicing: a period's invoice run, a credit note, and the invoices as they were issued.

A run and a credit note are computed first, without writing anything (`plan_run`,
`plan_credit`): a period's run holds every member's advance instalments, its unbilled
service events up to the period's end, travel and interpretation, and the open
settlements of closed years (osuus.billing); a credit note credits an invoice whole
(an invoice itself is never changed). What is computed is kept as a draft for an
approver (`run_content`, `credit_content`, in osuus.services.approval); only approval
issues it (`issue_run`, `issue_credit`), numbering the documents at that moment.
A period is invoiced once: planning it again is refused with the run it has
(`AlreadyInvoiced`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from sqlalchemy.orm import Session

from osuus.billing import credit_notes
from osuus.agreement.model import Agreement
from osuus.billing.invoices import (
    InvoiceDraft,
    OpenSettlement,
    draft_period,
    due_date,
    invoice_number,
    issue_date_problems,
    missing_before,
    payment_reference,
)
from osuus.billing.lines import AdvanceBasis, Line, agreement_bases
from osuus.billing.kinds import DocumentKind, LineKind, SettlementKind
from osuus.calendar import Period
from osuus.engine import allocate
from osuus.engine.trace import Figure, given
from osuus.money import ZERO
from osuus.privacy import masked, personal_codes_in
from osuus.problems import Problem, ProblemsError, refuse
from osuus.services.agreements import Agreements
from osuus.services.audit import Checkpoint
from osuus.services.estimates import estimates_in
from osuus.services.ledger import Ledger, Tx, fault_point, now
from osuus.services.views import InvoiceView
from osuus.store import queries
from osuus.store.audit import canonical_json
from osuus.store.tables import Invoice, InvoiceRun, Settlement

DEFAULT_TERMS = 21


@dataclass(frozen=True)
class RunResult:
    period: Period
    created: bool
    run_at: dt.datetime
    invoices: tuple[InvoiceView, ...]
    events_billed: int = 0
    checkpoint: Checkpoint | None = None  # the audit log's head after the run, to keep elsewhere


def views(session: Session, invoices: Iterable[Invoice], *, explanations: bool = True,
          lines: bool = True) -> list[InvoiceView]:
    """The issued documents as values: lines as structure, numbers instead of ids. A fixed
    number of queries however many documents. `explanations` False: the lines without their
    explanations (for what shows none, such as a list: reading the figure trees is most of
    the work of a page). `lines` False: no lines at all (an index of documents)."""
    invoices = list(invoices)
    lines_by_id = queries.lines_of(session, [i.id for i in invoices], explanations=explanations) if lines else {}
    credited = queries.invoice_heads(session, [i.credited_invoice_id for i in invoices])
    credited_by = queries.credit_note_numbers(session, [i.id for i in invoices if i.kind is DocumentKind.INVOICE])
    years = queries.version_years(session, [i.agreement_version_id for i in invoices])
    out = []
    for i in invoices:
        credited_number, credited_date = credited.get(i.credited_invoice_id, ("", None))
        out.append(InvoiceView(
            i.number, i.kind, i.municipality, i.period, i.issue_date, i.due_date, i.reference, i.total,
            tuple(lines_by_id.get(i.id, ())), years.get(i.agreement_version_id), credited_number, credited_date,
            credited_by.get(i.id, ""), i.reason or ""))
    return out


def _write(tx: Tx, draft: InvoiceDraft, *, host: str, period: Period, run_id: int | None, version_id: int | None,
           issue_date: dt.date, terms: int, credited: int | None = None, reason: str = "") -> Invoice:
    counter = queries.next_sequence(tx.session, host, issue_date.year)
    sequence = counter.next_number
    counter.next_number += 1
    year = issue_date.year
    invoice = Invoice(number=invoice_number(year, sequence), host=host, year=year, sequence=sequence,
                      kind=draft.kind, municipality=draft.municipality, period=period, run_id=run_id,
                      agreement_version_id=version_id, issue_date=issue_date, due_date=due_date(issue_date, terms),
                      reference=payment_reference(year, sequence), total=draft.total, credited_invoice_id=credited,
                      reason=reason, created_at=now())
    tx.session.add(invoice)
    tx.session.flush()
    queries.add_lines(tx.session, invoice.id, draft.lines)
    return invoice


def _open_settlements(session: Session, before_year: int) -> dict[str, list[tuple[Settlement, OpenSettlement]]]:
    agreements = Agreements(session)
    rows = queries.open_settlements(session, before_year)
    numbers = queries.invoice_numbers(session, [s.credit_note_id for s in rows] + [s.credited_invoice_id for s in rows])
    out: dict[str, list[tuple[Settlement, OpenSettlement]]] = {}
    for s in rows:
        settled = agreements.of_year(s.year)
        reference = settled.billing.reference if settled is not None and settled.billing else ""
        explanation = Figure.from_data(s.explanation) if s.explanation else None
        out.setdefault(s.municipality, []).append((s, OpenSettlement(
            s.year, s.kind, s.difference, reference, explanation, numbers.get(s.credit_note_id, ""),
            numbers.get(s.credited_invoice_id, ""))))
    return out


def _advance_bases(session: Session, agreements: Agreements, period: Period, agreement: Agreement | None,
                   base: Agreement) -> list[AdvanceBasis]:
    """The yearly payments the period's advances are made from: the year's agreement's, or, until
    it is stored, what the agreement before it says (`[billing.without_agreement]`)."""
    if agreement is not None:
        return agreement_bases(agreement, allocate(agreement))
    if base.billing is None or not base.billing.advance_tables:
        return []
    rule = base.billing.without_agreement
    if rule.advances == "refuse":
        raise refuse(f"no agreement for {period.year} is stored, so its advances cannot be invoiced: store it first "
                     f"(`osuus agreement add FILE`), or say in the {base.year} agreement how the advances of "
                     f"{period.year} are billed until it is ([billing.without_agreement] advances = "
                     "'last_agreement' or 'estimate', with its clause)", key="billing.without_agreement",
                     code="invoice.no-agreement")
    if rule.advances == "last_agreement":
        return agreement_bases(base, allocate(base), source="last_agreement", reference=rule.reference)
    estimates = estimates_in(session, period.year)
    if not estimates:
        raise refuse(f"no agreement for {period.year} is stored, and the {base.year} agreement bills its advances "
                     f"by the year's estimate, but no estimate for {period.year} is stored: run `osuus estimate "
                     f"{period.year}` first, or store the {period.year} agreement", key="billing.without_agreement",
                     code="invoice.no-estimate")
    bases = []
    for estimate in estimates:
        for part in estimate.parts:
            if part.id in base.billing.advance_tables and estimate.municipality != base.host:
                bases.append(AdvanceBasis(estimate.municipality, part.id, _estimate_part(estimate, part.id, part.amount),
                                          rule.reference, "estimate", period.year))
    return bases


def _estimate_part(estimate, item: str, amount) -> Figure:
    """The estimate's part for `item`, with its explanation when the estimate keeps one."""
    if estimate.explanation is not None:
        for fig in estimate.explanation.inputs:
            if fig.param("item") == item:
                return fig
    return given("estimate.part", amount, "", item=item)


# --------------------------------------------------------------------------
# an invoice run: computed (a draft), then issued (on approval, osuus.services.approval)
# --------------------------------------------------------------------------

class AlreadyInvoiced(ProblemsError):
    """The period has its run already: nothing to draft. `run` is that run, as issued."""

    def __init__(self, problems, run: RunResult):
        super().__init__(problems)
        self.run = run


@dataclass(frozen=True)
class RunPlan:
    """What a period's run would issue, computed from the ledger as it is: the invoices without
    numbers, and what the run records. Computing it writes nothing."""

    period: Period
    issue_date: dt.date
    allow_gap: bool
    invoices: tuple[InvoiceDraft, ...]
    host: str
    terms: int
    version_id: int | None
    agreement: tuple[int, int] | None  # (year, revision) of the agreement the invoices are made under
    events: int  # the service events billed
    max_event_id: int
    skipped: tuple[Period, ...] = ()
    advances_by: str | None = None  # the year has no agreement yet: how its advances are billed
    open_rows: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def due_date(self) -> dt.date:
        return due_date(self.issue_date, self.terms)

    @property
    def total(self):
        return sum((i.total for i in self.invoices), ZERO)


def plan_run(session: Session, period: Period, issue_date: dt.date, *, allow_gap: bool = False) -> RunPlan:
    """Compute a period's run without writing anything (the caller holds the billing lock).

    Refused: a period already invoiced (`AlreadyInvoiced`), an invoice date before the period
    ends or too late, a period of the wrong kind, no agreement, an earlier period of the year
    not invoiced yet (unless `allow_gap`), and every problem of the drafts."""
    existing = queries.run_of(session, period)
    if existing is not None:
        issued = views(session, queries.invoices_of_run(session, existing.id))
        numbers = f" ({issued[0].number}–{issued[-1].number})" if issued else ""
        raise AlreadyInvoiced([Problem(
            f"{period.code} is already invoiced{numbers} on {existing.run_at:%Y-%m-%d} by {existing.run_by}: a period "
            "is invoiced once; correct an invoice with a credit note (osuus credit NUMBER)", key="PERIOD",
            code="invoice.already")], RunResult(period, False, existing.run_at, tuple(issued)))
    problems = issue_date_problems(period, issue_date)
    if problems:
        raise ProblemsError(problems)
    agreements = Agreements(session)
    version = agreements.version(period.year)
    agreement = agreements.of_year(period.year)
    if agreement is not None and agreement.billing is not None and agreement.billing.period != period.kind.value:
        example = f"{period.year}-01" if agreement.billing.period == "month" else f"{period.year}-Q1"
        raise refuse(f"the {period.year} agreement bills by {agreement.billing.period}: expected a period such as "
                     f"{example}, found {period.code}", key="PERIOD", code="invoice.period-kind")
    base = agreement or agreements.latest(before=period.year)
    if base is None:
        raise refuse(f"no agreement is stored for {period.year} or before; run `osuus agreement add FILE` first",
                     code="invoice.no-agreement")
    skipped = missing_before(period, queries.run_periods(session, period.year))
    if skipped and not allow_gap:
        raise refuse(f"{', '.join(p.code for p in skipped)} of {period.year} "
                     f"{'is' if len(skipped) == 1 else 'are'} not invoiced yet: invoice "
                     f"{'it' if len(skipped) == 1 else 'them'} first, or say that {period.code} is invoiced "
                     "before them on purpose (--allow-gap)", key="PERIOD", code="invoice.gap")
    bases = _advance_bases(session, agreements, period, agreement, base)
    sums = queries.event_sums(session, period.end)
    open_rows = _open_settlements(session, period.year)
    minimum = base.billing.settlement_minimum if base.billing else None
    drafts = draft_period(period, agreements.of_year, bases, sums,
                          {code: [o for _, o in pairs] for code, pairs in open_rows.items()},
                          host=base.host, billed_advances=queries.advances_billed(session, period),
                          settlement_minimum=minimum.value if minimum is not None else None)
    if drafts.problems:
        raise ProblemsError(drafts.problems)
    return RunPlan(period, issue_date, allow_gap, drafts.invoices, base.host,
                   base.billing.payment_terms_days if base.billing else DEFAULT_TERMS,
                   version.id if version else None, (version.year, version.revision) if version else None,
                   sum(s.events for s in sums), queries.max_event_id(session), tuple(skipped),
                   base.billing.without_agreement.advances if agreement is None and bases else None, open_rows)


def issue_run(tx: Tx, plan: RunPlan) -> tuple[RunResult, dict]:
    """Write the run of `plan`: the invoices numbered now, gaplessly; the settlements they carry
    marked. Returns the run and the details of its audit record (the caller writes the record)."""
    session = tx.session
    period, issue_date = plan.period, plan.issue_date
    # what this run bills: the events up to the period's end stored by now (imports take the same
    # lock, so no event can be stored between the plan and this)
    run = InvoiceRun(period=period, period_end=period.end, max_event_id=queries.max_event_id(session),
                     agreement_version_id=plan.version_id, issue_date=issue_date, run_at=now(), run_by=tx.actor)
    session.add(run)
    session.flush()
    invoices = []
    for n, draft in enumerate(plan.invoices):
        if n == len(plan.invoices) // 2:
            fault_point("invoice.run.middle")
        invoice = _write(tx, draft, host=plan.host, period=period, run_id=run.id, version_id=plan.version_id,
                         issue_date=issue_date, terms=plan.terms)
        invoices.append(invoice)
        for row, _open in plan.open_rows.get(draft.municipality, ()):
            if row.year in draft.settles:
                row.carried_invoice_id = invoice.id
    details = {"invoices": [i.number for i in invoices], "events": plan.events,
               "total": str(sum((i.total for i in invoices), ZERO)), "issue_date": issue_date.isoformat()}
    if plan.skipped:
        details["allowed_gap"] = [p.code for p in plan.skipped]
    if plan.advances_by is not None:
        details["advances_by"] = plan.advances_by
    session.flush()
    return RunResult(period, True, run.run_at, tuple(views(session, invoices)), plan.events), details


def run_content(plan: RunPlan) -> dict:
    """The run as the approver reviews it, JSON-safe (money as decimal strings): what its hash covers."""
    content = {"kind": "invoice_run", "period": plan.period.code, "issue_date": plan.issue_date.isoformat(),
               "due_date": plan.due_date.isoformat(), "host": plan.host,
               "agreement": list(plan.agreement) if plan.agreement else None, "events": plan.events,
               "total": str(plan.total), "invoices": [_draft_data(d) for d in plan.invoices]}
    if plan.skipped:
        content["allowed_gap"] = [p.code for p in plan.skipped]
    if plan.advances_by is not None:
        content["advances_by"] = plan.advances_by
    return plain_json(content)


# --------------------------------------------------------------------------
# a credit note: computed (a draft), then issued on approval
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class CreditPlan:
    """The credit note that would cancel an invoice, computed from the ledger as it is."""

    invoice_id: int
    number: str  # of the invoice credited
    reason: str
    issue_date: dt.date
    note: InvoiceDraft
    municipality: str
    host: str
    period: Period
    version_id: int | None
    agreement_year: int | None
    terms: int
    carried: dict = field(default_factory=dict)  # closed year -> amount carried back to its settlement

    @property
    def due_date(self) -> dt.date:
        return due_date(self.issue_date, self.terms)


def reason_problems(reason: str) -> None:
    """A credit note's reason is required and names no person (it is printed and sent)."""
    if not reason.strip():
        raise refuse("a credit note needs a reason (--reason)", key="reason", code="credit.no-reason")
    codes = personal_codes_in(reason)
    if codes:  # the reason is printed on the credit note and sent to the member
        raise refuse(f"the reason holds a personal identity code ({masked(codes[0])}); write it without one: credit "
                     "notes name no persons", key="reason", code="privacy.personal-code")


def plan_credit(session: Session, number: str, reason: str, issue_date: dt.date) -> CreditPlan:
    """Compute the credit note of invoice `number` without writing anything (the caller holds
    the billing lock). Refused: no such invoice, a credit note, an invoice credited already."""
    reason_problems(reason)
    invoice = queries.invoice_by_number(session, number)
    if invoice is None:
        raise refuse(f"no invoice numbered {number}", key="invoice", code="invoice.unknown")
    if invoice.kind is not DocumentKind.INVOICE:
        raise refuse(f"{number} is a credit note; only invoices are credited", key="invoice",
                     code="credit.of-credit-note")
    already = queries.credit_note_of(session, invoice.id)
    if already is not None:
        raise refuse(f"{number} is already credited by {already.number}", key="invoice", code="credit.twice")
    lines = queries.lines_of(session, [invoice.id])[invoice.id]
    note = credit_notes.correction(invoice.municipality, invoice.number, lines)
    from osuus.store.tables import AgreementVersion

    version = session.get(AgreementVersion, invoice.agreement_version_id) if invoice.agreement_version_id else None
    agreement = Agreements(session).of_year(version.year) if version else None
    terms = agreement.billing.payment_terms_days if agreement is not None and agreement.billing else DEFAULT_TERMS
    carried = credit_notes.carried_back(note.lines, queries.closed_years(session))
    return CreditPlan(invoice.id, invoice.number, reason, issue_date, note, invoice.municipality, invoice.host,
                      invoice.period, invoice.agreement_version_id, version.year if version else None, terms, carried)


def issue_credit(tx: Tx, plan: CreditPlan) -> tuple[InvoiceView, dict]:
    """Write the credit note of `plan`, numbered now, and the settlements it carries back to
    closed years. Returns the note and the details of its audit record."""
    session = tx.session
    note = _write(tx, plan.note, host=plan.host, period=plan.period, run_id=None, version_id=plan.version_id,
                  issue_date=plan.issue_date, terms=plan.terms, credited=plan.invoice_id, reason=plan.reason)
    for year, amount in plan.carried.items():
        year_end = queries.settlements_of(session, year, plan.municipality, SettlementKind.YEAR_END)
        actual = year_end[0].actual if year_end else ZERO
        billed = (year_end[0].billed if year_end else ZERO) - amount
        session.add(Settlement(year=year, municipality=plan.municipality, kind=SettlementKind.CREDIT,
                               actual=actual, billed=billed, difference=amount, credit_note_id=note.id,
                               credited_invoice_id=plan.invoice_id))
    details = {"credit_note": note.number, "total": str(note.total),
               "carried_to_settlement": {str(y): str(v) for y, v in plan.carried.items()}}
    session.flush()
    return views(session, [note])[0], details


def credit_content(plan: CreditPlan) -> dict:
    """The credit note as the approver reviews it, JSON-safe: what its hash covers."""
    return plain_json({"kind": "credit_note", "invoice": plan.number, "reason": plan.reason,
                       "issue_date": plan.issue_date.isoformat(), "due_date": plan.due_date.isoformat(),
                       "host": plan.host, "period": plan.period.code, "agreement_year": plan.agreement_year,
                       "total": str(plan.note.total),
                       "carried_to_settlement": {str(y): str(v) for y, v in sorted(plan.carried.items())},
                       "invoices": [_draft_data(plan.note)]})


# --------------------------------------------------------------------------
# drafts as data (a draft's content) and back
# --------------------------------------------------------------------------

def plain_json(value):
    """`value` as JSON holds it: decimals and dates as strings, tuples as lists."""
    return json.loads(canonical_json(value))


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _draft_data(draft: InvoiceDraft) -> dict:
    return {"municipality": draft.municipality, "kind": draft.kind.value, "total": str(draft.total),
            "settles": list(draft.settles),
            "lines": [_line_data(line, position) for position, line in enumerate(draft.lines, start=1)]}


def _line_data(line: Line, position: int) -> dict:
    data = {"position": position, "kind": line.kind.value, "component": line.component, "period": line.period.code,
            "quantity": str(line.quantity), "unit": line.unit, "unit_price": str(line.unit_price),
            "amount": str(line.amount), "reference": line.reference, "details": dict(line.details),
            "explanation": line.explanation.to_data() if line.explanation is not None else None}
    if line.issued_text is not None:
        data["issued_text"] = line.issued_text
    return data


def line_of_data(data: dict) -> Line:
    return Line(LineKind(data["kind"]), data["component"], Period.parse(data["period"]), Decimal(data["quantity"]),
                data["unit"], Decimal(data["unit_price"]), Decimal(data["amount"]), data.get("reference", ""),
                data.get("details") or {},
                Figure.from_data(data["explanation"]) if data.get("explanation") else None,
                data["position"], data.get("issued_text"))


def unnumbered_views(content: dict) -> tuple[InvoiceView, ...]:
    """A draft's documents as InvoiceViews without number or payment reference (not issued)."""
    issue = dt.date.fromisoformat(content["issue_date"])
    due = dt.date.fromisoformat(content["due_date"])
    period = Period.parse(content["period"])
    agreement = content.get("agreement")
    year = agreement[0] if agreement else content.get("agreement_year")
    credited = content.get("invoice", "") if content.get("kind") == "credit_note" else ""
    return tuple(InvoiceView("", DocumentKind(d["kind"]), d["municipality"], period, issue, due, "",
                             Decimal(d["total"]), tuple(line_of_data(x) for x in d["lines"]), year, credited,
                             None, "", content.get("reason", "") if credited else "")
                 for d in content["invoices"])


@dataclass(frozen=True)
class InvoicePage:
    """A page of a list of invoices and credit notes, and how many the whole list holds."""

    invoices: tuple[InvoiceView, ...]
    total: int


def invoice_page(ledger: Ledger, *, year: int | None = None, municipality: str | None = None,
                 period: Period | None = None, kind: DocumentKind | None = None, number: str | None = None,
                 offset: int = 0, limit: int | None = 50, explanations: bool = False,
                 lines: bool = True) -> InvoicePage:
    """The invoices and credit notes that match (`year`: of the invoice date; `municipality`: a
    code), in number order: `limit` of them (None: all) after the first `offset`, and how many
    match in all. Only the page's documents are read whole; their lines come without
    explanations unless asked for (`explanations`), as a list shows none; `lines` False: without
    their lines (the API's list is an index: each document's lines are at its own address)."""
    with ledger.read() as session:
        rows, total = queries.invoices_page(session, offset=offset, limit=limit, year=year, municipality=municipality,
                                            period=period, kind=kind, number=number)
        return InvoicePage(tuple(views(session, rows, explanations=explanations, lines=lines)), total)


def list_invoices(ledger: Ledger, *, year: int | None = None, municipality: str | None = None,
                  period: Period | None = None, number: str | None = None,
                  kind: DocumentKind | None = None, explanations: bool = True) -> list[InvoiceView]:
    """Every invoice and credit note that matches, in number order (`invoice_page` without pages)."""
    return list(invoice_page(ledger, year=year, municipality=municipality, period=period, kind=kind, number=number,
                             limit=None, explanations=explanations).invoices)


def municipality_code(ledger: Ledger, text: str, year: int | None = None) -> str:
    """A municipality's code from its code or any name it has had in a stored agreement."""
    with ledger.read() as session:
        return Agreements(session).code_of(text, year)


def names_by_year(ledger: Ledger) -> dict[int, dict[str, str]]:
    """Each stored year's municipality names by code (names are labels of a year)."""
    with ledger.read() as session:
        agreements = Agreements(session)
        return {y: {m.code: m.name for m in agreements.of_year(y).municipalities} for y in agreements.years()}


__all__ = ["AlreadyInvoiced", "CreditPlan", "InvoicePage", "RunPlan", "RunResult", "content_hash", "credit_content",
           "invoice_page", "issue_credit", "issue_run", "line_of_data", "list_invoices", "municipality_code", "names_by_year", "plan_credit",
           "plan_run", "reason_problems", "run_content", "unnumbered_views", "views", "Problem"]
