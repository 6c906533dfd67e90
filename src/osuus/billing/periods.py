"""Billing periods: months (2021-03) or quarters (2021-Q1), as the agreement says."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

MONTHS_FI = ("tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu", "elokuu",
             "syyskuu", "lokakuu", "marraskuu", "joulukuu")

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    year: int
    index: int  # 1..12 for months, 1..4 for quarters
    kind: str  # "month" | "quarter"

    @property
    def code(self) -> str:
        return f"{self.year}-{self.index:02d}" if self.kind == "month" else f"{self.year}-Q{self.index}"

    @property
    def count(self) -> int:
        """How many periods of this kind in a year."""
        return 12 if self.kind == "month" else 4

    @property
    def start(self) -> dt.date:
        month = self.index if self.kind == "month" else 3 * self.index - 2
        return dt.date(self.year, month, 1)

    @property
    def end(self) -> dt.date:
        month = self.index if self.kind == "month" else 3 * self.index
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def label(self) -> str:
        """Finnish: 'maaliskuu 2021', '1. neljännes 2021'."""
        if self.kind == "month":
            return f"{MONTHS_FI[self.index - 1]} {self.year}"
        return f"{self.index}. neljännes {self.year}"

    def __str__(self) -> str:
        return self.code


def parse_period(text: str, kind: str | None = None) -> Period:
    """Parse '2021-03' or '2021-Q1'; with `kind`, insist on that kind. Raises ValueError."""
    text = text.strip()
    m = _MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        period = Period(int(m.group(1)), int(m.group(2)), "month")
    else:
        q = _QUARTER.match(text)
        if not q:
            raise ValueError(f"expected a month such as 2021-03 or a quarter such as 2021-Q1, found {text!r}")
        period = Period(int(q.group(1)), int(q.group(2)), "quarter")
    if kind is not None and period.kind != kind:
        example = "2021-03" if kind == "month" else "2021-Q1"
        raise ValueError(f"the agreement bills by {'month' if kind == 'month' else 'quarter'}: expected a period "
                         f"such as {example}, found {text!r}")
    return period


def period_of(date: dt.date, kind: str) -> Period:
    if kind == "month":
        return Period(date.year, date.month, "month")
    return Period(date.year, (date.month - 1) // 3 + 1, "quarter")


def periods_of_year(year: int, kind: str) -> list[Period]:
    return [Period(year, i, kind) for i in range(1, (12 if kind == "month" else 4) + 1)]


def period_dates(code: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of a period code as invoice lines carry it: a month
    (`2021-03`), a quarter (`2021-Q1`) or a whole year (`2021`, settlement lines);
    None for anything else."""
    code = code.strip()
    if len(code) == 4 and code.isdigit():
        return dt.date(int(code), 1, 1), dt.date(int(code), 12, 31)
    try:
        period = parse_period(code)
    except ValueError:
        return None
    return period.start, period.end
