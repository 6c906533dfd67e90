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
"""

from __future__ import annotations

import dataclasses
import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from osuus.agreement.model import Agreement, PoolComponent, Sourced
from osuus.engine import Allocation, allocate
from osuus.money import CENT, CONTEXT, ZERO, fmt_money, round_to
from osuus.problems import Problem


@dataclass(frozen=True, slots=True)
class ActualCost:
    cost: Decimal | None = None
    funding: Decimal = ZERO

    @property
    def net(self) -> Decimal | None:
        return None if self.cost is None else self.cost - self.funding


@dataclass(frozen=True, slots=True)
class ConfirmedPrice:
    component: str
    integration_year: int | None
    agreed: Decimal
    confirmed: Decimal
    basis: str  # how it was reached, in Finnish, with the numbers


@dataclass(frozen=True, slots=True)
class MemberSettlement:
    municipality: str  # code
    name: str
    actual: Decimal  # actual share in cents
    billed: Decimal
    parts: tuple[tuple[str, str, Decimal], ...]  # (component, label, actual amount)

    @property
    def difference(self) -> Decimal:
        return self.actual - self.billed


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
    """The agreement with each pool's cost replaced by its actual net cost, where one is known."""
    components = dict(agreement.components)
    for cid, comp in agreement.components.items():
        net = actual.get(cid, ActualCost()).net
        if isinstance(comp, PoolComponent) and net is not None:
            note = f"Toteuma {agreement.year}: kustannus {fmt_money(actual[cid].cost)}"
            if actual[cid].funding:
                note += f" − ulkopuolinen rahoitus {fmt_money(actual[cid].funding)}"
            components[cid] = dataclasses.replace(comp, cost=Sourced(net, note, comp.cost.path, comp.cost.line))
    return dataclasses.replace(agreement, components=components)


def settle_year(
    agreement: Agreement,
    actual: Mapping[str, ActualCost],
    volumes: Mapping[tuple[str, str, int | None], Decimal],
    billed: Mapping[str, Decimal],
) -> YearSettlement:
    """Every member's actual share of the year and its difference to what was billed.

    `volumes` maps (municipality code, component, integration year) to the quantity
    produced in the year; `billed` maps a member's code to what it was billed for
    the year (advances and events, credit notes deducted)."""
    problems: list[Problem] = []
    actual_agreement = with_actual_costs(agreement, actual)
    allocation = allocate(actual_agreement)
    problems.extend(allocation.problems)
    billing = agreement.billing
    advance_tables = billing.advance_tables if billing else ()
    event_components = tuple(billing.events) if billing else ()
    with decimal.localcontext(CONTEXT):
        factors: dict[str, Decimal] = {}
        prices: list[ConfirmedPrice] = []
        for cid in event_components:
            agreed_value = ZERO
            tiers_used: set[int | None] = set()
            for (code, component, iy), qty in volumes.items():
                if component != cid:
                    continue
                priced = agreement.event_price(cid, iy)
                if priced is None:
                    continue
                agreed_value += qty * priced[0]
                tiers_used.add(iy)
            net = actual.get(cid, ActualCost()).net
            label = agreement.components[cid].label
            if net is None or agreed_value == 0:
                factor = Decimal(1)
                basis = "sovittu hinta (toteutunutta kustannusta ei tuotu)" if net is None else \
                    "sovittu hinta (ei tuotettuja suoritteita)"
            else:
                factor = net / agreed_value
                basis = (f"{label}: (kustannus − rahoitus) {fmt_money(net)} / suoritteet sovituin hinnoin "
                         f"{fmt_money(agreed_value)} = kerroin {factor:.6f}")
            factors[cid] = factor
            for iy in sorted(tiers_used, key=lambda x: x or 0) or [None]:
                priced = agreement.event_price(cid, iy)
                if priced is not None:
                    prices.append(ConfirmedPrice(cid, iy, priced[0], priced[0] * factor, basis))
        members = []
        for m in agreement.municipalities:
            if m.name == agreement.host:
                continue
            parts: list[tuple[str, str, Decimal]] = []
            for table_id in advance_tables:
                row = allocation.table(table_id).row(m.name)
                parts.append((table_id, allocation.table(table_id).table.title, row.invoiced.value))
            for cid in event_components:
                value = ZERO
                for (code, component, iy), qty in volumes.items():
                    if code == m.code and component == cid:
                        priced = agreement.event_price(cid, iy)
                        if priced is not None:
                            value += qty * priced[0] * factors[cid]
                if value:
                    parts.append((cid, agreement.components[cid].label, round_to(value, CENT, "half_up")))
            actual_total = sum((p[2] for p in parts), ZERO)
            members.append(MemberSettlement(m.code, m.name, actual_total, billed.get(m.code, ZERO), tuple(parts)))
    return YearSettlement(agreement.year, tuple(members), tuple(prices), allocation, tuple(problems))

