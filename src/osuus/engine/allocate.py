"""The allocation engine: agreement in, every municipality's share out, with reasons.

Pure: no I/O, no globals, no floats. Arithmetic runs in `money.CONTEXT`
(50 significant digits); nothing is rounded here except derived counts, whose
rounding the agreement states. Rounding for display and invoicing is applied
by the result's consumers through the agreement's `Rounding` rules.

The steps, each a small function:
1. keys: count keys as given, derived keys as rate × count (rounded), shares
   of mixed and fixed keys;
2. components: a pool's total (cost + overhead) divided by its key; a unit
   service's price × quantity per member, the remainder to its payer;
3. reductions: a member's share lowered by a rate, absorbed by the host or by
   the others in proportion to their amounts;
4. tables: rows per municipality, totals, and invoiced amounts in cents with
   the rounding difference borne by the host.
"""

from __future__ import annotations

import contextlib
import decimal
import gc
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping, NamedTuple

from osuus.agreement.model import (
    Agreement,
    CountKey,
    DerivedKey,
    FixedKey,
    MixKey,
    PoolComponent,
    Reduction,
    Table,
    UnitComponent,
)
from osuus.engine.trace import COUNT, RATE, Figure, Num, Word, figure, given, sum_expr
from osuus.money import CONTEXT, ONE, ZERO, round_count
from osuus.problems import Problem

_ROUNDING_SIGNS = {"ceil": (("⌈",), "⌉"), "floor": (("⌊",), "⌋"), "half_up": ((Word("round"), "("), ")"),
                   "half_even": ((Word("round"), "("), ")"), "none": ((), "")}


class ComponentResult(NamedTuple):
    id: str
    kind: str
    total: Figure  # what the component costs in all
    amounts: Mapping[str, Decimal]  # before reductions, each municipality's part (by code)
    figures: Mapping[str, Figure]
    reference: str = ""
    remainder_payer: str | None = None
    cost: Decimal | None = None  # pool: cost before overhead
    overhead: Decimal | None = None  # pool: the overhead amount


class Row(NamedTuple):
    """One municipality's line of a table."""

    municipality: str  # code
    amounts: Mapping[str, Decimal]
    figures: Mapping[str, Figure]
    total: Figure
    reduction: Figure
    absorbed: Figure
    payment: Figure
    invoiced: Figure

    def explanation(self) -> tuple[Figure, ...]:
        parts = [self.figures[c] for c in self.amounts]
        parts.append(self.total)
        if self.reduction.value:
            parts.append(self.reduction)
        if self.absorbed.value:
            parts.append(self.absorbed)
        parts.extend([self.payment, self.invoiced])
        return tuple(parts)

    def chain(self) -> Figure:
        """The invoiced figure with the row's whole making as its inputs: invoiced ← payment ←
        total (← each component's part), reduction, absorbed. Built on demand: billing explains
        an advance instalment with it, down to the allocation and the clause."""
        total = self.total._replace(inputs=tuple(self.figures[c] for c in self.amounts))
        parts = (total, *(f for f in (self.reduction, self.absorbed) if f.value))
        return self.invoiced._replace(inputs=(self.payment._replace(inputs=parts),))


class TableResult(NamedTuple):
    table: Table
    rows: tuple[Row, ...]
    amounts: Mapping[str, Decimal]  # per component, summed over all rows
    total: Decimal
    reduction: Decimal
    absorbed: Decimal
    payment: Decimal
    invoiced: Decimal

    def row(self, municipality: str) -> Row:
        """The row of a municipality, by code."""
        for row in self.rows:
            if row.municipality == municipality:
                return row
        raise KeyError(municipality)


