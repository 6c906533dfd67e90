"""Invoices, pure: a period's lines grouped into each member's invoice, and how invoices are numbered.

For each member the period's invoice holds its advance instalments, its service
events, travel and interpretation (osuus.billing.lines) and, once a year is
closed, that year's settlement; where the settlement would make the invoice
negative, the settlement comes as a credit note of its own instead. The host is
never invoiced: it bears the remainder.

Numbers run without gaps within the year of the issue date (`2021-00016`), each
invoice has a national payment reference made from that number, and payment is
due the agreement's number of days after the issue date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Mapping

from osuus.agreement.model import Agreement
from osuus.billing.kinds import DocumentKind, LineKind, SettlementKind
from osuus.billing.lines import EventSum, Line, advance_lines, event_lines
from osuus.calendar import Period
from osuus.engine import Allocation
from osuus.engine.trace import Figure, figure
from osuus.ids import viitenumero
from osuus.money import ZERO
from osuus.problems import Problem


@dataclass(frozen=True, slots=True)
class OpenSettlement:
    """A settlement of a closed year not yet carried to an invoice."""

    year: int
    kind: SettlementKind
    difference: Decimal  # > 0 the member pays more
    reference: str = ""  # the clause that settles the year (kohta 5)
    explanation: Figure | None = None
    credit_note: str = ""  # a `credit` settlement: the credit note that lowered the year's billing
    credited: str = ""  # … and the invoice it credited


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    municipality: str  # code
    kind: DocumentKind
    lines: tuple[Line, ...]
    settles: tuple[int, ...] = ()  # the closed years whose open settlements it carries

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class PeriodDrafts:
    period: Period
    invoices: tuple[InvoiceDraft, ...]
    problems: tuple[Problem, ...] = ()


def settlement_line(s: OpenSettlement) -> Line:
    details = {"year": s.year, "settlement": s.kind.value}
    if s.credit_note:
        details.update(credit_note=s.credit_note, credited=s.credited)
    explanation = s.explanation or figure("line.settlement", s.difference, (), s.reference, year=s.year)
    return Line(LineKind.SETTLEMENT, "", Period.whole_year(s.year), Decimal(1), "lot", s.difference, s.difference,
                s.reference, details, explanation)


def draft_period(
    period: Period,
    agreement_of_year: Callable[[int], Agreement | None],
    allocation: Allocation | None,
    sums: Iterable[EventSum],
    settlements: Mapping[str, list[OpenSettlement]] | None = None,
) -> PeriodDrafts:
    """Every member's invoice (and settlement credit note) for `period`."""
    agreement = agreement_of_year(period.year)
    lines: dict[str, list[Line]] = {}
    if agreement is not None and allocation is not None:
        for code, drafted in advance_lines(agreement, allocation, period).items():
            lines.setdefault(code, []).extend(drafted)
    events, problems = event_lines(sums, period, agreement_of_year)
    for code, drafted in events.items():
        lines.setdefault(code, []).extend(drafted)
    host_codes = {agreement.host} if agreement is not None else set()
    settlements = settlements or {}
    invoices: list[InvoiceDraft] = []
    for code in sorted(set(lines) | set(settlements)):
        if code in host_codes:
            continue
        regular = tuple(lines.get(code, ()))
        open_ = [s for s in settlements.get(code, ()) if s.difference]
        settle = tuple(settlement_line(s) for s in open_)
        years = tuple(sorted({s.year for s in settlements.get(code, ())}))
        combined = regular + settle
        if sum((line.amount for line in combined), ZERO) >= 0:
            if combined:
                invoices.append(InvoiceDraft(code, DocumentKind.INVOICE, combined, years))
            continue
        if regular:
            invoices.append(InvoiceDraft(code, DocumentKind.INVOICE, regular))
        invoices.append(InvoiceDraft(code, DocumentKind.CREDIT_NOTE, settle, years))
    return PeriodDrafts(period, tuple(invoices), tuple(problems))


# --------------------------------------------------------------------------
# numbers, references and due dates
# --------------------------------------------------------------------------

def invoice_number(year: int, sequence: int) -> str:
    """`2021-00016`: the year of the issue date and the sequence within it."""
    return f"{year:04d}-{sequence:05d}"


def payment_reference(year: int, sequence: int) -> str:
    """The national payment reference (viitenumero) of invoice year / sequence."""
    return viitenumero.from_invoice_number(year, sequence)


def due_date(issue_date: dt.date, terms_days: int) -> dt.date:
    return issue_date + dt.timedelta(days=terms_days)
