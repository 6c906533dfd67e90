"""`gather`: every item is tried, and all their problems come out together."""

import pytest

from osuus.problems import Problem, ProblemsError, gather


def test_gather_reports_every_items_problems_once():
    shared = Problem("the host has no IBAN", key="parties.Tampere.iban")

    def make(n: int) -> int:
        if n % 2:
            raise ProblemsError([shared, Problem(f"item {n} is odd")])
        return n * 10

    assert gather(make, [2, 4]) == [20, 40]
    with pytest.raises(ProblemsError) as caught:
        gather(make, [1, 2, 3])
    assert [p.message for p in caught.value.problems] == ["the host has no IBAN", "item 1 is odd", "item 3 is odd"]
