"""Periods: months, quarters and whole years, as values (parsed, ordered, with their days)."""

from __future__ import annotations

import datetime as dt

import pytest

from osuus.calendar import Period, PeriodKind, periods_of_year

CASES = [  # text, kind, year, index, first day, last day, code
    ("2021-03", "month", 2021, 3, dt.date(2021, 3, 1), dt.date(2021, 3, 31), "2021-03"),
    ("2021-3", "month", 2021, 3, dt.date(2021, 3, 1), dt.date(2021, 3, 31), "2021-03"),
    ("2024-02", "month", 2024, 2, dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024-02"),
    ("2021-q2", "quarter", 2021, 2, dt.date(2021, 4, 1), dt.date(2021, 6, 30), "2021-Q2"),
    ("2021-Q4", "quarter", 2021, 4, dt.date(2021, 10, 1), dt.date(2021, 12, 31), "2021-Q4"),
    ("2021", "year", 2021, 1, dt.date(2021, 1, 1), dt.date(2021, 12, 31), "2021"),
]


@pytest.mark.parametrize("text, kind, year, index, start, end, code", CASES)
def test_parse(text, kind, year, index, start, end, code):
    period = Period.parse(text)
    assert (period.kind.value, period.year, period.index) == (kind, year, index)
    assert (period.start, period.end, period.code) == (start, end, code)
    assert Period.parse(period.code) == period


@pytest.mark.parametrize("bad", ["2021-13", "2021-00", "2021-Q5", "21-03", "maaliskuu", "", "0000", "2021-Q0"])
def test_bad_periods_are_refused(bad):
    with pytest.raises(ValueError):
        Period.parse(bad)


def test_a_kind_can_be_insisted_on():
    with pytest.raises(ValueError, match="expected a month"):
        Period.parse("2021-Q1", "month")
    assert Period.parse("2021-Q1", PeriodKind.QUARTER) == Period.quarter(2021, 1)


def test_of_a_date_and_of_a_year():
    assert Period.of(dt.date(2021, 11, 30), "quarter") == Period.quarter(2021, 4)
    assert Period.of(dt.date(2021, 11, 30), "month") == Period.month(2021, 11)
    assert [p.code for p in periods_of_year(2021, "quarter")] == ["2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"]
    assert len(periods_of_year(2021, "month")) == 12


def test_order_is_by_the_days():
    assert Period.month(2021, 2) < Period.month(2021, 3) < Period.month(2022, 1)
    assert Period.month(2021, 1) < Period.whole_year(2021)  # starts on the same day, ends earlier
    assert Period.quarter(2021, 1) < Period.month(2021, 4)
    assert sorted([Period.whole_year(2022), Period.month(2021, 5)]) == [Period.month(2021, 5), Period.whole_year(2022)]


def test_impossible_parts_are_refused():
    with pytest.raises(ValueError):
        Period(2021, PeriodKind.MONTH, 13)
    with pytest.raises(ValueError):
        Period(2021, PeriodKind.YEAR, 2)
    with pytest.raises(ValueError):
        Period(10000, PeriodKind.YEAR, 1)
