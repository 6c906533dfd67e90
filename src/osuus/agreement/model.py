"""The agreement of one year, as immutable records.

Each record keeps where it came from (the key path in the agreement file and
its line) and the clause of the appendix it rests on (`reference`), so that any
figure computed from it can say why it is what it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Mapping

from osuus.money import Rounding


def frozen_map(data: Mapping) -> Mapping:
    return MappingProxyType(dict(data))


@dataclass(frozen=True, slots=True)
class Sourced:
    """A number together with the clause it comes from and its place in the file."""

    value: Decimal
    reference: str = ""
    path: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Municipality:
    name: str
    code: str
    name_sv: str = ""
    business_id: str = ""
    line: int | None = None

    def display_name(self, lang: str = "fi") -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: Decimal
    label: str = ""
    unit: str = "ratio"
    reference: str = ""
    note: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class CountKey:
    """Reference data: a figure per municipality (population, customers ...)."""

    name: str
    label: str
    values: Mapping[str, Decimal]
    date: dt.date | None = None
    source: str = ""
    reference: str = ""
    note: str = ""
    kind: str = "count"


@dataclass(frozen=True, slots=True)
class DerivedKey:
    """rate × another key, each municipality's figure rounded by `rounding`."""

    name: str
    label: str
    source_key: str
    rate: Decimal
    rounding: str = "none"
    reference: str = ""
    kind: str = "derived"


@dataclass(frozen=True, slots=True)
class MixKey:
    """Weighted mix of the shares of other keys (weights add up to 1)."""

    name: str
    label: str
    weights: tuple[tuple[str, Decimal], ...]
    reference: str = ""
    kind: str = "mix"


@dataclass(frozen=True, slots=True)
class FixedKey:
    """Agreed percentage shares (they add up to 100 %)."""

    name: str
    label: str
    shares: Mapping[str, Decimal]
    reference: str = ""
    kind: str = "fixed"


Key = CountKey | DerivedKey | MixKey | FixedKey


@dataclass(frozen=True, slots=True)
class Overhead:
    rate: Decimal
    parameter: str = ""
    label: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class PoolComponent:
    """A pooled cost (plus overhead) divided among all municipalities by a key."""

    id: str
    label: str
    cost: Sourced
    key: str
    overhead: Overhead | None = None
    reference: str = ""
    kind: str = "pool"


@dataclass(frozen=True, slots=True)
class UnitComponent:
    """A unit-priced service: price × quantity per member; the remainder to the host.

    `tiers` price customers by integration year; `quantity` is either one key
    (all priced at `tier`, or at `price`) or a key per tier.
    """

    id: str
    label: str
    quantity: str | Mapping[int, str]
    price: Sourced | None = None
    tiers: Mapping[int, Decimal] = field(default_factory=dict)
    tiers_reference: str = ""
    tier: int | None = None
    tier_reference: str = ""
    total_cost: Sourced | None = None
    remainder: str | None = None  # municipality name that pays the remainder
    reference: str = ""
    kind: str = "unit"

    def priced_quantities(self) -> tuple[tuple[str, Decimal, str], ...]:
        """(key, unit price, price reference) for each priced quantity."""
        if isinstance(self.quantity, str):
            if self.tier is not None:
                return ((self.quantity, self.tiers[self.tier], self.tier_reference or self.tiers_reference),)
            assert self.price is not None
            return ((self.quantity, self.price.value, self.price.reference),)
        return tuple((key, self.tiers[t], self.tiers_reference) for t, key in sorted(self.quantity.items()))


Component = PoolComponent | UnitComponent


@dataclass(frozen=True, slots=True)
class Reduction:
    """A member pays (1 - rate) of its share of `components`; `absorbed_by` bears the rest."""

    municipality: str
    rate: Decimal
    components: tuple[str, ...]
    absorbed_by: str = "host"  # "host" or "others"
    reason: str = ""
    reference: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Table:
    id: str
    title: str
    components: tuple[str, ...]
    caption: str = ""
    show_keys: tuple[str, ...] = ()
    share_of: str | None = None
    members_share: str | None = None
    host_row: str = "inline"  # or "separate"
    reference: str = ""


