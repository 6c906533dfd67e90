"""Event prices and "member amount = Σ volume × price", as data cases."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from osuus.billing.pricing import event_price, priced


@pytest.mark.parametrize("component, integration_year, price, reference", [
    ("m", None, D(8), "price-m"),  # a pool billed per event: its [billing.events] price
    ("u", None, D(100), "c-u"),  # a unit service: its own price
    ("t", 1, D(10), "c-t"),  # tiered: the customer's integration year (the component's clause)
    ("t", 2, D(20), "c-t"),
    ("t", 5, D(20), "c-t"),  # years past the last tier: the last
    ("t", None, D(20), "c-t"),  # no year: the tier the agreement fixes
])
def test_event_price(agreement, component, integration_year, price, reference):
    found = event_price(agreement, component, integration_year)
    assert (found.value, found.reference) == (price, reference)


@pytest.mark.parametrize("component", ["p", "nonexistent"])
def test_what_is_not_billed_per_event_has_no_price(agreement, component):
    assert event_price(agreement, component, None) is None


def test_volume_times_price_per_member_and_for_all(agreement):
    volumes = {("002", "t", 1): D(3), ("002", "t", 2): D(1), ("003", "t", 2): D(2), ("002", "m", None): D(1)}
    assert priced(agreement, "t", volumes, "002").value == D(50)  # 3 × 10 + 1 × 20
    assert priced(agreement, "t", volumes).value == D(90)  # + 2 × 20
    both = priced(agreement, "t", volumes, "002")
    assert [f.value for f in both.inputs] == [D(30), D(20)]  # each tier explained
    assert priced(agreement, "t", volumes, "002", factor=D("0.5")).value == D(25)
