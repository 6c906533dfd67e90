"""Invoice lines put into words, in the reader's language.

A line is stored as structure (osuus.billing.lines.Line); its text is made here
from the catalogue, the agreement's labels and the line's facts:

    Kuntien maksuosuudet 2021 (Taulukko 1): ennakko 1/12, vuosiosuus 14 240,27 €
    OMA-valmennus, 2. kotoutumisvuosi: 3 asiakas/vuosi × 1 150,00 € (3 tapahtumaa)
    Jälkikirjaus (helmikuu 2021): Omakielinen neuvonta (Mainio): 2 tunti × 40,00 € (1 tapahtuma)

A line issued before lines were structure keeps the words it was sent with
(`issued_text`) and is shown as issued, whatever the language.
"""

from __future__ import annotations

from decimal import Decimal

from osuus.agreement.model import Agreement
from osuus.billing.kinds import LineKind
from osuus.billing.lines import Line
from osuus.calendar import Period
from osuus.render.explain import Explainer
from osuus.render.formats import formats
from osuus.render.i18n import catalogue
from osuus.render.words import unit_text


def line_text(line: Line, agreement: Agreement | None, lang: str = "fi", billing_period: Period | None = None) -> str:
    """The line's description. A credit note's line reads "Credit: <the credited line>"."""
    if line.issued_text is not None:
        return line.issued_text
    c = catalogue(lang)
    text = _plain_text(line, agreement, lang, billing_period)
    if "credits" in line.details:
        text = c.t("line.credit", text=text)
    return text


def _plain_text(line: Line, agreement: Agreement | None, lang: str, billing_period: Period | None) -> str:
    c = catalogue(lang)
    f = formats(lang)
    e = Explainer(agreement, lang)
    component = e.param("component", line.component) if line.component else ""
    kind = line.kind
    if kind is LineKind.ADVANCE:
        table_id = line.details.get("table", line.component)
        table = agreement.table(table_id) if agreement is not None and any(t.id == table_id for t in agreement.tables) \
            else None
        title = table.title.get(lang) if table else table_id
        caption = table.caption.get(lang) if table else ""
        basis = line.details.get("basis")
        text = c.t(f"line.advance.{basis}" if basis else "line.advance",
                   table=f"{title} ({caption})" if caption else title, year=line.details.get("basis_year", ""),
                   index=line.details.get("index", ""), count=line.details.get("count", ""),
                   yearly=f.money(Decimal(line.details.get("yearly", line.amount))))
        if "billed" in line.details:  # the rest of the year recomputed: the payment in force changed
            billed = Decimal(line.details["billed"])
            text = c.t("line.advance.recomputed", text=text, billed=f.money(billed),
                       remaining=f.money(Decimal(line.details.get("yearly", 0)) - billed),
                       left=line.details.get("left", ""))
        return text
    if kind is LineKind.SETTLEMENT:
        direction = c.t("line.settlement.charge" if line.amount > 0 else "line.settlement.credit_direction")
        if line.details.get("settlement") == "credit":
            return c.t("line.settlement.credit", year=line.period.year, credit_note=line.details.get("credit_note", ""),
                       credited=line.details.get("credited", ""), direction=direction)
        return c.t("line.settlement.year_end", year=line.period.year, direction=direction)
    if kind is LineKind.EVENT:
        tier = line.details.get("integration_year")
        text = c.t("line.event", component=component,
                   tier=c.t("line.tier", year=tier) if tier else "",
                   quantity=f.count(abs(line.quantity)), unit=unit_text(line.unit, lang),
                   price=f.money(abs(line.unit_price)),
                   events=c.n("line.events", int(line.details.get("events", 0))))
    elif kind is LineKind.TRAVEL:
        item = line.details.get("item", "per_diem" if line.unit == "day" else "km")
        text = c.t(f"line.{item}", component=component, quantity=f.count(abs(line.quantity)),
                   unit=unit_text(line.unit, lang), price=f.money(abs(line.unit_price)))
    else:
        text = c.t("line.interpretation", component=component)
    late = billing_period is not None and line.period < billing_period and line.period.kind is billing_period.kind
    if late:
        text = c.t("line.late", period=e.period(line.period.code), text=text)
    return text
