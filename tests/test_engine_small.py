"""A three-municipality agreement whose every figure was computed by hand.

Host A (population 600, jobseekers 50), B (300, 30), C (100, 20).
- x: pool 1 000 € + 10 % overhead = 1 100 €, key 50 % population + 50 % jobseekers:
  shares A 0.55, B 0.30, C 0.15 -> 605, 330, 165. C has a 20 % reduction (33 €)
  absorbed by the others in proportion to their amounts: A 33 × 605/935, B 33 × 330/935.
- y: pool 200 €, fixed shares 50/30/20 % -> 100, 60, 40.
- z: unit 10 € × ceil(10 % × jobseekers) = 5, 3, 2; members pay 30 and 20, host the
  remainder of 120 € -> 70.
- w: tiered 100 € (year 1) / 200 € (year 2), counts by tier, no remainder:
  A 0, B 1×100 + 2×200 = 500, C 2×100 = 200.
"""

from decimal import Decimal

import pytest

from osuus.agreement import parse_agreement
from osuus.engine import allocate

TEXT = """
[agreement]
id = "small"
year = 2025
title = "Small"
host = "A"

[municipalities]
A = { code = "001" }
B = { code = "002" }
C = { code = "003" }

[keys.pop]
label = "Population"
reference = "k1"
values = { A = 600, B = 300, C = 100 }

[keys.jobs]
label = "Jobseekers"
reference = "k2"
values = { A = 50, B = 30, C = 20 }

[keys.mix]
kind = "mix"
label = "Mix"
weights = { pop = "50 %", jobs = "50 %" }
reference = "k3"

[keys.fixed]
kind = "fixed"
label = "Fixed"
shares = { A = "50 %", B = "30 %", C = "20 %" }
reference = "k4"

[keys.z_count]
kind = "derived"
label = "Z customers"
from = "jobs"
rate = 0.1
rounding = "ceil"
reference = "k5"

[keys.w1]
label = "W year 1"
reference = "k6"
values = { A = 0, B = 1, C = 2 }

[keys.w2]
label = "W year 2"
reference = "k7"
values = { A = 0, B = 2, C = 0 }

[components.x]
kind = "pool"
cost = 1000
overhead = "10 %"
key = "mix"
reference = "c1"

[components.y]
kind = "pool"
cost = 200
key = "fixed"
reference = "c2"

[components.z]
kind = "unit"
price = 10
quantity = "z_count"
total_cost = 120
remainder = "host"
reference = "c3"

[components.w]
kind = "unit"
tiers = { 1 = 100, 2 = 200 }
quantity = { 1 = "w1", 2 = "w2" }
reference = "c4"

[[reductions]]
municipality = "C"
rate = "20 %"
components = ["x"]
absorbed_by = "others"
reference = "r1"

[tables.t]
title = "T"
components = ["x", "y", "z", "w"]
"""


@pytest.fixture(scope="module")
def result():
    agreement, problems = parse_agreement(TEXT, "small.toml")
    assert problems == []
    return allocate(agreement)


CODE = {"A": "001", "B": "002", "C": "003"}  # the engine keys municipalities by code


def row(result, name: str):
    return result.table("t").row(CODE[name])


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) < Decimal("1e-20")  # expectations use the default 28-digit context


def test_component_amounts(result):
    t = result.table("t")
    expected = {
        "A": {"x": Decimal(605), "y": Decimal(100), "z": Decimal(70), "w": Decimal(0)},
        "B": {"x": Decimal(330), "y": Decimal(60), "z": Decimal(30), "w": Decimal(500)},
        "C": {"x": Decimal(165), "y": Decimal(40), "z": Decimal(20), "w": Decimal(200)},
    }
    for m, amounts in expected.items():
        got = t.row(CODE[m])
        for c, value in amounts.items():
            assert close(got.amounts[c], value), (m, c, got.amounts[c])


def test_reduction_absorbed_by_others(result):
    assert close(row(result, "C").reduction.value, Decimal(33))
    assert close(row(result, "A").absorbed.value, Decimal(33) * 605 / 935)
    assert close(row(result, "B").absorbed.value, Decimal(33) * 330 / 935)
    assert row(result, "C").absorbed.value == 0


def test_payments_and_invoiced_cents(result):
    t = result.table("t")
    # A: 605 + 100 + 70 + 0 + 21.3529411… ; B: 330 + 60 + 30 + 500 + 11.6470588… ; C: 165 + 40 + 20 + 200 − 33
    assert row(result, "C").payment.value == Decimal(392)
    assert row(result, "B").invoiced.value == Decimal("931.65")
    assert row(result, "C").invoiced.value == Decimal("392.00")
    # total cost 1 100 + 200 + 120 + 700 = 2 120; the host bears the rest to the cent
    assert t.invoiced == Decimal("2120.00")
    assert row(result, "A").invoiced.value == Decimal("2120.00") - Decimal("931.65") - Decimal("392.00")


def test_mix_share_explained(result):
    from osuus.render.explain import Explainer

    fig = row(result, "B").figures["x"]
    formula = Explainer(result.agreement, "fi").formula(fig.inputs[1]).replace("\xa0", " ")
    assert formula.startswith("50 % × 30 % + 50 % × 30 %")  # B: 300/1 000 of population, 30/100 of jobseekers
    assert fig.reference == "c1"
