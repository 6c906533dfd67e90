"""Excel workbook: one sheet per appendix table, the inputs, and the reasons.

Numbers are written as numbers (money rounded to the cent) with number
formats, so the workbook can be summed and checked. The file is written to a
temporary name and moved into place, so a failure leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path

from osuus.agreement.model import CountKey, DerivedKey, FixedKey, MixKey, PoolComponent
from osuus.engine import Allocation
from osuus.money import CENT, round_to
from osuus.render.layout import COUNT, EUR, PCT, QTY, RATE, Cell, layout

_FORMATS = {
    EUR: "#,##0",
    EUR + "2": "#,##0.00",
    COUNT: "#,##0.###",
    QTY: "#,##0.00#",
    PCT: "0.0 %",
    RATE: "0.0 %",
}


def _value(cell: Cell):
    if isinstance(cell.value, Decimal):
        if cell.kind in (EUR, EUR + "2"):
            return round_to(cell.value, CENT)
        return cell.value.normalize() if cell.kind in (COUNT, QTY) else round_to(cell.value, Decimal("0.000001"))
    return cell.value


def build_workbook(allocation: Allocation):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    agreement = allocation.agreement
    euro_format = "#,##0" if agreement.shown.places == 0 else "#,##0.00"
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for sheet in layout(allocation):
        ws = wb.create_sheet(title=(sheet.caption or sheet.id)[:31])
        ws.append([f"{sheet.caption}: {sheet.title}"])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([sheet.reference])
        width = 0
        for block in sheet.blocks:
            ws.append([])
            ws.append([block.title])
            ws.cell(ws.max_row, 1).font = bold
            ws.append(block.header)
            for cell in ws[ws.max_row]:
                cell.font = bold
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            first_total = len(block.rows) - block.total_rows
            for n, row in enumerate(block.rows):
                ws.append([_value(c) for c in row])
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
    _inputs_sheet(wb, allocation, bold)
    _reasons_sheet(wb, allocation, bold)
    return wb


def _inputs_sheet(wb, allocation: Allocation, bold) -> None:
    agreement = allocation.agreement
    ws = wb.create_sheet("Lähtötiedot")
    ws.append([agreement.title])
    ws["A1"].font = bold
    ws.append(["Sopimus", agreement.id, "Vuosi", agreement.year, "Vastuukunta", agreement.host])
    ws.append(["Lähde", agreement.source])
    ws.append([])
    count_keys = [k for k in agreement.keys.values() if isinstance(k, (CountKey, DerivedKey))]
    ws.append(["Kunta", "Kuntanumero", "Nimi ruotsiksi", "Y-tunnus", *(k.label for k in count_keys)])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for m in agreement.municipalities:
        ws.append([m.name, m.code, m.name_sv, m.business_id,
                   *(allocation.key_values[k.name][m.name].normalize() for k in count_keys)])
    ws.append([])
    ws.append(["Jakoperuste", "Laji", "Päivämäärä", "Lähde", "Peruste"])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for k in agreement.keys.values():
        detail = ""
        if isinstance(k, DerivedKey):
            detail = f"{k.rate.normalize()} × {k.source_key}, pyöristys {k.rounding}"
        elif isinstance(k, MixKey):
            detail = " + ".join(f"{w.normalize()} × {part}" for part, w in k.weights)
        elif isinstance(k, FixedKey):
            detail = "sovitut osuudet"
        date = getattr(k, "date", None)
        ws.append([k.label, k.kind, date.isoformat() if date else "", getattr(k, "source", "") or detail, k.reference])
    ws.append([])
    ws.append(["Parametri", "Arvo", "Peruste"])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for p in agreement.parameters.values():
        ws.append([p.label, p.value, p.reference])
        ws.cell(ws.max_row, 2).number_format = "0.0 %" if p.unit == "ratio" else "#,##0.00"
    ws.append([])
    ws.append(["Osa", "Laji", "Kustannus / hinta €", "Kokonaiskustannus €", "Jakoperuste / määrä", "Peruste"])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for c in agreement.components.values():
        result = allocation.components[c.id]
        if isinstance(c, PoolComponent):
            ws.append([c.label, "pooli", c.cost.value, round_to(result.total.value, CENT), c.key, c.reference])
        else:
            prices = "; ".join(f"{key}: {price}" for key, price, _ in c.priced_quantities())
            ws.append([c.label, "yksikköhinta", prices, round_to(result.total.value, CENT), str(c.quantity), c.reference])
        ws.cell(ws.max_row, 4).number_format = "#,##0.00"
    if agreement.reductions:
        ws.append([])
        ws.append(["Alennus", "Osuus", "Osat", "Kantaja", "Peruste"])
        for cell in ws[ws.max_row]:
            cell.font = bold
        for r in agreement.reductions:
            ws.append([r.municipality, r.rate, ", ".join(r.components), r.absorbed_by, r.reference])
            ws.cell(ws.max_row, 2).number_format = "0 %"
    ws.column_dimensions["A"].width = 40


def _reasons_sheet(wb, allocation: Allocation, bold) -> None:
    ws = wb.create_sheet("Perustelut")
    ws.append(["Kunta", "Taulukko", "Luku", "Laskukaava", "Arvo €", "Peruste"])
    for cell in ws[1]:
        cell.font = bold
    for m in allocation.agreement.names:
        for t, figures in allocation.explain(m):
            for f in figures:
                ws.append([m, t.table.caption or t.table.id, f.label, f.formula(), round_to(f.value, CENT), f.reference])
                ws.cell(ws.max_row, 5).number_format = "#,##0.00"
    ws.column_dimensions["C"].width = 40
    ws.column_dimensions["D"].width = 60


def write_workbook(allocation: Allocation, path: str | Path) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    wb = build_workbook(allocation)
    fd, tmp = tempfile.mkstemp(prefix=".osuus-", suffix=".xlsx", dir=path.parent or ".")
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
