"""Figures that explain themselves, in no language.

Every number the engine and billing produce is a `Figure`: its value, what it
is (`name`, with the ids it is about in `params`), the formula that made it as
tokens (numbers, operator symbols and words to translate), the clause of the
agreement it rests on (`reference`, quoted as the agreement writes it) or the
rule of osuus it follows (`rule`), and the figures it was made from. Words and
number formats are added only when a figure is shown (osuus.render.explain),
in the reader's language, so the same figure can be stored once (as `to_data`)
and explained in Finnish, Swedish or English for ever after.

Building a figure costs a tuple; nothing is formatted until it is shown.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, NamedTuple, Union

EUR, COUNT, RATE, FACTOR = "eur", "count", "rate", "factor"  # how a number is shown


class Num(NamedTuple):
    """A number inside a formula, with its kind (euros, a count, a rate)."""

    value: Decimal
    unit: str = EUR


class Word(NamedTuple):
    """A word inside a formula ("round", "sum of the members' shares"): a catalogue key."""

    key: str


#: A formula is numbers, words and the symbols between them (" × ", " / ", "(", "⌈" ...).
Token = Union[str, Num, Word]
Params = tuple[tuple[str, Any], ...]


class Figure(NamedTuple):
    """One computed value with its formula, its clause and its inputs."""

    name: str
    value: Decimal
    expr: tuple[Token, ...] = ()
    reference: str = ""
    inputs: tuple = ()  # of Figures
    unit: str = EUR
    params: Params = ()
    rule: str = ""  # an osuus rule the figure follows (a catalogue key), where no clause of the agreement says it

    def param(self, name: str, default: Any = None) -> Any:
        for key, value in self.params:
            if key == name:
                return value
        return default

    def walk(self, depth: int = 0) -> Iterator[tuple[int, "Figure"]]:
        """This figure and its inputs, depth first, each with its depth."""
        yield depth, self
        for child in self.inputs:
            yield from child.walk(depth + 1)

    def find(self, name: str) -> "Figure | None":
        """The first figure of this tree named `name` (depth first)."""
        for _, fig in self.walk():
            if fig.name == name:
                return fig
        return None

    # storage: the same tree as plain JSON data, in no language -------------------------

    def to_data(self) -> dict:
        data: dict[str, Any] = {"name": self.name, "value": str(self.value), "unit": self.unit}
        if self.expr:
            data["expr"] = [_token_data(t) for t in self.expr]
        if self.reference:
            data["reference"] = self.reference
        if self.rule:
            data["rule"] = self.rule
        if self.params:
            data["params"] = {k: v for k, v in self.params}
        if self.inputs:
            data["inputs"] = [child.to_data() for child in self.inputs]
        return data

    @classmethod
    def from_data(cls, data: dict) -> "Figure":
        return cls(data["name"], Decimal(data["value"]), tuple(_token(t) for t in data.get("expr", ())),
                   data.get("reference", ""), tuple(cls.from_data(c) for c in data.get("inputs", ())),
                   data.get("unit", EUR), tuple(data.get("params", {}).items()), data.get("rule", ""))


def _token_data(token: Token):
    if isinstance(token, Num):
        return {"n": str(token.value), "unit": token.unit}
    if isinstance(token, Word):
        return {"w": token.key}
    return token


def _token(data) -> Token:
    if isinstance(data, dict):
        return Num(Decimal(data["n"]), data.get("unit", EUR)) if "n" in data else Word(data["w"])
    return data


def given(name: str, value: Decimal, reference: str = "", unit: str = EUR, **params: Any) -> Figure:
    """A figure taken as it is from the agreement."""
    return Figure(name, value, (), reference, (), unit, tuple(params.items()))


def figure(name: str, value: Decimal, expr: tuple[Token, ...] = (), reference: str = "",
           inputs: tuple[Figure, ...] = (), unit: str = EUR, rule: str = "", **params: Any) -> Figure:
    """A computed figure; `params` name what it is about (component=…, municipality=…)."""
    return Figure(name, value, expr, reference, inputs, unit, tuple(params.items()), rule)


def sum_expr(values) -> tuple[Token, ...]:
    """`a + b + c` as tokens."""
    expr: list[Token] = []
    for i, v in enumerate(values):
        if i:
            expr.append(" + ")
        expr.append(Num(v))
    return tuple(expr)
