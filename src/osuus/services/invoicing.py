"""Invoicing: a period's invoice run, a credit note, and the invoices as they were issued.

`run_period` invoices a period once: every member's advance instalments, its
unbilled service events up to the period's end, travel and interpretation, and
the open settlements of closed years (osuus.billing). A second run of the same
period finds the first and writes nothing. `credit_invoice` credits an invoice
whole; an invoice itself is never changed. Each is one transaction with one
audit record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
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
from osuus.billing.lines import AdvanceBasis, agreement_bases
from osuus.billing.kinds import DocumentKind, SettlementKind
from osuus.calendar import Period
from osuus.engine import allocate
from osuus.engine.trace import Figure, given
from osuus.money import ZERO
from osuus.privacy import masked, personal_codes_in
from osuus.problems import Problem, ProblemsError, refuse
from osuus.services.agreements import Agreements
from osuus.services.audit import Checkpoint, checkpoint
from osuus.services.estimates import estimates_in
from osuus.services.ledger import Ledger, Tx, fault_point, now
from osuus.services.views import InvoiceView
from osuus.store import queries
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


def views(session: Session, invoices: Iterable[Invoice]) -> list[InvoiceView]:
    """The issued documents as values: lines as structure, numbers instead of ids."""
    invoices = list(invoices)
    lines = queries.lines_of(session, [i.id for i in invoices])
    numbers = queries.invoice_numbers(session, [i.credited_invoice_id for i in invoices])
    credited_by = queries.credit_note_numbers(session, [i.id for i in invoices if i.kind is DocumentKind.INVOICE])
    credited_dates = {i.credited_invoice_id: session.get(Invoice, i.credited_invoice_id).issue_date
                      for i in invoices if i.credited_invoice_id}
    versions: dict[int, int] = {}
    out = []
    for i in invoices:
        year = None
        if i.agreement_version_id is not None:
            if i.agreement_version_id not in versions:
                from osuus.store.tables import AgreementVersion

                versions[i.agreement_version_id] = session.get(AgreementVersion, i.agreement_version_id).year
            year = versions[i.agreement_version_id]
        out.append(InvoiceView(
            i.number, i.kind, i.municipality, i.period, i.issue_date, i.due_date, i.reference, i.total,
            tuple(lines.get(i.id, ())), year, numbers.get(i.credited_invoice_id, ""),
            credited_dates.get(i.credited_invoice_id), credited_by.get(i.id, ""), i.reason or ""))
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


def run_period(ledger: Ledger, period: Period, issue_date: dt.date, *, allow_gap: bool = False) -> RunResult:
    """Invoice a period once. A second run of the same period finds the first and writes nothing.

    The invoice date must fall after the period and in its year or the next; an earlier period
    of the year still uninvoiced refuses the run unless `allow_gap` says it is intended (the
    audit record names the periods passed over). The result carries the audit log's head once
    the run is committed (the checkpoint to keep elsewhere)."""
    result = _run_period(ledger, period, issue_date, allow_gap)
    return dataclasses.replace(result, checkpoint=checkpoint(ledger))


def _run_period(ledger: Ledger, period: Period, issue_date: dt.date, allow_gap: bool) -> RunResult:
    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
        existing = queries.run_of(session, period)
        if existing is not None:
            return RunResult(period, False, existing.run_at, tuple(views(session, queries.invoices_of_run(
                session, existing.id))))
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
        host = base.host
        terms = base.billing.payment_terms_days if base.billing else DEFAULT_TERMS
        # what this run bills: the events up to the period's end stored by now (imports take the same
        # lock, so no event can be stored between the sums above and this)
        run = InvoiceRun(period=period, period_end=period.end, max_event_id=queries.max_event_id(session),
                         agreement_version_id=version.id if version else None, issue_date=issue_date, run_at=now(),
                         run_by=tx.actor)
        session.add(run)
        session.flush()
        invoices = []
        for n, draft in enumerate(drafts.invoices):
            if n == len(drafts.invoices) // 2:
                fault_point("invoice.run.middle")
            invoice = _write(tx, draft, host=host, period=period, run_id=run.id,
                             version_id=version.id if version else None, issue_date=issue_date, terms=terms)
            invoices.append(invoice)
            for row, _open in open_rows.get(draft.municipality, ()):
                if row.year in draft.settles:
                    row.carried_invoice_id = invoice.id
        billed = sum(s.events for s in sums)
        details = {"invoices": [i.number for i in invoices], "events": billed,
                   "total": str(sum((i.total for i in invoices), ZERO)), "issue_date": issue_date.isoformat()}
        if skipped:
            details["allowed_gap"] = [p.code for p in skipped]
        if agreement is None and bases:
            details["advances_by"] = base.billing.without_agreement.advances
        tx.audit("invoice.run", period.code, details)
        session.flush()
        return RunResult(period, True, run.run_at, tuple(views(session, invoices)), billed)


def credit_invoice(ledger: Ledger, number: str, reason: str, issue_date: dt.date) -> InvoiceView:
    """A credit note for the whole of an invoice. The invoice itself is never changed."""
    if not reason.strip():
        raise refuse("a credit note needs a reason (--reason)", key="reason", code="credit.no-reason")
    codes = personal_codes_in(reason)
    if codes:  # the reason is printed on the credit note and sent to the member
        raise refuse(f"the reason holds a personal identity code ({masked(codes[0])}); write it without one: credit "
                     "notes name no persons", key="reason", code="privacy.personal-code")
    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
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
        draft = credit_notes.correction(invoice.municipality, invoice.number, lines)
        agreements = Agreements(session)
        from osuus.store.tables import AgreementVersion

        version = session.get(AgreementVersion, invoice.agreement_version_id) if invoice.agreement_version_id else None
        agreement = agreements.of_year(version.year) if version else None
        terms = agreement.billing.payment_terms_days if agreement is not None and agreement.billing else DEFAULT_TERMS
        note = _write(tx, draft, host=invoice.host, period=invoice.period, run_id=None,
                      version_id=invoice.agreement_version_id, issue_date=issue_date, terms=terms,
                      credited=invoice.id, reason=reason)
        carried = credit_notes.carried_back(draft.lines, queries.closed_years(session))
        for year, amount in carried.items():
            year_end = queries.settlements_of(session, year, invoice.municipality, SettlementKind.YEAR_END)
            actual = year_end[0].actual if year_end else ZERO
            billed = (year_end[0].billed if year_end else ZERO) - amount
            session.add(Settlement(year=year, municipality=invoice.municipality, kind=SettlementKind.CREDIT,
                                   actual=actual, billed=billed, difference=amount, credit_note_id=note.id,
                                   credited_invoice_id=invoice.id))
        tx.audit("invoice.credit", number, {"credit_note": note.number, "total": str(note.total),
                                            "carried_to_settlement": {str(y): str(v) for y, v in carried.items()}},
                 reason=reason)
        session.flush()
        return views(session, [note])[0]


def list_invoices(ledger: Ledger, *, year: int | None = None, municipality: str | None = None,
                  period: Period | None = None, number: str | None = None,
                  kind: DocumentKind | None = None) -> list[InvoiceView]:
    with ledger.read() as session:
        return views(session, queries.invoices_where(session, year=year, municipality=municipality, period=period,
                                                     number=number, kind=kind))


def municipality_code(ledger: Ledger, text: str, year: int | None = None) -> str:
    """A municipality's code from its code or any name it has had in a stored agreement."""
    with ledger.read() as session:
        return Agreements(session).code_of(text, year)


def names_by_year(ledger: Ledger) -> dict[int, dict[str, str]]:
    """Each stored year's municipality names by code (names are labels of a year)."""
    with ledger.read() as session:
        agreements = Agreements(session)
        return {y: {m.code: m.name for m in agreements.of_year(y).municipalities} for y in agreements.years()}


__all__ = ["RunResult", "credit_invoice", "list_invoices", "municipality_code", "names_by_year", "run_period",
           "views", "Problem"]
