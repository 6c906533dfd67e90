from decimal import Decimal

import pytest

from osuus.money import D, Rounding, cents, parse_rate, round_to


def test_floats_are_refused():
    with pytest.raises(TypeError):
        D(0.1)


@pytest.mark.parametrize("text,expected", [("1", "1"), (" 1 234,5 ".replace(",", "."), "1234.5"), ("1_000", "1000")])
def test_decimal_from_text(text, expected):
    assert D(text) == Decimal(expected)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_bad_numbers(bad):
    with pytest.raises(ValueError):
        D(bad)


@pytest.mark.parametrize("value,unit,mode,expected", [
    ("2.5", "1", "half_up", "3"), ("-2.5", "1", "half_up", "-3"), ("2.5", "1", "half_even", "2"),
    ("0.125", "1", "ceil", "1"), ("6.545", "1", "ceil", "7"), ("17800.33", "1", "half_up", "17800"),
    ("0.005", "0.01", "half_up", "0.01"), ("204963.5016", "1", "half_up", "204964"),
    ("412", "100", "ceil", "500"), ("411953", "1000", "half_up", "412000"),
])
def test_round_to(value, unit, mode, expected):
    assert round_to(Decimal(value), unit, mode) == Decimal(expected)


def test_rounding_rule():
    assert Rounding(Decimal(1), "half_up").apply(Decimal("3884.82")) == Decimal(3885)
    assert Rounding(Decimal("0.01")).places == 2
    with pytest.raises(ValueError):
        Rounding(Decimal(1), "sideways")


def test_rates():
    assert parse_rate("17 %") == Decimal("0.17")
    assert parse_rate("38,5 %") == Decimal("0.385")
    assert parse_rate(Decimal("0.05")) == Decimal("0.05")


def test_cents_is_the_machine_form():
    assert cents(Decimal("14240.265")) == "14240.27"
    assert cents(Decimal("-0.005")) == "-0.01"
    assert cents(Decimal(5)) == "5.00"
