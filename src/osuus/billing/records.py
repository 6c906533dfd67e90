"""Records that enter the ledger from imports: service events, counts, costs.

Each carries `source` (file:row) so that a problem can point at it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from osuus.money import ZERO


@dataclass(frozen=True, slots=True)
class ServiceEventRecord:
    """One service delivered to a resident of a member municipality."""

    event_id: str  # the id in the source system; unique
    date: dt.date
    component: str  # component id of the agreement (e.g. "alkukartoitus")
    municipality: str  # official municipality code ("790")
    customer: str  # pseudonymous customer id, never a personal identity code
    quantity: Decimal  # hours, visits or customers, as the component counts
    integration_year: int | None = None  # for tiered prices (OMA coaching)
    travel_days: Decimal = ZERO  # on-site delivery: per diem days
    km: Decimal = ZERO  # on-site delivery: kilometres driven
    interpretation: Decimal = ZERO  # interpretation cost in euros, billed at cost
    source: str = ""

    def content_hash(self) -> str:
        """What the event says, hashed: an id that comes back with other content is a conflict."""
        parts = (self.event_id, self.date.isoformat(), self.component, self.municipality, self.customer,
                 _canon(self.quantity), str(self.integration_year or ""), _canon(self.travel_days), _canon(self.km),
                 _canon(self.interpretation))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CountRecord:
    """A key's figure for a municipality on a date (population 31.12., customers in July)."""

    key: str
    municipality: str  # code
    date: dt.date
    value: Decimal
    source_note: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class CostRecord:
    """A year's actual cost of a component, or external project funding it received."""

    year: int
    component: str
    kind: str  # "cost" or "funding"
    amount: Decimal
    note: str = ""
    source: str = ""


def _canon(value: Decimal) -> str:
    """The same number always hashes the same: 2.50 and 2.5 are one value."""
    if not value:
        return "0"
    normal = value.normalize()
    return format(normal, "f")
