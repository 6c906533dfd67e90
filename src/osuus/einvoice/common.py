"""What the Finvoice and Peppol writers share: unit codes, amounts, and the texts of a document.

E-invoices are written in Finnish, the language of the receiving municipalities'
purchase-invoice systems; every text comes from the catalogue (osuus.render),
the same words as the Finnish PDF.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

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
    """An invoice's terms ("21 päivää netto"); a credit note asks for no payment and says how
    its credit is settled instead (offset against the next payment, or refunded)."""
    if doc.is_credit:
        return settlement_text(doc)
    days = (doc.due_date - doc.issue_date).days
    return t("letter.terms_days").format(days=days) if days > 0 else t("einvoice.pay_now")


def settlement_text(doc: InvoiceDocument) -> str:
    """How a credit note's credit reaches the member, from the agreement's [billing.credits]."""
    return t(f"letter.credit_{doc.credit_settled_by}")


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


# -- what the receiver reads and books ------------------------------------------------------

HELSINKI = ZoneInfo("Europe/Helsinki")

#: Characters ISO-8859-15 (Latin-9) cannot hold, written as the nearest ones it can.
_LATIN9 = str.maketrans({
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00a8": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2002": " ", "\u2003": " ", "\u200a": " ",
    "\u2026": "...", "\u2022": "*", "\u00bd": "1/2", "\u00bc": "1/4", "\u00be": "3/4", "\u00a4": "EUR",
    "\u00a6": "|", "\u00b8": ",", "\u200b": "", "\u00ad": "", "\u2060": "", "\ufeff": "",
})


def latin9(text: str) -> str:
    """`text` in characters ISO-8859-15 holds: the minus sign and dashes as '-', typographic
    quotes as ' and ", no-break and thin spaces as a space; any other letter outside Latin-9
    without its accents when it has a Latin-9 base (ł stays '?'), else '?'."""
    text = text.translate(_LATIN9)
    try:
        text.encode("iso-8859-15")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        try:
            ch.encode("iso-8859-15")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode("iso-8859-15")
            out.append(base or "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


def split_words(text: str, width: int) -> list[str]:
    """`text` cut at spaces into parts of at most `width` characters (a word longer than
    `width` is cut inside, the only way it fits)."""
    parts: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > width:
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            parts.append(current)
            current = word
    if current:
        parts.append(current)
    return parts


def shorten(text: str, width: int) -> str:
    """`text` if it fits in `width` characters, else its first words that do, with '...'."""
    if len(text) <= width:
        return text
    head = split_words(text, width - 3)[0]
    return head + "..."


def message_identifier(number: str) -> str:
    """A message identifier of its own for every send of `number` (an operator refuses or
    drops a message whose identifier it has seen): the invoice number and 96 random bits,
    at most 45 characters (Finvoice allows 48)."""
    return f"{number}-{uuid.uuid4().hex[:24]}"


def helsinki_time(moment: dt.datetime | None = None) -> dt.datetime:
    """`moment` (now by default) in Finnish local time to the second: +02:00 in winter,
    +03:00 in summer. A naive moment is taken to be Finnish local time already."""
    if moment is None:
        moment = dt.datetime.now(HELSINKI)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=HELSINKI)
    return moment.astimezone(HELSINKI).replace(microsecond=0)


def pdf_file_name(doc: InvoiceDocument) -> str:
    """The name `osuus export pdf` gives the Finnish PDF of `doc` (lasku-2021-00016.pdf)."""
    return f"{catalogue(LANG).t(f'file.{doc.kind.value}')}-{doc.number}.pdf"


def image_description(doc: InvoiceDocument) -> str:
    """What the attached PDF is, for the receiver's list of attachments."""
    return t(f"einvoice.image.{doc.kind.value}", number=doc.number)
