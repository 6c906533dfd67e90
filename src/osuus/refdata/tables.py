"""Which tables osuus reads, and how their variables are found without hard-coding them.

A `TableSpec` names a table and the content (measure) wanted from it; what
the variables are called is read from the table's metadata every time. Since
8 June 2026 StatFin's tables have short ids (`11ra`, not
`statfin_vaerak_pxt_11ra`) and variable *codes* (`alue_23_20260101`,
`timeperiod_y`, `contentscode`) where the variable's name used to be the
identifier (`Alue`, `Vuosi`, `Tiedot`), and some content codes gained a
prefix (`vaesto` → `vaerak-vaesto`). `resolve` finds the three variables that
matter by what they are, in this order:

- **time**: the variable marked `time: true` (or given the time role in a
  JSON-stat response); else a code or name such as `timeperiod_*`, `Vuosi`,
  `Kuukausi`, `Year`, `Month`; else the variable whose every value is a year
  or a month (`2023`, `2023M07`).
- **content**: the metric role; else a code or name such as `contentscode`,
  `Tiedot`, `Information`, `Uppgifter`; else the one variable offering the
  wanted content code.
- **area**: the geo role; else a code or name such as `alue…`, `Alue`,
  `Region`, `Område`, `Area`, or a variable with a `map`; else the one
  variable offering municipality codes `KU020` (or, failing that, `020`).

The content code is matched exactly, or with a prefix added or dropped
(`vaerak-vaesto` ≙ `vaesto`, `TYOTTOMATLOPUSSA` ≙ `tyonv-TYOTTOMATLOPUSSA`).
Any other variable is left out when it may be eliminated, or pinned to its
total `SSS`. The municipal division the areas follow is read from the area
variable's code (`alue_23_20260101` → 2026-01-01), else from a year in its
`map` or name ("Alue 2026"), else it is unknown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from osuus.calendar import Period, PeriodKind
from osuus.problems import Problem
from osuus.refdata.areas import municipality_code


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A StatFin table and the content osuus wants from it."""

    key: str  # the agreement key the figures are for, unless the caller names another
    table: str  # path under the database, without ".px": "vaerak/11ra"
    content: str  # the content code: "vaerak-vaesto" (matched with or without its prefix)
    frequency: str  # "year" (a value on 31.12.) or "month" (a value at the end of each month)
    legacy_table: str = ""  # the path before 8 June 2026: "vaerak/statfin_vaerak_pxt_11ra"
    title: str = ""
    content_labels: tuple[str, ...] = ()  # the content's names, for CSV exports that show no codes

    @property
    def table_id(self) -> str:
        return self.table.rsplit("/", 1)[-1]

    def period_code(self, period: Period) -> str:
        """The table's code of a period: "2023" for a year, "2023M07" for a month."""
        if self.frequency == "year":
            if period.kind is not PeriodKind.YEAR:
                raise ValueError(f"{self.table_id} has yearly figures: give a year, not {period.code}")
            return f"{period.year:04d}"
        if period.kind is not PeriodKind.MONTH:
            raise ValueError(f"{self.table_id} has monthly figures: give months, not {period.code}")
        return f"{period.year:04d}M{period.index:02d}"


#: Population on 31 December by municipality (Väestörakenne: Tunnuslukuja väestöstä alueittain)
POPULATION = TableSpec(
    key="asukasluku", table="vaerak/11ra", content="vaerak-vaesto", frequency="year",
    legacy_table="vaerak/statfin_vaerak_pxt_11ra", title="Population 31 Dec by area",
    content_labels=("Väestö 31.12.", "Befolkning 31.12.", "Population 31 Dec", "Population 31.12."),
)

#: Unemployed jobseekers at the end of the month by municipality (Työnvälitystilasto)
JOBSEEKERS = TableSpec(
    key="tyottomat", table="tyonv/12r5", content="TYOTTOMATLOPUSSA", frequency="month",
    legacy_table="tyonv/statfin_tyonv_pxt_12r5", title="Unemployed jobseekers at the end of the month",
    content_labels=("Työttömät työnhakijat laskentapäivänä (lkm.)", "Työttömät työnhakijat",
                    "Arbetslösa arbetssökande på räknedagen (antal)", "Arbetslösa arbetssökande",
                    "Unemployed jobseekers on the last day of the month (number)", "Unemployed jobseekers"),
)

