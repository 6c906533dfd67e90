"""Close a year: actual costs → confirmed prices and actual shares → settlement.

After the year, the appendix says, the actual total costs are computed, the
unit prices confirmed, and the difference settled on the next year's first
invoice (kohta 5). Here:
- a pool's actual shared amount is (actual cost − external funding) plus its
  overhead, divided by the agreement's key; reductions apply as agreed;
- an event-billed service's confirmed price is its agreed price scaled by
  (actual cost − funding) / (volume produced × agreed price), the volume of all
  municipalities, the host included; a member's actual share is its volume at
  the confirmed price. Without an actual cost the agreed price stands;
- each member's settlement is actual share − billed (advance instalments and
  events of the year; travel and interpretation are billed at cost and have
  nothing to settle).
Every figure carries its explanation, down to the costs, volumes and prices.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from osuus.agreement.model import Agreement, PoolComponent, Sourced, frozen_map
from osuus.billing.pricing import Volumes, event_price, priced
from osuus.engine import Allocation, allocate
from osuus.engine.trace import FACTOR, Figure, Num, figure, given, sum_expr
from osuus.money import CENT, CONTEXT, ZERO, round_to
from osuus.problems import Problem


@dataclass(frozen=True, slots=True)
class ActualCost:
    cost: Decimal | None = None
    funding: Decimal = ZERO

    @property
    def net(self) -> Decimal | None:
        return None if self.cost is None else self.cost - self.funding

    def figure(self, component: str, year: int) -> Figure:
        """(actual cost − funding) of a component, explained."""
        cost = given("actual.cost", self.cost or ZERO, "", component=component, year=year)
        if not self.funding:
            return cost
        funding = given("actual.funding", self.funding, "", component=component, year=year)
        return figure("actual.net", self.net or ZERO, (Num(cost.value), " − ", Num(self.funding)), "",
                      (cost, funding), component=component, year=year)


@dataclass(frozen=True, slots=True)
class ConfirmedPrice:
    component: str
    integration_year: int | None
    agreed: Decimal
    confirmed: Decimal
    explanation: Figure  # the factor: why the confirmed price is what it is


@dataclass(frozen=True, slots=True)
class MemberPart:
    id: str  # a table (advance) or a component (events)
    kind: str  # "table" | "component"
    amount: Decimal  # in cents
    explanation: Figure


@dataclass(frozen=True, slots=True)
class MemberSettlement:
    municipality: str  # code
    actual: Decimal  # actual share in cents
    billed: Decimal
    parts: tuple[MemberPart, ...]
    billed_explanation: Figure | None = None

    @property
    def difference(self) -> Decimal:
        return self.actual - self.billed

    def explanation(self, year: int) -> Figure:
        """difference = actual − billed, with both explained."""
        actual = figure("settlement.actual", self.actual, sum_expr(p.amount for p in self.parts), "",
                        tuple(p.explanation for p in self.parts), municipality=self.municipality, year=year)
        billed = self.billed_explanation or given("settlement.billed", self.billed, "", municipality=self.municipality,
                                                  year=year)
        return figure("settlement.difference", self.difference, (Num(self.actual), " − ", Num(self.billed)), "",
                      (actual, billed), municipality=self.municipality, year=year)


@dataclass(frozen=True)
class YearSettlement:
    year: int
    members: tuple[MemberSettlement, ...]
    prices: tuple[ConfirmedPrice, ...]
    actual_allocation: Allocation
    problems: tuple[Problem, ...] = ()

    def member(self, code: str) -> MemberSettlement:
        for m in self.members:
            if m.municipality == code:
                return m
        raise KeyError(code)


def with_actual_costs(agreement: Agreement, actual: Mapping[str, ActualCost]) -> Agreement:
    """The agreement with each pool's cost replaced by its actual net cost, where one is known.
    The cost keeps the clause it replaces; that it is an actual is said by `actual_costs` on the
    allocation's explanation (the figure `component.cost` becomes `actual.net`'s value)."""
    components = dict(agreement.components)
    for cid, comp in agreement.components.items():
        net = actual.get(cid, ActualCost()).net
        if isinstance(comp, PoolComponent) and net is not None:
            components[cid] = comp._replace(cost=Sourced(net, comp.cost.reference, comp.cost.path,
                                                                     comp.cost.line))
    return agreement._replace(components=frozen_map(components))


def with_actuals_explained(fig: Figure, agreement: Agreement, actual: Mapping[str, ActualCost]) -> Figure:
    """An allocation figure tree in which each pool cost that is an actual says so: the cost is
    explained as (actual cost − funding) of the year."""
    def visit(f: Figure) -> Figure:
        inputs = tuple(visit(child) for child in f.inputs)
        if f.name == "component.cost":
            component = f.param("component")
            known = actual.get(component)
            if known is not None and known.net is not None:
                return figure("component.cost_actual", f.value, (), f.reference,
                              (known.figure(component, agreement.year),), component=component, year=agreement.year)
        return f._replace(inputs=inputs) if inputs != f.inputs else f
    return visit(fig)


def confirmed_factor(agreement: Agreement, component: str, actual: Mapping[str, ActualCost],
                     volumes: Volumes) -> tuple[Decimal, Figure]:
    """The factor that turns agreed prices into confirmed ones: net actual cost / volume at agreed prices."""
    with decimal.localcontext(CONTEXT):
        at_agreed = priced(agreement, component, volumes)
        known = actual.get(component, ActualCost())
        net = known.net
        if net is None:
            return Decimal(1), figure("price.factor", Decimal(1), (), "", (at_agreed,), FACTOR,
                                      rule="factor.no_actual_cost", component=component)
        if at_agreed.value == 0:
            return Decimal(1), figure("price.factor", Decimal(1), (), "", (at_agreed,), FACTOR,
                                      rule="factor.no_volume", component=component)
        factor = net / at_agreed.value
        return factor, figure("price.factor", factor, (Num(net), " / ", Num(at_agreed.value)), "",
                              (known.figure(component, agreement.year), at_agreed), FACTOR, component=component)


def settle_year(
    agreement: Agreement,
    actual: Mapping[str, ActualCost],
    volumes: Volumes,
    billed: Mapping[str, Decimal | Figure],
) -> YearSettlement:
    """Every member's actual share of the year and its difference to what was billed.

    `volumes` maps (municipality code, component, integration year) to the quantity
    produced in the year; `billed` maps a member's code to what it was billed for
    the year (advances and events, credit notes deducted), as a number or as a
    figure that explains it (the invoices it was billed on)."""
    problems: list[Problem] = []
    actual_agreement = with_actual_costs(agreement, actual)
    allocation = allocate(actual_agreement)
    problems.extend(allocation.problems)
    billing = agreement.billing
    advance_tables = billing.advance_tables if billing else ()
    event_components = tuple(billing.events) if billing else ()
    with decimal.localcontext(CONTEXT):
        factors: dict[str, tuple[Decimal, Figure]] = {}
        prices: list[ConfirmedPrice] = []
        for cid in event_components:
            factor, factor_fig = factors[cid] = confirmed_factor(agreement, cid, actual, volumes)
            tiers = {iy for (_, c, iy) in volumes if c == cid and event_price(agreement, cid, iy) is not None}
            for iy in sorted(tiers, key=lambda x: x or 0) or [None]:
                price = event_price(agreement, cid, iy)
                if price is not None:
                    prices.append(ConfirmedPrice(cid, iy, price.value, price.value * factor, factor_fig))
        members = []
        for code in agreement.members:
            parts: list[MemberPart] = []
            for table_id in advance_tables:
                row = allocation.table(table_id).row(code)
                parts.append(MemberPart(table_id, "table", row.invoiced.value, figure(
                    "settlement.part", row.invoiced.value, (), "",
                    (with_actuals_explained(row.chain(), agreement, actual),), item=table_id)))
            for cid in event_components:
                factor, factor_fig = factors[cid]
                value = priced(agreement, cid, volumes, code, factor=factor, factor_figure=factor_fig)
                if value.value:
                    amount = round_to(value.value, CENT, "half_up")
                    parts.append(MemberPart(cid, "component", amount, figure(
                        "settlement.part", amount, (), "", (value,), rule="cents", item=cid)))
            billed_value = billed.get(code, ZERO)
            billed_fig = billed_value if isinstance(billed_value, Figure) else None
            members.append(MemberSettlement(code, sum((p.amount for p in parts), ZERO),
                                            billed_fig.value if billed_fig else billed_value, tuple(parts),
                                            billed_fig))
    return YearSettlement(agreement.year, tuple(members), tuple(prices), allocation, tuple(problems))
