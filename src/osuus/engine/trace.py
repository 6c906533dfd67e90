"""Figures that explain themselves.

Every number the engine produces is a `Figure`: its value, the formula that
made it written with the actual numbers, the clause it rests on, and the
figures it was made from. Rendering is lazy: building a figure costs a tuple,
so a national-scale allocation carries its whole explanation cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator, Union

from osuus.money import fmt_count, fmt_money, fmt_rate

EUR, COUNT, RATE = "eur", "count", "rate"


@dataclass(frozen=True, slots=True)
class Num:
    """A number inside a formula, with how to print it."""

    value: Decimal
    unit: str = EUR

    def __str__(self) -> str:
        return format_value(self.value, self.unit)


Token = Union[str, Num]


def format_value(value: Decimal, unit: str) -> str:
    if unit == EUR:
        return fmt_money(value)
    if unit == RATE:
        return fmt_rate(value)
    return fmt_count(value)


@dataclass(frozen=True, slots=True)
class Figure:
    """One computed value with its formula, its clause and its inputs."""

    name: str
    label: str
    value: Decimal
    expr: tuple[Token, ...] = ()
    reference: str = ""
    inputs: tuple["Figure", ...] = ()
    unit: str = EUR

    def formula(self) -> str:
        """`82 837,17 € × 24 277 / 517 666`: the formula with its numbers."""
        return "".join(str(t) for t in self.expr)

    def line(self) -> str:
        """`ICT: 82 837,17 € × 24 277 / 517 666 = 3 884,82 €  [Taulukko 1; kohta 2]`"""
        value = format_value(self.value, self.unit)
        formula = self.formula()
        text = f"{self.label}: {formula} = {value}" if formula else f"{self.label}: {value}"
        return f"{text}  [{self.reference}]" if self.reference else text

    def walk(self, depth: int = 0) -> Iterator[tuple[int, "Figure"]]:
        """This figure and its inputs, depth first, each with its depth."""
        yield depth, self
        for child in self.inputs:
            yield from child.walk(depth + 1)

    def to_dict(self) -> dict:
        """JSON form: numbers as decimal strings, full precision kept."""
        return {
            "name": self.name,
            "label": self.label,
            "value": str(self.value),
            "unit": self.unit,
            "formula": self.formula(),
            "reference": self.reference,
            "inputs": [child.to_dict() for child in self.inputs],
        }


def given(name: str, label: str, value: Decimal, reference: str = "", unit: str = EUR) -> Figure:
    """A figure taken as it is from the agreement."""
    return Figure(name, label, value, (), reference, (), unit)
