"""The checks of an agreement: a list of named functions, each `Agreement -> problems`.

Reading (`osuus.agreement.read`) builds the model; these judge it: identifiers
with their check digits, rates and shares that add up, every number with its
clause, what the ledger can invoice. `osuus check` and `osuus agreement add` run
them all. A stored agreement records the checks it was accepted under (name and
version), and is read back with those only: a check added later, or one whose
verdict depends on outside data that changes (a bank registry), can never make
an already invoiced year unreadable.

A check is versioned: when its rule changes, its version goes up, so that the
record of what an agreement passed stays true. A check is about the figures or
about the documents (identifiers and addresses a document needs): `osuus
allocate` and `explain` run the first kind only, which keeps them quick.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from typing import Callable, Iterable, Iterator, NamedTuple

from osuus.agreement.model import (
    Agreement,
    CountKey,
    DerivedKey,
    FixedKey,
    MixKey,
    PoolComponent,
    Sourced,
    UnitComponent,
)
from osuus.problems import Problem

_TOLERANCE = Decimal("1e-9")

# --------------------------------------------------------------------------
# What the ledger can hold: the same limits on SQLite and PostgreSQL
# --------------------------------------------------------------------------
#
# The ledger's columns hold euros as NUMERIC(18, 2) (below 10^16 €), quantities as
# NUMERIC(18, 4) (below 10^14) and unit prices as NUMERIC(20, 6); SQLite stores them as
# 64-bit integers of cents, ten-thousandths and millionths and sums them as such (below
# 9.2 × 10^18 units). The limits below keep every figure the ledger makes of an agreement
# and its imports — a line, an invoice, a year of a member, a settlement, a report — far
# inside both, so that nothing accepted can ever fail to be billed. Stated in
# docs/agreement-format.md and docs/import-formats.md.

#: The years an agreement may be of, and that year arguments and dates of the command line take.
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: Euros: every amount an agreement or an import gives is below this, and so is the most an
#: agreement can share out in a year, and a member's service events of a year at the agreed prices.
AMOUNT_LIMIT = Decimal(10) ** 12
#: Decimals of an amount: a unit price is stored to the millionth of a euro.
AMOUNT_PLACES = 6
#: A count (a key's figure, an imported reference count) and an event's quantity, travel days or km.
COUNT_LIMIT = Decimal(10) ** 9
#: A member's quantity of a component in a year (the sum of its events), and its travel days and km.
VOLUME_LIMIT = Decimal(10) ** 12
#: A rate (overhead, a derived key's rate, a parameter): at most 1 000 %.
RATE_LIMIT = Decimal(10)
#: Rounding units: shown figures from a millionth to a million; invoiced ones in whole cents.
ROUNDING_UNITS = (Decimal("0.000001"), Decimal(1_000_000))
#: The longest identifiers the ledger's columns take.
AGREEMENT_ID_LENGTH = 100
ITEM_ID_LENGTH = 60  # keys, components and tables
UNIT_LENGTH = 20


class Check(NamedTuple):
    name: str
    version: int
    run: Callable[[Agreement], Iterable[Problem]]
    registry: bool = False  # its verdict depends on data outside the file (a bank registry)
    documents: bool = False  # it judges what documents need (identifiers, addresses), not the figures

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"


CHECKS: list[Check] = []


def check(name: str, version: int = 1, *, registry: bool = False, documents: bool = False):
    """Register a check under `name` (its problems carry `name` as their code)."""
    def register(fn: Callable[[Agreement], Iterable[Problem]]):
        CHECKS.append(Check(name, version, fn, registry, documents or registry))
        return fn
    return register


def figure_ids() -> list[str]:
    """The checks the figures depend on (all but those about documents)."""
    return [c.id for c in CHECKS if not c.documents]


def run_checks(agreement: Agreement, only: Iterable[str] | None = None) -> list[Problem]:
    """The problems of every check (or of the checks whose ids are in `only`), sorted by line."""
    wanted = None if only is None else set(only)
    problems: list[Problem] = []
    for c in CHECKS:
        if wanted is not None and c.id not in wanted:
            continue
        try:
            for p in c.run(agreement):
                problems.append(p if p.code else _with_code(p, c.name))
        except (KeyError, AttributeError, TypeError):
            if agreement.complete:
                raise
            # an agreement read with problems may lack what this check looks at: those problems say why
    return sorted(problems, key=lambda p: p.line or 0)


def accepted_ids(agreement_checks: Iterable[Check] | None = None) -> list[str]:
    """The ids (name@version) of the checks an agreement is accepted under today."""
    return [c.id for c in (agreement_checks or CHECKS)]


def stable_ids(ids: Iterable[str]) -> list[str]:
    """Of the recorded check ids, those that can be run again on a stored agreement: the ones
    this release still has in the same version, and whose verdict does not depend on outside data."""
    current = {c.id: c for c in CHECKS}
    return [i for i in ids if i in current and not current[i].registry]


def _with_code(p: Problem, code: str) -> Problem:
    from dataclasses import replace

    return replace(p, code=code)


def _at(a: Agreement, message: str, *path: str | int) -> Problem:
    return Problem(message, a.file, a.line_of(*path), ".".join(map(str, path)))


# --------------------------------------------------------------------------
# the agreement itself
# --------------------------------------------------------------------------

@check("agreement.id")
def _agreement_id(a: Agreement) -> Iterator[Problem]:
    if a.id and not re.fullmatch(r"[A-Za-z0-9._-]+", a.id):
        yield _at(a, "expected an id of letters, digits, '-', '_' or '.'", "agreement", "id")


@check("agreement.year")
def _agreement_year(a: Agreement) -> Iterator[Problem]:
    if not FIRST_YEAR <= a.year <= LAST_YEAR:
        yield _at(a, f"expected a year such as 2021, found {a.year!r}", "agreement", "year")


@check("agreement.currency")
def _currency(a: Agreement) -> Iterator[Problem]:
    if a.currency != "EUR":
        yield _at(a, f"expected EUR, found {a.currency!r}", "agreement", "currency")


@check("references.clauses")
def _clauses(a: Agreement) -> Iterator[Problem]:
    """Every number names the clause or table it comes from."""
    for name, p in a.parameters.items():
        if not p.reference:
            yield _at(a, "missing field 'reference': every parameter names the clause it comes from",
                      "parameters", name)
    for name, k in a.keys.items():
        if not k.reference:
            yield _at(a, "missing field 'reference': every key names the clause or table it comes from", "keys", name)
    for cid, c in a.components.items():
        if not c.reference:
            yield _at(a, "missing field 'reference': every component names the clause it comes from",
                      "components", cid)
    for red in a.reductions:
        if not red.reference:
            yield _at(a, "missing field 'reference': a reduction names the clause that grants it",
                      "reductions", red.position)


# --------------------------------------------------------------------------
# municipalities and keys
# --------------------------------------------------------------------------

@check("municipalities.codes")
def _codes(a: Agreement) -> Iterator[Problem]:
    for m in a.municipalities:
        if not re.fullmatch(r"\d{3}", m.code):
            yield _at(a, f"expected the official three-digit municipality code as text, e.g. \"020\", found "
                      f"{m.code!r}", "municipalities", m.name, "code")


@check("municipalities.business-ids", documents=True)
def _business_ids(a: Agreement) -> Iterator[Problem]:
    from stdnum.fi import ytunnus

    seen: dict[str, str] = {}
    for m in a.municipalities:
        if not m.business_id:
            continue
        if not ytunnus.is_valid(m.business_id):
            yield _at(a, f"expected a valid Finnish business ID (Y-tunnus, e.g. 0211675-2), found {m.business_id!r}",
                      "municipalities", m.name, "business_id")
        elif m.business_id in seen:
            yield _at(a, f"duplicated municipality: business ID {m.business_id} is already used by "
                      f"{seen[m.business_id]}", "municipalities", m.name, "business_id")
        else:
            seen[m.business_id] = m.name


@check("keys.shares-add-up")
def _shares(a: Agreement) -> Iterator[Problem]:
    """Mixed keys' weights and fixed keys' shares are rates of at most 100 % that add up to 100 %."""
    for name, key in a.keys.items():
        if isinstance(key, MixKey):
            too_big = [part for part, w in key.weights if w > 1]
            for part in too_big:
                yield _at(a, f"expected a rate of at most 100 %, found {_pct(dict(key.weights)[part])}",
                          "keys", name, "weights", part)
            total = sum((w for _, w in key.weights), Decimal(0))
            if key.weights and not too_big and abs(total - 1) > _TOLERANCE:
                yield _at(a, f"the weights of a mixed key must add up to 1 (100 %), they add up to {total * 100:f} %",
                          "keys", name, "weights")
        elif isinstance(key, FixedKey):
            total = sum(key.shares.values(), Decimal(0))
            if key.shares and abs(total - 1) > _TOLERANCE:
                yield _at(a, f"fixed shares must add up to 100 %, they add up to {total * 100:f} %",
                          "keys", name, "shares")


@check("keys.divisible")
def _divisible(a: Agreement) -> Iterator[Problem]:
    """A count key that divides a pool adds up to more than zero."""
    dividing = {c.key for c in a.components.values() if isinstance(c, PoolComponent)}
    for name in dividing:
        key = a.keys.get(name)
        if isinstance(key, CountKey) and sum(key.values.values(), Decimal(0)) <= 0:
            yield _at(a, f"the key '{name}' adds up to 0; a key that divides a cost needs a positive total",
                      "keys", name, "values")


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


# --------------------------------------------------------------------------
# components, reductions, tables
# --------------------------------------------------------------------------

@check("components.one-price")
def _one_price(a: Agreement) -> Iterator[Problem]:
    for cid, c in a.components.items():
        if isinstance(c, UnitComponent) and c.price is not None and c.tiers:
            yield _at(a, "give either 'price' or 'tiers', not both", "components", cid)


@check("reductions.valid")
def _reductions(a: Agreement) -> Iterator[Problem]:
    seen: set[tuple[str, str]] = set()
    for red in a.reductions:
        path = ("reductions", red.position)
        if red.rate > 1:
            yield _at(a, f"expected a rate of at most 100 %, found {_pct(red.rate)}", *path, "rate")
        if red.municipality == a.host:
            yield _at(a, "the host cannot have a reduction: it bears the remainder", *path, "municipality")
        for c in red.components:
            if (red.municipality, c) in seen:
                yield _at(a, f"{a.name_of(red.municipality)} already has a reduction on '{c}'", *path, "components")
            seen.add((red.municipality, c))


@check("tables.every-component-once")
def _tables(a: Agreement) -> Iterator[Problem]:
    used: dict[str, str] = {}
    for t in a.tables:
        for c in t.components:
            if c in used:
                yield _at(a, f"component '{c}' is already in table '{used[c]}'", "tables", t.id, "components")
            else:
                used[c] = t.id
    if a.tables:
        for cid in a.components:
            if cid not in used:
                yield _at(a, f"component '{cid}' is in no table; add it to one of [tables]", "components", cid)


# --------------------------------------------------------------------------
# billing
# --------------------------------------------------------------------------

@check("billing.each-euro-once")
def _billed_once(a: Agreement) -> Iterator[Problem]:
    """A component is invoiced in advance or per event, never both; a pool billed per event has a price."""
    if a.billing is None:
        return
    advanced = {c for t in a.tables if t.id in a.billing.advance_tables for c in t.components}
    for cid, pricing in a.billing.events.items():
        if cid in advanced:
            yield _at(a, f"'{cid}' is already invoiced in advance (billing.advance); billing it per event too "
                      "would bill it twice", "billing", "events", cid)
        if isinstance(a.components.get(cid), PoolComponent) and pricing.price is None:
            yield _at(a, f"'{cid}' is a pool: billing it per event needs a 'price' per unit", "billing", "events", cid)


# The zero-VAT treatments osuus invoices, with the exemption codes EN 16931 expects (CEF VATEX list).
VAT_CATEGORIES = {"O": ("VATEX-EU-O",), "E": ("VATEX-EU-132", "VATEX-EU-143", "VATEX-EU-309", "VATEX-EU-148",
                                              "VATEX-EU-151", "VATEX-EU-79-C")}


@check("billing.vat")
def _vat(a: Agreement) -> Iterator[Problem]:
    """One zero-VAT treatment for everything the agreement invoices, with a matching exemption code."""
    if a.billing is None:
        return
    vat = a.billing.vat
    path = ("billing", "vat")
    if vat.category not in VAT_CATEGORIES:
        hint = (f" Category {vat.category} is not supported: the ledger bills net amounts, without VAT."
                if vat.category in ("S", "Z", "AE", "K", "G", "L", "M") else "")
        yield _at(a, f"expected a VAT category without VAT: O (not subject to VAT) or E (exempt), "
                  f"found {vat.category!r}.{hint}", *path, "category")
        return
    if vat.exemption_code not in VAT_CATEGORIES[vat.category]:
        yield _at(a, f"expected an exemption code for category {vat.category}: "
                  f"{', '.join(VAT_CATEGORIES[vat.category])}; found {vat.exemption_code!r}", *path, "exemption_code")
    if vat.category == "O":
        for code, party in a.parties.items():
            if party.vat_number:
                yield _at(a, f"{a.name_of(code)} has a VAT number, but the agreement's VAT category is O (not subject "
                          "to VAT): EN 16931 accepts neither the seller's nor the buyer's VAT number with category O "
                          "(BR-O-02, BR-O-03); remove the VAT number or change billing.vat",
                          *_party_path(a, code), "vat_number")


# --------------------------------------------------------------------------
# parties: where documents go
# --------------------------------------------------------------------------

def _party_path(a: Agreement, code: str) -> tuple[str, str]:
    """("parties", the name the file writes) of a party."""
    party = a.parties[code]
    return "parties", party.path.split(".", 1)[1] if party.path else a.name_of(code)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc).rstrip(".")


@check("parties.addresses", documents=True)
def _addresses(a: Agreement) -> Iterator[Problem]:
    """Postcodes, e-invoice addresses of the party's own business ID, operator ids, VAT numbers;
    bank details only for the host, who is paid."""
    from stdnum.fi import alv

    from osuus.ids import ovt

    for code, party in a.parties.items():
        path = _party_path(a, code)
        name = a.name_of(code)
        if code != a.host and a.by_code(a.host) is not None:  # an unknown host is reported once, by reading
            for f in ("iban", "bic", "bank"):
                if getattr(party, f):
                    yield _at(a, f"'{f}' belongs to the host ({a.name_of(a.host)}), who is paid; members are not",
                              *path, f)
        if party.postcode and party.country == "FI" and not re.fullmatch(r"\d{5}", party.postcode):
            yield _at(a, f"expected a Finnish postcode of five digits, found {party.postcode!r}", *path, "postcode")
        if party.einvoice_address:
            business_id = a.municipality(code).business_id or None
            try:
                ovt.validate(party.einvoice_address, business_id)
            except ValueError as exc:
                yield _at(a, f"expected an OVT e-invoice address (0037 + the business ID's 8 digits + optional "
                          f"suffix) of {name}: {_reason(exc)}; found {party.einvoice_address!r}", *path,
                          "einvoice_address")
        if party.operator:
            try:
                ovt.validate_operator(party.operator)
            except ValueError as exc:
                yield _at(a, f"expected an e-invoice operator id (an OVT code such as 003721291126 or a BIC such as "
                          f"BAWCFI22): {_reason(exc)}; found {party.operator!r}", *path, "operator")
        if party.vat_number and not alv.is_valid(party.vat_number):
            yield _at(a, f"expected a Finnish VAT number (FI12345678), found {party.vat_number!r}", *path, "vat_number")


@check("parties.host-account", registry=True)
def _host_account(a: Agreement) -> Iterator[Problem]:
    """The host's account: an IBAN with its national check digit, and a BIC of the same bank.
    schwifty's bank registry decides the last part, so stored agreements do not re-run this."""
    party = a.parties.get(a.host)
    if party is None or not (party.iban or party.bic):
        return
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    path = _party_path(a, a.host)
    if not party.iban or not party.bic:
        yield _at(a, "an account needs both 'iban' and 'bic'", *path, "iban" if not party.iban else "bic")
        return
    try:
        account = IBAN(party.iban, validate_bban=True)
    except SchwiftyException as exc:
        yield _at(a, f"expected a valid IBAN (check digits and the national check digit): {exc}; found "
                  f"{party.iban!r}", *path, "iban")
        return
    try:
        code = BIC(party.bic)
    except SchwiftyException as exc:
        yield _at(a, f"expected a valid BIC: {exc}; found {party.bic!r}", *path, "bic")
        return
    expected = account.bic
    if expected is not None and str(expected)[:6] != str(code)[:6]:
        yield _at(a, f"the BIC {code} is not the bank of IBAN {account.formatted} (expected {expected})", *path, "bic")


