"""The year-end settlement as a data case, every figure worked out by hand.

Actual costs: p 1 800 €; u 900 € − 100 € funding; m 500 €; t none.
Volumes of the year: u A 2, B 1, H 5; t A 3 (year 1), B 2 (year 2); m A 10 h, B 5 h, H 35 h.
- p: 1 800 × 30 % = 540 (A), × 20 % = 360 (B)
- u: net 800 / (8 × 100) = factor 1 → A 200, B 100
- t: no actual cost → agreed prices: A 3 × 10 = 30, B 2 × 20 = 40
- m: 500 / (50 h × 8 €) = 1,25 → 10 €/h: A 100, B 50
A: actual 870, billed 800 → +70; B: actual 550, billed 600 → −50.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from osuus.billing.settlement import ActualCost, settle_year

ACTUAL = {"p": ActualCost(D(1800)), "u": ActualCost(D(900), D(100)), "m": ActualCost(D(500))}
VOLUMES = {("002", "u", None): D(2), ("003", "u", None): D(1), ("001", "u", None): D(5),
           ("002", "t", 1): D(3), ("003", "t", 2): D(2),
           ("002", "m", None): D(10), ("003", "m", None): D(5), ("001", "m", None): D(35)}


@pytest.fixture(scope="module")
def result(agreement):
    return settle_year(agreement, ACTUAL, VOLUMES, {"002": D(800), "003": D(600)})


def test_actual_shares_and_differences(result):
    a, b = result.member("002"), result.member("003")
    assert {p.id: p.amount for p in a.parts} == {"adv": D("540.00"), "u": D("200.00"), "t": D("30.00"),
                                                 "m": D("100.00")}
    assert {p.id: p.amount for p in b.parts} == {"adv": D("360.00"), "u": D("100.00"), "t": D("40.00"),
                                                 "m": D("50.00")}
    assert (a.actual, a.difference) == (D(870), D(70))
    assert (b.actual, b.difference) == (D(550), D(-50))


def test_confirmed_prices(result):
    confirmed = {(p.component, p.integration_year): p.confirmed for p in result.prices}
    assert confirmed[("m", None)] == D(10)
    assert confirmed[("u", None)] == D(100)
    assert confirmed[("t", 1)] == D(10) and confirmed[("t", 2)] == D(20)


def test_the_settlement_explains_itself(result):
    fig = result.member("002").explanation(2025)
    assert (fig.name, fig.value) == ("settlement.difference", D(70))
    actual, billed = fig.inputs
    assert (actual.value, billed.value) == (D(870), D(800))
    m = next(p for p in actual.inputs if p.param("item") == "m")
    assert m.value == D("100.00")
    confirmed = m.inputs[0]  # 80 € at agreed prices × factor 1,25
    assert (confirmed.name, confirmed.value) == ("volume.value_confirmed", D(100))
    at_agreed, factor = confirmed.inputs
    assert at_agreed.value == D(80)  # 10 h × 8 €
    assert factor.value == D("1.25") and factor.inputs[1].value == D(400)  # 500 / (50 h × 8 €)
    p = next(x for x in actual.inputs if x.param("item") == "adv")
    cost = p.find("component.cost_actual")  # the pool's cost is the year's actual, and says so
    assert cost is not None and cost.value == D(1800)