SPECS = {"population": POPULATION, "jobseekers": JOBSEEKERS}

PERIOD = re.compile(r"^(\d{4})(?:M(\d{2}))?$")
TIME_NAMES = re.compile(r"^(timeperiod(_\w+)?|vuosi|kuukausi|year|month|år|månad|tid|time|period)$", re.I)
CONTENT_NAMES = re.compile(r"^(contentscode|contents|tiedot|information|uppgifter|content|tietosisältö)$", re.I)
AREA_NAMES = re.compile(r"^(alue|area|region|område|kunta|municipality|kommun)(\b|_).*$", re.I)
_DIVISION_DATE = re.compile(r"_(\d{4})(\d{2})(\d{2})$")
_DIVISION_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
TOTAL = "SSS"


def period_of(code: str) -> Period | None:
    """The period of a table's time code ("2023" → the year, "2023M07" → July 2023)."""
    m = PERIOD.match(code.strip())
    if not m:
        return None
    year = int(m.group(1))
    if m.group(2) is None:
        return Period.whole_year(year)
    month = int(m.group(2))
    return Period.month(year, month) if 1 <= month <= 12 else None


def period_end(code: str) -> dt.date:
    """The day a period's figure describes: 31.12. of a year, the last day of a month."""
    period = period_of(code)
    if period is None:
        raise ValueError(f"not a year or a month of a table: {code!r}")
    return period.end


def content_matches(offered: str, wanted: str) -> bool:
    """A content code offered by the table is the wanted one, exactly or but for a prefix."""
    if offered == wanted:
        return True
    return offered.rsplit("-", 1)[-1].casefold() == wanted.rsplit("-", 1)[-1].casefold()


@dataclass(frozen=True, slots=True)
class Variable:
    """A variable of a table, from its metadata (GET) or a JSON-stat dimension."""

    code: str
    text: str
    values: tuple[str, ...]
    value_texts: tuple[str, ...] = ()
    time: bool = False
    elimination: bool = False
    map: str = ""

    def text_of(self, value: str) -> str:
        try:
            return self.value_texts[self.values.index(value)]
        except (ValueError, IndexError):
            return value

    @classmethod
    def from_metadata(cls, data: Mapping[str, Any]) -> Variable:
        return cls(
            code=str(data.get("code", "")), text=str(data.get("text", data.get("code", ""))),
            values=tuple(str(v) for v in data.get("values") or ()),
            value_texts=tuple(str(v) for v in data.get("valueTexts") or ()),
            time=bool(data.get("time", False)), elimination=bool(data.get("elimination", False)),
            map=str(data.get("map", "") or ""),
        )


def variables_of_metadata(data: Any) -> tuple[list[Variable], str]:
    """The variables and title of a table's metadata (GET). Raises ValueError when it is not that."""
    if not isinstance(data, dict) or not isinstance(data.get("variables"), list):
        raise ValueError("the table's metadata has no list of variables")
    variables = [Variable.from_metadata(v) for v in data["variables"] if isinstance(v, dict)]
    if not variables or any(not v.code for v in variables):
        raise ValueError("the table's metadata has a variable without a code")
    return variables, str(data.get("title", ""))


@dataclass(frozen=True, slots=True)
class Resolved:
    """The variables of one table that matter, found by what they are."""

    area: Variable
    time: Variable
    content: Variable
    content_code: str  # the code the table uses for the wanted content
    fixed: tuple[tuple[str, str], ...] = ()  # other variables pinned to one value (their total)
    eliminated: tuple[str, ...] = ()  # other variables left out of the query
    classification: dt.date | None = None  # the municipal division of the areas
    areas: Mapping[str, str] = field(default_factory=dict)  # municipality code → the table's area value

    @property
    def content_label(self) -> str:
        return self.content.text_of(self.content_code)

    def area_name(self, code: str) -> str:
        value = self.areas.get(code)
        return self.area.text_of(value) if value is not None else ""


def division_date(area: Variable) -> dt.date | None:
    """The date of the municipal division an area variable follows, when it says."""
    m = _DIVISION_DATE.search(area.code)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    for text in (area.map, area.text):
        y = _DIVISION_YEAR.search(text or "")
        if y:
            return dt.date(int(y.group(1)), 1, 1)
    return None


