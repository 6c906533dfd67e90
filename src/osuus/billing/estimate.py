"""The August estimate: each member's costs for next year's budget (kohta 5).

From the next year's agreement where one is stored: the member's payments of
every table (the appendix's tables are the estimate). Otherwise from the last
year's actuals and the latest counts: the last agreement with its pool costs
replaced by the actual net costs, its count keys by the latest counts, and its
event-billed services priced at last year's volumes and confirmed prices.
"""

from __future__ import annotations

import dataclasses
import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from osuus.agreement.model import Agreement, CountKey, frozen_map
from osuus.billing.settlement import ActualCost, with_actual_costs
from osuus.engine import allocate
from osuus.money import CENT, CONTEXT, ZERO, round_to
from osuus.problems import Problem


@dataclass(frozen=True, slots=True)
class MemberEstimate:
    municipality: str  # code
    name: str
    amount: Decimal
    parts: tuple[tuple[str, str, Decimal], ...]  # (component or table, label, amount)


@dataclass(frozen=True)
class YearEstimate:
    year: int
    basis: str
    members: tuple[MemberEstimate, ...]
    problems: tuple[Problem, ...] = ()


def estimate_from_agreement(agreement: Agreement) -> YearEstimate:
    """The year's own agreement: each member's payment of every table, invoiced rounding."""
    allocation = allocate(agreement)
    members = []
    for m in agreement.municipalities:
        if m.name == agreement.host:
            continue
        parts = tuple((t.table.id, t.table.title, t.row(m.name).invoiced.value) for t in allocation.tables)
        members.append(MemberEstimate(m.code, m.name, sum((p[2] for p in parts), ZERO), parts))
    basis = f"Sopimus {agreement.id} ({agreement.year}): taulukoiden maksuosuudet"
    return YearEstimate(agreement.year, basis, tuple(members), allocation.problems)


def estimate_from_actuals(
    year: int,
    last: Agreement,
    actual: Mapping[str, ActualCost],
    latest_counts: Mapping[str, Mapping[str, Decimal]],
    volumes: Mapping[tuple[str, str, int | None], Decimal],
    confirmed: Mapping[tuple[str, int | None], Decimal],
) -> YearEstimate:
    """No agreement for `year` yet: project from the last agreement's year.

    `latest_counts` maps a count key to the newest value per municipality name
    (used only when complete); `volumes` are last year's (code, component,
    integration year) quantities; `confirmed` the confirmed unit prices."""
    notes = [f"Ei sopimusta vuodelle {year}: arvio sopimuksen {last.id} pohjalta"]
    base = with_actual_costs(last, actual)
    if any(a.net is not None for a in actual.values()):
        notes.append(f"yhteiset kustannukset vuoden {last.year} toteuman mukaan")
    keys = dict(base.keys)
    for name, key in base.keys.items():
        values = latest_counts.get(name)
        if isinstance(key, CountKey) and values and set(values) >= set(base.names):
            keys[name] = dataclasses.replace(key, values=frozen_map({m: values[m] for m in base.names}),
                                             reference=f"{key.reference}; päivitetty viimeisimmillä luvuilla")
            notes.append(f"jakoperuste '{key.label}' viimeisimmillä luvuilla")
    base = dataclasses.replace(base, keys=keys)
    allocation = allocate(base)
    billing = base.billing
    advance = billing.advance_tables if billing else ()
    events = tuple(billing.events) if billing else ()
    members = []
    with decimal.localcontext(CONTEXT):
        for m in base.municipalities:
            if m.name == base.host:
                continue
            parts = [(t, allocation.table(t).table.title, allocation.table(t).row(m.name).invoiced.value) for t in advance]
            for cid in events:
                value = ZERO
                for (code, component, iy), qty in volumes.items():
                    if code == m.code and component == cid:
                        price = confirmed.get((cid, iy))
                        if price is None:
                            priced = base.event_price(cid, iy)
                            price = priced[0] if priced else ZERO
                        value += qty * price
                if value:
                    parts.append((cid, base.components[cid].label, round_to(value, CENT, "half_up")))
            members.append(MemberEstimate(m.code, m.name, sum((p[2] for p in parts), ZERO), tuple(parts)))
    if events:
        notes.append(f"palvelut vuoden {last.year} suoritemäärin ja vahvistetuin hinnoin")
    return YearEstimate(year, "; ".join(notes), tuple(members), allocation.problems)

