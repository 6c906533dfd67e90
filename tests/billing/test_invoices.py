"""Invoices as data: a period's lines grouped per member, settlements on the first invoice,
and how invoices are numbered, referenced and made due."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from osuus.billing.invoices import OpenSettlement, draft_period, due_date, invoice_number, payment_reference
from osuus.billing.kinds import DocumentKind, SettlementKind
from osuus.billing.lines import EventSum, agreement_bases
from osuus.calendar import Period
from osuus.ids import viitenumero

MARCH = Period.month(2025, 3)


def test_a_period_becomes_each_members_invoice(agreement, allocation):
    sums = [
        EventSum("002", "m", 2025, 3, None, D("2.5"), D("0.5"), D(30), D("12.34"), 2),
        EventSum("002", "t", 2025, 2, 1, D(3), D(0), D(0), D(0), 3),  # February's events, arrived late
        EventSum("003", "u", 2025, 3, None, D(1), D(0), D(0), D(0), 1),
        EventSum("001", "u", 2025, 3, None, D(4), D(0), D(0), D(0), 4),  # the host's residents: not invoiced
    ]
    settlements = {"002": [OpenSettlement(2024, SettlementKind.YEAR_END, D(10), "settle-clause")],
                   "003": [OpenSettlement(2024, SettlementKind.YEAR_END, D(-500), "settle-clause")]}
    drafts = draft_period(MARCH, lambda y: agreement if y == 2025 else None, agreement_bases(agreement, allocation),
                          sums, settlements, host="001",
                          billed_advances={("002", "adv"): D(60), ("003", "adv"): D(40)})  # January and February
    assert drafts.problems == ()
    by = {(d.municipality, d.kind): d for d in drafts.invoices}
    assert set(by) == {("002", DocumentKind.INVOICE), ("003", DocumentKind.INVOICE),
                       ("003", DocumentKind.CREDIT_NOTE)}
    a = by["002", DocumentKind.INVOICE]
    # advance 30; February's late events 30; March: event 20, per diem 20, km 15, interpretation 12,34;
    # the 2024 settlement 10 (events in the order they were delivered)
    assert [line.amount for line in a.lines] == [D("30.00"), D("30.00"), D("20.00"), D("20.00"), D("15.00"),
                                                 D("12.34"), D(10)]
    assert a.total == D("137.34") and a.settles == (2024,)
    settlement = a.lines[-1]
    assert (settlement.kind.value, settlement.period, settlement.reference) == ("settlement", Period.whole_year(2024),
                                                                                "settle-clause")
    # B: advance 20 + 1 × 100 = 120 €; its −500 € settlement would make the invoice negative: a credit note
    assert by["003", DocumentKind.INVOICE].total == D("120.00") and by["003", DocumentKind.INVOICE].settles == ()
    credit = by["003", DocumentKind.CREDIT_NOTE]
    assert credit.total == D(-500) and credit.settles == (2024,)


def test_a_member_with_only_a_settlement_gets_it_alone(agreement):
    drafts = draft_period(MARCH, lambda y: agreement, [], [],
                          {"002": [OpenSettlement(2024, SettlementKind.YEAR_END, D("1.65"))]}, host="001")
    (only,) = drafts.invoices
    assert only.kind is DocumentKind.INVOICE and only.total == D("1.65")


SMALL = {"002": [OpenSettlement(2024, SettlementKind.YEAR_END, D("1.65"))],
         "003": [OpenSettlement(2024, SettlementKind.YEAR_END, D("-5.38"))]}


def test_a_settlement_under_the_minimum_is_not_sent_alone(agreement):
    """With settlement_minimum 10 €: A's 1,65 € would stand alone (no other line), B's −5,38 € would
    be a credit note of its own (bigger than B's 0 € invoice): both wait for a later invoice."""
    drafts = draft_period(MARCH, lambda y: agreement, [], [], SMALL, host="001", settlement_minimum=D(10))
    assert drafts.invoices == ()


def test_a_settlement_under_the_minimum_rides_on_an_invoice(agreement, allocation):
    """With advances to carry them: A 30 + 1,65 = 31,65 €; B 20 − 5,38 = 14,62 € (one invoice each)."""
    drafts = draft_period(MARCH, lambda y: agreement, agreement_bases(agreement, allocation), [], SMALL,
                          host="001", settlement_minimum=D(10),
                          billed_advances={("002", "adv"): D(60), ("003", "adv"): D(40)})
    assert {(d.municipality, d.kind, d.total, d.settles) for d in drafts.invoices} == {
        ("002", DocumentKind.INVOICE, D("31.65"), (2024,)), ("003", DocumentKind.INVOICE, D("14.62"), (2024,))}


def test_a_credit_bigger_than_the_invoice_and_under_the_minimum_waits(agreement, allocation):
    """B: advance 20 €, settlement −25 € < the 30 € minimum: the invoice of 20 € goes alone, the
    settlement waits (not a −5 € credit note)."""
    drafts = draft_period(MARCH, lambda y: agreement, agreement_bases(agreement, allocation), [],
                          {"003": [OpenSettlement(2024, SettlementKind.YEAR_END, D(-25))]}, host="001",
                          settlement_minimum=D(30), billed_advances={("002", "adv"): D(60), ("003", "adv"): D(40)})
    b = [d for d in drafts.invoices if d.municipality == "003"]
    assert [(d.kind, d.total, d.settles) for d in b] == [(DocumentKind.INVOICE, D(20), ())]


def test_a_period_that_is_a_net_credit_is_a_credit_note(agreement, allocation):
    """December: A billed 330 € by a 360 € estimate, the agreement's payment is 360 € → 30 €; B was
    billed 330 € of its 240 €: −90 € comes back on a credit note of its own."""
    drafts = draft_period(Period.month(2025, 12), lambda y: agreement, agreement_bases(agreement, allocation), [],
                          host="001", billed_advances={("002", "adv"): D(330), ("003", "adv"): D(330)})
    assert {(d.municipality, d.kind, d.total) for d in drafts.invoices} == {
        ("002", DocumentKind.INVOICE, D(30)), ("003", DocumentKind.CREDIT_NOTE, D(-90))}


def test_an_invoice_date_is_after_its_period_in_its_year_or_the_next():
    from osuus.billing.invoices import issue_date_problems, missing_before

    assert issue_date_problems(MARCH, dt.date(2025, 4, 1)) == []
    assert issue_date_problems(MARCH, dt.date(2026, 12, 31)) == []
    assert [p.code for p in issue_date_problems(MARCH, dt.date(2025, 3, 31))] == ["invoice.date-early"]
    assert [p.code for p in issue_date_problems(MARCH, dt.date(1, 1, 1))] == ["invoice.date-early"]
    assert [p.code for p in issue_date_problems(MARCH, dt.date(2027, 1, 1))] == ["invoice.date-late"]
    assert [p.code for p in issue_date_problems(MARCH, dt.date(9999, 12, 31))] == ["invoice.date-late"]
    assert missing_before(MARCH, [Period.month(2025, 1)]) == [Period.month(2025, 2)]
    assert missing_before(MARCH, [Period.month(2025, 1), Period.month(2025, 2)]) == []
    assert missing_before(Period.month(2025, 1), []) == []


def test_numbers_references_and_due_dates():
    assert invoice_number(2021, 16) == "2021-00016"
    assert payment_reference(2021, 1) == "20210000016"  # base 2021000001 + check digit 6 (weights 7-3-1)
    assert viitenumero.is_valid(payment_reference(2022, 43))
    assert due_date(dt.date(2021, 2, 1), 21) == dt.date(2021, 2, 22)
    assert due_date(dt.date(2021, 12, 20), 14) == dt.date(2022, 1, 3)
