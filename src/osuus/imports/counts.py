"""Reference counts: a key's figure for a municipality on a date.

Population on 31 December, foreign jobseekers or integration-period customers
in July: the figures the next agreement's shares and the year's estimates use.

| column | required | content |
|---|---|---|
| `key` | yes | a `count` key of the context's agreement (of `context.year` when given, else of any): `asukasluku`, `ulkomaalaiset`, `kotoaikaiset` |
| `municipality` | yes | official code (`790`) or Finnish or Swedish name, any case |
| `date` | yes | the date the figure describes: `YYYY-MM-DD` or `D.M.YYYY` (any year: population of 31.12.2020 serves 2021) |
| `value` | yes | ≥ 0 and below 10^9, at most 4 decimals (a suppressed small count may be published as 2,5) |
| `source` | no | where the figure comes from, at most 300 characters |

The same (key, municipality, date) twice in a file is refused. A personal
identity code in any cell refuses its row.
"""

from __future__ import annotations

from pathlib import Path

from osuus.agreement.model import Agreement, CountKey
from osuus.billing.records import CountRecord
from osuus.imports import ImportContext, ProblemList
from osuus.problems import Problem
from osuus.imports.tables import RowCheck, file_label, municipality_text, read_rows

REQUIRED = ("key", "municipality", "date", "value")
OPTIONAL = ("source",)
COLUMNS = REQUIRED + OPTIONAL

MAX_SOURCE_LENGTH = 300
VALUE_PLACES = 4


def parse_counts(path: str | Path, context: ImportContext, *,
                 file: str | None = None) -> tuple[list[CountRecord], list[Problem]]:
    """Every valid count of the file, and a problem for every bad row (a `ProblemList`)."""
    label = file if file is not None else file_label(path)
    problems = ProblemList()
    records: list[CountRecord] = []
    agreements = _agreements(context)
    count_keys = {name for a in agreements for name, key in a.keys.items() if isinstance(key, CountKey)}
    other_keys = {name for a in agreements for name in a.keys} - count_keys
    seen: set[tuple[str, str, object]] = set()
    for row, cells in read_rows(path, problems, required=REQUIRED, optional=OPTIONAL, file=label):
        r = RowCheck(label, row, cells, problems)
        r.screen()
        key = r.text("key", required=True, what="a count key of the agreement")
        if key:
            if key in other_keys and key not in count_keys:
                r.problem("key", "this key is computed from another key, not counted: import the key it comes from")
            elif key not in count_keys:
                r.problem("key", f"unknown key: expected one of {', '.join(sorted(count_keys)) or '(none)'}")
        code = None
        municipality = r.text("municipality", required=True, what="a municipality code or name")
        if municipality:
            code = _municipality_code(agreements, municipality_text(municipality))
            if code is None:
                r.problem("municipality", "unknown municipality: not a code or name of the agreement")
        date = r.date("date")
        value = r.decimal("value", what="a count", places=VALUE_PLACES, required=True)
        note = r.text("source", max_length=MAX_SOURCE_LENGTH)
        if key and code and date:
            identity = (key, code, date)
            if identity in seen:
                r.problem("key", f"{key} of {municipality} on {date.isoformat()} is on an earlier row of this file")
            seen.add(identity)
        if r.ok:
            assert key and code and date and value is not None
            records.append(CountRecord(key=key, municipality=code, date=date, value=value, source_note=note or "",
                                       source=r.source))
    return records, problems


def _agreements(context: ImportContext) -> list[Agreement]:
    if context.year is not None and context.year in context.agreements:
        return [context.agreements[context.year]]
    return [context.agreements[y] for y in sorted(context.agreements)]


def _municipality_code(agreements: list[Agreement], text: str) -> str | None:
    for agreement in agreements:
        found = agreement.find_municipality(text)
        if found is not None:
            return found.code
    return None
