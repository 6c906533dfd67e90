"""The JSON contract of `osuus allocate --format json` (documented in the README).

Money is a decimal string with exactly two decimals, rounded half-up from the
full-precision value. Fields are only ever added, never renamed or removed.
"""

from __future__ import annotations

from osuus.engine import Allocation, Row
from osuus.money import cents

CONTRACT_VERSION = 1


def _row(row: Row, code: str) -> dict:
    return {
        "municipality": row.municipality,
        "code": code,
        "amounts": {c: cents(v) for c, v in row.amounts.items()},
        "total": cents(row.total.value),
        "reduction": cents(row.reduction.value),
        "absorbed": cents(row.absorbed.value),
        "payment": cents(row.payment.value),
        "invoiced": cents(row.invoiced.value),
    }


def allocation_to_json(allocation: Allocation) -> dict:
    agreement = allocation.agreement
    codes = {m.name: m.code for m in agreement.municipalities}
    tables = []
    for t in allocation.tables:
        tables.append({
            "id": t.table.id,
            "title": t.table.title,
            "caption": t.table.caption,
            "reference": t.table.reference,
            "components": list(t.table.components),
            "rows": [_row(r, codes[r.municipality]) for r in t.rows],
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
            "label": c.label,
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
            "host": agreement.host,
            "title": agreement.title,
            "currency": agreement.currency,
        },
        "tables": tables,
        "components": components,
        "warnings": [str(w) for w in allocation.warnings],
    }


def explanation_to_json(allocation: Allocation, municipality: str) -> dict:
    return {
        "agreement": {"id": allocation.agreement.id, "year": allocation.agreement.year},
        "municipality": municipality,
        "tables": [
            {"id": t.table.id, "title": t.table.title, "figures": [f.to_dict() for f in figures]}
            for t, figures in allocation.explain(municipality)
        ],
    }