@dataclass(frozen=True, slots=True)
class EventPricing:
    """A component billed afterwards per service event (kohta 5: laskutetaan jälkikäteen)."""

    component: str
    unit: str  # what one unit of quantity is: "tunti", "kartoitus", "asiakas"
    price: Sourced | None = None  # needed for a pool billed by events; unit services use their own price


@dataclass(frozen=True, slots=True)
class Travel:
    """On-site delivery: the ordering municipality pays per diem and mileage."""

    per_diem: Sourced
    km_rate: Sourced
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Vat:
    """The VAT treatment of what the agreement invoices.

    Statutory cost sharing between municipalities is not a sale: by default no
    VAT (category O, exemption code VATEX-EU-O). Only zero-VAT treatments are
    accepted (O, E): one treatment holds for the whole invoice, since EN 16931
    (BR-O-11) lets an invoice with category O carry no other category."""

    category: str = "O"
    exemption_code: str = "VATEX-EU-O"
    exemption_text: str = "Ei arvonlisäveron alaista toimintaa: kuntien lakisääteinen kustannustenjako"
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Party:
    """What a document needs to reach a municipality: postal and e-invoice
    addresses, and for the host the bank account invoices are paid to."""

    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "FI"
    einvoice_address: str = ""  # OVT: 0037 + business ID digits + optional suffix
    operator: str = ""  # e-invoice operator (intermediator) id
    vat_number: str = ""
    contact: str = ""
    email: str = ""
    buyer_reference: str = ""
    iban: str = ""
    bic: str = ""
    bank: str = ""
    source: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Billing:
    """How the agreement's money is invoiced during the year."""

    period: str = "month"  # "month" | "quarter"
    payment_terms_days: int = 21
    advance_tables: tuple[str, ...] = ()  # tables invoiced as equal instalments of the year's payment
    events: Mapping[str, EventPricing] = field(default_factory=dict)
    travel: Travel | None = None
    interpretation_reference: str = ""
    reference: str = ""
    vat: Vat = Vat()
    reference_form: str = "national"  # payment reference: "national" (viitenumero) or "rf" (ISO 11649)


@dataclass(frozen=True, slots=True)
class Agreement:
    id: str
    year: int
    title: str
    host: str
    municipalities: tuple[Municipality, ...]
    keys: Mapping[str, Key]
    components: Mapping[str, Component]
    tables: tuple[Table, ...]
    reductions: tuple[Reduction, ...] = ()
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    shown: Rounding = Rounding()
    invoiced: Rounding = Rounding()
    currency: str = "EUR"
    source: str = ""
    reference: str = ""
    file: str = ""
    billing: Billing | None = None
    parties: Mapping[str, Party] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.municipalities)

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.municipalities if m.name != self.host)

    def municipality(self, name: str) -> Municipality:
        for m in self.municipalities:
            if m.name == name:
                return m
        raise KeyError(name)

    def by_code(self, code: str) -> Municipality | None:
        for m in self.municipalities:
            if m.code == code:
                return m
        return None

    @property
    def host_municipality(self) -> Municipality:
        return self.municipality(self.host)

    def event_price(self, component: str, integration_year: int | None) -> tuple[Decimal, str] | None:
        """The agreed price of one unit of a service event, with its clause; None if not priced."""
        comp = self.components.get(component)
        pricing = self.billing.events.get(component) if self.billing else None
        if comp is None or pricing is None:
            return None
        if pricing.price is not None:
            return pricing.price.value, pricing.price.reference
        if isinstance(comp, UnitComponent):
            if comp.tiers:
                tier = comp.tier if integration_year is None else min(max(integration_year, 1), max(comp.tiers))
                if tier is None:
                    return None
                return comp.tiers[tier], comp.tiers_reference or comp.reference
            if comp.price is not None:
                return comp.price.value, comp.price.reference
        return None

    def find_municipality(self, text: str) -> Municipality | None:
        """Look up by name (any case, Finnish or Swedish) or by official code."""
        wanted = text.strip().casefold()
        for m in self.municipalities:
            if wanted in (m.name.casefold(), m.name_sv.casefold(), m.code):
                return m
        return None
