"""Actual costs: a year's real cost of each component, and the external funding it received.

After the year ends, the host enters what each service really cost; the
settlement compares it with what was billed. Project funding lowers the cost
the municipalities share.

| column | required | content |
|---|---|---|
| `year` | yes | the year, with an agreement in the context (and `context.year` when given) |
| `component` | yes | a component id of that year's agreement |
| `kind` | yes | `cost` or `funding` (Finnish `kustannus` or `rahoitus`), any case |
| `amount` | yes | euros ≥ 0 and below 10^12, at most 2 decimals, decimal comma or point (`1 234,50`) |
| `note` | no | a note, at most 300 characters |

The same (year, component, kind) twice in a file is refused. A personal
identity code in any cell refuses its row.
"""

from __future__ import annotations

from pathlib import Path

from osuus.agreement.checks import AMOUNT_LIMIT
from osuus.billing.records import CostRecord
from osuus.imports import ImportContext, ProblemList
from osuus.problems import Problem
from osuus.imports.tables import RowCheck, file_label, read_rows

REQUIRED = ("year", "component", "kind", "amount")
OPTIONAL = ("note",)
COLUMNS = REQUIRED + OPTIONAL

KINDS = {"cost": "cost", "funding": "funding", "kustannus": "cost", "rahoitus": "funding"}
MAX_NOTE_LENGTH = 300
MONEY_PLACES = 2


def parse_costs(path: str | Path, context: ImportContext, *,
                file: str | None = None) -> tuple[list[CostRecord], list[Problem]]:
    """Every valid cost or funding row of the file, and a problem for every bad row (a `ProblemList`)."""
    label = file if file is not None else file_label(path)
    problems = ProblemList()
    records: list[CostRecord] = []
    seen: set[tuple[int, str, str]] = set()
    for row, cells in read_rows(path, problems, required=REQUIRED, optional=OPTIONAL, file=label):
        r = RowCheck(label, row, cells, problems)
        r.screen()
        year = r.integer("year", what="a year", minimum=1900, maximum=2999, required=True)
        if year is not None:
            if year not in context.agreements:
                r.problem("year", f"no agreement for {year}: costs can be imported for {context.years_text()}")
            elif context.year is not None and year != context.year:
                r.problem("year", f"not {context.year}, the year being imported")
        agreement = context.agreement_for(year)
        component_id = r.text("component", required=True, what="a component id of the agreement")
        component = None
        if component_id and agreement is not None:
            component = agreement.components.get(component_id) or agreement.components.get(component_id.lower())
            if component is None:
                r.problem("component", f"unknown component: the {agreement.year} agreement has "
                                       f"{', '.join(agreement.components)}")
        kind_text = r.text("kind", required=True, what="cost or funding")
        kind = None
        if kind_text:
            kind = KINDS.get(kind_text.lower())
            if kind is None:
                r.problem("kind", "expected cost or funding (kustannus or rahoitus)")
        amount = r.decimal("amount", what="an amount in euros", places=MONEY_PLACES, required=True,
                           limit=AMOUNT_LIMIT)
        note = r.text("note", max_length=MAX_NOTE_LENGTH)
        if year is not None and component is not None and kind:
            identity = (year, component.id, kind)
            if identity in seen:
                r.problem("kind", f"{kind} of {component.id} for {year} is on an earlier row of this file")
            seen.add(identity)
        if r.ok:
            assert year is not None and component is not None and kind and amount is not None
            records.append(CostRecord(year=year, component=component.id, kind=kind, amount=amount,
                                      note=note or "", source=r.source))
    return records, problems
