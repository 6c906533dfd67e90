"""The appendix's layout, once: blocks of labelled cells that the terminal and
Excel renderers present in their own way.

A cell holds a full-precision value and a `kind` that says how to show it; the
layout never rounds. Headers are Finnish, as in the appendix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from osuus.agreement.model import DerivedKey, PoolComponent, UnitComponent
from osuus.engine import Allocation, TableResult
from osuus.money import ZERO

# cell kinds
TEXT, EUR, COUNT, QTY, PCT, RATE = "text", "eur", "count", "qty", "pct", "rate"


@dataclass(frozen=True, slots=True)
class Cell:
    value: Decimal | str | None
    kind: str = TEXT

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, Decimal)


@dataclass
class Block:
    """A rectangular part of a table: a title, a header row and data rows."""

    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    total_rows: int = 0  # how many of the last rows are sums

    def add(self, *cells: Cell) -> None:
        self.rows.append(list(cells))


@dataclass
class Sheet:
    """One table of the appendix: its caption, title and blocks."""

    id: str
    caption: str
    title: str
    reference: str
    blocks: list[Block]


def text(value: str) -> Cell:
    return Cell(value, TEXT)


def eur(value: Decimal) -> Cell:
    return Cell(value, EUR)


def layout(allocation: Allocation) -> list[Sheet]:
    return [_sheet(allocation, t) for t in allocation.tables]


def _sheet(allocation: Allocation, t: TableResult) -> Sheet:
    agreement = allocation.agreement
    table = t.table
    comps = [agreement.components[c] for c in table.components]
    blocks = []
    pools = [c for c in comps if isinstance(c, PoolComponent)]
    units = [c for c in comps if isinstance(c, UnitComponent)]
    if pools and table.host_row == "inline":
        blocks.append(_pool_block(allocation, t, pools))
    if units:
        blocks.append(_price_block(allocation, units))
    blocks.append(_rows_block(allocation, t))
    if table.host_row == "separate":
        blocks.extend(_host_blocks(allocation, t))
    return Sheet(table.id, table.caption, table.title, table.reference, blocks)


def _pool_block(allocation: Allocation, t: TableResult, pools: list[PoolComponent]) -> Block:
    agreement = allocation.agreement
    overheads = {p.overhead.rate for p in pools if p.overhead is not None}
    header = [f"Jaettavat kustannukset {agreement.year}", "Kulut/vuosi"]
    if overheads:
        from osuus.money import fmt_rate

        rate_text = fmt_rate(next(iter(overheads))) if len(overheads) == 1 else "eri"
        header.append(f"Flat rate ({rate_text})")
    header.append("Yhteensä")
    share_param = agreement.parameters.get(t.table.members_share) if t.table.members_share else None
    if share_param is not None:
        from osuus.money import fmt_rate

        header.append(f"Yhteensä kuntien osuus {fmt_rate(share_param.value)}")
    block = Block("Kustannukset", header)
    sums = [ZERO] * (len(header) - 1)
    for p in pools:
        result = allocation.components[p.id]
        values = [result.cost]
        if overheads:
            values.append(result.overhead)
        values.append(result.total.value)
        if share_param is not None:
            values.append(result.total.value * share_param.value)
        sums = [s + v for s, v in zip(sums, values)]
        block.add(text(p.label), *(eur(v) for v in values))
    block.add(text("Summa"), *(eur(v) for v in sums))
    block.total_rows = 1
    return block


def _price_block(allocation: Allocation, units: list[UnitComponent]) -> Block:
    block = Block("Yksikköhinnat", ["Palvelu", "Yksikköhinta €", "Hinnoiteltava määrä"])
    for u in units:
        for key, price, _ref in u.priced_quantities():
            block.add(text(u.label), Cell(price, EUR + "2"), text(allocation.agreement.keys[key].label))
    return block


def _key_columns(allocation: Allocation, key_name: str, *, rounded: bool = True) -> list[tuple[str, dict[str, Decimal], str]]:
    """(header, value per municipality, kind) for a key shown in a table.

    A derived key shows its exact value (rate × count) and, with `rounded`,
    the rounded count that is billed, as Taulukko 2 does."""
    key = allocation.agreement.keys[key_name]
    values = allocation.key_values.get(key_name)
    if values is None:  # mixed or fixed key: show shares
        return [(key.label, dict(allocation.key_shares.get(key_name, {})), PCT)]
    if isinstance(key, DerivedKey):
        from osuus.money import fmt_rate

        source = allocation.key_values[key.source_key]
        exact = {m: key.rate * v for m, v in source.items()}
        cols = [(f"{key.label} ({fmt_rate(key.rate)})", exact, QTY)]
        if key.rounding != "none" and rounded:
            cols.append((f"{key.label}, pyöristetty", dict(values), COUNT))
        return cols
    return [(key.label, dict(values), COUNT)]


def _rows_block(allocation: Allocation, t: TableResult) -> Block:
    agreement = allocation.agreement
    table = t.table
    host = agreement.host
    rows = [r for r in t.rows if table.host_row == "inline" or r.municipality != host]
    key_cols = [col for k in table.show_keys for col in _key_columns(allocation, k)]
    share_values: dict[str, Decimal] = {}
    if table.share_of:
        base = allocation.key_values.get(table.share_of)
        if base is not None:
            shown = [r.municipality for r in rows]
            total = sum((base[m] for m in shown), ZERO)
            share_values = {m: base[m] / total for m in shown} if total else {}
        else:
            share_values = dict(allocation.key_shares.get(table.share_of, {}))
    reductions = {}
    for red in agreement.reductions:
        if any(c in table.components for c in red.components):
            reductions[red.municipality] = red.rate
    show_reduction = any(r.reduction.value for r in rows)
    show_absorbed = any(r.absorbed.value for r in rows if r.municipality != host)
    header = ["Kunta", *(h for h, _, _ in key_cols)]
    if share_values:
        header.append("%-osuus")
    header += [agreement.components[c].label for c in table.components]
    header.append("Yhteensä")
    if show_reduction:
        header += ["Alennus %", "Alennus €"]
    if show_absorbed:
        header.append("Alennusten siirto €")
    header.append("Maksuosuudet")
    block = Block(f"Kuntien maksuosuudet {agreement.year}", header)
    for r in rows:
        m = r.municipality
        cells = [text(m), *(Cell(vals.get(m), kind) for _, vals, kind in key_cols)]
        if share_values:
            cells.append(Cell(share_values.get(m, ZERO), PCT))
        cells += [eur(r.amounts[c]) for c in table.components]
        cells.append(eur(r.total.value))
        if show_reduction:
            cells += [Cell(reductions[m], RATE) if m in reductions and r.reduction.value else text("-"),
                      eur(r.reduction.value) if r.reduction.value else text("-")]
        if show_absorbed:
            cells.append(eur(r.absorbed.value) if r.absorbed.value else text("-"))
        cells.append(eur(r.payment.value))
        block.add(*cells)
    # the sums line
    cells = [text("Summa"), *(Cell(sum((vals.get(r.municipality, ZERO) for r in rows), ZERO), kind if kind != PCT else PCT)
                              for _, vals, kind in key_cols)]
    if share_values:
        cells.append(Cell(sum(share_values.values(), ZERO), PCT))
    cells += [eur(sum((r.amounts[c] for r in rows), ZERO)) for c in table.components]
    cells.append(eur(sum((r.total.value for r in rows), ZERO)))
    if show_reduction:
        cells += [text(""), eur(sum((r.reduction.value for r in rows), ZERO))]
    if show_absorbed:
        cells.append(eur(sum((r.absorbed.value for r in rows), ZERO)))
    cells.append(eur(sum((r.payment.value for r in rows), ZERO)))
    block.add(*cells)
    block.total_rows = 1
    return block


def _host_blocks(allocation: Allocation, t: TableResult) -> list[Block]:
    agreement = allocation.agreement
    table = t.table
    host = agreement.host
    blocks = []
    key_cols = [col for k in table.show_keys for col in _key_columns(allocation, k, rounded=False)]
    if key_cols:
        block = Block("Vastuukunta", ["Kunta", *(h for h, _, _ in key_cols)])
        block.add(text(host), *(Cell(vals.get(host), kind) for _, vals, kind in key_cols))
        shares = []
        for _, vals, kind in key_cols:
            total = sum(vals.values(), ZERO)
            shares.append(Cell(vals.get(host, ZERO) / total if total and kind != PCT else None, PCT))
        block.add(text(f"{_genitive(host)} osuus"), *shares)
        totals = [Cell(sum(vals.values(), ZERO), kind) if kind != PCT else Cell(None) for _, vals, kind in key_cols]
        block.add(text("Koko alue"), *totals)
        blocks.append(block)
    host_row = t.row(host)
    members = [r for r in t.rows if r.municipality != host]
    header = ["Kunta/Palvelu", *(agreement.components[c].label for c in table.components), "Yhteensä"]
    block = Block("Osuudet yhteensä", header)
    member_sums = [sum((r.amounts[c] for r in members), ZERO) for c in table.components]
    block.add(text("Kuntien osuus yhteensä"), *(eur(v) for v in member_sums),
              eur(sum((r.payment.value for r in members), ZERO)))
    block.add(text(f"{_genitive(host)} osuus"), *(eur(host_row.amounts[c]) for c in table.components),
              eur(host_row.payment.value))
    block.add(text("Yhteensä"), *(eur(allocation.components[c].total.value) for c in table.components),
              eur(t.payment))
    block.total_rows = 1
    blocks.append(block)
    return blocks


def _genitive(name: str) -> str:
    """Finnish genitive of a municipality name for labels: 'Tampereen', 'Akaan'."""
    if name.endswith("e"):
        return name + "en"
    return name + "n"
