"""What a fetch and an import share: the members, the cells read, and the values made of them.

A member's figure for a period is made of the cells of its areas (one, or
several for a municipality formed by a merger after the table's division).
A cell published without a figure (`null` with a status marker, or a dot code
in a CSV file) is never a zero: it makes a `refdata.missing_value` problem
that names the municipality, the period and the marker, and the member gets
no value for that period.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from osuus.agreement.model import Agreement
from osuus.calendar import Period
from osuus.money import CONTEXT
from osuus.problems import Problem
from osuus.refdata.areas import AreaPlan, is_code
from osuus.refdata.records import Provenance, RefValue
from osuus.refdata.tables import TableSpec, period_end

#: How a member list may be given: an agreement (all its municipalities, the host included),
#: a mapping code → name, or codes.
Members = Agreement | Mapping[str, str] | Iterable[str]


class Cell(NamedTuple):
    value: Decimal | None  # None: published without a figure
    status: str  # the marker published with it ("", "..", "…")
    source: Provenance
    where: str = ""  # a file's row, for problems


def member_names(members: Members) -> tuple[dict[str, str], list[Problem]]:
    """Member code → name (or ""), and a problem for every code that is not three digits."""
    if isinstance(members, Agreement):
        names = {m.code: m.name for m in members.municipalities}
    elif isinstance(members, Mapping):
        names = {str(code).strip(): str(name) for code, name in members.items()}
    elif isinstance(members, str):
        names = {members.strip(): ""}
    else:
        names = {str(code).strip(): "" for code in members}
    problems = [Problem(f"a municipality code has three digits, such as 020; found {code!r}", key=code,
                        code="refdata.bad_member") for code in names if not is_code(code)]
    return {c: n for c, n in names.items() if is_code(c)}, problems


def default_members_as_of(members: Members) -> dt.date | None:
    """The members' municipal division: 1 January of an agreement's year, when an agreement is given."""
    return dt.date(members.year, 1, 1) if isinstance(members, Agreement) else None


def named(names: Mapping[str, str], code: str) -> str:
    name = names.get(code, "")
    return f"{name} ({code})" if name else code


def period_codes(spec: TableSpec, periods: Iterable[Period] | Period | int) -> list[str]:
    """The table's period codes: a year (int or Period) of a yearly table; months of a monthly
    one (an int is every month of that year). Raises ValueError."""
    if isinstance(periods, int):
        periods = [Period.whole_year(periods)] if spec.frequency == "year" else \
            [Period.month(periods, m) for m in range(1, 13)]
    elif isinstance(periods, Period):
        periods = [periods]
    codes: list[str] = []
    for p in periods:
        code = spec.period_code(p)
        if code not in codes:
            codes.append(code)
    return codes


def assemble(spec: TableSpec, key: str, names: Mapping[str, str], plans: Sequence[AreaPlan],
             periods: Sequence[str], cells: Mapping[tuple[str, str], Cell], *, unanswered: Iterable[str] = (),
             file: str = "") -> tuple[list[RefValue], list[Problem]]:
    """Every member's value for every period from the cells; a problem for each one that cannot be made.

    `cells` are keyed by (the table's area value, period code). Areas in
    `unanswered` were asked for in a query that failed (its own problem says
    so), so their missing cells are not reported again.
    """
    skip = set(unanswered)
    values: list[RefValue] = []
    problems: list[Problem] = []
    method = "year-end" if spec.frequency == "year" else "month-end"
    for plan in plans:
        who = named(names, plan.member)
        for period in periods:
            found = [cells.get((v, period)) for v in plan.values]
            if any(c is None for c in found):
                if not any(v in skip for v in plan.values):
                    lacking = [a for a, c in zip(plan.areas, found) if c is None]
                    problems.append(Problem(f"{who}: table {spec.table_id} gave no figure for {period} "
                                            f"(area {', '.join(lacking)})", file=file, key=plan.member,
                                            code="refdata.missing_value"))
                continue
            blank = [(a, c) for a, c in zip(plan.areas, found) if c is not None and c.value is None]
            if blank:
                markers = ", ".join(f"{c.status!r}" if c.status else "no marker" for _, c in blank)
                part = f" (area {', '.join(a for a, _ in blank)})" if len(plan.areas) > 1 else ""
                where = "; ".join(c.where for _, c in blank if c.where)
                problems.append(Problem(f"{who}: table {spec.table_id} publishes no figure for {period}{part}: "
                                        f"marked {markers} (missing or secret; never read as zero)"
                                        + (f" [{where}]" if where else ""),
                                        file=blank[0][1].source.file or file, key=plan.member,
                                        value=blank[0][1].status, code="refdata.missing_value"))
                continue
            with decimal.localcontext(CONTEXT):
                total = sum((c.value for c in found if c is not None and c.value is not None), Decimal(0))
            statuses = sorted({c.status for c in found if c is not None and c.status})
            first = found[0]
            assert first is not None
            values.append(RefValue(key=key, municipality_code=plan.member, date=period_end(period), value=total,
                                   source=first.source, period=period, method=method, areas=plan.areas,
                                   status=",".join(statuses)))
    return values, problems


def unique_sources(values: Iterable[RefValue]) -> tuple[Provenance, ...]:
    seen: list[Provenance] = []
    for v in values:
        if v.source not in seen:
            seen.append(v.source)
    return tuple(seen)
