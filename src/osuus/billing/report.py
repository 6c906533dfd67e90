"""A member's annual report, as a value: customers, services produced, and its money side by side.

Estimate, billed, actual share and settlement of the year, by table (advances)
and by component (service events), with every document that carries a part of
the settlement. Items are ids (a table, a component): a renderer names them in
the reader's language from the agreement of the year, and the year-on-year chart
matches items by id, not by a title that holds the year.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from osuus.billing.estimate import Basis


@dataclass(frozen=True)
class ServiceLine:
    component: str
    unit: str  # a unit id, or the agreement's own word
    events: int
    quantity: Decimal
    customers: int  # distinct pseudonymous customers; shown masked under 5


@dataclass(frozen=True)
class MoneyLine:
    id: str  # a table or a component
    estimate: Decimal | None
    billed: Decimal
    actual: Decimal | None
    estimate_only: bool = False  # an event-billed table: estimated as a table, billed and settled by component


@dataclass(frozen=True)
class AnnualReport:
    year: int
    municipality: str  # code
    customers: int
    services: tuple[ServiceLine, ...]
    money: tuple[MoneyLine, ...]
    travel_and_interpretation: Decimal
    estimate: Decimal | None
    billed: Decimal
    actual: Decimal | None
    settlement: Decimal | None
    settlement_documents: tuple[tuple[str, Decimal], ...]  # (invoice or credit note number, amount it carries)
    estimate_basis: tuple[Basis, ...] = ()
    estimate_issued_basis: str | None = None

    @property
    def settlement_open(self) -> Decimal | None:
        """What of the settlement no document carries yet (it goes on the member's next invoice)."""
        if self.settlement is None:
            return None
        return self.settlement - sum((amount for _, amount in self.settlement_documents), Decimal(0))
