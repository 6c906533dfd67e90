"""Figures put into words: each with its formula, its inputs and its clause, in the reader's language.

A figure (osuus.engine.trace) holds no words: its `name` is the key of its
label in the catalogue (`figure.component.share`), its `params` the ids the
label names (a component, a key, a municipality), resolved here to the
agreement's labels and the municipality's name in the reader's language.

    ICT- ja tietopalvelut: 82 837,17 € × 24 277 / 517 666 = 3 884,82 €  [Taulukko 1; kohta 2]

`explanation_text` is `osuus explain` for an allocation; `tree_lines` serves
every other explanation (an invoice line, a settlement, an estimate).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from osuus.agreement.model import Agreement
from osuus.engine import Allocation
from osuus.engine.trace import COUNT, EUR, FACTOR, RATE, Figure, Num, Word
from osuus.render.formats import formats
from osuus.render.i18n import catalogue

_ROUNDING_UNITS = {Decimal(1): "whole", Decimal("0.01"): "cents"}


class Explainer:
    """Labels, formulas and lines of figures, in one language, for one agreement's ids."""

    def __init__(self, agreement: Agreement | None, lang: str = "fi"):
        self.agreement = agreement
        self.lang = lang
        self.c = catalogue(lang)
        self.f = formats(lang)

    # the parts of a line ----------------------------------------------------------

    def value(self, value: Decimal, unit: str) -> str:
        if unit == EUR:
            return self.f.money(value)
        if unit == RATE:
            return self.f.rate(value)
        if unit == FACTOR:
            return self.f.number(value, 6)
        return self.f.count(value)

    def param(self, name: str, value) -> str:
        a = self.agreement
        if a is not None:
            if name == "component" and value in a.components:
                return a.components[value].label.get(self.lang)
            if name == "key" and value in a.keys:
                return a.keys[value].label.get(self.lang)
            if name in ("municipality", "buyer") and a.by_code(str(value)) is not None:
                return a.name_of(str(value), self.lang)
            if name == "table" and any(t.id == value for t in a.tables):
                return a.table(value).title.get(self.lang)
            if name == "item":
                return a.label_of(value, self.lang)
        if name == "events":
            return self.c.n("line.events", int(value))
        if name == "period":
            return self.period(str(value))
        if isinstance(value, Decimal):
            return self.f.count(value)
        return str(value)

    def period(self, code: str) -> str:
        from osuus.calendar import Period, PeriodKind

        try:
            period = Period.parse(code)
        except ValueError:
            return code
        if period.kind is PeriodKind.MONTH:
            return self.f.month(period.year, period.index)
        if period.kind is PeriodKind.QUARTER:
            return self.c.t("period.quarter", index=period.index, year=period.year)
        return str(period.year)

    def label(self, fig: Figure) -> str:
        params = {k: self.param(k, v) for k, v in fig.params}
        return self.c.t(f"figure.{fig.name}", **params)

    def formula(self, fig: Figure) -> str:
        """`82 837,17 € × 24 277 / 517 666`: the formula with its numbers."""
        return "".join(self._token(t) for t in fig.expr)

    def _token(self, token) -> str:
        if isinstance(token, Num):
            return self.value(token.value, token.unit)
        if isinstance(token, Word):
            return self.c.t(f"word.{token.key}")
        return token

    def rule(self, fig: Figure) -> str:
        if not fig.rule:
            return ""
        if fig.rule == "rounding":
            unit = Decimal(fig.param("unit_of_rounding", "0.01"))
            what = _ROUNDING_UNITS.get(unit)
            what_text = (self.c.t(f"rounding.unit.{what}") if what else
                         self.c.t("rounding.unit.other", unit=self.f.count(unit)))
            return self.c.t("rule.rounding", unit=what_text,
                            mode=self.c.t(f"rounding.mode.{fig.param('mode', 'half_up')}"))
        params = {k: self.param(k, v) for k, v in fig.params}
        return self.c.t(f"rule.{fig.rule}", **params)

    def basis(self, fig: Figure) -> str:
        """What the figure rests on: the agreement's clause, and the rule of osuus it follows."""
        return "; ".join(p for p in (fig.reference, self.rule(fig)) if p)

    def line(self, fig: Figure) -> str:
        """`label: formula = value  [clause]`."""
        value = self.value(fig.value, fig.unit)
        formula = self.formula(fig)
        text = f"{self.label(fig)}: {formula} = {value}" if formula else f"{self.label(fig)}: {value}"
        basis = self.basis(fig)
        return f"{text}  [{basis}]" if basis else text

    # trees ----------------------------------------------------------------------

    def tree_lines(self, figures: Iterable[Figure], *, indent: int = 1, shown_as=None) -> list[str]:
        """Each figure and its inputs, indented by depth; an input used again is marked, not repeated.
        `shown_as(fig)` may add a note to a top-level figure (its rounded value in a table)."""
        out: list[str] = []
        shown: set[int] = set()
        lines: dict[int, str] = {}  # a shared input (a pool total, a key) is formatted once
        for top in figures:
            stack = [(0, top)]
            while stack:
                depth, fig = stack.pop()
                line = lines.get(id(fig))
                if line is None:
                    line = lines[id(fig)] = self.line(fig)
                if depth == 0 and shown_as is not None:
                    note = shown_as(fig)
                    if note:
                        line += f"  ({note})"
                if id(fig) in shown and fig.inputs:
                    out.append("  " * (depth + indent) + line + f"  ({self.c.t('explain.see_above')})")
                    continue
                shown.add(id(fig))
                out.append("  " * (depth + indent) + line)
                for child in reversed(fig.inputs):
                    stack.append((depth + 1, child))
        return out

    def to_json(self, fig: Figure) -> dict:
        """A figure as JSON: full-precision value, and its label, formula and basis in this language."""
        data = {"name": fig.name, "label": self.label(fig), "value": str(fig.value), "unit": fig.unit,
                "formula": self.formula(fig), "reference": fig.reference}
        if fig.rule:
            data["rule"] = self.rule(fig)
        if fig.params:
            data["params"] = {k: str(v) for k, v in fig.params}
        data["inputs"] = [self.to_json(child) for child in fig.inputs]
        return data