class Allocation(NamedTuple):
    agreement: Agreement
    key_values: Mapping[str, Mapping[str, Decimal]]  # count and derived keys
    key_figures: Mapping[str, Mapping[str, Figure]]
    key_shares: Mapping[str, Mapping[str, Decimal]]  # every key used to divide
    components: Mapping[str, ComponentResult]
    tables: tuple[TableResult, ...]
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    def table(self, table_id: str) -> TableResult:
        for t in self.tables:
            if t.table.id == table_id:
                return t
        raise KeyError(table_id)

    def explain(self, municipality: str) -> list[tuple[TableResult, tuple[Figure, ...]]]:
        """Every figure of one municipality (by code), table by table."""
        return [(t, t.row(municipality).explanation()) for t in self.tables]


@dataclass
class _Work:
    """Mutable scratch space while one allocation is computed."""

    agreement: Agreement
    names: tuple[str, ...] = ()
    values: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    totals: dict[str, Decimal] = field(default_factory=dict)  # sum of each count/derived key
    share_figures: dict[tuple[str, str], Figure] = field(default_factory=dict)
    figures: dict[str, dict[str, Figure]] = field(default_factory=dict)
    shares: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(message, self.agreement.file, None, key))


@contextlib.contextmanager
def _no_cycle_collection():
    """The figures form trees, never cycles: collecting cycles while thousands of them are made
    only spends time (half of a national run). Collection resumes as it was afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def allocate(agreement: Agreement) -> Allocation:
    """Compute every share of the agreement; never raises for data it was given."""
    with decimal.localcontext(CONTEXT), _no_cycle_collection():
        work = _Work(agreement, agreement.codes)
        for name in agreement.keys:
            _key_values(work, name)
        components = {}
        for cid, comp in agreement.components.items():
            if isinstance(comp, PoolComponent):
                result = _pool(work, comp)
            else:
                result = _unit(work, comp)
            if result is not None:
                components[cid] = result
        if work.problems:
            return Allocation(agreement, work.values, work.figures, work.shares, components, (),
                              tuple(work.problems), tuple(work.warnings))
        reductions, absorbed = _reductions(work, components)
        tables = tuple(_table(work, t, components, reductions, absorbed) for t in agreement.tables)
        return Allocation(agreement, work.values, work.figures, work.shares, components, tables,
                          tuple(work.problems), tuple(work.warnings))


# --------------------------------------------------------------------------
# 1. keys
# --------------------------------------------------------------------------

def _key_values(work: _Work, name: str) -> dict[str, Decimal] | None:
    """Per-municipality figures of a count or derived key (None for mix/fixed)."""
    if name in work.values:
        return work.values[name]
    key = work.agreement.keys[name]
    if isinstance(key, CountKey):
        values = dict(key.values)
        work.figures[name] = {m: given("key", v, key.reference, COUNT, key=name) for m, v in values.items()}
    elif isinstance(key, DerivedKey):
        source = _key_values(work, key.source_key) or {}
        values, figures = {}, {}
        opening, closing = _ROUNDING_SIGNS[key.rounding]
        for m, base in source.items():
            exact = key.rate * base
            value = exact if key.rounding == "none" else round_count(exact, key.rounding)
            values[m] = value
            figures[m] = figure("key", value, (*opening, Num(key.rate, RATE), " × ", Num(base, COUNT), closing),
                                key.reference, (work.figures[key.source_key][m],), COUNT, key=name)
        work.figures[name] = figures
    else:
        return None
    work.values[name] = values
    return values


def _key_total(work: _Work, name: str) -> Decimal:
    total = work.totals.get(name)
    if total is None:
        total = work.totals[name] = sum(work.values[name].values(), ZERO)
    return total


def _key_shares(work: _Work, name: str) -> dict[str, Decimal] | None:
    """Each municipality's share (summing to 1) under a key."""
    if name in work.shares:
        return work.shares[name]
    key = work.agreement.keys[name]
    if isinstance(key, FixedKey):
        shares = dict(key.shares)
    elif isinstance(key, MixKey):
        shares = {m: ZERO for m in work.names}
        for part, weight in key.weights:
            part_shares = _key_shares(work, part)
            if part_shares is None:
                return None
            for m, s in part_shares.items():
                shares[m] += weight * s
    else:
        values = _key_values(work, name) or {}
        total = _key_total(work, name)
        if total <= 0:
            work.problem(f"keys.{name}", f"the key '{name}' adds up to {total}; a key that divides a cost needs a "
                         "positive total")
            return None
        shares = {m: v / total for m, v in values.items()}
    work.shares[name] = shares
    return shares


