"""The pure billing core on a small agreement whose every figure is computed by hand.

Host H (code 001), members A (002) and B (003); population H 50, A 30, B 20.
- p: pool 1 200 € by population, invoiced in advance: A 360 €/year, B 240 €/year.
- u: unit service 100 € each; t: tiered 10 € (year 1) / 20 € (year 2), tier 2 fixed;
  m: a pool billed per event at 8 €/hour. Travel: 40 €/day, 0,50 €/km.
"""

import datetime as dt
from decimal import Decimal as D

import pytest

from osuus.agreement import parse_agreement
from osuus.billing.estimate import estimate_from_agreement
from osuus.billing.invoicing import EventSum, draft_period, instalment
from osuus.billing.periods import Period, parse_period, period_of, periods_of_year
from osuus.billing.settlement import ActualCost, settle_year
from osuus.engine import allocate

TEXT = """
[agreement]
id = "small-2025"
year = 2025
title = "Small"
host = "H"

[municipalities]
H = { code = "001" }
A = { code = "002" }
B = { code = "003" }

[keys.pop]
label = "Population"
reference = "k1"
values = { H = 50, A = 30, B = 20 }

[keys.cnt]
label = "Customers"
reference = "k2"
values = { H = 5, A = 2, B = 1 }

[components.p]
kind = "pool"
cost = 1200
key = "pop"
reference = "c-p"

[components.u]
kind = "unit"
price = 100
quantity = "cnt"
total_cost = 1000
remainder = "host"
reference = "c-u"

[components.t]
kind = "unit"
tiers = { 1 = 10, 2 = 20 }
tier = 2
quantity = "cnt"
total_cost = 500
remainder = "host"
reference = "c-t"

[components.m]
kind = "pool"
cost = 400
key = "pop"
reference = "c-m"

[tables.adv]
title = "Shared"
components = ["p"]

[tables.svc]
title = "Services"
components = ["u", "t", "m"]

[billing]
period = "month"
payment_terms_days = 14
advance = ["adv"]

[billing.events.m]
unit = "tunti"
price = { value = 8, reference = "price-m" }

[billing.events.u]
unit = "kpl"

[billing.events.t]
unit = "asiakas"

[billing.travel]
per_diem = 40
km_rate = 0.5
reference = "travel"
"""


@pytest.fixture(scope="module")
def agreement():
    a, problems = parse_agreement(TEXT, "small.toml")
    assert problems == []
    return a


def test_instalments_add_up_to_the_year():
    # 12 079,77 / 12 = 1 006,6475 -> 1 006,64 for eleven months; December 12 079,77 − 11 × 1 006,64 = 1 006,73
    assert instalment(D("12079.77"), 1, 12) == D("1006.64")
    assert instalment(D("12079.77"), 12, 12) == D("1006.73")
    assert sum(instalment(D("12079.77"), i, 12) for i in range(1, 13)) == D("12079.77")
    assert sum(instalment(D("0.05"), i, 4) for i in range(1, 5)) == D("0.05")


def test_periods():
    assert parse_period("2021-03") == Period(2021, 3, "month")
    assert parse_period("2021-q2").code == "2021-Q2"
    assert parse_period("2021-Q2").start == dt.date(2021, 4, 1)
    assert parse_period("2021-Q2").end == dt.date(2021, 6, 30)
    assert parse_period("2024-02").end == dt.date(2024, 2, 29)
    assert parse_period("2021-03").label == "maaliskuu 2021"
    assert period_of(dt.date(2021, 11, 30), "quarter").code == "2021-Q4"
    assert [p.code for p in periods_of_year(2021, "quarter")] == ["2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"]
    for bad in ("2021-13", "2021-Q5", "21-03", "maaliskuu"):
        with pytest.raises(ValueError):
            parse_period(bad)
    with pytest.raises(ValueError, match="by month"):
        parse_period("2021-Q1", "month")


def test_event_prices(agreement):
    assert agreement.event_price("m", None)[0] == D(8)
    assert agreement.event_price("t", 1)[0] == D(10)
    assert agreement.event_price("t", None)[0] == D(20)  # the fixed tier
    assert agreement.event_price("t", 5)[0] == D(20)  # years past the last tier use the last
    assert agreement.event_price("p", None) is None  # advance-invoiced: no event price


