"""CSV: one row per table and municipality; machine-readable (dot decimals, two places).

A text cell that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`, `@`,
a tab or a carriage return: OWASP's CSV-injection advice) is written with a leading single
quote, `'=SUM(A1)`; numbers are written as they are (`-12.50` stays a number).
"""

from __future__ import annotations

import csv
import io

from osuus.engine import Allocation
from osuus.money import cents

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """A text as a CSV cell that no spreadsheet evaluates: `'` before a formula-looking start."""
    return "'" + text if text.startswith(FORMULA_START) else text


def allocation_to_csv(allocation: Allocation) -> str:
    agreement = allocation.agreement
    component_ids = [c for t in allocation.tables for c in t.table.components]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([text_cell(h) for h in ("table", "municipality", "code", *component_ids, "total", "reduction",
                                            "absorbed", "payment", "invoiced")])
    for t in allocation.tables:
        for row in t.rows:
            amounts = [cents(row.amounts[c]) if c in row.amounts else "" for c in component_ids]
            writer.writerow([text_cell(t.table.id), text_cell(agreement.name_of(row.municipality)),
                             text_cell(row.municipality), *amounts,
                             cents(row.total.value), cents(row.reduction.value), cents(row.absorbed.value),
                             cents(row.payment.value), cents(row.invoiced.value)])
    return out.getvalue()
