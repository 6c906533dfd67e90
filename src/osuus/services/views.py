"""What the use cases return: plain immutable values, never rows of the database.

The edges (the command line, the web app) render these; they hold no database
ids, only what a reader may see: invoice numbers, municipality codes, periods.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from osuus.billing.kinds import DocumentKind
from osuus.billing.lines import Line
from osuus.calendar import Period


@dataclass(frozen=True)
class AgreementView:
    agreement_id: str
    year: int
    revision: int
    file_name: str
    sha256: str
    added_at: dt.datetime
    added_by: str
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvoiceView:
    """An issued invoice or credit note, with its lines."""

    number: str
    kind: DocumentKind
    municipality: str  # code
    period: Period  # the billing period
    issue_date: dt.date
    due_date: dt.date
    reference: str  # national payment reference
    total: Decimal
    lines: tuple[Line, ...]
    agreement_year: int | None  # the year of the agreement it was made under (its labels and names)
    credited: str = ""  # a credit note: the invoice it credits
    credited_issue_date: dt.date | None = None
    credited_by: str = ""  # an invoice: the credit note that credits it
    reason: str = ""

    @property
    def is_credit(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE


@dataclass(frozen=True)
class ImportResult:
    kind: str
    file: str
    rows: int
    added: int
    created: bool  # False: the same file was imported before