def explanation_text(allocation: Allocation, municipality: str, lang: str = "fi") -> str:
    """`osuus explain FILE -m …`: every figure of one municipality (by code), table by table."""
    agreement = allocation.agreement
    e = Explainer(agreement, lang)
    places = agreement.shown.places
    out = [f"{agreement.name_of(municipality, lang)}: {agreement.title.get(lang)}",
           e.c.t("explain.allocation.head", agreement=agreement.id, host=agreement.name_of(agreement.host, lang),
                 rounding=e.rule(_shown_rounding(agreement))), ""]

    def in_table(fig: Figure) -> str:
        if fig.unit == EUR and fig.name not in ("row.invoiced", "row.invoiced_host"):
            return e.c.t("explain.in_table", value=e.f.number(fig.value, places))
        return ""

    for table, figures in allocation.explain(municipality):
        caption = table.table.caption.get(lang)
        out.append(f"{caption}: {table.table.title.get(lang)}" if caption else table.table.title.get(lang))
        out.extend(e.tree_lines(figures, shown_as=in_table))
        out.append("")
    from osuus.render.terminal import plain

    return plain("\n".join(out))


def _shown_rounding(agreement: Agreement) -> Figure:
    from osuus.engine.trace import figure

    return figure("rounding", Decimal(0), rule="rounding", unit_of_rounding=str(agreement.shown.unit),
                  mode=agreement.shown.mode)


def explanation_json(allocation: Allocation, municipality: str, lang: str = "fi") -> dict:
    e = Explainer(allocation.agreement, lang)
    return {
        "agreement": {"id": allocation.agreement.id, "year": allocation.agreement.year},
        "municipality": allocation.agreement.name_of(municipality, lang),
        "code": municipality,
        "language": lang,
        "tables": [
            {"id": t.table.id, "title": t.table.title.get(lang), "figures": [e.to_json(f) for f in figures]}
            for t, figures in allocation.explain(municipality)
        ],
    }


__all__ = ["COUNT", "EUR", "Explainer", "RATE", "explanation_json", "explanation_text"]