# --------------------------------------------------------------------------
# 2. components
# --------------------------------------------------------------------------

def _pool(work: _Work, comp: PoolComponent) -> ComponentResult | None:
    cost = given("component.cost", comp.cost.value, comp.cost.reference, component=comp.id)
    if comp.overhead is not None and comp.overhead.rate:
        oh = comp.overhead
        total_value = comp.cost.value * (ONE + oh.rate)
        total = figure("component.total", total_value, (Num(comp.cost.value), " × (1 + ", Num(oh.rate, RATE), ")"),
                       oh.reference or comp.reference, (cost,), component=comp.id)
        overhead_value = total_value - comp.cost.value
    else:
        total, total_value, overhead_value = cost, comp.cost.value, ZERO
    key = work.agreement.keys[comp.key]
    shares = _key_shares(work, comp.key)
    if shares is None:
        return None
    amounts, figures = {}, {}
    values = work.values.get(comp.key)
    total_num = Num(total_value)
    if values is not None:  # count or derived key: show value / key total
        key_total = _key_total(work, comp.key)
        key_total_fig = Num(key_total, COUNT)
        key_figures = work.figures[comp.key]
        for m in work.names:
            v = values[m]
            amount = total_value * v / key_total
            amounts[m] = amount
            figures[m] = figure("component.share", amount, (total_num, " × ", Num(v, COUNT), " / ", key_total_fig),
                                comp.reference, (total, key_figures[m]), component=comp.id)
    else:  # mixed or fixed key: show the share
        for m in work.names:
            s = shares.get(m, ZERO)
            amount = total_value * s
            amounts[m] = amount
            share_fig = _share_figure(work, key, m, s)
            figures[m] = figure("component.share", amount, (total_num, " × ", Num(s, RATE)),
                                comp.reference, (total, share_fig), component=comp.id)
    return ComponentResult(comp.id, "pool", total, amounts, figures, comp.reference, None,
                           comp.cost.value, overhead_value)


def _share_figure(work: _Work, key, m: str, share: Decimal) -> Figure:
    """How a municipality's share under a mixed or fixed key is made (built once per key)."""
    cached = work.share_figures.get((key.name, m))
    if cached is None:
        cached = work.share_figures[(key.name, m)] = _make_share_figure(work, key, m, share)
    return cached


def _make_share_figure(work: _Work, key, m: str, share: Decimal) -> Figure:
    if isinstance(key, FixedKey):
        return given("key.share", share, key.reference, RATE, key=key.name)
    expr: list = []
    inputs = []
    for i, (part, weight) in enumerate(key.weights):
        part_share = work.shares[part].get(m, ZERO)
        if i:
            expr.append(" + ")
        expr.extend([Num(weight, RATE), " × ", Num(part_share, RATE)])
        part_key = work.agreement.keys[part]
        if part in work.values:
            vals = work.values[part]
            inputs.append(figure("key.share", part_share,
                                 (Num(vals[m], COUNT), " / ", Num(_key_total(work, part), COUNT)),
                                 part_key.reference, (), RATE, key=part))
        else:
            inputs.append(_share_figure(work, part_key, m, part_share))
    return figure("key.share", share, tuple(expr), key.reference, tuple(inputs), RATE, key=key.name)


