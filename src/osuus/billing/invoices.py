"""Invoices, pure: a period's lines grouped into each member's invoice, and how invoices are numbered.

For each member the period's invoice holds its advance instalments, its service
events, travel and interpretation (osuus.billing.lines) and, once a year is
closed, that year's settlement; where the settlement would make the invoice
negative, the settlement comes as a credit note of its own instead, and a
settlement too small to send alone (the agreement's `settlement_minimum`) waits
for a later invoice. The host is never invoiced: it bears the remainder.

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
from osuus.billing.lines import AdvanceBasis, EventSum, Line, advance_lines, event_lines
from osuus.calendar import Period
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
    advances: Iterable[AdvanceBasis],
    sums: Iterable[EventSum],
    settlements: Mapping[str, list[OpenSettlement]] | None = None,
    *,
    host: str,
    billed_advances: Mapping[tuple[str, str], Decimal] | None = None,
    settlement_minimum: Decimal | None = None,
) -> PeriodDrafts:
    """Every member's invoice (and settlement credit note) for `period`.

    `advances`: the yearly payments the period's advance instalments are made from
    (osuus.billing.lines.agreement_bases, or the bases of a year without its agreement);
    `billed_advances`: what the year's earlier periods billed of them. A member's open
    settlements are carried on its invoice; one that would stand alone on a document (no
    other line, or a credit bigger than the invoice) and is smaller than
    `settlement_minimum` stays open for a later invoice."""
    lines: dict[str, list[Line]] = {}
    for code, drafted in advance_lines(advances, period, billed_advances).items():
        lines.setdefault(code, []).extend(drafted)
    events, problems = event_lines(sums, period, agreement_of_year)
    for code, drafted in events.items():
        lines.setdefault(code, []).extend(drafted)
    settlements = settlements or {}
    invoices: list[InvoiceDraft] = []
    for code in sorted(set(lines) | set(settlements)):
        if code == host:
            continue
        regular = tuple(lines.get(code, ()))
        open_ = [s for s in settlements.get(code, ()) if s.difference]
        settle = tuple(settlement_line(s) for s in open_)
        years = tuple(sorted({s.year for s in settlements.get(code, ())}))
        settled = sum((line.amount for line in settle), ZERO)
        combined = regular + settle
        alone = not regular or sum((line.amount for line in combined), ZERO) < 0
        if alone and settle and settlement_minimum is not None and abs(settled) < settlement_minimum:
            combined, settle, years = regular, (), ()  # too small to send alone: carried to a later invoice
        if sum((line.amount for line in combined), ZERO) >= 0:
            if combined:
                invoices.append(InvoiceDraft(code, DocumentKind.INVOICE, combined, years))
        elif settle and sum((line.amount for line in regular), ZERO) >= 0:
            if regular:
                invoices.append(InvoiceDraft(code, DocumentKind.INVOICE, regular))
            invoices.append(InvoiceDraft(code, DocumentKind.CREDIT_NOTE, settle, years))
        else:  # the period's own lines are a net credit (advances billed beyond a lowered payment)
            invoices.append(InvoiceDraft(code, DocumentKind.CREDIT_NOTE, combined, years))
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


def issue_date_problems(period: Period, issue_date: dt.date) -> list[Problem]:
    """An invoice is dated after its period has ended (events are billed afterwards), in the
    period's year or the next."""
    problems = []
    if issue_date <= period.end:
        problems.append(Problem(f"the invoice date {issue_date.isoformat()} is not after the period {period.code}, "
                                f"which ends on {period.end.isoformat()}: a period is invoiced once it has ended",
                                key="--date", value=issue_date.isoformat(), code="invoice.date-early"))
    elif issue_date.year > period.year + 1:
        problems.append(Problem(f"the invoice date {issue_date.isoformat()} is not in {period.year} or "
                                f"{period.year + 1}: a period is invoiced in its own year or early in the next",
                                key="--date", value=issue_date.isoformat(), code="invoice.date-late"))
    return problems


def missing_before(period: Period, invoiced: Iterable[Period]) -> list[Period]:
    """The periods of `period`'s year before it that have not been invoiced."""
    done = set(invoiced)
    return [p for p in period.previous_in_year() if p not in done]


def due_date(issue_date: dt.date, terms_days: int) -> dt.date:
    return issue_date + dt.timedelta(days=terms_days)
