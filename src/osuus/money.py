"""Exact numbers: one constructor for Decimal, one place for rounding.

Money never touches a float. Arithmetic runs in a wide decimal context so that
shares computed by division stay exact far beyond the cent; rounding happens
only where a figure is shown or invoiced, by a `Rounding` the agreement states.
How a number is written for a reader is the renderers' business
(osuus.render.formats); `cents` is the one machine form (JSON, CSV).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

#: Arithmetic context for every computation in the core: 50 significant digits
#: keep a share of a national budget exact to far below a cent.
CONTEXT = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")

_MODES = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "ceil": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
}
ROUNDING_MODES = tuple(_MODES)


def D(value: object) -> Decimal:
    """Make a Decimal from an int, a Decimal or a decimal string; refuse floats."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
        try:
            result = Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
        if not result.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return result
    if isinstance(value, float):
        raise TypeError("floats are not allowed on a money path; use Decimal or a string")
    raise TypeError(f"cannot make a number of {type(value).__name__}")


def parse_rate(value: object) -> Decimal:
    """A rate written as a ratio (0.17, "0.17") or a percentage string ("17 %")."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return D(value.strip()[:-1].replace(",", ".")) / 100
    return D(value)


@dataclass(frozen=True, slots=True)
class Rounding:
    """Round to a multiple of `unit` ("1" for whole euros, "0.01" for cents) by `mode`."""

    unit: Decimal = CENT
    mode: str = "half_up"
    reference: str = ""

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"unknown rounding mode {self.mode!r}")

    def apply(self, value: Decimal) -> Decimal:
        return round_to(value, self.unit, self.mode)

    @property
    def places(self) -> int:
        exponent = self.unit.normalize().as_tuple().exponent
        return max(0, -int(exponent))


def round_to(value: Decimal, unit: Decimal | str = CENT, mode: str = "half_up") -> Decimal:
    """Round `value` to a multiple of `unit` with the named mode (see ROUNDING_MODES)."""
    unit = D(unit)
    with decimal.localcontext(CONTEXT):
        if unit == unit.to_integral_value() and unit != 1:
            steps = (value / unit).quantize(ONE, rounding=_MODES[mode])
            return steps * unit
        return value.quantize(unit, rounding=_MODES[mode])


def round_count(value: Decimal, mode: str) -> Decimal:
    """Round a derived count to a whole number (ceil, floor, half_up ...)."""
    with decimal.localcontext(CONTEXT):
        return value.quantize(ONE, rounding=_MODES[mode])


def cents(value: Decimal) -> str:
    """The JSON form of money: exactly two decimals, rounded half-up."""
    return str(round_to(value, CENT, "half_up"))
