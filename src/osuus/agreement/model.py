"""The agreement of one year, as immutable records.

The records are named tuples (as Beancount's are): immutable, cheap to make,
and quick to define, which keeps the command line's start-up short. Each keeps
where it came from (its key path in the agreement file, whose
line `Agreement.line_of` finds) and the clause of the appendix it rests on
(`reference`), so that any figure computed from it can say why it is what it is.

Municipalities are identified by their official code ("790"); names are labels
of the year (a municipality that is renamed keeps its code, and its history).
Every mapping by municipality in this model is keyed by code. Labels the
agreement writes (components, tables, keys) are `Text`: the agreement's own
Finnish words, with a Swedish and an English form where the file gives one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

from osuus.money import Rounding

LANGUAGES = ("fi", "sv", "en")


def frozen_map(data: Mapping) -> Mapping:
    return MappingProxyType(dict(data))


#: The empty mapping a record starts with (immutable, so one serves all)
EMPTY: Mapping = MappingProxyType({})


class Text(NamedTuple):
    """A label as the agreement writes it: Finnish, and Swedish or English where given."""

    fi: str
    sv: str = ""
    en: str = ""

    def get(self, lang: str = "fi") -> str:
        """The label in `lang`, else the Finnish one (the agreement's own words)."""
        return (getattr(self, lang, "") if lang in LANGUAGES else "") or self.fi

    def __str__(self) -> str:
        return self.fi


class Sourced(NamedTuple):
    """A number together with the clause it comes from and its place in the file."""

    value: Decimal
    reference: str = ""
    path: str = ""
    line: int | None = None


class Municipality(NamedTuple):
    code: str  # official three-digit code (Statistics Finland); the identity
    name: str  # Finnish name of the year
    name_sv: str = ""
    business_id: str = ""
    line: int | None = None

    def display_name(self, lang: str = "fi") -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name


class Parameter(NamedTuple):
    name: str
    value: Decimal
    label: Text = Text("")
    unit: str = "ratio"
    reference: str = ""
    note: str = ""
    line: int | None = None


class CountKey(NamedTuple):
    """Reference data: a figure per municipality (population, customers ...), by code."""

    name: str
    label: Text
    values: Mapping[str, Decimal]
    date: dt.date | None = None
    source: str = ""
    reference: str = ""
    note: str = ""
    kind: str = "count"


class DerivedKey(NamedTuple):
    """rate × another key, each municipality's figure rounded by `rounding`."""

    name: str
    label: Text
    source_key: str
    rate: Decimal
    rounding: str = "none"
    reference: str = ""
    kind: str = "derived"


class MixKey(NamedTuple):
    """Weighted mix of the shares of other keys (weights add up to 1)."""

    name: str
    label: Text
    weights: tuple[tuple[str, Decimal], ...]
    reference: str = ""
    kind: str = "mix"


class FixedKey(NamedTuple):
    """Agreed percentage shares (they add up to 100 %), by code."""

    name: str
    label: Text
    shares: Mapping[str, Decimal]
    reference: str = ""
    kind: str = "fixed"


Key = CountKey | DerivedKey | MixKey | FixedKey


class Overhead(NamedTuple):
    rate: Decimal
    parameter: str = ""
    label: Text = Text("")
    reference: str = ""


class PoolComponent(NamedTuple):
    """A pooled cost (plus overhead) divided among all municipalities by a key."""

    id: str
    label: Text
    cost: Sourced
    key: str
    overhead: Overhead | None = None
    reference: str = ""
    kind: str = "pool"


class UnitComponent(NamedTuple):
    """A unit-priced service: price × quantity per member; the remainder to its payer.

    `tiers` price customers by integration year; `quantity` is either one key
    (all priced at `tier`, or at `price`) or a key per tier.
    """

    id: str
    label: Text
    quantity: str | Mapping[int, str]
    price: Sourced | None = None
    tiers: Mapping[int, Decimal] = EMPTY
    tiers_reference: str = ""
    tier: int | None = None
    tier_reference: str = ""
    total_cost: Sourced | None = None
    remainder: str | None = None  # code of the municipality that pays the remainder
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


class Reduction(NamedTuple):
    """A member pays (1 - rate) of its share of `components`; `absorbed_by` bears the rest."""

    municipality: str  # code
    rate: Decimal
    components: tuple[str, ...]
    absorbed_by: str = "host"  # "host" or "others"
    reason: str = ""
    reference: str = ""
    line: int | None = None
    position: int = 0  # its place among [[reductions]]


class Table(NamedTuple):
    id: str
    title: Text
    components: tuple[str, ...]
    caption: Text = Text("")
    show_keys: tuple[str, ...] = ()
    share_of: str | None = None
    members_share: str | None = None
    host_row: str = "inline"  # or "separate"
    reference: str = ""


#: The units a service is counted in, by the id the catalogues translate. The agreement may
#: write a unit as its id or as the Finnish word (`tunti`); other words are kept as written.
UNITS = ("hour", "visit", "assessment", "customer", "customer_year", "group", "piece", "day", "km",
         "month", "year", "instalment", "lot")


class EventPricing(NamedTuple):
    """A component billed afterwards per service event (kohta 5: laskutetaan jälkikäteen)."""

    component: str
    unit: str  # a unit id of UNITS (`hour`), or the agreement's own word for another unit
    price: Sourced | None = None  # needed for a pool billed by events; unit services use their own price


class Travel(NamedTuple):
    """On-site delivery: the ordering municipality pays per diem and mileage."""

    per_diem: Sourced
    km_rate: Sourced
    reference: str = ""


class Vat(NamedTuple):
    """The VAT treatment of what the agreement invoices.

    Statutory cost sharing between municipalities is not a sale: by default no
    VAT (category O, exemption code VATEX-EU-O). Only zero-VAT treatments are
    accepted (O, E): one treatment holds for the whole invoice, since EN 16931
    (BR-O-11) lets an invoice with category O carry no other category."""

    category: str = "O"
    exemption_code: str = "VATEX-EU-O"
    exemption_text: Text = Text("")  # the legal basis in words; documents say it in the catalogue's words if empty
    reference: str = ""


class Party(NamedTuple):
    """What a document needs to reach a municipality: postal and e-invoice
    addresses, and for the host the bank account invoices are paid to."""

    code: str  # the municipality's code
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
    legal_name: str = ""  # the registered name (Tampereen kaupunki); e-invoices' legal name
    accounting_cost: str = ""  # the buyer's own accounting reference (cost centre); Peppol BT-19/BT-133
    iban: str = ""
    bic: str = ""
    bank: str = ""
    source: str = ""
    line: int | None = None
    path: str = ""  # its key path in the file: parties.<name as written>


#: How advances are billed in a year whose own agreement is not stored yet.
ADVANCES_WITHOUT_AGREEMENT = ("refuse", "last_agreement", "estimate")
#: How the credit of a credit note is settled.
CREDIT_SETTLEMENT = ("offset", "refund")


class WithoutAgreement(NamedTuple):
    """What the next year is billed by until its own agreement is stored (this agreement's rule
    for the year after it): `refuse` to invoice (the default), or bill the advances by the
    last agreement or by the year's stored estimate."""

    advances: str = "refuse"
    reference: str = ""


class CreditSettlement(NamedTuple):
    """How the credit of a credit note reaches the member: deducted from its next payment
    (`offset`, the default) or paid back to its account (`refund`). A credit note asks for no
    payment either way."""

    settled_by: str = "offset"
    reference: str = ""


class Billing(NamedTuple):
    """How the agreement's money is invoiced during the year."""

    period: str = "month"  # "month" | "quarter"
    payment_terms_days: int = 21
    advance_tables: tuple[str, ...] = ()  # tables invoiced as equal instalments of the year's payment
    events: Mapping[str, EventPricing] = EMPTY
    travel: Travel | None = None
    interpretation_reference: str = ""
    reference: str = ""
    vat: Vat = Vat()
    reference_form: str = "national"  # payment reference: "national" (viitenumero) or "rf" (ISO 11649)
    without_agreement: WithoutAgreement = WithoutAgreement()
    # a settlement smaller than this (in euros, either way) is carried to the next invoice
    # rather than sent on a document of its own
    settlement_minimum: Sourced | None = None
    credits: CreditSettlement = CreditSettlement()


class Agreement(NamedTuple):
    id: str
    year: int
    title: Text
    host: str  # code of the host municipality
    municipalities: tuple[Municipality, ...]
    keys: Mapping[str, Key]
    components: Mapping[str, Component]
    tables: tuple[Table, ...]
    reductions: tuple[Reduction, ...] = ()
    parameters: Mapping[str, Parameter] = EMPTY
    shown: Rounding = Rounding()
    invoiced: Rounding = Rounding()
    currency: str = "EUR"
    source: str = ""
    reference: str = ""
    file: str = ""
    billing: Billing | None = None
    parties: Mapping[str, Party] = EMPTY  # by code
    lines: Any = None  # where each key path is in the file (toml_lines.SourceLines), found when asked
    complete: bool = True  # False: read with problems; the entries that could be read, for checking them too

    def line_of(self, *path: str | int) -> int | None:
        """The line of a key path in the file (or of its nearest ancestor)."""
        return self.lines.line_of(path) if self.lines is not None else None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(m.code for m in self.municipalities)

    @property
    def members(self) -> tuple[str, ...]:
        """The codes of the members: every municipality but the host."""
        return tuple(m.code for m in self.municipalities if m.code != self.host)

    def municipality(self, code: str) -> Municipality:
        for m in self.municipalities:
            if m.code == code:
                return m
        raise KeyError(code)

    def by_code(self, code: str) -> Municipality | None:
        for m in self.municipalities:
            if m.code == code:
                return m
        return None

    def name_of(self, code: str, lang: str = "fi") -> str:
        """The municipality's name of this year in `lang` (Swedish where it has one)."""
        found = self.by_code(code)
        return found.display_name(lang) if found is not None else code

    @property
    def host_municipality(self) -> Municipality:
        return self.municipality(self.host)

    def find_municipality(self, text: str) -> Municipality | None:
        """Look up by name (any case, Finnish or Swedish) or by official code."""
        wanted = text.strip().casefold()
        for m in self.municipalities:
            if wanted in (m.name.casefold(), m.name_sv.casefold(), m.code):
                return m
        return None

    def label_of(self, item_id: str, lang: str = "fi") -> str:
        """The label of a component or a table (their ids never collide), in `lang`."""
        if item_id in self.components:
            return self.components[item_id].label.get(lang)
        for t in self.tables:
            if t.id == item_id:
                return t.title.get(lang)
        return item_id

    def table(self, table_id: str) -> Table:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise KeyError(table_id)
