"""The August estimate: each member's costs for next year's budget (kohta 5).

From the next year's agreement where one is stored: the member's payments of
every table (the appendix's tables are the estimate). Otherwise from the last
year's actuals and the latest counts: the last agreement with its pool costs
replaced by the actual net costs, its count keys by the latest counts, and its
event-billed services priced at last year's volumes and confirmed prices.

The basis is structure (`Basis` items), put into words by the renderers; every
part of a member's estimate carries its explanation.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from osuus.agreement.model import Agreement, CountKey, frozen_map
from osuus.billing.pricing import Volumes, priced
from osuus.billing.settlement import ActualCost, with_actual_costs, with_actuals_explained
from osuus.engine import allocate
from osuus.engine.trace import Figure, figure, sum_expr
from osuus.money import CENT, CONTEXT, ZERO, round_to
from osuus.problems import Problem


@dataclass(frozen=True, slots=True)
class Basis:
    """One thing an estimate rests on: `kind` and the facts that name it.

    agreement (agreement, year): the year's own agreement, its tables;
    projection (agreement, year): no agreement for the year; projected from the last one;
    actual_costs (year): shared costs as they turned out in that year;
    latest_counts (key): a key with the newest imported counts;
    volumes (year): event-billed services at that year's volumes and confirmed prices."""

    kind: str
    facts: tuple[tuple[str, Any], ...] = ()

    def to_data(self) -> dict:
        return {"kind": self.kind, **dict(self.facts)}

    @classmethod
    def from_data(cls, data: dict) -> "Basis":
        facts = {k: v for k, v in data.items() if k != "kind"}
        return cls(data["kind"], tuple(facts.items()))

    def fact(self, name: str, default: Any = None) -> Any:
        return dict(self.facts).get(name, default)


@dataclass(frozen=True, slots=True)
class EstimatePart:
    id: str  # a table or a component
    kind: str  # "table" | "component"
    amount: Decimal
    explanation: Figure


@dataclass(frozen=True, slots=True)
class MemberEstimate:
    municipality: str  # code
    amount: Decimal
    parts: tuple[EstimatePart, ...]

    def explanation(self, year: int) -> Figure:
        return figure("estimate.total", self.amount, sum_expr(p.amount for p in self.parts), "",
                      tuple(p.explanation for p in self.parts), municipality=self.municipality, year=year)


@dataclass(frozen=True)
class YearEstimate:
    year: int
    basis: tuple[Basis, ...]
    members: tuple[MemberEstimate, ...]
    problems: tuple[Problem, ...] = ()

    def member(self, code: str) -> MemberEstimate:
        for m in self.members:
            if m.municipality == code:
                return m
        raise KeyError(code)


def estimate_from_agreement(agreement: Agreement) -> YearEstimate:
    """The year's own agreement: each member's payment of every table, invoiced rounding."""
    allocation = allocate(agreement)
    members = []
    if not allocation.problems:
        for code in agreement.members:
            parts = tuple(EstimatePart(t.table.id, "table", t.row(code).invoiced.value,
                                       _part(t.row(code).chain(), t.table.id)) for t in allocation.tables)
            members.append(MemberEstimate(code, sum((p.amount for p in parts), ZERO), parts))
    basis = (Basis("agreement", (("agreement", agreement.id), ("year", agreement.year))),)
    return YearEstimate(agreement.year, basis, tuple(members), allocation.problems)


def _part(fig: Figure, item: str) -> Figure:
    return figure("estimate.part", fig.value, (), "", (fig,), item=item)


def estimate_from_actuals(
    year: int,
    last: Agreement,
    actual: Mapping[str, ActualCost],
    latest_counts: Mapping[str, Mapping[str, Decimal]],
    volumes: Volumes,
    confirmed_factors: Mapping[str, Figure] | None = None,
) -> YearEstimate:
    """No agreement for `year` yet: project from the last agreement's year.

    `latest_counts` maps a count key to the newest value per municipality code
    (used only when complete); `volumes` are last year's (code, component,
    integration year) quantities; `confirmed_factors` the factors (figures, as
    the year's closing explained them) that confirmed last year's prices, by
    component. A service without one is priced at the agreed prices."""
    basis = [Basis("projection", (("agreement", last.id), ("year", last.year)))]
    base = with_actual_costs(last, actual)
    if any(a.net is not None for a in actual.values()):
        basis.append(Basis("actual_costs", (("year", last.year),)))
    keys = dict(base.keys)
    for name, key in base.keys.items():
        values = latest_counts.get(name)
        if isinstance(key, CountKey) and values and set(values) >= set(base.codes):
            keys[name] = key._replace(values=frozen_map({m: values[m] for m in base.codes}))
            basis.append(Basis("latest_counts", (("key", name),)))
    base = base._replace(keys=frozen_map(keys))
    allocation = allocate(base)
    billing = base.billing
    advance = billing.advance_tables if billing else ()
    events = tuple(billing.events) if billing else ()
    members = []
    with decimal.localcontext(CONTEXT):
        factors = {cid: ((confirmed_factors or {})[cid].value, (confirmed_factors or {})[cid])
                   if cid in (confirmed_factors or {}) else (Decimal(1), None) for cid in events}
        if not allocation.problems:
            for code in base.members:
                parts = []
                for t in advance:
                    row = allocation.table(t).row(code)
                    parts.append(EstimatePart(t, "table", row.invoiced.value,
                                              _part(with_actuals_explained(row.chain(), last, actual), t)))
                for cid in events:
                    factor, factor_fig = factors[cid]
                    value = priced(last, cid, volumes, code, factor=factor if factor_fig is not None else None,
                                   factor_figure=factor_fig)
                    if value.value:
                        amount = round_to(value.value, CENT, "half_up")
                        parts.append(EstimatePart(cid, "component", amount, figure(
                            "estimate.part", amount, (), "", (value,), rule="cents", item=cid)))
                members.append(MemberEstimate(code, sum((p.amount for p in parts), ZERO), tuple(parts)))
    if events:
        basis.append(Basis("volumes", (("year", last.year),)))
    return YearEstimate(year, tuple(basis), tuple(members), allocation.problems)