def municipality_areas(area: Variable) -> dict[str, str]:
    """Municipality code → the table's value for it ("020" → "KU020", or "020" → "020")."""
    found: dict[str, str] = {}
    for value in area.values:
        code = municipality_code(value)
        if code is not None and code not in found:
            found[code] = value
    return found


def _pick(candidates: Sequence[Variable], *tests) -> Variable | None:
    for test in tests:
        hits = [v for v in candidates if test(v)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            return None
    return None


def resolve(variables: Iterable[Variable], spec: TableSpec, *, roles: Mapping[str, Sequence[str]] | None = None,
            content: str | None = None, file: str = "") -> tuple[Resolved | None, list[Problem]]:
    """Find the area, time and content variables of a table, and the wanted content's code.

    `roles` are a JSON-stat response's roles, when the variables come from one.
    `content` overrides `spec.content`. Every problem found is returned; the
    result is None when the table cannot be read for `spec`.
    """
    variables = list(variables)
    roles = roles or {}
    wanted = content or spec.content
    problems: list[Problem] = []
    table = spec.table_id
    listing = ", ".join(f"{v.code} ({v.text})" for v in variables) or "none"

    def role(name: str):
        return lambda v: v.code in roles.get(name, ())

    time = _pick(variables, role("time"), lambda v: v.time, lambda v: bool(TIME_NAMES.match(v.code)),
                 lambda v: bool(TIME_NAMES.match(v.text)),
                 lambda v: bool(v.values) and all(PERIOD.match(x) for x in v.values))
    rest = [v for v in variables if v is not time]
    offering = lambda v: any(content_matches(x, wanted) for x in v.values)  # noqa: E731
    content_var = _pick(rest, role("metric"), lambda v: bool(CONTENT_NAMES.match(v.code)),
                        lambda v: bool(CONTENT_NAMES.match(v.text)), offering)
    rest = [v for v in rest if v is not content_var]
    area = _pick(rest, role("geo"), lambda v: bool(AREA_NAMES.match(v.code)), lambda v: bool(AREA_NAMES.match(v.text)),
                 lambda v: bool(v.map), lambda v: any(re.match(r"^KU\d{3}$", x) for x in v.values),
                 lambda v: any(municipality_code(x) is not None for x in v.values))
    for what, found in (("time", time), ("content", content_var), ("area", area)):
        if found is None:
            problems.append(Problem(f"table {table}: cannot tell which variable is the {what}; its variables are "
                                    f"{listing}", file=file, key=table, code="refdata.table_shape"))
    if problems:
        return None, problems
    assert time is not None and content_var is not None and area is not None
    codes = [x for x in content_var.values if x == wanted] or [x for x in content_var.values
                                                              if content_matches(x, wanted)]
    if len(codes) != 1:
        offered = ", ".join(content_var.values[:20]) + (" …" if len(content_var.values) > 20 else "")
        message = (f"table {table} offers no content {wanted!r} in {content_var.code}: it has {offered}" if not codes
                   else f"table {table}: content {wanted!r} matches several codes: {', '.join(codes)}")
        return None, [Problem(message, file=file, key=content_var.code, code="refdata.content_missing")]
    fixed: list[tuple[str, str]] = []
    eliminated: list[str] = []
    for v in variables:
        if v in (time, content_var, area):
            continue
        if v.elimination:
            eliminated.append(v.code)
        elif TOTAL in v.values:
            fixed.append((v.code, TOTAL))
        elif len(v.values) == 1:
            fixed.append((v.code, v.values[0]))
        else:
            problems.append(Problem(f"table {table}: variable {v.code} ({v.text}) has no total to pin and may not "
                                    f"be left out", file=file, key=v.code, code="refdata.table_shape"))
    if problems:
        return None, problems
    areas = municipality_areas(area)
    if not areas:
        return None, [Problem(f"table {table}: the area variable {area.code} has no municipalities "
                              f"(values such as KU020 or 020)", file=file, key=area.code, code="refdata.table_shape")]
    return Resolved(area=area, time=time, content=content_var, content_code=codes[0], fixed=tuple(fixed),
                    eliminated=tuple(eliminated), classification=division_date(area),
                    areas=MappingProxyType(areas)), []
