"""Terminal tables laid out like the appendix (Rich), in Finnish."""

from __future__ import annotations

from decimal import Decimal

from osuus.engine import Allocation
from osuus.money import fmt_count, fmt_number, fmt_rate
from osuus.render.layout import COUNT, EUR, PCT, QTY, RATE, Cell, layout


def format_cell(cell: Cell, euro_places: int) -> str:
    if cell.value is None:
        return ""
    if not isinstance(cell.value, Decimal):
        return str(cell.value)
    kind = cell.kind
    if kind == EUR:
        return fmt_number(cell.value, euro_places)
    if kind == EUR + "2":
        return fmt_number(cell.value, 2)
    if kind == COUNT:
        return fmt_count(cell.value)
    if kind == QTY:
        return _qty(cell.value)
    if kind == PCT:
        return fmt_rate(cell.value, 1)
    if kind == RATE:
        return fmt_rate(cell.value)
    return str(cell.value)


def _qty(value: Decimal) -> str:
    exponent = int(value.normalize().as_tuple().exponent)
    return fmt_count(value) if exponent >= -3 else fmt_number(value, 2)


def print_allocation(allocation: Allocation, console) -> None:
    from rich import box
    from rich.table import Table

    agreement = allocation.agreement
    places = agreement.shown.places
    console.print(f"[bold]{agreement.title}[/bold]")
    console.print(f"Vastuukunta: {agreement.host}   Sopimus: {agreement.id}   "
                  f"Luvut: euroa, pyöristys {agreement.shown.describe()}", highlight=False)
    for sheet in layout(allocation):
        console.print()
        console.print(f"[bold]{sheet.caption}: {sheet.title}[/bold]  [dim]{sheet.reference}[/dim]", highlight=False)
        for block in sheet.blocks:
            table = Table(title=block.title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                          pad_edge=False, header_style="bold")
            cells = [[format_cell(c, places) for c in row] for row in block.rows]
            for i, head in enumerate(block.header):
                # wrap headers between words only; never break a name or a number
                widest = max([len(w) for w in head.split()] + [len(r[i]) for r in cells if i < len(r)])
                table.add_column(head, justify="left" if i == 0 else "right", no_wrap=(i == 0),
                                 min_width=widest, max_width=None if i == 0 else max(widest, 22))
            last = len(block.rows) - block.total_rows
            for n, row in enumerate(cells):
                table.add_row(*row, end_section=(n == last - 1), style="bold" if n >= last else None)
            console.print(table)
    for warning in allocation.warnings:
        console.print(f"[yellow]Huomio:[/yellow] {warning}", highlight=False)
