"""Credit notes as data: an invoice credited whole, and what a closed year must charge again."""

from __future__ import annotations

from decimal import Decimal as D

from osuus.billing.credit_notes import carried_back, correction
from osuus.billing.kinds import DocumentKind, LineKind
from osuus.billing.lines import Line
from osuus.calendar import Period
from osuus.engine.trace import given

ISSUED = (
    Line(LineKind.ADVANCE, "adv", Period.month(2024, 3), D(1), "instalment", D("30.00"), D("30.00"), "c-p",
         {"table": "adv", "index": 3, "count": 12, "yearly": "360.00"}, given("line.advance", D("30.00")), 1),
    Line(LineKind.TRAVEL, "m", Period.month(2024, 3), D("0.5"), "day", D(40), D("20.00"), "travel",
         {"item": "per_diem"}, None, 2),
    Line(LineKind.SETTLEMENT, "", Period.whole_year(2023), D(1), "lot", D(10), D(10), "settle-clause",
         {"year": 2023, "settlement": "year_end"}, None, 3),
    Line(LineKind.EVENT, "m", Period.month(2024, 3), D(2), "hour", D(8), D("16.00"), "price-m", {"events": 1},
         None, 4, "Omakielinen neuvonta: 2 tunti × 8,00 €"),  # a line issued before lines were structure
)


def test_a_credit_note_negates_every_line_and_points_at_it():
    note = correction("002", "2024-00016", ISSUED)
    assert note.kind is DocumentKind.CREDIT_NOTE and note.municipality == "002"
    assert [line.amount for line in note.lines] == [D("-30.00"), D("-20.00"), D(-10), D("-16.00")]
    assert note.total == D("-76.00")
    assert [line.details["credits"] for line in note.lines] == [
        {"invoice": "2024-00016", "position": p} for p in (1, 2, 3, 4)]
    # quantities, prices and periods stay as they were; a line's words as issued stay too
    assert [(line.quantity, line.unit_price, line.period) for line in note.lines] == \
        [(line.quantity, line.unit_price, line.period) for line in ISSUED]
    assert note.lines[3].issued_text == ISSUED[3].issued_text
    first = note.lines[0].explanation
    assert (first.name, first.value, first.inputs[0].name) == ("line.credit", D("-30.00"), "line.advance")


def test_crediting_a_closed_year_charges_its_shares_again():
    note = correction("002", "2024-00016", ISSUED)
    # 2024 closed: its advance (30) and event (16) are charged again; travel is at cost, nothing to settle
    assert carried_back(note.lines, {2024}) == {2024: D("46.00")}
    # 2023 closed too: its settlement line (10) as well
    assert carried_back(note.lines, {2023, 2024}) == {2023: D(10), 2024: D("46.00")}
    assert carried_back(note.lines, set()) == {}
