"""Excel workbook: one sheet per appendix table, the inputs, and the reasons.

Numbers are written as numbers (money rounded to the cent) with number
formats, so the workbook can be summed and checked. Texts are text cells, never
formulas, also those that begin with `=`, `+`, `-`, `@`, a tab or a carriage return.
The command line writes the bytes (cli/files.py: through a temporary file, never
over an existing file without --force).
"""

from __future__ import annotations

import io
from decimal import Decimal

from osuus.agreement.model import CountKey, DerivedKey, FixedKey, MixKey, PoolComponent
from osuus.engine import Allocation
from osuus.money import CENT, round_to
from osuus.render.csv_out import FORMULA_START
from osuus.render.i18n import catalogue
from osuus.render.layout import COUNT, EUR, EUR2, PCT, QTY, RATE, Cell, layout

_FORMATS = {
    EUR: "#,##0",
    EUR2: "#,##0.00",
    COUNT: "#,##0.###",
    QTY: "#,##0.00#",
    PCT: "0.0 %",
    RATE: "0.0 %",
}


def _append(ws, values) -> None:
    """A row of cells; a text is a text cell, never a formula (OWASP's CSV-injection advice:
    openpyxl would store a text that starts with "=" as a formula, and one such as "#REF!" as
    an error). Numbers stay numbers."""
    values = list(values)
    ws.append(values)
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            cell = ws.cell(ws.max_row, column)
            if cell.data_type != "s" or value.startswith(FORMULA_START):
                cell.data_type = "s"
                cell.quotePrefix = True  # and Excel keeps it a text when the cell is edited


def _value(cell: Cell):
    if isinstance(cell.value, Decimal):
        if cell.kind in (EUR, EUR2):
            return round_to(cell.value, CENT)
        return cell.value.normalize() if cell.kind in (COUNT, QTY) else round_to(cell.value, Decimal("0.000001"))
    return cell.value


def build_workbook(allocation: Allocation, lang: str = "fi"):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    agreement = allocation.agreement
    euro_format = "#,##0" if agreement.shown.places == 0 else "#,##0.00"
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for sheet in layout(allocation, lang):
        ws = wb.create_sheet(title=(sheet.caption or sheet.id)[:31])
        _append(ws, [f"{sheet.caption}: {sheet.title}"])
        ws["A1"].font = Font(bold=True, size=13)
        _append(ws, [sheet.reference])
        width = 0
        for block in sheet.blocks:
            _append(ws, [])
            _append(ws, [block.title])
            ws.cell(ws.max_row, 1).font = bold
            _append(ws, block.header)
            for cell in ws[ws.max_row]:
                cell.font = bold
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            first_total = len(block.rows) - block.total_rows
            for n, row in enumerate(block.rows):
                _append(ws, [_value(c) for c in row])
                for j, c in enumerate(row, start=1):
                    target = ws.cell(ws.max_row, j)
                    if isinstance(c.value, Decimal):
                        target.number_format = euro_format if c.kind == EUR else _FORMATS.get(c.kind, "General")
                    if n >= first_total:
                        target.font = bold
            width = max(width, len(block.header))
        ws.column_dimensions["A"].width = 30
        for j in range(2, width + 1):
            ws.column_dimensions[get_column_letter(j)].width = 14
        ws.freeze_panes = None
    _inputs_sheet(wb, allocation, bold, lang)
    _reasons_sheet(wb, allocation, bold, lang)
    return wb


def _header(ws, bold, values) -> None:
    _append(ws, values)
    for cell in ws[ws.max_row]:
        cell.font = bold


