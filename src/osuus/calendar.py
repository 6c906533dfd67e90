"""Periods of billing: a month (2021-03), a quarter (2021-Q1) or a whole year (2021).

A `Period` is a value: it compares, orders and hashes, and knows its first and
last day. Invoice runs bill a month or a quarter, as the agreement says; a
settlement line covers a whole year. Periods travel as `Period` values through
the core and are stored as their three parts (year, kind, index), never sliced
out of a string. `code` is the one text form, for files, JSON and the command
line; words ("maaliskuu 2021") are the renderers' business.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from dataclasses import dataclass


class PeriodKind(str, enum.Enum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def count(self) -> int:
        """How many periods of this kind a year has."""
        return {"month": 12, "quarter": 4, "year": 1}[self.value]


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")

#: The years a period may have: those of a date (1..9999) written with four digits.
MIN_YEAR, MAX_YEAR = 1, 9999


@dataclass(frozen=True, slots=True)
class Period:
    year: int
    kind: PeriodKind
    index: int = 1  # 1..12 for months, 1..4 for quarters, 1 for a year

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", PeriodKind(self.kind))
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"a period's year is {MIN_YEAR}–{MAX_YEAR}, not {self.year}")
        if not 1 <= self.index <= self.kind.count:
            raise ValueError(f"a {self.kind.value} of a year is numbered 1–{self.kind.count}, not {self.index}")

    # constructors ---------------------------------------------------------------

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, PeriodKind.MONTH, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls(year, PeriodKind.QUARTER, quarter)

    @classmethod
    def whole_year(cls, year: int) -> Period:
        return cls(year, PeriodKind.YEAR, 1)

    @classmethod
    def of(cls, date: dt.date, kind: PeriodKind | str) -> Period:
        """The period of `kind` that holds `date`."""
        kind = PeriodKind(kind)
        if kind is PeriodKind.MONTH:
            return cls.month(date.year, date.month)
        if kind is PeriodKind.QUARTER:
            return cls.quarter(date.year, (date.month - 1) // 3 + 1)
        return cls.whole_year(date.year)

    @classmethod
    def parse(cls, text: str, kind: PeriodKind | str | None = None) -> Period:
        """'2021-03', '2021-Q1' or '2021'; with `kind`, only that kind. Raises ValueError."""
        text = text.strip()
        period = None
        if m := _MONTH.match(text):
            if 1 <= int(m.group(2)) <= 12:
                period = cls.month(int(m.group(1)), int(m.group(2)))
        elif q := _QUARTER.match(text):
            period = cls.quarter(int(q.group(1)), int(q.group(2)))
        elif y := _YEAR.match(text):
            if int(y.group(1)) >= MIN_YEAR:
                period = cls.whole_year(int(y.group(1)))
        if period is None:
            raise ValueError(f"expected a month such as 2021-03, a quarter such as 2021-Q1 or a year such as 2021, "
                             f"found {text!r}")
        if kind is not None and period.kind is not PeriodKind(kind):
            example = {"month": "2021-03", "quarter": "2021-Q1", "year": "2021"}[PeriodKind(kind).value]
            raise ValueError(f"expected a {PeriodKind(kind).value} such as {example}, found {text!r}")
        return period

    # what a period is -----------------------------------------------------------

    @property
    def code(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    @property
    def count(self) -> int:
        """How many periods of this kind the year has (12, 4 or 1)."""
        return self.kind.count

    @property
    def start(self) -> dt.date:
        if self.kind is PeriodKind.MONTH:
            return dt.date(self.year, self.index, 1)
        if self.kind is PeriodKind.QUARTER:
            return dt.date(self.year, 3 * self.index - 2, 1)
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        month = {PeriodKind.MONTH: self.index, PeriodKind.QUARTER: 3 * self.index,
                 PeriodKind.YEAR: 12}[self.kind]
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def is_last_of_year(self) -> bool:
        return self.index == self.count

    def previous_in_year(self) -> tuple[Period, ...]:
        """The periods of the same kind earlier in the same year."""
        return tuple(Period(self.year, self.kind, i) for i in range(1, self.index))

    def contains(self, date: dt.date) -> bool:
        return self.start <= date <= self.end

    def __lt__(self, other: Period) -> bool:
        """Ordered by their first day, then by their last (a month before the year it starts)."""
        if not isinstance(other, Period):
            return NotImplemented
        return (self.start, self.end) < (other.start, other.end)

    def __le__(self, other: Period) -> bool:
        return self == other or self < other

    def __gt__(self, other: Period) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return other < self

    def __ge__(self, other: Period) -> bool:
        return self == other or other < self

    def __str__(self) -> str:
        return self.code


def periods_of_year(year: int, kind: PeriodKind | str) -> list[Period]:
    kind = PeriodKind(kind)
    return [Period(year, kind, i) for i in range(1, kind.count + 1)]
