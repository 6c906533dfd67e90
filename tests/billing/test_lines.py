"""Invoice lines as data cases: a member's unbilled events of a period → the lines it is billed.

The small agreement (tests/billing/small.py): m is a pool billed per event at 8 €/hour,
u a unit service at 100 € a piece, t tiered 10 € (integration year 1) / 20 € (year 2);
travel 40 €/day and 0,50 €/km. Every expected amount below is worked out by hand.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from osuus.billing.kinds import LineKind
from osuus.billing.lines import AdvanceBasis, EventSum, advance_lines, agreement_bases, event_lines, instalment
from osuus.calendar import Period

MARCH = Period.month(2025, 3)

# (case, event sums, expected lines: (member, kind, component, period, quantity, unit, unit price, amount, details))
CASES = [
    ("an hour-priced pool with travel and interpretation",
     [EventSum("002", "m", 2025, 3, None, D("2.5"), D("0.5"), D(30), D("12.34"), 2)],
     [("002", "event", "m", "2025-03", D("2.5"), "hour", D(8), D("20.00"), {"events": 2}),  # 2,5 h × 8 €
      ("002", "travel", "m", "2025-03", D("0.5"), "day", D(40), D("20.00"), {"item": "per_diem"}),  # 0,5 × 40 €
      ("002", "travel", "m", "2025-03", D(30), "km", D("0.5"), D("15.00"), {"item": "km"}),  # 30 × 0,50 €
      ("002", "interpretation", "m", "2025-03", D(1), "lot", D("12.34"), D("12.34"), {})]),
    ("late events of February, priced by the customers' integration year",
     [EventSum("002", "t", 2025, 2, 1, D(3), D(0), D(0), D(0), 3)],
     [("002", "event", "t", "2025-02", D(3), "customer", D(10), D("30.00"),  # 3 × 10 € (year 1)
       {"events": 3, "integration_year": 1})]),
    ("years past the last tier are priced at the last",
     [EventSum("003", "t", 2025, 3, 5, D(1), D(0), D(0), D(0), 1)],
     [("003", "event", "t", "2025-03", D(1), "customer", D(20), D("20.00"), {"events": 1, "integration_year": 5})]),
    ("a unit service at its own price, rounded to the cent half up",
     [EventSum("003", "u", 2025, 3, None, D("0.3333"), D(0), D(0), D(0), 1)],
     [("003", "event", "u", "2025-03", D("0.3333"), "piece", D(100), D("33.33"), {"events": 1})]),
    ("the host's own residents are produced, not invoiced",
     [EventSum("001", "u", 2025, 3, None, D(4), D(0), D(0), D(0), 4)],
     []),
]


def as_rows(by_member) -> list[tuple]:
    return [(code, line.kind.value, line.component, line.period.code, line.quantity, line.unit, line.unit_price,
             line.amount, dict(line.details)) for code, lines in sorted(by_member.items()) for line in lines]


@pytest.mark.parametrize("case, sums, expected", CASES, ids=[c[0] for c in CASES])
def test_event_lines(agreement, case, sums, expected):
    lines, problems = event_lines(sums, MARCH, lambda year: agreement if year == 2025 else None)
    assert problems == []
    assert as_rows(lines) == expected


def test_every_line_carries_its_price_and_clause(agreement):
    lines, _ = event_lines([EventSum("002", "m", 2025, 3, None, D(2), D(1), D(0), D(0), 1)], MARCH,
                           lambda year: agreement)
    event, per_diem = lines["002"]
    assert event.reference == "price-m" and per_diem.reference == "travel"
    # the explanation: quantity × price, each an input with its own clause
    assert event.explanation.value == D("16.00")
    assert [(f.name, f.value, f.reference) for f in event.explanation.inputs] == [
        ("line.quantity", D(2), ""), ("price", D(8), "price-m")]


def test_events_of_a_year_without_an_agreement_are_a_problem(agreement):
    lines, problems = event_lines([EventSum("002", "m", 2024, 12, None, D(1), D(0), D(0), D(0), 1)], MARCH,
                                  lambda year: agreement if year == 2025 else None)
    assert lines == {}
    assert [p.code for p in problems] == ["invoice.no-agreement"] and "2024" in problems[0].message


def test_travel_without_travel_rates_is_a_problem(agreement):
    without = agreement._replace(billing=agreement.billing._replace(travel=None))
    _, problems = event_lines([EventSum("002", "m", 2025, 3, None, D(1), D(1), D(0), D(0), 1)], MARCH,
                              lambda year: without)
    assert [p.code for p in problems] == ["invoice.no-travel-rates"]


@pytest.mark.parametrize("yearly, index, count, expected", [
    # 12 079,77 / 12 = 1 006,6475 -> 1 006,64 for eleven months; December 12 079,77 − 11 × 1 006,64 = 1 006,73
    (D("12079.77"), 1, 12, D("1006.64")),
    (D("12079.77"), 12, 12, D("1006.73")),
    (D("0.05"), 1, 4, D("0.01")),
    (D("0.05"), 4, 4, D("0.02")),
    (D("360.00"), 3, 12, D("30.00")),
])
def test_instalments(yearly, index, count, expected):
    assert instalment(yearly, index, count) == expected


@pytest.mark.parametrize("yearly", [D("12079.77"), D("0.05"), D("99999.99"), D("0.00")])
def test_the_instalments_of_a_year_add_up_to_it(yearly):
    assert sum(instalment(yearly, i, 12) for i in range(1, 13)) == yearly
    assert sum(instalment(yearly, i, 4) for i in range(1, 5)) == yearly


ON_SCHEDULE = {("002", "adv"): D(60), ("003", "adv"): D(40)}  # January and February: 30 + 30, 20 + 20


def test_advance_lines(agreement, allocation):
    lines = advance_lines(agreement_bases(agreement, allocation), MARCH, ON_SCHEDULE)
    # p: 1 200 € by population: A 30 % = 360 €/year, B 20 % = 240 €/year; March is instalment 3 of 12
    assert as_rows(lines) == [
        ("002", "advance", "adv", "2025-03", D(1), "instalment", D("30.00"), D("30.00"),
         {"table": "adv", "index": 3, "count": 12, "yearly": "360.00"}),
        ("003", "advance", "adv", "2025-03", D(1), "instalment", D("20.00"), D("20.00"),
         {"table": "adv", "index": 3, "count": 12, "yearly": "240.00"}),
    ]


def test_an_advance_is_explained_down_to_the_allocation(agreement, allocation):
    line = advance_lines(agreement_bases(agreement, allocation), MARCH, ON_SCHEDULE)["002"][0]
    fig = line.explanation
    assert (fig.name, fig.value, fig.rule) == ("line.advance", D("30.00"), "instalment")
    invoiced = fig.inputs[0]
    assert (invoiced.name, invoiced.value) == ("row.invoiced", D("360.00"))
    payment = invoiced.inputs[0]
    total = payment.inputs[0]
    share = total.inputs[0]
    assert (payment.name, total.name, share.name) == ("row.payment", "row.total", "component.share")
    assert share.value == D(360) and share.reference == "c-p"  # 1 200 € × 30 / 100
    assert line.kind is LineKind.ADVANCE


def _basis(yearly: str, source: str = "agreement") -> AdvanceBasis:
    from osuus.engine.trace import given

    return AdvanceBasis("002", "adv", given("row.invoiced", D(yearly), ""), "clause", source, 2025)


def test_the_rest_of_the_year_is_recomputed_when_the_payment_changes():
    """January and February billed 30 € each by the estimate (360 €/year); the agreement arrives
    with 420 €: March bills (420 − 60) / 10 = 36 €, and so on; the year adds up to 420 €."""
    billed = D(60)
    amounts = []
    for month in range(3, 13):
        (line,) = advance_lines([_basis("420.00")], Period.month(2025, month), {("002", "adv"): billed})["002"]
        amounts.append(line.amount)
        billed += line.amount
    assert amounts == [D(36)] * 10 and billed == D(420)
    (march,) = advance_lines([_basis("420.00")], MARCH, {("002", "adv"): D(60)})["002"]
    assert march.details["billed"] == "60" and march.details["left"] == 10
    assert (march.explanation.rule, march.explanation.inputs[0].value) == ("instalment.recomputed", D(360))


def test_a_recomputed_year_ends_exactly_on_its_payment():
    """100,01 €/year, 5,00 € billed by March (not the schedule's 3 × 8,33 = 24,99): 95,01 € is
    left for nine instalments, 10,5567 each: six of 10,56 € and three of 10,55 € (the spare
    cents first), recomputed month by month to the same schedule; the year ends on 100,01 €."""
    billed = D(5)
    amounts = []
    for month in range(4, 13):
        (line,) = advance_lines([_basis("100.01")], Period.month(2025, month), {("002", "adv"): billed})["002"]
        amounts.append(line.amount)
        billed += line.amount
    assert amounts == [D("10.56")] * 6 + [D("10.55")] * 3 and billed == D("100.01")


def test_advances_billed_beyond_a_lowered_payment_come_back():
    """330 € billed for January–November (30 € a month by a 360 €/year estimate); the agreement
    says 300 €: December's instalment is 300 − 330 = −30 €."""
    (line,) = advance_lines([_basis("300.00")], Period.month(2025, 12), {("002", "adv"): D(330)})["002"]
    assert line.amount == D(-30) and line.explanation.rule == "instalment.recomputed.last"


def test_an_advance_by_the_estimate_says_so():
    (line,) = advance_lines([_basis("360.00", "estimate")], Period.month(2025, 1), {})["002"]
    assert line.amount == D(30) and line.details["basis"] == "estimate" and line.details["basis_year"] == 2025
