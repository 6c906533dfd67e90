"""Why any billed figure is what it is: an invoice line, a settlement, an estimate.

Every line is issued with its explanation (a figure tree down to the
allocation, the agreed price and the clause); a settlement is stored with
actual share − billed explained; an estimate with its parts explained. These
use cases find them; osuus.render.explain puts them into words.
"""

from __future__ import annotations

from dataclasses import dataclass

from osuus.agreement.model import Agreement
from osuus.billing.kinds import SettlementKind
from osuus.billing.lines import Line
from osuus.engine.trace import Figure, given
from osuus.problems import refuse
from osuus.services.agreements import Agreements
from osuus.services.estimates import StoredEstimate, estimates_in
from osuus.services.invoicing import views
from osuus.services.ledger import Ledger
from osuus.services.views import InvoiceView
from osuus.store import queries


@dataclass(frozen=True)
class InvoiceExplanation:
    invoice: InvoiceView
    agreement: Agreement | None
    lines: tuple[tuple[Line, Figure], ...]  # the lines asked for, each with its explanation


@dataclass(frozen=True)
class SettlementExplanation:
    year: int
    municipality: str
    agreement: Agreement
    figures: tuple[Figure, ...]  # the year-end settlement, and any credit carried back
    documents: tuple[tuple[str, object], ...]  # (number, amount) of the documents that carry it


@dataclass(frozen=True)
class EstimateExplanation:
    year: int
    municipality: str
    agreement: Agreement
    estimate: StoredEstimate
    figure: Figure


def _line_figure(line: Line) -> Figure:
    """A line's explanation; a line issued before lines were explained says only what it was."""
    if line.explanation is not None:
        return line.explanation
    return given("line.issued", line.amount, line.reference, text=line.issued_text or "")


def explain_invoice(ledger: Ledger, number: str, line: int | None = None) -> InvoiceExplanation:
    with ledger.read() as session:
        found = queries.invoice_by_number(session, number)
        if found is None:
            raise refuse(f"no invoice numbered {number}", key="invoice", code="invoice.unknown")
        invoice = views(session, [found])[0]
        agreements = Agreements(session)
        agreement = (agreements.of_year(invoice.agreement_year) if invoice.agreement_year is not None
                     else agreements.for_year_or_before(invoice.period.year))
    lines = invoice.lines
    if line is not None:
        lines = tuple(x for x in lines if x.position == line)
        if not lines:
            raise refuse(f"{number} has lines 1–{len(invoice.lines)}, not {line}", key="--line",
                         code="invoice.unknown-line")
    return InvoiceExplanation(invoice, agreement, tuple((x, _line_figure(x)) for x in lines))


def explain_settlement(ledger: Ledger, year: int, code: str) -> SettlementExplanation:
    with ledger.read() as session:
        agreements = Agreements(session)
        agreement = agreements.of_year(year)
        if agreement is None:
            raise refuse(f"no agreement for {year} is stored", code="report.no-agreement")
        settlements = queries.settlements_of(session, year, code)
        if not settlements:
            raise refuse(f"{year} is not closed: its settlements are made by `osuus close-year {year}`",
                         key="year", code="settlement.not-closed")
        numbers = queries.invoice_numbers(session, [s.credit_note_id for s in settlements] +
                                          [s.credited_invoice_id for s in settlements])
        figures = []
        for s in settlements:
            if s.explanation:
                figures.append(Figure.from_data(s.explanation))
            elif s.kind is SettlementKind.CREDIT:
                figures.append(given("settlement.credit", s.difference, "", year=year,
                                     credit_note=numbers.get(s.credit_note_id, ""),
                                     credited=numbers.get(s.credited_invoice_id, "")))
            else:
                figures.append(given("settlement.issued", s.difference, "", year=year, text=s.issued_text or ""))
        documents = tuple(queries.settlement_lines(session, year, code))
    return SettlementExplanation(year, code, agreement, tuple(figures), documents)


def explain_estimate(ledger: Ledger, year: int, code: str) -> EstimateExplanation:
    with ledger.read() as session:
        estimates = estimates_in(session, year, code)
        if not estimates:
            raise refuse(f"no estimate for {year} of municipality {code} is stored: run `osuus estimate {year}` first",
                         code="estimate.missing")
        agreements = Agreements(session)
        agreement = agreements.for_year_or_before(year)
    estimate = estimates[0]
    if estimate.explanation is not None:
        figure = estimate.explanation
    elif estimate.issued_basis:  # made before bases were structure: its words, as they were given
        figure = given("estimate.issued", estimate.amount, "", municipality=code, year=year, text=estimate.issued_basis)
    else:
        figure = given("estimate.total", estimate.amount, "", municipality=code, year=year)
    return EstimateExplanation(year, code, agreement, estimate, figure)
