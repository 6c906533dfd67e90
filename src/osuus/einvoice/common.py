"""What the Finvoice and Peppol writers share: units, amounts, payment terms text."""

from __future__ import annotations

from decimal import Decimal

from osuus.documents.model import InvoiceDocument
from osuus.money import cents, round_to

# UN/ECE Recommendation 20 unit codes for the units agreements use (Finnish words).
UNIT_CODES = {
    "tunti": "HUR", "h": "HUR", "käynti": "C62", "kpl": "C62", "kartoitus": "C62", "asiakas": "C62",
    "asiakas/vuosi": "C62", "erä": "C62", "km": "KMT", "vrk": "DAY", "päivä": "DAY", "pv": "DAY",
    "kuukausi": "MON", "kk": "MON", "vuosi": "ANN",
}


def unit_code(unit: str) -> str:
    """The UN/ECE code of a unit; anything not listed is counted in pieces (C62, 'one')."""
    return UNIT_CODES.get(unit.strip().casefold(), "C62")


def amount_text(value: Decimal, comma: bool = False) -> str:
    """Cents as text with two decimals: 1234.50, or 1234,50 for Finvoice."""
    text = cents(value)
    return text.replace(".", ",") if comma else text


def plain_text(value: Decimal, comma: bool = False) -> str:
    """A quantity or a price without needless trailing zeros (at least none after the point)."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if comma else text


def payment_terms(doc: InvoiceDocument) -> str:
    days = (doc.due_date - doc.issue_date).days
    return f"{days} päivää netto" if days > 0 else "Maksetaan heti"


def agreement_note(doc: InvoiceDocument) -> str:
    text = f"{doc.agreement_title}" if doc.agreement_title else ""
    if doc.is_credit:
        head = f"Hyvityslasku laskulle {doc.credited_number}" if doc.credited_number else "Hyvityslasku"
        text = head + (f": {doc.reason}" if doc.reason else "") + (f". {text}" if text else "")
    return text


def price_text(value: Decimal, comma: bool = False) -> str:
    """A unit price with two to five decimals, as Finvoice's amount type asks (635,70)."""
    exponent = max(min(-value.normalize().as_tuple().exponent, 5), 2)
    text = f"{round_to(value, Decimal(1).scaleb(-exponent)):.{exponent}f}"
    return text.replace(".", ",") if comma else text
