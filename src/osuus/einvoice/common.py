"""What the Finvoice and Peppol writers share: unit codes, amounts, and the texts of a document.

E-invoices are written in Finnish, the language of the receiving municipalities'
purchase-invoice systems; every text comes from the catalogue (osuus.render),
the same words as the Finnish PDF.
"""

from __future__ import annotations

from decimal import Decimal

from osuus.billing.lines import Line
from osuus.documents.model import InvoiceDocument
from osuus.money import cents, round_to
from osuus.render.formats import plain_spaces
from osuus.render.i18n import catalogue
from osuus.render.lines import line_text

LANG = "fi"

# UN/ECE Recommendation 20 codes of the units lines are counted in.
UNIT_CODES = {
    "hour": "HUR", "visit": "C62", "assessment": "C62", "customer": "C62", "customer_year": "C62", "group": "C62",
    "piece": "C62", "day": "DAY", "km": "KMT", "month": "MON", "year": "ANN", "instalment": "C62", "lot": "C62",
}


def unit_code(unit: str) -> str:
    """The UN/ECE code of a unit; anything not listed is counted in pieces (C62, 'one')."""
    return UNIT_CODES.get(unit.strip(), "C62")


def amount_text(value: Decimal, comma: bool = False) -> str:
    """Cents as text with two decimals: 1234.50, or 1234,50 for Finvoice."""
    text = cents(value)
    return text.replace(".", ",") if comma else text


def plain_text(value: Decimal, comma: bool = False) -> str:
    """A quantity or a price without needless trailing zeros (at least none after the point)."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if comma else text


def price_text(value: Decimal, comma: bool = False) -> str:
    """A unit price with two to five decimals, as Finvoice's amount type asks (635,70)."""
    exponent = max(min(-value.normalize().as_tuple().exponent, 5), 2)
    text = f"{round_to(value, Decimal(1).scaleb(-exponent)):.{exponent}f}"
    return text.replace(".", ",") if comma else text


def t(key: str, **params) -> str:
    return plain_spaces(catalogue(LANG).t(key, **params))


def payment_terms(doc: InvoiceDocument) -> str:
    if doc.is_credit:  # a credit note asks for no payment
        return t("letter.nothing_to_pay")
    days = (doc.due_date - doc.issue_date).days
    return t("letter.terms_days").format(days=days) if days > 0 else t("einvoice.pay_now")


def agreement_note(doc: InvoiceDocument) -> str:
    text = doc.agreement.title.get(LANG)
    if doc.is_credit:
        head = t("einvoice.credit_of", number=doc.credited_number) if doc.credited_number else t("letter.credit_note")
        text = head + (f": {doc.reason}" if doc.reason else "") + (f". {text}" if text else "")
        text += ". " + t("letter.nothing_to_pay") + " " + t(f"letter.credit_{doc.credit_settled_by}")
    return text


def description(doc: InvoiceDocument, line: Line) -> str:
    """The line in words, as on the Finnish PDF, with ordinary spaces (as e-invoices had them)."""
    return plain_spaces(line_text(line, doc.agreement, LANG, doc.period))


def basis_note(line: Line) -> str:
    return t("einvoice.basis", reference=line.reference)


def vat_text(doc: InvoiceDocument) -> str:
    """The legal basis of the VAT treatment, in words: the agreement's, else the catalogue's."""
    return doc.vat.exemption_text.get(LANG) or t(f"vat.exemption.{doc.vat.category}")
