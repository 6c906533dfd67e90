"""The kinds of things billing makes, as closed sets (the database holds them with CHECK constraints)."""

from __future__ import annotations

import enum


class LineKind(str, enum.Enum):
    ADVANCE = "advance"  # an instalment of a member's yearly payment of an advance table
    EVENT = "event"  # service events at the agreed price (of the period, or late ones of an earlier period)
    TRAVEL = "travel"  # per diem (unit day) or mileage (unit km) of on-site work
    INTERPRETATION = "interpretation"  # interpretation at cost
    SETTLEMENT = "settlement"  # a closed year's difference between actual share and billing

    def __str__(self) -> str:
        return self.value


class DocumentKind(str, enum.Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    def __str__(self) -> str:
        return self.value


class SettlementKind(str, enum.Enum):
    YEAR_END = "year_end"  # actual share − billed, when the year is closed
    CREDIT = "credit"  # a credit note of a closed year's shares, charged again

    def __str__(self) -> str:
        return self.value


#: The lines whose amounts are a member's share of a year (and so are settled at its end);
#: travel and interpretation are billed at cost and have nothing to settle.
SHARE_KINDS = (LineKind.ADVANCE, LineKind.EVENT)
