"""The appendix's layout, once: blocks of labelled cells that the terminal, Excel
and PDF renderers present in their own way.

A cell holds a full-precision value and a `kind` that says how to show it; the
layout never rounds. Headers come from the catalogue in the reader's language;
labels the agreement writes (components, keys, tables) in its own words, or in
the reader's language where the agreement gives them. Rows are identified by
municipality code, shown by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from osuus.agreement.model import DerivedKey, PoolComponent, UnitComponent
from osuus.engine import Allocation, TableResult
from osuus.money import ZERO
from osuus.render.formats import formats
from osuus.render.i18n import catalogue

# cell kinds
TEXT, EUR, EUR2, COUNT, QTY, PCT, RATE = "text", "eur", "eur2", "count", "qty", "pct", "rate"


class Cell(NamedTuple):
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
    label_columns: int = 1  # how many leading columns name the row (the rest are figures)
    detail_columns: tuple[int, ...] = ()  # the per-component columns, which a narrow screen may show apart

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


def layout(allocation: Allocation, lang: str = "fi") -> list[Sheet]:
    return [_Layout(allocation, lang).sheet(t) for t in allocation.tables]


class _Layout:
    def __init__(self, allocation: Allocation, lang: str):
        self.allocation = allocation
        self.agreement = allocation.agreement
        self.lang = lang
        self.c = catalogue(lang)
        self.f = formats(lang)

    def t(self, message: str, /, **params) -> str:
        return self.c.t(f"layout.{message}", **params)

    def name(self, code: str) -> str:
        return self.agreement.name_of(code, self.lang)

    def component(self, cid: str) -> str:
        return self.agreement.components[cid].label.get(self.lang)

    def sheet(self, t: TableResult) -> Sheet:
        table = t.table
        comps = [self.agreement.components[c] for c in table.components]
        blocks = []
        pools = [c for c in comps if isinstance(c, PoolComponent)]
        units = [c for c in comps if isinstance(c, UnitComponent)]
        if pools and table.host_row == "inline":
            blocks.append(self.pool_block(t, pools))
        if units:
            blocks.append(self.price_block(units))
        blocks.append(self.rows_block(t))
        if table.host_row == "separate":
            blocks.extend(self.host_blocks(t))
        return Sheet(table.id, table.caption.get(self.lang), table.title.get(self.lang), table.reference, blocks)

    def pool_block(self, t: TableResult, pools: list[PoolComponent]) -> Block:
        agreement = self.agreement
        overheads = {p.overhead.rate for p in pools if p.overhead is not None}
        header = [self.t("pooled_costs", year=agreement.year), self.t("cost_per_year")]
        if overheads:
            rate_text = self.f.rate(next(iter(overheads))) if len(overheads) == 1 else self.t("various")
            header.append(self.t("flat_rate", rate=rate_text))
        header.append(self.t("total"))
        share_param = agreement.parameters.get(t.table.members_share) if t.table.members_share else None
        if share_param is not None:
            header.append(self.t("members_share", rate=self.f.rate(share_param.value)))
        block = Block(self.t("costs"), header)
        sums = [ZERO] * (len(header) - 1)
        for p in pools:
            result = self.allocation.components[p.id]
            values = [result.cost]
            if overheads:
                values.append(result.overhead)
            values.append(result.total.value)
            if share_param is not None:
                values.append(result.total.value * share_param.value)
            sums = [s + v for s, v in zip(sums, values)]
            block.add(text(p.label.get(self.lang)), *(eur(v) for v in values))
        block.add(text(self.t("sum")), *(eur(v) for v in sums))
        block.total_rows = 1
        return block

    def price_block(self, units: list[UnitComponent]) -> Block:
        block = Block(self.t("unit_prices"), [self.t("service"), self.t("unit_price"), self.t("priced_quantity")])
        for u in units:
            for key, price, _ref in u.priced_quantities():
                block.add(text(u.label.get(self.lang)), Cell(price, EUR2),
                          text(self.agreement.keys[key].label.get(self.lang)))
        return block

    def key_columns(self, key_name: str, *, rounded: bool = True) -> list[tuple[str, dict[str, Decimal], str]]:
        """(header, value per municipality, kind) for a key shown in a table.

        A derived key shows its exact value (rate × count) and, with `rounded`,
        the rounded count that is billed, as Taulukko 2 does."""
        allocation = self.allocation
        key = self.agreement.keys[key_name]
        label = key.label.get(self.lang)
        values = allocation.key_values.get(key_name)
        if values is None:  # mixed or fixed key: show shares
            return [(label, dict(allocation.key_shares.get(key_name, {})), PCT)]
        if isinstance(key, DerivedKey):
            source = allocation.key_values[key.source_key]
            exact = {m: key.rate * v for m, v in source.items()}
            cols = [(f"{label} ({self.f.rate(key.rate)})", exact, QTY)]
            if key.rounding != "none" and rounded:
                cols.append((self.t("rounded", key=label), dict(values), COUNT))
            return cols
        return [(label, dict(values), COUNT)]

    def rows_block(self, t: TableResult) -> Block:
        agreement = self.agreement
        table = t.table
        host = agreement.host
        rows = [r for r in t.rows if table.host_row == "inline" or r.municipality != host]
        key_cols = [col for k in table.show_keys for col in self.key_columns(k)]
        share_values: dict[str, Decimal] = {}
        if table.share_of:
            base = self.allocation.key_values.get(table.share_of)
            if base is not None:
                shown = [r.municipality for r in rows]
                total = sum((base[m] for m in shown), ZERO)
                share_values = {m: base[m] / total for m in shown} if total else {}
            else:
                share_values = dict(self.allocation.key_shares.get(table.share_of, {}))
        reductions = {}
        for red in agreement.reductions:
            if any(c in table.components for c in red.components):
                reductions[red.municipality] = red.rate
        show_reduction = any(r.reduction.value for r in rows)
        show_absorbed = any(r.absorbed.value for r in rows if r.municipality != host)
        header = [self.t("municipality"), *(h for h, _, _ in key_cols)]
        if share_values:
            header.append(self.t("share_pct"))
        first = len(header)
        header += [self.component(c) for c in table.components]
        details = tuple(range(first, len(header)))
        header.append(self.t("total"))
        if show_reduction:
            header += [self.t("reduction_pct"), self.t("reduction_eur")]
        if show_absorbed:
            header.append(self.t("absorbed_eur"))
        header.append(self.t("payments"))
        block = Block(self.t("payments_of_year", year=agreement.year), header, detail_columns=details)
        for r in rows:
            m = r.municipality
            cells = [text(self.name(m)), *(Cell(vals.get(m), kind) for _, vals, kind in key_cols)]
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
        cells = [text(self.t("sum")), *(Cell(sum((vals.get(r.municipality, ZERO) for r in rows), ZERO), kind)
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

    def host_blocks(self, t: TableResult) -> list[Block]:
        agreement = self.agreement
        table = t.table
        host = agreement.host
        blocks = []
        key_cols = [col for k in table.show_keys for col in self.key_columns(k, rounded=False)]
        host_share = self.host_share()
        if key_cols:
            block = Block(self.t("host"), [self.t("municipality"), *(h for h, _, _ in key_cols)])
            block.add(text(self.name(host)), *(Cell(vals.get(host), kind) for _, vals, kind in key_cols))
            shares = []
            for _, vals, kind in key_cols:
                total = sum(vals.values(), ZERO)
                shares.append(Cell(vals.get(host, ZERO) / total if total and kind != PCT else None, PCT))
            block.add(text(host_share), *shares)
            totals = [Cell(sum(vals.values(), ZERO), kind) if kind != PCT else Cell(None) for _, vals, kind in key_cols]
            block.add(text(self.t("whole_area")), *totals)
            blocks.append(block)
        host_row = t.row(host)
        members = [r for r in t.rows if r.municipality != host]
        header = [self.t("municipality_service"), *(self.component(c) for c in table.components), self.t("total")]
        block = Block(self.t("shares_total"), header, detail_columns=tuple(range(1, len(header) - 1)))
        member_sums = [sum((r.amounts[c] for r in members), ZERO) for c in table.components]
        block.add(text(self.t("members_total")), *(eur(v) for v in member_sums),
                  eur(sum((r.payment.value for r in members), ZERO)))
        block.add(text(host_share), *(eur(host_row.amounts[c]) for c in table.components),
                  eur(host_row.payment.value))
        block.add(text(self.t("total")), *(eur(self.allocation.components[c].total.value) for c in table.components),
                  eur(t.payment))
        block.total_rows = 1
        blocks.append(block)
        return blocks

    def host_share(self) -> str:
        """"Tampereen osuus", "Tammerfors andel", "Tampere's share"."""
        name = self.name(self.agreement.host)
        if self.lang == "fi":
            name = genitive_fi(name)
        elif self.lang == "sv":
            name = name if name[-1:] in ("s", "x", "z") else name + "s"
        return self.t("host_share", host=name)


def genitive_fi(name: str) -> str:
    """The Finnish genitive of a municipality's name for a label: 'Tampereen', 'Akaan', 'Nokian'."""
    if name.endswith("e"):
        return name + "en"
    return name + "n"