# --------------------------------------------------------------------------
# limits: what the ledger can hold (see the constants at the top)
# --------------------------------------------------------------------------

def shown_number(value: Decimal) -> str:
    """A number as a problem quotes it: written out, or in E notation when it is huge or tiny."""
    if value and not -20 <= value.adjusted() <= 20:
        return f"{value.normalize():E}"
    return f"{value:f}"


def _words(limit: Decimal) -> str:
    return f"{int(limit):,}".replace(",", " ")


def _places(value: Decimal) -> int:
    digits, exponent = value.as_tuple().digits, int(value.as_tuple().exponent)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(0, -exponent)


def _problem(a: Agreement, message: str, path: tuple, line: int | None = None) -> Problem:
    return Problem(message, a.file, line if line is not None else a.line_of(*path), ".".join(map(str, path)))


@check("agreement.limits")
def _limits(a: Agreement) -> Iterator[Problem]:
    """Identifiers the ledger's columns take, and figures it can bill and sum (the constants above)."""
    found = list(_lengths(a)) + list(_numbers(a))
    yield from found
    if not found:
        yield from _total(a)


def _lengths(a: Agreement) -> Iterator[Problem]:
    if len(a.id) > AGREEMENT_ID_LENGTH:
        yield _at(a, f"expected an id of at most {AGREEMENT_ID_LENGTH} characters (the ledger's limit), found "
                  f"{len(a.id)}", "agreement", "id")
    for section, names in (("keys", a.keys), ("components", a.components), ("tables", [t.id for t in a.tables])):
        for name in names:
            if len(name) > ITEM_ID_LENGTH:
                yield _at(a, f"expected an id of at most {ITEM_ID_LENGTH} characters (the ledger's limit), found "
                          f"{len(name)}", section, name)
    if a.billing is not None:
        for cid, pricing in a.billing.events.items():
            if len(pricing.unit) > UNIT_LENGTH:
                yield _at(a, f"expected a unit of at most {UNIT_LENGTH} characters (the ledger's limit), found "
                          f"{len(pricing.unit)}", "billing", "events", cid, "unit")


