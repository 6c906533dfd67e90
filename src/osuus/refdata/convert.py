"""From fetched figures to a key's figures, and to the project's count records.

A `count` key of an agreement is one figure per municipality on a date. From
monthly figures that is either the **year-end** value (the end of December:
`year_end`) or the **average of the month-ends** (`average`): the exact sum of
the month-end values divided by their number in the project's 50-digit
decimal context (`osuus.money.CONTEXT`), so an average is exact whenever it
has a finite decimal expansion, and correct to 50 significant digits when it
has none (1/12 of an odd sum). The month-end values it was made of stay in
`RefValue.parts`, so the sum and the count can always be recomputed. A member
lacking any month of the average gets no average, and a problem names it.

`to_count_records` makes `osuus.billing.records.CountRecord` values: the
short provenance goes in `source_note` (at most 300 characters, as the count
import allows), the table's address or the imported file in `source`; the full
provenance stays in the `RefValue`s (`RefResult.to_json()`).
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from osuus.agreement.model import Agreement
from osuus.billing.records import CountRecord
from osuus.calendar import Period
from osuus.money import CONTEXT, round_to
from osuus.problems import Problem
from osuus.refdata.collect import named, unique_sources
from osuus.refdata.records import RefResult, RefValue
from osuus.refdata.tables import period_of


def _months(months: Iterable[Period] | int) -> list[str]:
    if isinstance(months, int):
        return [f"{months:04d}M{m:02d}" for m in range(1, 13)]
    return [f"{p.year:04d}M{p.index:02d}" for p in months]


def _names(names: Mapping[str, str] | Agreement | None) -> Mapping[str, str]:
    if isinstance(names, Agreement):
        return {m.code: m.name for m in names.municipalities}
    return names or {}


def year_end(result: RefResult, year: int, *, key: str | None = None,
             names: Mapping[str, str] | Agreement | None = None) -> RefResult:
    """Each member's figure at the end of `year`: 31.12. of a yearly table, December of a monthly one."""
    wanted = {f"{year:04d}", f"{year:04d}M12"}
    chosen = [v._replace(method="year-end", key=key or v.key) for v in result.values if v.period in wanted]
    have = {v.municipality_code for v in chosen}
    members = list(dict.fromkeys(v.municipality_code for v in result.values))
    labels = _names(names)
    problems = [Problem(f"{named(labels, code)}: no figure for the end of {year}", key=code,
                        code="refdata.missing_value") for code in members if code not in have]
    return RefResult(values=tuple(chosen), problems=(*result.problems, *problems), not_found=result.not_found,
                     sources=unique_sources(chosen))


def average(result: RefResult, months: Iterable[Period] | int, *, key: str | None = None,
            names: Mapping[str, str] | Agreement | None = None) -> RefResult:
    """Each member's average of its month-end figures over `months` (an int: every month of that year).

    The value is computed in `osuus.money.CONTEXT`; `parts` keeps the month-end values."""
    codes = _months(months)
    if not codes:
        raise ValueError("an average needs at least one month")
    span = codes[0] if len(codes) == 1 else f"{codes[0]}-{codes[-1]}"
    by_member: dict[str, dict[str, RefValue]] = {}
    for v in result.values:
        if v.period in codes:
            by_member.setdefault(v.municipality_code, {})[v.period] = v
    members = list(dict.fromkeys(v.municipality_code for v in result.values))
    labels = _names(names)
    values: list[RefValue] = []
    problems: list[Problem] = []
    last = period_of(codes[-1])
    assert last is not None
    for code in members:
        have = by_member.get(code, {})
        missing = [c for c in codes if c not in have]
        if missing:
            problems.append(Problem(f"{named(labels, code)}: no average of {span}: no figure for "
                                    f"{', '.join(missing)}", key=code, code="refdata.incomplete_months"))
            continue
        parts = tuple(have[c] for c in codes)
        with decimal.localcontext(CONTEXT):
            total = sum((p.value for p in parts), Decimal(0))
            mean = total / len(parts)
        first = parts[0]
        values.append(RefValue(key=key or first.key, municipality_code=code, date=last.end, value=mean,
                               source=parts[-1].source, period=span, method="average", areas=first.areas,
                               parts=parts, status=",".join(sorted({p.status for p in parts if p.status}))))
    return RefResult(values=tuple(values), problems=(*result.problems, *problems), not_found=result.not_found,
                     sources=unique_sources(values))


def exact_average(value: RefValue) -> tuple[Decimal, int]:
    """An average's exact form: (sum of its month-end values, their number)."""
    with decimal.localcontext(CONTEXT):
        return sum((p.value for p in value.parts), Decimal(0)), len(value.parts)


def to_count_records(values: RefResult | Iterable[RefValue], *, key: str | None = None,
                     places: int | None = None, rounding: str = "half_up") -> list[CountRecord]:
    """`CountRecord`s for the ledger. With `places`, values are rounded to that many decimals
    (the count import takes at most 4; an average may have more), and the note says so."""
    items = values.values if isinstance(values, RefResult) else tuple(values)
    records = []
    for v in items:
        value = v.value
        note = v.note()
        if places is not None:
            rounded = round_to(value, Decimal(1).scaleb(-places), rounding)
            if rounded != value:
                note = f"{note}; rounded {rounding} to {places} decimals from {value}"[:300]
            value = rounded
        records.append(CountRecord(key=key or v.key, municipality=v.municipality_code, date=v.date, value=value,
                                   source_note=note, source=v.source.url or v.source.file))
    return records


def key_values_toml(values: RefResult | Sequence[RefValue], agreement: Agreement, *, key: str | None = None,
                    places: int | None = None, rounding: str = "half_up") -> str:
    """The `[keys.KEY.values]` table of an agreement file for the values, by municipality name
    (as the agreement writes them), in the agreement's order, with the provenance as comments.
    With `places`, values are rounded to that many decimals (an average may have 50)."""
    items = values.values if isinstance(values, RefResult) else tuple(values)
    if not items:
        return ""
    by_code = {v.municipality_code: v for v in items}
    key = key or items[0].key
    lines = [f"[keys.{key}.values]"]
    notes = sorted({v.source.note() for v in items})
    lines[:0] = [f"# {n}" for n in notes]
    for m in agreement.municipalities:
        v = by_code.get(m.code)
        if v is None:
            continue
        name = m.name if m.name.isascii() and m.name.replace("-", "").replace("_", "").isalnum() else f'"{m.name}"'
        value = v.value if places is None else round_to(v.value, Decimal(1).scaleb(-places), rounding)
        lines.append(f"{name} = {format(value, 'f')}")
    return "\n".join(lines) + "\n"


def with_key(result: RefResult, key: str) -> RefResult:
    """The same result with its values for another key."""
    return dataclasses.replace(result, values=tuple(v._replace(key=key) for v in result.values))
