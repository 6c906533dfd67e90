"""Invoice lines, pure: what a member is billed for a period, each line with its explanation.

A line is structure, never a sentence: its kind, the component (or table) it
bills, the period the services were delivered in, quantity × unit price =
amount, the clause of the price, a few facts that name it (`details`: which
instalment, how many events) and its `explanation`, a figure tree down to the
allocation or the agreed price. The words are made when a document is rendered,
in the reader's language (osuus.render.lines).

- advance: an equal instalment of the member's yearly payment of an advance
  table, in cents; the year's last instalment takes the cents left over, so the
  year adds up exactly to the invoiced yearly payment. The payment is the year's
  agreement's or, until that is stored, what the agreement before it says
  (`[billing.without_agreement]`: the last agreement's payment, or the year's
  estimate). When the payment in force changes during the year (the agreement
  arrives, a revision is stored) or a credit note took an instalment back, the
  rest of the year is recomputed: what is still unbilled, spread over the
  instalments left, so the year still adds up exactly to the payment in force;
- event: the service events of a month at the agreed prices, billed afterwards
  (events of an earlier period that arrived late are billed like the others; a
  document marks them late by their period);
- travel: per diem and mileage of on-site work at the year's rates;
- interpretation: at cost.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from osuus.agreement.model import Agreement
from osuus.billing.kinds import LineKind
from osuus.billing.pricing import event_price
from osuus.calendar import Period
from osuus.engine import Allocation
from osuus.engine.trace import COUNT, Figure, Num, figure, given
from osuus.money import CENT, CONTEXT, ZERO, round_to
from osuus.problems import Problem


@dataclass(frozen=True, slots=True)
class EventSum:
    """Unbilled service events of one member, summed in SQL by component, month and tier."""

    municipality: str  # code
    component: str
    year: int
    month: int
    integration_year: int | None
    quantity: Decimal
    travel_days: Decimal
    km: Decimal
    interpretation: Decimal
    events: int


@dataclass(frozen=True, slots=True)
class Line:
    """A line of an invoice or a credit note: drafted here, issued by the ledger."""

    kind: LineKind
    component: str  # the component billed; for an advance, the table
    period: Period  # when the services were delivered (an advance: the billing period; a settlement: its year)
    quantity: Decimal
    unit: str  # a unit id (`hour`, `day`, `km`, `instalment`) or the agreement's own word
    unit_price: Decimal
    amount: Decimal
    reference: str = ""  # the clause the price comes from
    details: Mapping[str, Any] = field(default_factory=dict)
    explanation: Figure | None = None
    position: int = 0  # on an issued document: its line number
    issued_text: str | None = None  # a line issued before lines were structure keeps the words it was sent with


def instalment(yearly: Decimal, index: int, count: int) -> Decimal:
    """The `index`-th of `count` equal instalments of `yearly`, in cents; the last takes the rest."""
    with decimal.localcontext(CONTEXT):
        base = round_to(yearly / count, CENT, "down")
        return yearly - base * (count - 1) if index == count else base


def instalment_figure(yearly: Figure, index: int, count: int, **params: Any) -> Figure:
    """The instalment with how it was made: yearly / count, cut to the cent; the last takes the rest."""
    amount = instalment(yearly.value, index, count)
    with decimal.localcontext(CONTEXT):
        base = round_to(yearly.value / count, CENT, "down")
    if index == count:
        expr = (Num(yearly.value), " − ", Num(Decimal(count - 1), COUNT), " × ", Num(base))
        rule = "instalment.last"
    else:
        expr = (Num(yearly.value), " / ", Num(Decimal(count), COUNT))
        rule = "instalment"
    return figure("line.advance", amount, expr, "", (yearly,), rule=rule, index=index, count=count, **params)


def _cents(value: Decimal) -> Decimal:
    return round_to(value, CENT, "half_up")


class AdvanceBasis(NamedTuple):
    """The yearly payment a member's advances of one table are invoiced by, and where it comes from."""

    municipality: str  # code
    table: str
    yearly: Figure  # the payment, with how it was made
    reference: str  # the clause the advances rest on
    source: str = "agreement"  # "agreement" (the year's own) | "last_agreement" | "estimate"
    source_year: int | None = None  # the year of the agreement or estimate it comes from


def agreement_bases(agreement: Agreement, allocation: Allocation, *, source: str = "agreement",
                    reference: str | None = None) -> list[AdvanceBasis]:
    """The members' yearly payments of the agreement's advance tables."""
    out: list[AdvanceBasis] = []
    if agreement.billing is None:
        return out
    for table_id in agreement.billing.advance_tables:
        table = allocation.table(table_id)
        clause = reference if reference is not None else table.table.reference or agreement.reference
        for row in table.rows:
            if row.municipality != agreement.host:
                out.append(AdvanceBasis(row.municipality, table_id, row.chain(), clause, source, agreement.year))
    return out