def _amount(a: Agreement, value: Decimal, path: tuple, line: int | None = None) -> Iterator[Problem]:
    if value >= AMOUNT_LIMIT:
        yield _problem(a, f"expected an amount below {_words(AMOUNT_LIMIT)} € (what the ledger can bill and sum), "
                       f"found {shown_number(value)}", path, line)
    elif _places(value) > AMOUNT_PLACES:
        yield _problem(a, f"expected an amount of at most {AMOUNT_PLACES} decimals (the ledger keeps prices to the "
                       f"millionth of a euro), found {shown_number(value)}", path, line)


def _sourced(a: Agreement, s: Sourced | None, path: tuple) -> Iterator[Problem]:
    if s is not None:
        yield from _amount(a, s.value, tuple(s.path.split(".")) if s.path else path, s.line)


def _rate(a: Agreement, value: Decimal, path: tuple) -> Iterator[Problem]:
    if value > RATE_LIMIT:
        yield _at(a, f"expected a rate of at most {RATE_LIMIT * 100:f} %, found {shown_number(value * 100)} %", *path)


def _numbers(a: Agreement) -> Iterator[Problem]:
    for name, p in a.parameters.items():
        if p.unit == "ratio":
            yield from _rate(a, p.value, ("parameters", name, "value"))
        else:
            yield from _amount(a, p.value, ("parameters", name, "value"))
    for name, key in a.keys.items():
        if isinstance(key, CountKey):
            for code, value in key.values.items():
                if value >= COUNT_LIMIT:
                    yield _at(a, f"expected a count below {_words(COUNT_LIMIT)}, found {shown_number(value)}",
                              "keys", name, "values", a.name_of(code))
        elif isinstance(key, DerivedKey):
            yield from _rate(a, key.rate, ("keys", name, "rate"))
    for cid, c in a.components.items():
        if isinstance(c, PoolComponent):
            yield from _sourced(a, c.cost, ("components", cid, "cost"))
            if c.overhead is not None and not c.overhead.parameter:
                yield from _rate(a, c.overhead.rate, ("components", cid, "overhead"))
        else:
            yield from _sourced(a, c.price, ("components", cid, "price"))
            for tier, price in c.tiers.items():
                yield from _amount(a, price, ("components", cid, "tiers", str(tier)))
            yield from _sourced(a, c.total_cost, ("components", cid, "total_cost"))
    if a.billing is not None:
        for cid, pricing in a.billing.events.items():
            yield from _sourced(a, pricing.price, ("billing", "events", cid, "price"))
        if a.billing.travel is not None:
            yield from _sourced(a, a.billing.travel.per_diem, ("billing", "travel", "per_diem"))
            yield from _sourced(a, a.billing.travel.km_rate, ("billing", "travel", "km_rate"))
        yield from _sourced(a, a.billing.settlement_minimum, ("billing", "settlement_minimum"))
    low, high = ROUNDING_UNITS
    if not low <= a.shown.unit <= high:
        yield _at(a, f"expected a rounding unit from {low:f} to {high:f}, found {shown_number(a.shown.unit)}",
                  "rounding", "shown", "unit")
    unit = a.invoiced.unit
    if not Decimal("0.01") <= unit <= high or unit % Decimal("0.01"):
        yield _at(a, f"expected a rounding unit of whole cents from 0.01 to {high:f} (the ledger invoices in cents), "
                  f"found {shown_number(unit)}", "rounding", "invoiced", "unit")


