"""Money, Quantity and Price are exact in the database, and SUM() in SQL is exact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import StatementError

from osuus.calendar import Period
from osuus.store.tables import Invoice, InvoiceLine

AMOUNTS = [
    Decimal("0.01"),
    Decimal("12345678.99"),
    Decimal("-0.01"),
    Decimal("-12345678.99"),
    Decimal("0"),
    Decimal("0.10"),
    Decimal("9999999999999999.99"),  # the largest NUMERIC(18, 2)
    Decimal("-9999999999999999.99"),
]


def _invoice(session) -> Invoice:
    invoice = Invoice(
        number="TRE-2021-1", host="837", year=2021, sequence=1, kind="invoice",
        municipality="604", period=Period.month(2021, 3), issue_date=dt.date(2021, 4, 1),
        due_date=dt.date(2021, 4, 30), reference="12344", total=Decimal("0"),
        created_at=dt.datetime(2021, 4, 1, tzinfo=dt.timezone.utc),
    )
    session.add(invoice)
    session.flush()
    return invoice


def _line(invoice_id: int, position: int, **values) -> dict:
    line = dict(
        invoice_id=invoice_id, position=position, kind="event", component="mainio",
        period=Period.month(2021, 3), quantity=Decimal("1"), unit="hour", unit_price=Decimal("40"),
        amount=Decimal("40.00"), reference="", details={},
    )
    line.update(values)
    return line


def test_money_quantity_price_round_trip_exactly(Session):
    quantities = [Decimal("0.0001"), Decimal("2.5"), Decimal("-3.1416"), Decimal("12345678.9999")]
    prices = [Decimal("40"), Decimal("0.000001"), Decimal("1399.999999"), Decimal("-280.5")]
    with Session.begin() as session:
        invoice_id = _invoice(session).id
        for i, amount in enumerate(AMOUNTS):
            session.add(InvoiceLine(**_line(
                invoice_id, i, amount=amount,
                quantity=quantities[i % len(quantities)], unit_price=prices[i % len(prices)],
            )))
    with Session() as session:
        rows = session.execute(
            select(InvoiceLine.position, InvoiceLine.amount, InvoiceLine.quantity, InvoiceLine.unit_price)
            .order_by(InvoiceLine.position)
        ).all()
    assert [r.amount for r in rows] == AMOUNTS
    assert [r.quantity for r in rows] == [quantities[i % 4] for i in range(len(AMOUNTS))]
    assert [r.unit_price for r in rows] == [prices[i % 4] for i in range(len(AMOUNTS))]
    for r in rows:
        assert type(r.amount) is Decimal and type(r.quantity) is Decimal and type(r.unit_price) is Decimal
        assert r.amount.as_tuple().exponent == -2  # cents are kept: 0.10, not 0.1
    assert str(rows[5].amount) == "0.10"


def test_sum_of_ten_thousand_dimes_is_exact(Session, engine):
    with Session.begin() as session:
        invoice_id = _invoice(session).id
        session.execute(
            insert(InvoiceLine),
            [_line(invoice_id, i, amount=Decimal("0.10"), quantity=Decimal("0.1")) for i in range(10_000)],
        )
    with Session() as session:
        total = session.execute(select(func.sum(InvoiceLine.amount))).scalar_one()
        quantity = session.execute(select(func.sum(InvoiceLine.quantity))).scalar_one()
        # grouped and filtered sums too
        by_invoice = session.execute(
            select(InvoiceLine.invoice_id, func.sum(InvoiceLine.amount))
            .where(InvoiceLine.amount == Decimal("0.10"))
            .group_by(InvoiceLine.invoice_id)
        ).all()
    assert type(total) is Decimal
    assert total == Decimal("1000.00") and str(total) == "1000.00"
    assert quantity == Decimal("1000")
    assert by_invoice == [(invoice_id, Decimal("1000.00"))]
    # In the database itself the sum is exact too (integers on SQLite, NUMERIC on PostgreSQL).
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT SUM(amount) FROM invoice_lines")).scalar_one()
    assert not isinstance(raw, float)
    assert raw == (100_000 if engine.dialect.name == "sqlite" else Decimal("1000.00"))


def test_a_float_is_refused_on_bind(Session):
    with Session() as session:
        invoice_id = _invoice(session).id
        session.add(InvoiceLine(**_line(invoice_id, 1, amount=0.1)))
        with pytest.raises(StatementError) as caught:
            session.flush()
        assert isinstance(caught.value.orig, TypeError)
        assert "float" in str(caught.value.orig)
        session.rollback()
    with Session() as session:
        with pytest.raises(StatementError):
            session.execute(select(InvoiceLine.id).where(InvoiceLine.amount == 0.1)).all()
