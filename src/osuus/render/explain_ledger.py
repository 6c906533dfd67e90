"""`osuus explain invoice|settlement|estimate`: a billed figure, down to the allocation and the clause.

    Lasku 2021-00016, rivi 1: Kuntien maksuosuudet 2021 (Taulukko 1): ennakko 1/12, vuosiosuus 14 240,27 €
      Ennakko 1/12 (Kuntien maksuosuudet 2021): 14 240,27 € / 12 = 1 186,68 €  [tasaerä …]
        Laskutettava: 14 240,27 €  [Laskutus senteissä; pyöristys sentteihin, puolet ylöspäin]
          Maksuosuus: 17 800,33 € − 3 560,07 € = 14 240,27 €  [Taulukko 1 (19.11.2020)]
          …
"""

from __future__ import annotations

from osuus.render.explain import Explainer
from osuus.render.lines import line_text
from osuus.render.terminal import plain
from osuus.services.explain import EstimateExplanation, InvoiceExplanation, SettlementExplanation


def to_text(result, lang: str = "fi") -> str:
    e = Explainer(result.agreement, lang)
    c = e.c
    out: list[str] = []
    if isinstance(result, InvoiceExplanation):
        inv = result.invoice
        out.append(c.t("explain.invoice.head", kind=c.t(f"document.{inv.kind.value}"), number=inv.number,
                       municipality=e.param("municipality", inv.municipality), total=e.f.money(inv.total)))
        for line, fig in result.lines:
            out.append("")
            out.append(c.t("explain.invoice.line", position=line.position,
                           text=line_text(line, result.agreement, lang, inv.period)))
            out.extend(e.tree_lines([fig]))
    elif isinstance(result, SettlementExplanation):
        out.append(c.t("explain.settlement.head", year=result.year,
                       municipality=e.param("municipality", result.municipality)))
        out.extend(e.tree_lines(result.figures))
        if result.documents:
            out.append(c.t("explain.settlement.documents", documents=", ".join(
                f"{number} ({e.f.money(amount)})" for number, amount in result.documents)))
    elif isinstance(result, EstimateExplanation):
        out.append(c.t("explain.estimate.head", year=result.year,
                       municipality=e.param("municipality", result.municipality), revision=result.estimate.revision))
        out.extend(e.tree_lines([result.figure]))
    return plain("\n".join(out) + "\n")


def to_json(result, lang: str = "fi") -> dict:
    e = Explainer(result.agreement, lang)
    if isinstance(result, InvoiceExplanation):
        inv = result.invoice
        return {"invoice": inv.number, "kind": inv.kind.value, "municipality": inv.municipality,
                "total": str(inv.total), "language": lang,
                "lines": [{"position": line.position, "text": line_text(line, result.agreement, lang, inv.period),
                           "amount": str(line.amount), "explanation": e.to_json(fig)}
                          for line, fig in result.lines]}
    if isinstance(result, SettlementExplanation):
        return {"year": result.year, "municipality": result.municipality, "language": lang,
                "figures": [e.to_json(f) for f in result.figures],
                "documents": [{"number": n, "amount": str(a)} for n, a in result.documents]}
    return {"year": result.year, "municipality": result.municipality, "revision": result.estimate.revision,
            "language": lang, "explanation": e.to_json(result.figure)}