def _unit(work: _Work, comp: UnitComponent) -> ComponentResult:
    names = work.names
    payer = comp.remainder
    amounts, figures = {}, {}
    priced = comp.priced_quantities()
    price_nums = [Num(price) for _, price, _ in priced]
    price_reference = _price_reference(comp)
    charged_total = ZERO
    for m in names:
        if m == payer:
            continue
        amount = ZERO
        expr: list = []
        inputs = []
        for i, (key, price, _ref) in enumerate(priced):
            qty = work.values[key][m]
            amount += qty * price
            if i:
                expr.append(" + ")
            expr.extend([Num(qty, COUNT), " × ", price_nums[i]])
            inputs.append(work.figures[key][m])
        amounts[m] = amount
        charged_total += amount
        figures[m] = figure("component.share", amount, tuple(expr), price_reference, tuple(inputs), component=comp.id)
    if payer is not None and comp.total_cost is not None:
        total = given("component.total_cost", comp.total_cost.value, comp.total_cost.reference, component=comp.id)
        remainder = comp.total_cost.value - charged_total
        charged = given("component.members", charged_total, comp.reference, component=comp.id)
        amounts[payer] = remainder
        figures[payer] = figure("component.remainder", remainder, (Num(comp.total_cost.value), " − ",
                                Num(charged_total)), comp.reference, (total, charged), component=comp.id)
        if remainder < 0:
            work.warnings.append(Problem(
                f"the members are charged {charged_total} € for '{comp.id}', more than its total cost "
                f"{comp.total_cost.value} €; {work.agreement.name_of(payer)} gets {remainder} €", work.agreement.file, comp.total_cost.line,
                f"components.{comp.id}.total_cost"))
    else:
        total = figure("component.total", charged_total, ("Σ ", Word("shares")), comp.reference, component=comp.id)
    ordered = {m: amounts[m] for m in names}
    return ComponentResult(comp.id, "unit", total, ordered, {m: figures[m] for m in names},
                           comp.reference, payer)


def _price_reference(comp: UnitComponent) -> str:
    """The clause of the unit price(s), or the component's own clause."""
    refs = [ref for _, _, ref in comp.priced_quantities() if ref]
    return "; ".join(dict.fromkeys(refs)) or comp.reference


# --------------------------------------------------------------------------
# 3. reductions
# --------------------------------------------------------------------------

def _reductions(work: _Work, components: Mapping[str, ComponentResult]):
    """Per (municipality, component): the reduction given and the amount absorbed, with figures."""
    host = work.agreement.host
    given_: dict[tuple[str, str], tuple[Decimal, Figure]] = {}
    absorbed: dict[tuple[str, str], list[tuple[Decimal, Figure]]] = {}
    reduced_in: dict[str, set[str]] = {}
    for red in work.agreement.reductions:
        for c in red.components:
            reduced_in.setdefault(c, set()).add(red.municipality)
    for red in work.agreement.reductions:
        for c in red.components:
            comp = components[c]
            base = comp.amounts[red.municipality]
            amount = red.rate * base
            fig = figure("reduction", amount, (Num(red.rate, RATE), " × ", Num(base)), red.reference,
                         (comp.figures[red.municipality],), component=c)
            given_[(red.municipality, c)] = (amount, fig)
            _absorb(work, red, c, comp, amount, reduced_in[c], host, absorbed)
    return given_, absorbed


def _absorb(work: _Work, red: Reduction, c: str, comp: ComponentResult, amount: Decimal, reduced: set[str],
            host: str, absorbed: dict) -> None:
    if red.absorbed_by == "others":
        others = [m for m in work.names if m not in reduced]
        weight_total = sum((comp.amounts[m] for m in others), ZERO)
        if weight_total > 0:
            for m in others:
                part = amount * comp.amounts[m] / weight_total
                fig = figure("reduction.absorbed", part,
                             (Num(amount), " × ", Num(comp.amounts[m]), " / ", Num(weight_total)), red.reference,
                             component=c, municipality=red.municipality)
                absorbed.setdefault((m, c), []).append((part, fig))
            return
        work.warnings.append(Problem(f"no other municipality has a share of '{c}' to absorb {work.agreement.name_of(red.municipality)}'s "
                                     "reduction; the host absorbs it", work.agreement.file, red.line, "reductions"))
    fig = figure("reduction.absorbed", amount, (), red.reference, component=c, municipality=red.municipality)
    absorbed.setdefault((host, c), []).append((amount, fig))


