"""Tables for the terminal, laid out like the appendix and fitted to the terminal's width.

Plain text, no colour: a title, a header (wrapped between words when a column
is narrow), a rule, the rows and, under a second rule, the sums. A table wider
than the terminal is split into panels that each repeat the row labels: the
columns that matter for the bottom line (keys, totals, reductions and the
payment) come first, the per-component columns follow in as many panels as the
width needs. No column is ever dropped.

Every figure is formatted by osuus.render.formats in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from osuus.engine import Allocation
from osuus.render.formats import Formats, formats, plain_spaces
from osuus.render.i18n import catalogue
from osuus.render.layout import COUNT, EUR, EUR2, PCT, QTY, RATE, Block, Cell, layout

GAP = "  "
#: a terminal never breaks a line inside a figure: its no-break spaces become plain ones (easier to search for)
plain = plain_spaces
#: the narrowest a terminal is taken to be
MIN_WIDTH = 60


def format_cell(cell: Cell, euro_places: int, f: Formats) -> str:
    if cell.value is None:
        return ""
    if not isinstance(cell.value, Decimal):
        return str(cell.value)
    kind = cell.kind
    if kind == EUR:
        return f.number(cell.value, euro_places)
    if kind == EUR2:
        return f.number(cell.value, 2)
    if kind == COUNT:
        return f.count(cell.value)
    if kind == QTY:
        exponent = int(cell.value.normalize().as_tuple().exponent)
        return f.count(cell.value) if exponent >= -3 else f.number(cell.value, 2)
    if kind == PCT:
        return f.rate(cell.value, 1)
    if kind == RATE:
        return f.rate(cell.value)
    return str(cell.value)


@dataclass
class TextTable:
    """A table of strings: the first `label_columns` columns are left-aligned labels."""

    title: str
    header: list[str]
    rows: list[list[str]]
    total_rows: int = 0
    label_columns: int = 1
    detail_columns: frozenset[int] = field(default_factory=frozenset)  # may move to a later panel

    def render(self, width: int | None = None) -> str:
        n = len(self.header)
        cells = [[r[i] for r in self.rows if i < len(r)] for i in range(n)]
        widths = [_natural_width(self.header[i], cells[i], wrap=width is not None) for i in range(n)]
        labels = list(range(self.label_columns))
        rest = [i for i in range(self.label_columns, n)]
        if width is None or _span(widths, labels + rest) <= width:
            panels = [labels + rest]
        else:
            width = max(width, MIN_WIDTH)
            # headers wrap down to their longest word; a label column is kept to a third of the screen
            widths = [max(max((len(c) for c in cells[i]), default=0), _longest_word(self.header[i], []))
                      for i in range(n)]
            for i in labels:
                widths[i] = min(widths[i], max(width // 3, _longest_word(self.header[i], cells[i])))
            primary = [i for i in rest if i not in self.detail_columns]
            detail = [i for i in rest if i in self.detail_columns]
            panels = [labels + chunk for chunk in _pack_keeping_last(primary, widths, labels, width)]
            panels += [labels + chunk for chunk in _pack(detail, widths, labels, width)]
        out = [self.title] if self.title else []
        for k, columns in enumerate(panels):
            if k:
                out.append("")
            out.extend(self._panel(columns, widths))
        return plain("\n".join(out) + "\n")

    def _panel(self, columns: list[int], widths: list[int]) -> list[str]:
        heads = [_wrap(self.header[i], widths[i]) for i in columns]
        height = max((len(h) for h in heads), default=1)
        lines = []
        for row in range(height):
            cells = []
            for i, h in zip(columns, heads):
                part = h[row] if row < len(h) else ""
                cells.append(part.ljust(widths[i]) if i < self.label_columns else part.rjust(widths[i]))
            lines.append(GAP.join(cells).rstrip())
        rule = GAP.join("─" * widths[i] for i in columns)
        lines.append(rule)
        first_total = len(self.rows) - self.total_rows
        for n, row in enumerate(self.rows):
            if n == first_total and self.total_rows and n:
                lines.append(rule)
            wrapped = [_wrap(row[i] if i < len(row) else "", widths[i]) for i in columns]
            for k in range(max(len(w) for w in wrapped)):
                cells = []
                for i, w in zip(columns, wrapped):
                    part = w[k] if k < len(w) else ""
                    cells.append(part.ljust(widths[i]) if i < self.label_columns else part.rjust(widths[i]))
                lines.append(GAP.join(cells).rstrip())
        return lines


def _longest_word(head: str, cells: list[str]) -> int:
    return max([len(w) for w in head.split()] + [len(w) for c in cells for w in c.split()] + [1])


def _natural_width(head: str, cells: list[str], wrap: bool = True) -> int:
    """As wide as the widest cell, and the header's longest word; a long header wraps
    (unless there is no width to keep to)."""
    widest_cell = max((len(c) for c in cells), default=0)
    return max(widest_cell, max((len(w) for w in head.split()), default=0), min(len(head), 16) if wrap else len(head))


def _span(widths: list[int], columns: list[int]) -> int:
    return sum(widths[i] for i in columns) + len(GAP) * (len(columns) - 1)


def _pack(group: list[int], widths: list[int], labels: list[int], width: int) -> list[list[int]]:
    """Consecutive columns of `group` in chunks that fit beside the label columns."""
    chunks: list[list[int]] = []
    current: list[int] = []
    for i in group:
        if current and _span(widths, labels + current + [i]) > width:
            chunks.append(current)
            current = []
        current.append(i)
    if current:
        chunks.append(current)
    return chunks


def _pack_keeping_last(group: list[int], widths: list[int], labels: list[int], width: int) -> list[list[int]]:
    """As `_pack`, but the group's last column (the bottom line: the payment) is in the first chunk."""
    if len(group) < 2:
        return _pack(group, widths, labels, width)
    last = group[-1]
    first: list[int] = []
    for i in group[:-1]:
        if _span(widths, labels + first + [i, last]) > width:
            break
        first.append(i)
    rest = [i for i in group[:-1] if i not in first]
    return [first + [last], *_pack(rest, widths, labels, width)]


