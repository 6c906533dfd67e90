"""Numbers and dates in the reader's language (osuus.render.formats), written out by hand.

Finnish and Swedish as used in Finland group digits with a no-break space and write a
decimal comma; English (Ireland, a euro country) writes "€1,234.56". Values are rounded
half up to the places shown, whatever the formatting library would do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from osuus.render.formats import formats

NB = "\u00a0"


@pytest.mark.parametrize("lang, money, count, rate, rate1, date, month", [
    ("fi", f"3{NB}884,82{NB}€", f"24{NB}277", f"38,5{NB}%", f"46,0{NB}%", "1.2.2021", "maaliskuu 2021"),
    ("sv", f"3{NB}884,82{NB}€", f"24{NB}277", f"38,5{NB}%", f"46,0{NB}%", "1.2.2021", "mars 2021"),
    ("en", "€3,884.82", "24,277", "38.5%", "46.0%", "1 February 2021", "March 2021"),
])
def test_each_language(lang, money, count, rate, rate1, date, month):
    f = formats(lang)
    assert f.money(Decimal("3884.8226")) == money
    assert f.count(Decimal("24277")) == count
    assert f.rate(Decimal("0.385")) == rate
    assert f.rate(Decimal("0.46002"), 1) == rate1
    assert f.date(dt.date(2021, 2, 1)) == date
    assert f.month(2021, 3) == month


def test_rounding_is_half_up_at_the_places_shown():
    f = formats("fi")
    assert f.number(Decimal("1234.5"), 0) == f"1{NB}235"  # half up, not to even
    assert f.number(Decimal("-1234.5"), 0) == f"-1{NB}235"
    assert f.number(Decimal("0.125"), 2) == "0,13"
    assert f.amount(Decimal("-0.004")) == "0,00"  # no "-0"
    assert f.count(Decimal("2.50")) == "2,5"


def test_negative_money_in_english_puts_the_sign_first():
    assert formats("en").money(Decimal("-5")) == "-€5.00"
    assert formats("fi").money(Decimal("-5")) == f"-5,00{NB}€"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        formats("de")


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_kept_conventions_are_babels(lang):
    from osuus.render.formats import LOCALES, read_conventions

    f = formats(lang)
    assert read_conventions(LOCALES[lang]) == {"group": f.group, "decimal": f.decimal,
                                               "currency": f._currency, "percent": f._percent}