def test_draft_period(agreement):
    sums = [
        EventSum("002", "m", 2025, 3, None, D("2.5"), D("0.5"), D(30), D("12.34"), 2),
        EventSum("002", "t", 2025, 2, 1, D(3), D(0), D(0), D(0), 3),  # February's events, arrived late
        EventSum("003", "u", 2025, 3, None, D(1), D(0), D(0), D(0), 1),
        EventSum("001", "u", 2025, 3, None, D(4), D(0), D(0), D(0), 4),  # the host's residents: not invoiced
    ]
    settlements = {"002": [(2024, D(10), "")], "003": [(2024, D(-500), "")]}
    drafts = draft_period(Period(2025, 3, "month"), lambda y: agreement if y == 2025 else None,
                          allocate(agreement), sums, settlements)
    assert drafts.problems == ()
    by = {(d.municipality, d.kind): d for d in drafts.invoices}
    assert set(by) == {("002", "invoice"), ("003", "invoice"), ("003", "credit_note")}
    a = by[("002", "invoice")]
    amounts = {(line.kind, line.unit): line.amount for line in a.lines}
    assert amounts == {
        ("advance", "erä"): D("30.00"),  # 360 / 12
        ("event", "tunti"): D("20.00"),  # 2,5 h × 8 €
        ("travel", "pv"): D("20.00"),  # 0,5 × 40 €
        ("travel", "km"): D("15.00"),  # 30 × 0,50 €
        ("interpretation", "erä"): D("12.34"),
        ("adjustment", "asiakas"): D("30.00"),  # 3 × 10 € (year-1 tier), February
        ("settlement", "erä"): D("10"),
    }
    assert a.total == D("137.34")
    late = next(line for line in a.lines if line.kind == "adjustment")
    assert late.description.startswith("Jälkikirjaus (helmikuu 2025)") and late.events_period == "2025-02"
    # B: 20 + 100 = 120 € of services; its −500 € settlement would make the invoice negative: a credit note
    assert by[("003", "invoice")].total == D("120.00")
    assert by[("003", "credit_note")].total == D(-500)
    assert by[("003", "credit_note")].settles_year == 2024


def test_missing_agreement_for_events_is_a_problem(agreement):
    drafts = draft_period(Period(2025, 3, "month"), lambda y: agreement if y == 2025 else None, allocate(agreement),
                          [EventSum("002", "m", 2024, 12, None, D(1), D(0), D(0), D(0), 1)])
    assert drafts.problems and "2024" in drafts.problems[0].message


def test_settle_year(agreement):
    actual = {"p": ActualCost(D(1800)), "u": ActualCost(D(900), D(100)), "m": ActualCost(D(500))}
    volumes = {("002", "u", None): D(2), ("003", "u", None): D(1), ("001", "u", None): D(5),
               ("002", "t", 1): D(3), ("003", "t", 2): D(2),
               ("002", "m", None): D(10), ("003", "m", None): D(5), ("001", "m", None): D(35)}
    result = settle_year(agreement, actual, volumes, {"002": D(800), "003": D(600)})
    a, b = result.member("002"), result.member("003")
    # p: 1 800 × 30 % = 540 and × 20 % = 360
    # u: net 800 / (8 × 100) = factor 1 -> 200 and 100
    # t: no actual cost -> agreed prices: 3 × 10 = 30 and 2 × 20 = 40
    # m: 500 / (50 h × 8 €) = 1,25 -> 10 €/h: 100 and 50
    assert dict((c, v) for c, _, v in a.parts) == {"adv": D("540.00"), "u": D("200.00"), "t": D("30.00"),
                                                  "m": D("100.00")}
    assert a.actual == D(870) and a.difference == D(70)
    assert b.actual == D(550) and b.difference == D(-50)
    confirmed = {(p.component, p.integration_year): p.confirmed for p in result.prices}
    assert confirmed[("m", None)] == D(10)
    assert confirmed[("t", 1)] == D(10) and confirmed[("t", 2)] == D(20)


def test_estimate_from_agreement(agreement):
    est = estimate_from_agreement(agreement)
    a = next(m for m in est.members if m.name == "A")
    # adv: 360; svc: u 2 × 100 + t 2 × 20 + m 400 × 30 % = 200 + 40 + 120
    assert dict((c, v) for c, _, v in a.parts) == {"adv": D("360.00"), "svc": D("360.00")}
    assert a.amount == D(720)
    assert [m.name for m in est.members] == ["A", "B"]  # the host gets no estimate
