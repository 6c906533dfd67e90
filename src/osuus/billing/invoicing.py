"""Draft a period's invoices: pure, from the agreement, its allocation and event sums.

For each member municipality an invoice holds
- the advance instalment of its share of each advance table (equal instalments
  in cents; the year's last instalment takes the cents left over, so the year
  adds up exactly to the invoiced yearly payment);
- the period's service events priced at the agreement's prices (billed afterwards);
- events of earlier periods that arrived late, as marked adjustment lines;
- travel costs of on-site work (per diem and mileage at the year's rates) and
  interpretation at cost;
- after a year is closed, its settlement (tasaus) on the first invoice; where
  that would make the invoice negative the settlement becomes a credit note.
The host is never invoiced: it bears the remainder.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Mapping

from osuus.agreement.model import Agreement
from osuus.billing.periods import Period, period_of
from osuus.engine import Allocation
from osuus.money import CENT, CONTEXT, ZERO, fmt_count, fmt_money, round_to
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
class LineDraft:
    kind: str  # advance | event | adjustment | travel | interpretation | settlement
    component: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    events_period: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    municipality: str  # code
    kind: str  # invoice | credit_note
    lines: tuple[LineDraft, ...]
    settles_year: int | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class PeriodDrafts:
    period: Period
    invoices: tuple[InvoiceDraft, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def instalment(yearly: Decimal, index: int, count: int) -> Decimal:
    """The `index`-th of `count` equal instalments of `yearly`, in cents; the last takes the rest."""
    with decimal.localcontext(CONTEXT):
        base = round_to(yearly / count, CENT, "down")
        return yearly - base * (count - 1) if index == count else base


def _cents(value: Decimal) -> Decimal:
    return round_to(value, CENT, "half_up")


def draft_period(
    period: Period,
    agreement_of_year: Callable[[int], Agreement | None],
    allocation: Allocation | None,
    sums: Iterable[EventSum],
    settlements: Mapping[str, list[tuple[int, Decimal, str]]] | None = None,
) -> PeriodDrafts:
    """Every member's invoice (and settlement credit note) for `period`."""
    problems: list[Problem] = []
    lines: dict[str, list[LineDraft]] = {}
    agreement = agreement_of_year(period.year)
    host_codes = {agreement.host_municipality.code} if agreement is not None else set()

    # 1. advance instalments of the current year's advance tables
    if agreement is not None and allocation is not None and agreement.billing is not None:
        for table_id in agreement.billing.advance_tables:
            table = allocation.table(table_id)
            for row in table.rows:
                if row.municipality == agreement.host:
                    continue
                code = agreement.municipality(row.municipality).code
                amount = instalment(row.invoiced.value, period.index, period.count)
                title = f"{table.table.title} ({table.table.caption})" if table.table.caption else table.table.title
                lines.setdefault(code, []).append(LineDraft(
                    "advance", table_id,
                    f"{title}: ennakko {period.index}/{period.count}, vuosiosuus {fmt_money(row.invoiced.value)}",
                    Decimal(1), "erä", amount, amount, period.code, table.table.reference or agreement.reference))

    # 2. service events, travel and interpretation, by the agreement of the events' year
    by_member: dict[str, list[EventSum]] = {}
    for s in sums:
        by_member.setdefault(s.municipality, []).append(s)
    for code, member_sums in sorted(by_member.items()):
        for s in sorted(member_sums, key=lambda s: (s.year, s.month, s.component, s.integration_year or 0)):
            year_agreement = agreement_of_year(s.year)
            if year_agreement is None:
                problems.append(Problem(f"no agreement for {s.year} is stored: {s.events} events of municipality "
                                        f"{code} cannot be priced", key=f"events.{s.year}"))
                continue
            if year_agreement.host_municipality.code == code:
                continue  # the host's own residents: produced, not invoiced
            events_period = period_of(dt.date(s.year, s.month, 1), period.kind)
            late = events_period < period
            prefix = f"Jälkikirjaus ({events_period.label}): " if late else ""
            kind = "adjustment" if late else "event"
            if s.quantity:
                priced = year_agreement.event_price(s.component, s.integration_year)
                if priced is None:
                    problems.append(Problem(f"no event price for '{s.component}' in the {s.year} agreement "
                                            f"({s.events} events of {code})", key=f"billing.events.{s.component}"))
                    continue
                price, reference = priced
                pricing = year_agreement.billing.events[s.component]
                label = year_agreement.components[s.component].label
                tier = f", {s.integration_year}. kotoutumisvuosi" if s.integration_year else ""
                lines.setdefault(code, []).append(LineDraft(
                    kind, s.component,
                    f"{prefix}{label}{tier}: {fmt_count(s.quantity)} {pricing.unit} × {fmt_money(price)} "
                    f"({s.events} tapahtumaa)",
                    s.quantity, pricing.unit, price, _cents(s.quantity * price), events_period.code, reference))
            travel = year_agreement.billing.travel if year_agreement.billing else None
            if (s.travel_days or s.km) and travel is None:
                problems.append(Problem(f"events of {code} have travel costs but the {s.year} agreement states no "
                                        "travel rates", key="billing.travel"))
            elif travel is not None:
                if s.travel_days:
                    lines.setdefault(code, []).append(LineDraft(
                        "travel", s.component,
                        f"{prefix}Päivärahat, {year_agreement.components[s.component].label}: "
                        f"{fmt_count(s.travel_days)} pv × {fmt_money(travel.per_diem.value)}",
                        s.travel_days, "pv", travel.per_diem.value, _cents(s.travel_days * travel.per_diem.value),
                        events_period.code, travel.per_diem.reference))
                if s.km:
                    lines.setdefault(code, []).append(LineDraft(
                        "travel", s.component,
                        f"{prefix}Kilometrikorvaukset, {year_agreement.components[s.component].label}: "
                        f"{fmt_count(s.km)} km × {fmt_money(travel.km_rate.value)}",
                        s.km, "km", travel.km_rate.value, _cents(s.km * travel.km_rate.value),
                        events_period.code, travel.km_rate.reference))
            if s.interpretation:
                ref = year_agreement.billing.interpretation_reference if year_agreement.billing else ""
                lines.setdefault(code, []).append(LineDraft(
                    "interpretation", s.component,
                    f"{prefix}Tulkkaus toteutuneen mukaan, {year_agreement.components[s.component].label}",
                    Decimal(1), "erä", s.interpretation, s.interpretation, events_period.code, ref))

    # 3. invoices, with settlements of closed years
    invoices: list[InvoiceDraft] = []
    settlements = settlements or {}
    for code in sorted(set(lines) | set(settlements)):
        if code in host_codes:
            continue
        regular = tuple(lines.get(code, ()))
        settle = tuple(
            LineDraft("settlement", "", f"{note or f'Vuoden {year} tasaus'} ({'lisälasku' if diff > 0 else 'hyvitys'})",
                      Decimal(1), "erä", diff, diff, str(year),
                      "Kohta 5: laskutus tasataan kuntien kesken seuraavan vuoden ensimmäisessä laskussa")
            for year, diff, note in settlements.get(code, ()) if diff)
        settles_year = max((y for y, _, _ in settlements.get(code, ())), default=None)
        combined = regular + settle
        if sum((line.amount for line in combined), ZERO) >= 0:
            if combined:
                invoices.append(InvoiceDraft(code, "invoice", combined, settles_year))
            continue
        if regular:
            invoices.append(InvoiceDraft(code, "invoice", regular))
        invoices.append(InvoiceDraft(code, "credit_note", settle, settles_year))
    return PeriodDrafts(period, tuple(invoices), tuple(problems))
