"""`osuus explain` as text: each figure with its formula, inputs and clause."""

from __future__ import annotations

from osuus.engine import Allocation
from osuus.engine.trace import EUR
from osuus.money import fmt_number


def explanation_text(allocation: Allocation, municipality: str) -> str:
    agreement = allocation.agreement
    places = agreement.shown.places
    out = [f"{municipality}: {agreement.title}",
           f"Sopimus {agreement.id}, vastuukunta {agreement.host}. Luvut täydellä tarkkuudella, "
           f"näytetty sentteinä; taulukoissa pyöristys {agreement.shown.describe()}.", ""]
    for table, figures in allocation.explain(municipality):
        out.append(f"{table.table.caption}: {table.table.title}".strip(": "))
        shown: set[int] = set()
        lines: dict[int, str] = {}  # a shared input (a pool total, a key) is formatted once
        for top in figures:
            stack = [(0, top)]
            while stack:
                depth, fig = stack.pop()
                line = lines.get(id(fig))
                if line is None:
                    line = lines[id(fig)] = fig.line()
                if depth == 0 and fig.unit == EUR and fig.name != "invoiced":
                    line += f"  (taulukossa {fmt_number(fig.value, places)})"
                if id(fig) in shown and fig.inputs:
                    out.append("  " * (depth + 1) + line + "  (ks. edellä)")
                    continue
                shown.add(id(fig))
                out.append("  " * (depth + 1) + line)
                for child in reversed(fig.inputs):
                    stack.append((depth + 1, child))
        out.append("")
    return "\n".join(out)