def wrap_text(text: str, width: int | None) -> str:
    """A running text wrapped to the terminal (none without a width)."""
    if width is None:
        return text
    import textwrap

    return "\n".join(textwrap.fill(line, max(width, MIN_WIDTH)) if line else "" for line in text.split("\n"))


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken between words (a longer word stands alone)."""
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


def block_table(block: Block, euro_places: int, f: Formats) -> TextTable:
    return TextTable(block.title, block.header, [[format_cell(c, euro_places, f) for c in row] for row in block.rows],
                     block.total_rows, block.label_columns, frozenset(block.detail_columns))


def allocation_text(allocation: Allocation, lang: str = "fi", width: int | None = None) -> str:
    """`osuus allocate`: every table of the agreement as in the appendix."""
    agreement = allocation.agreement
    c = catalogue(lang)
    f = formats(lang)
    places = agreement.shown.places
    from osuus.render.explain import Explainer, _shown_rounding

    out = [wrap_text(agreement.title.get(lang), width),
           wrap_text(c.t("terminal.allocation.head", host=agreement.name_of(agreement.host, lang),
                         agreement=agreement.id, rounding=Explainer(agreement, lang).rule(_shown_rounding(agreement))),
                     width)]
    for sheet in layout(allocation, lang):
        out.append("")
        heading = f"{sheet.caption}: {sheet.title}" if sheet.caption else sheet.title
        out.append(wrap_text(f"{heading}  ({sheet.reference})" if sheet.reference else heading, width))
        for block in sheet.blocks:
            out.append("")
            out.append(block_table(block, places, f).render(width).rstrip("\n"))
    for warning in allocation.warnings:
        out.append(wrap_text(c.t("cli.note", text=str(warning)), width))
    return plain("\n".join(out) + "\n")
