"""CSV: one row per table and municipality; machine-readable (dot decimals, two places)."""

from __future__ import annotations

import csv
import io

from osuus.engine import Allocation
from osuus.money import cents


def allocation_to_csv(allocation: Allocation) -> str:
    agreement = allocation.agreement
    component_ids = [c for t in allocation.tables for c in t.table.components]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "municipality", "code", *component_ids, "total", "reduction", "absorbed", "payment",
                     "invoiced"])
    for t in allocation.tables:
        for row in t.rows:
            amounts = [cents(row.amounts[c]) if c in row.amounts else "" for c in component_ids]
            writer.writerow([t.table.id, agreement.name_of(row.municipality), row.municipality, *amounts,
                             cents(row.total.value), cents(row.reduction.value), cents(row.absorbed.value),
                             cents(row.payment.value), cents(row.invoiced.value)])
    return out.getvalue()