def _inputs_sheet(wb, allocation: Allocation, bold, lang: str) -> None:
    agreement = allocation.agreement
    c = catalogue(lang)

    def t(message: str, /, **params) -> str:
        return c.t(f"xlsx.{message}", **params)

    ws = wb.create_sheet(t("inputs"))
    _append(ws, [agreement.title.get(lang)])
    ws["A1"].font = bold
    _append(ws, [t("agreement"), agreement.id, t("year"), agreement.year, t("host"), agreement.name_of(agreement.host, lang)])
    _append(ws, [t("source"), agreement.source])
    _append(ws, [])
    count_keys = [k for k in agreement.keys.values() if isinstance(k, (CountKey, DerivedKey))]
    _header(ws, bold, [t("municipality"), t("code"), t("name_sv"), t("business_id"),
                       *(k.label.get(lang) for k in count_keys)])
    for m in agreement.municipalities:
        _append(ws, [m.name, m.code, m.name_sv, m.business_id,
                   *(allocation.key_values[k.name][m.code].normalize() for k in count_keys)])
    _append(ws, [])
    _header(ws, bold, [t("key"), t("kind"), t("date"), t("source"), t("clause")])
    for k in agreement.keys.values():
        detail = ""
        if isinstance(k, DerivedKey):
            detail = t("derived", rate=k.rate.normalize(), key=k.source_key, rounding=k.rounding)
        elif isinstance(k, MixKey):
            detail = " + ".join(f"{w.normalize()} × {part}" for part, w in k.weights)
        elif isinstance(k, FixedKey):
            detail = t("fixed")
        date = getattr(k, "date", None)
        _append(ws, [k.label.get(lang), k.kind, date.isoformat() if date else "", getattr(k, "source", "") or detail,
                   k.reference])
    _append(ws, [])
    _header(ws, bold, [t("parameter"), t("value"), t("clause")])
    for p in agreement.parameters.values():
        _append(ws, [p.label.get(lang), p.value, p.reference])
        ws.cell(ws.max_row, 2).number_format = "0.0 %" if p.unit == "ratio" else "#,##0.00"
    _append(ws, [])
    _header(ws, bold, [t("component"), t("kind"), t("cost_or_price"), t("total_cost"), t("key_or_quantity"),
                       t("clause")])
    for comp in agreement.components.values():
        result = allocation.components[comp.id]
        if isinstance(comp, PoolComponent):
            _append(ws, [comp.label.get(lang), t("pool"), comp.cost.value, round_to(result.total.value, CENT), comp.key,
                       comp.reference])
        else:
            prices = "; ".join(f"{key}: {price}" for key, price, _ in comp.priced_quantities())
            _append(ws, [comp.label.get(lang), t("unit"), prices, round_to(result.total.value, CENT),
                       str(comp.quantity), comp.reference])
        ws.cell(ws.max_row, 4).number_format = "#,##0.00"
    if agreement.reductions:
        _append(ws, [])
        _header(ws, bold, [t("reduction"), t("rate"), t("components"), t("absorbed_by"), t("clause")])
        for r in agreement.reductions:
            _append(ws, [agreement.name_of(r.municipality, lang), r.rate, ", ".join(r.components),
                       t(f"absorbed_by_{r.absorbed_by}"), r.reference])
            ws.cell(ws.max_row, 2).number_format = "0 %"
    ws.column_dimensions["A"].width = 40


def _reasons_sheet(wb, allocation: Allocation, bold, lang: str) -> None:
    from osuus.render.explain import Explainer

    c = catalogue(lang)
    e = Explainer(allocation.agreement, lang)
    ws = wb.create_sheet(c.t("xlsx.reasons"))
    _header(ws, bold, [c.t("xlsx.municipality"), c.t("xlsx.table"), c.t("xlsx.figure"), c.t("xlsx.formula"),
                       c.t("xlsx.value_eur"), c.t("xlsx.clause")])
    agreement = allocation.agreement
    for m in agreement.codes:
        for t, figures in allocation.explain(m):
            for f in figures:
                _append(ws, [agreement.name_of(m, lang), t.table.caption.get(lang) or t.table.id, e.label(f),
                           e.formula(f), round_to(f.value, CENT), e.basis(f)])
                ws.cell(ws.max_row, 5).number_format = "#,##0.00"
    ws.column_dimensions["C"].width = 40
    ws.column_dimensions["D"].width = 60


def workbook_bytes(allocation: Allocation, lang: str = "fi") -> bytes:
    """The workbook as the bytes of an .xlsx file (the command line writes them)."""
    buffer = io.BytesIO()
    build_workbook(allocation, lang).save(buffer)
    return buffer.getvalue()