def recomputed_instalment_figure(yearly: Figure, index: int, count: int, billed: Decimal, **params: Any) -> Figure:
    """Instalment `index` of `count` when `billed` has been invoiced so far: what is still unbilled,
    spread over the instalments left (up to the cent; the last is what is left)."""
    left = count - index + 1
    remaining = yearly.value - billed
    billed_figure = given("advance.billed", billed, "", before=index - 1, **params)
    rest = figure("advance.remaining", remaining, (Num(yearly.value), " − ", Num(billed)), "",
                  (yearly, billed_figure), **params)
    if left == 1:
        return figure("line.advance", remaining, (Num(remaining),), "", (rest,), rule="instalment.recomputed.last",
                      index=index, count=count, **params)
    with decimal.localcontext(CONTEXT):
        # up to the cent (away from zero): the spare cents go first, so each month's recomputation
        # keeps the same schedule (10,56 € six times, then 10,55 €), and the last ends on the payment
        amount = round_to(remaining / left, CENT, "up")
    return figure("line.advance", amount, (Num(remaining), " / ", Num(Decimal(left), COUNT)), "", (rest,),
                  rule="instalment.recomputed", index=index, count=count, **params)


def advance_lines(bases: Iterable[AdvanceBasis], period: Period,
                  billed: Mapping[tuple[str, str], Decimal] | None = None) -> dict[str, list[Line]]:
    """Each member's advance instalment of every basis, for `period`. `billed`: the advances of
    the year invoiced before `period`, net of credit notes, by (member, table). An instalment
    follows the equal schedule of its payment while what was billed matches that schedule, and
    is recomputed from what is left when it does not."""
    billed = billed or {}
    out: dict[str, list[Line]] = {}
    for basis in bases:
        yearly = basis.yearly
        so_far = billed.get((basis.municipality, basis.table), ZERO)
        on_schedule = so_far == sum((instalment(yearly.value, i, period.count) for i in range(1, period.index)), ZERO)
        details: dict[str, Any] = {"table": basis.table, "index": period.index, "count": period.count,
                                   "yearly": str(yearly.value)}
        if basis.source != "agreement":
            details.update(basis=basis.source, basis_year=basis.source_year)
        if on_schedule:
            explanation = instalment_figure(yearly, period.index, period.count, table=basis.table)
        else:
            explanation = recomputed_instalment_figure(yearly, period.index, period.count, so_far, table=basis.table)
            details.update(billed=str(so_far), left=period.count - period.index + 1)
        amount = explanation.value
        out.setdefault(basis.municipality, []).append(Line(
            LineKind.ADVANCE, basis.table, period, Decimal(1), "instalment", amount, amount, basis.reference,
            details, explanation))
    return out


def event_lines(sums: Iterable[EventSum], period: Period,
                agreement_of_year: Callable[[int], Agreement | None]) -> tuple[dict[str, list[Line]], list[Problem]]:
    """Service events, travel and interpretation of every member, priced by the agreement of
    the events' year. The host's own residents are produced, not invoiced."""
    problems: list[Problem] = []
    out: dict[str, list[Line]] = {}
    for s in sorted(sums, key=lambda s: (s.municipality, s.year, s.month, s.component, s.integration_year or 0)):
        agreement = agreement_of_year(s.year)
        if agreement is None:
            problems.append(Problem(f"no agreement for {s.year} is stored: {s.events} events of municipality "
                                    f"{s.municipality} cannot be priced", key=f"events.{s.year}",
                                    code="invoice.no-agreement"))
            continue
        if agreement.host == s.municipality:
            continue
        delivered = Period.of(dt.date(s.year, s.month, 1), period.kind)
        lines = out.setdefault(s.municipality, [])
        if s.quantity:
            price = event_price(agreement, s.component, s.integration_year)
            if price is None:
                problems.append(Problem(f"no event price for '{s.component}' in the {s.year} agreement "
                                        f"({s.events} events of {s.municipality})",
                                        key=f"billing.events.{s.component}", code="invoice.no-price"))
                continue
            unit = agreement.billing.events[s.component].unit
            amount = _cents(s.quantity * price.value)
            explanation = figure(
                "line.event", amount, (Num(s.quantity, COUNT), " × ", Num(price.value)), price.reference,
                (given("line.quantity", s.quantity, "", COUNT, component=s.component, events=s.events,
                       period=delivered.code), price.figure(s.component)),
                rule="cents", component=s.component)
            details = {"events": s.events}
            if s.integration_year is not None:
                details["integration_year"] = s.integration_year
            lines.append(Line(LineKind.EVENT, s.component, delivered, s.quantity, unit, price.value, amount,
                                   price.reference, details, explanation))
        travel = agreement.billing.travel if agreement.billing else None
        if (s.travel_days or s.km) and travel is None:
            problems.append(Problem(f"events of {s.municipality} have travel costs but the {s.year} agreement states "
                                    "no travel rates", key="billing.travel", code="invoice.no-travel-rates"))
        elif travel is not None:
            for item, quantity, rate, unit in (("per_diem", s.travel_days, travel.per_diem, "day"),
                                               ("km", s.km, travel.km_rate, "km")):
                if not quantity:
                    continue
                amount = _cents(quantity * rate.value)
                explanation = figure(f"line.{item}", amount, (Num(quantity, COUNT), " × ", Num(rate.value)),
                                     rate.reference, (), rule="cents", component=s.component)
                lines.append(Line(LineKind.TRAVEL, s.component, delivered, quantity, unit, rate.value, amount,
                                       rate.reference, {"item": item}, explanation))
        if s.interpretation:
            reference = agreement.billing.interpretation_reference if agreement.billing else ""
            explanation = given("line.interpretation", s.interpretation, reference, component=s.component)
            lines.append(Line(LineKind.INTERPRETATION, s.component, delivered, Decimal(1), "lot",
                                   s.interpretation, s.interpretation, reference, {}, explanation))
    return {code: lines for code, lines in out.items() if lines}, problems