# --------------------------------------------------------------------------
# 4. tables
# --------------------------------------------------------------------------

def _table(work: _Work, table: Table, components: Mapping[str, ComponentResult], reductions, absorbed) -> TableResult:
    agreement = work.agreement
    invoiced_rounding = agreement.invoiced
    rows = []
    sums = {c: ZERO for c in table.components}
    grand = {"total": ZERO, "reduction": ZERO, "absorbed": ZERO, "payment": ZERO}
    ref = table.reference
    for m in work.names:
        amounts = {c: components[c].amounts[m] for c in table.components}
        figures = {c: components[c].figures[m] for c in table.components}
        total_value = sum(amounts.values(), ZERO)
        total = figure("row.total", total_value, sum_expr(amounts.values()), ref, table=table.id)
        red_parts = [reductions[(m, c)] for c in table.components if (m, c) in reductions]
        red_value = sum((v for v, _ in red_parts), ZERO)
        reduction = figure("row.reduction", red_value, sum_expr(v for v, _ in red_parts) if len(red_parts) > 1 else (),
                           red_parts[0][1].reference if red_parts else "", tuple(f for _, f in red_parts))
        abs_parts = [p for c in table.components for p in absorbed.get((m, c), ())]
        abs_value = sum((v for v, _ in abs_parts), ZERO)
        absorbed_fig = figure("row.absorbed", abs_value, sum_expr(v for v, _ in abs_parts) if len(abs_parts) > 1 else (),
                              abs_parts[0][1].reference if abs_parts else "", tuple(f for _, f in abs_parts))
        pay_value = total_value - red_value + abs_value
        expr: tuple = (Num(total_value),)
        if red_value:
            expr += (" − ", Num(red_value))
        if abs_value:
            expr += (" + ", Num(abs_value))
        payment = figure("row.payment", pay_value, expr if len(expr) > 1 else (), ref, table=table.id)
        rows.append([m, amounts, figures, total, reduction, absorbed_fig, payment])
        for c in table.components:
            sums[c] += amounts[c]
        grand["total"] += total_value
        grand["reduction"] += red_value
        grand["absorbed"] += abs_value
        grand["payment"] += pay_value
    # invoicing: each member rounded by the agreement's rule; the host bears the difference
    table_cost = sum((components[c].total.value for c in table.components), ZERO)
    rounded_cost = invoiced_rounding.apply(table_cost)
    members_invoiced = ZERO
    out_rows = []
    host_index = None
    for i, (m, amounts, figures, total, reduction, absorbed_fig, payment) in enumerate(rows):
        if m == agreement.host:
            host_index = i
            out_rows.append(None)
            continue
        inv = invoiced_rounding.apply(payment.value)
        members_invoiced += inv
        invoiced = figure("row.invoiced", inv, (), invoiced_rounding.reference, rule="rounding", unit_of_rounding=str(invoiced_rounding.unit), mode=invoiced_rounding.mode)
        out_rows.append(Row(m, amounts, figures, total, reduction, absorbed_fig, payment, invoiced))
    if host_index is not None:
        m, amounts, figures, total, reduction, absorbed_fig, payment = rows[host_index]
        inv = rounded_cost - members_invoiced
        invoiced = figure("row.invoiced_host", inv, (Num(rounded_cost), " − ", Num(members_invoiced)),
                          rule="host_remainder")
        out_rows[host_index] = Row(m, amounts, figures, total, reduction, absorbed_fig, payment, invoiced)
    return TableResult(table, tuple(out_rows), sums, grand["total"], grand["reduction"], grand["absorbed"],
                       grand["payment"], rounded_cost)
