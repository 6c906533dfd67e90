"""Exact column types: money and quantities never become floats.

PostgreSQL stores them as NUMERIC. SQLite has no exact decimal type (a NUMERIC
column there holds REAL), so on SQLite they are stored as integers of the
smallest unit (cents, ten-thousandths); SUM() over integers is exact, and the
result processor turns them back into Decimal. Both databases therefore sum
money in SQL exactly.

What a column holds differs: NUMERIC(18, 2) holds euros below 10^16 and
NUMERIC(18, 4) quantities below 10^14 on PostgreSQL, while SQLite's 64-bit
integers hold 9.2 × 10^18 cents or ten-thousandths (and overflow in SUM beyond
them). `capacity` is the smaller of the two. What osuus accepts is kept far
inside both by the limits of osuus.agreement.checks (AMOUNT_LIMIT, COUNT_LIMIT,
VOLUME_LIMIT), checked where an agreement or an import comes in, so that the
two databases accept exactly the same.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Numeric, String
from sqlalchemy.types import TypeDecorator


class _ScaledDecimal(TypeDecorator):
    impl = Numeric
    cache_ok = True
    scale = 2
    precision = 18

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("a float on a money path: use Decimal")
        value = Decimal(value)
        scaled = value.scaleb(self.scale)
        if scaled != scaled.to_integral_value():  # never round silently, on any database
            raise ValueError(f"{value} has more than {self.scale} decimals")
        if dialect.name == "sqlite":
            return int(scaled)  # SQLite integers are 64-bit: ±9.2e18 units, e.g. ±9.2e16 € in cents
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value)


def capacity(column: type[_ScaledDecimal]) -> Decimal:
    """The largest value (exclusive) a column of this type holds on both databases."""
    postgres = Decimal(10) ** (column.precision - column.scale)
    sqlite = Decimal(2 ** 63 - 1).scaleb(-column.scale)
    return min(postgres, sqlite)


class Money(_ScaledDecimal):
    """Euros with cents: NUMERIC(18, 2); integer cents on SQLite."""

    cache_ok = True
    scale = 2


class Quantity(_ScaledDecimal):
    """Hours, visits, kilometres, days: NUMERIC(18, 4); integer 1/10 000 units on SQLite."""

    cache_ok = True
    scale = 4


class Price(_ScaledDecimal):
    """Unit prices, which may carry more than cents once confirmed: NUMERIC(20, 6).
    On SQLite the integer of millionths limits a price to about 9.2e12 €."""

    cache_ok = True
    scale = 6
    precision = 20


class KindOf(TypeDecorator):
    """A closed set of kinds (a str Enum), stored as its value; read back as the Enum member.
    The table adds a CHECK constraint so that the database itself holds no other value."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class, length: int = 20):
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_class(value)
