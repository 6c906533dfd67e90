"""Figures and dates in the reader's language, for every PDF: one place, so that an
invoice, a letter and a report write the same euro the same way.

Finnish and Swedish: `1 234,56 €` (a narrow no-break space groups the digits) and
`12.6.2021`; English: `€1,234.56` and `12 June 2021`. Rounding is money.fmt_number's
(half-up, at the places asked); nothing here is computed, only shown.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from osuus.documents.model import PartyDocument
from osuus.money import fmt_number

LANGUAGES = ("fi", "sv", "en")
#: the group separator of Finnish and Swedish figures: narrow no-break space
NNBSP = "\u202f"
#: between a figure and its currency: no-break space
NBSP = "\u00a0"
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


def separators(lang: str) -> dict[str, str]:
    """money.fmt_number's separators for `lang`; an unsupported language is refused."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return {"decimal_sep": ".", "group_sep": ","} if lang == "en" else {"decimal_sep": ",", "group_sep": NNBSP}


def number(value: Decimal, places: int, lang: str) -> str:
    return fmt_number(value, places, **separators(lang))


def amount(value: Decimal, lang: str = "fi") -> str:
    """Money as a plain figure with cents: `1 234,56` (fi, sv), `1,234.56` (en)."""
    return number(value, 2, lang)


def euros(value: Decimal, lang: str = "fi", places: int = 2) -> str:
    """Money with its currency for running text: `1 234,56 €` (fi, sv), `€1,234.56`, `-€5.00` (en)."""
    if lang == "en":
        figure = number(abs(value), places, lang)
        return f"-€{figure}" if value < 0 and figure.strip("0.,") else f"€{figure}"
    return f"{number(value, places, lang)}{NBSP}€"


def quantity(value: Decimal, lang: str = "fi") -> str:
    """A quantity or count without trailing zeros: `1`, `2,5`, `1 250` (fi, sv); `2.5` (en)."""
    exponent = int(value.normalize().as_tuple().exponent)
    return number(value, max(0, -exponent), lang)


def date(value: dt.date | None, lang: str = "fi") -> str:
    """`12.6.2021` (fi, sv), `12 June 2021` (en); empty for no date."""
    if value is None:
        return ""
    separators(lang)
    if lang == "en":
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day}.{value.month}.{value.year}"


def address_lines(party: PartyDocument, *, with_contact: bool = True) -> list[str]:
    """The lines under a party's name: contact, street, postcode and city, a foreign country."""
    address = party.address
    lines = [party.contact] if with_contact and party.contact else []
    if address.street:
        lines.append(address.street)
    city = " ".join(p for p in (address.postcode, address.city) if p)
    if city:
        lines.append(city)
    if address.country and address.country != "FI":
        lines.append(address.country)
    return lines
