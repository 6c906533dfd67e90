"""The JSON contract of `osuus allocate --format json` (documented in the README).

Money is a decimal string with exactly two decimals, rounded half-up from the
full-precision value. Fields are only ever added, never renamed or removed.
Labels are the agreement's own (Finnish) words; `municipality` is the name of
the agreement's year and `code` the municipality's lasting identity.
"""

from __future__ import annotations

from osuus.engine import Allocation, Row
from osuus.money import cents

CONTRACT_VERSION = 1


def _row(row: Row, name: str) -> dict:
    return {
        "municipality": name,
        "code": row.municipality,
        "amounts": {c: cents(v) for c, v in row.amounts.items()},
        "total": cents(row.total.value),
        "reduction": cents(row.reduction.value),
        "absorbed": cents(row.absorbed.value),
        "payment": cents(row.payment.value),
        "invoiced": cents(row.invoiced.value),
    }


def allocation_to_json(allocation: Allocation) -> dict:
    agreement = allocation.agreement
    tables = []
    for t in allocation.tables:
        tables.append({
            "id": t.table.id,
            "title": t.table.title.fi,
            "caption": t.table.caption.fi,
            "reference": t.table.reference,
            "components": list(t.table.components),
            "rows": [_row(r, agreement.name_of(r.municipality)) for r in t.rows],
            "totals": {
                "amounts": {c: cents(v) for c, v in t.amounts.items()},
                "total": cents(t.total),
                "reduction": cents(t.reduction),
                "absorbed": cents(t.absorbed),
                "payment": cents(t.payment),
                "invoiced": cents(t.invoiced),
            },
        })
    components = {
        cid: {
            "label": agreement.components[cid].label.fi,
            "kind": c.kind,
            "total": cents(c.total.value),
            "reference": c.reference,
        }
        for cid, c in allocation.components.items()
    }
    return {
        "contract": CONTRACT_VERSION,
        "agreement": {
            "id": agreement.id,
            "year": agreement.year,
            "host": agreement.name_of(agreement.host),
            "host_code": agreement.host,
            "title": agreement.title.fi,
            "currency": agreement.currency,
        },
        "tables": tables,
        "components": components,
        "warnings": [str(w) for w in allocation.warnings],
    }