def _total(a: Agreement) -> Iterator[Problem]:
    """The most the agreement can share out in a year stays below AMOUNT_LIMIT."""
    with decimal.localcontext(decimal.Context(prec=60)):
        bounds = {cid: _bound(a, c) for cid, c in a.components.items()}
        total = sum(bounds.values(), Decimal(0))
    if total >= AMOUNT_LIMIT and bounds:
        largest = max(bounds, key=lambda cid: bounds[cid])
        yield _at(a, f"the components can come to {_words(total)} € a year (this one to "
                  f"{_words(bounds[largest])} €: its cost with overhead, or price × "
                  f"quantity of every municipality); the ledger bills below {_words(AMOUNT_LIMIT)} € a year",
                  "components", largest)


def _bound(a: Agreement, c) -> Decimal:
    """The most a component can come to in a year."""
    if isinstance(c, PoolComponent):
        return c.cost.value * (1 + (c.overhead.rate if c.overhead is not None else 0))
    try:
        priced = c.priced_quantities()
    except (AssertionError, KeyError):
        priced = ()
    members = sum((price * _most(a, key, code) for key, price, _ in priced for code in a.codes), Decimal(0))
    return max(members, c.total_cost.value if c.total_cost is not None else Decimal(0))


def _most(a: Agreement, name: str, code: str, depth: int = 0) -> Decimal:
    """The largest a count or derived key's figure of a municipality can be."""
    key = a.keys.get(name)
    if isinstance(key, CountKey):
        return key.values.get(code, Decimal(0))
    if isinstance(key, DerivedKey) and depth < 20:
        return key.rate * _most(a, key.source_key, code, depth + 1) + 1
    return Decimal(0)
