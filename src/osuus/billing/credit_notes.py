"""Credit notes, pure: an issued invoice is never edited; it is credited whole and billed again.

`correction` makes the credit note of an invoice: every line negated, each
pointing at the line it credits, its explanation the credited line's. When the
credited shares belong to a year already closed, its settlement was fixed from
what had been billed; the credit lowers that billing, so `carried_back` names
what must be charged again (as a settlement of that year on the member's next
invoice): the credit undoes, the settlement redoes, and the year still adds up
to the member's actual share.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Iterable

from osuus.billing.invoices import InvoiceDraft
from osuus.billing.kinds import SHARE_KINDS, DocumentKind, LineKind
from osuus.billing.lines import Line
from osuus.engine.trace import Num, figure
from osuus.money import ZERO


def correction(municipality: str, invoice_number: str, lines: Iterable[Line]) -> InvoiceDraft:
    """The credit note that cancels the invoice `invoice_number` (its issued `lines`) in full."""
    credited = []
    for line in lines:
        explanation = figure("line.credit", -line.amount, ("−", Num(line.amount)), line.reference,
                             (line.explanation,) if line.explanation is not None else (),
                             invoice=invoice_number, position=line.position)
        details = {**line.details, "credits": {"invoice": invoice_number, "position": line.position}}
        credited.append(dataclasses.replace(line, amount=-line.amount, details=details, explanation=explanation,
                                            position=0, issued_text=line.issued_text))
    return InvoiceDraft(municipality, DocumentKind.CREDIT_NOTE, tuple(credited))


def carried_back(credit_lines: Iterable[Line], closed_years: set[int]) -> dict[int, Decimal]:
    """What crediting these lines takes off the billing of each closed year (to be charged again):
    shares of the year (advances, events) and its settlement; never travel or interpretation."""
    by_year: dict[int, Decimal] = {}
    for line in credit_lines:
        if line.kind not in (*SHARE_KINDS, LineKind.SETTLEMENT):
            continue
        year = line.period.year
        if year in closed_years:
            by_year[year] = by_year.get(year, ZERO) - line.amount
    return {year: amount for year, amount in by_year.items() if amount}
