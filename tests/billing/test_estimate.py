"""The August estimate as data cases, figures by hand."""

from __future__ import annotations

from decimal import Decimal as D

from osuus.billing.estimate import estimate_from_actuals, estimate_from_agreement
from osuus.billing.settlement import ActualCost
from osuus.engine.trace import FACTOR, given


def test_from_the_years_own_agreement(agreement):
    est = estimate_from_agreement(agreement)
    assert [m.municipality for m in est.members] == ["002", "003"]  # the host gets no estimate
    a = est.member("002")
    # adv: 360; svc: u 2 × 100 + t 2 × 20 + m 400 × 30 % = 200 + 40 + 120
    assert {p.id: p.amount for p in a.parts} == {"adv": D("360.00"), "svc": D("360.00")}
    assert a.amount == D(720)
    assert [b.kind for b in est.basis] == ["agreement"]
    assert a.explanation(2025).value == D(720)


def test_projected_from_last_years_actuals(agreement):
    # 2026 without an agreement: p at its 2025 actual 1 800 €, population updated to H 40, A 40, B 20
    # (A's share 40 %: 720 €); last year's volumes at confirmed prices: m 10 h × 8 € × 1,25 = 100 €,
    # u (no confirmed factor: the agreed price) 2 × 100 = 200 €, t 3 × 10 = 30 €.
    est = estimate_from_actuals(2026, agreement, {"p": ActualCost(D(1800))},
                                {"pop": {"001": D(40), "002": D(40), "003": D(20)}},
                                {("002", "m", None): D(10), ("002", "u", None): D(2), ("002", "t", 1): D(3)},
                                {"m": given("price.factor", D("1.25"), "", FACTOR, component="m")})
    a = est.member("002")
    assert {p.id: p.amount for p in a.parts} == {"adv": D("720.00"), "m": D("100.00"), "u": D("200.00"),
                                                 "t": D("30.00")}
    assert a.amount == D(1050)
    assert [(b.kind, dict(b.facts)) for b in est.basis] == [
        ("projection", {"agreement": "small-2025", "year": 2025}), ("actual_costs", {"year": 2025}),
        ("latest_counts", {"key": "pop"}), ("volumes", {"year": 2025})]


def test_incomplete_latest_counts_are_not_used(agreement):
    est = estimate_from_actuals(2026, agreement, {}, {"pop": {"002": D(1)}}, {}, {})
    assert est.member("002").amount == D(360)  # the agreement's own population: 30 %
    assert "latest_counts" not in [b.kind for b in est.basis]
