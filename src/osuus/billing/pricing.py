"""The price of a service event, and the one rule "member amount = Σ volume × price".

An event-billed service is priced by the agreement of the events' year: its
`[billing.events]` price where one is given, else the unit component's own price,
or its tier by the customer's integration year (years past the last tier are
priced at the last). Invoicing, the year-end settlement and the estimate all
price volumes through `priced`, so the three cannot disagree.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from osuus.agreement.model import Agreement, UnitComponent
from osuus.engine.trace import COUNT, FACTOR, Figure, Num, figure, given
from osuus.money import CONTEXT, ZERO


@dataclass(frozen=True, slots=True)
class Price:
    value: Decimal
    reference: str
    tier: int | None = None  # the integration-year tier that priced it

    def figure(self, component: str) -> Figure:
        if self.tier is not None:
            return given("price.tier", self.value, self.reference, component=component, tier=self.tier)
        return given("price", self.value, self.reference, component=component)


def event_price(agreement: Agreement, component: str, integration_year: int | None) -> Price | None:
    """The agreed price of one unit of a service event, with its clause; None if it is not priced."""
    comp = agreement.components.get(component)
    pricing = agreement.billing.events.get(component) if agreement.billing else None
    if comp is None or pricing is None:
        return None
    if pricing.price is not None:
        return Price(pricing.price.value, pricing.price.reference)
    if isinstance(comp, UnitComponent):
        if comp.tiers:
            tier = comp.tier if integration_year is None else min(max(integration_year, 1), max(comp.tiers))
            if tier is None:
                return None
            return Price(comp.tiers[tier], comp.tiers_reference or comp.reference, tier)
        if comp.price is not None:
            return Price(comp.price.value, comp.price.reference)
    return None


#: quantities by (municipality code, component, integration year)
Volumes = Mapping[tuple[str, str, int | None], Decimal]


def priced(agreement: Agreement, component: str, volumes: Volumes, municipality: str | None = None,
           *, factor: Decimal | None = None, factor_figure: Figure | None = None) -> Figure:
    """Σ volume × price (× factor) of one component, for one municipality (or all when None).

    Each priced volume is an input of the result, so the explanation shows every
    tier's quantity and price; a volume without a price is left out (invoicing
    refuses it before this is asked)."""
    with decimal.localcontext(CONTEXT):
        parts: list[Figure] = []
        total = ZERO
        for (code, comp, iy), qty in sorted(volumes.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)):
            if comp != component or (municipality is not None and code != municipality) or not qty:
                continue
            price = event_price(agreement, component, iy)
            if price is None:
                continue
            value = qty * price.value
            total += value
            volume = (given("volume.tier", qty, "", COUNT, component=component, municipality=code, tier=iy)
                      if iy is not None else given("volume", qty, "", COUNT, component=component, municipality=code))
            inputs = (volume, price.figure(component))
            parts.append(figure("volume.priced", value, (Num(qty, COUNT), " × ", Num(price.value)), price.reference,
                                inputs, component=component))
        if factor is None:
            return figure("volume.value", total, _sum(parts), "", tuple(parts), component=component)
        value = total * factor
        at_agreed = figure("volume.value", total, _sum(parts), "", tuple(parts), component=component)
        return figure("volume.value_confirmed", value, (Num(total), " × ", Num(factor, FACTOR)), "",
                      (at_agreed,) + ((factor_figure,) if factor_figure is not None else ()), component=component)


def _sum(parts: Iterable[Figure]) -> tuple:
    expr: list = []
    for i, p in enumerate(parts):
        if i:
            expr.append(" + ")
        expr.append(Num(p.value))
    return tuple(expr)
