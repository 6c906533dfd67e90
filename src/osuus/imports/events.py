"""Service events: one service delivered to a member's resident, billed afterwards.

A CSV or XLSX file with a header row (column names in any case and order):

| column | required | content |
|---|---|---|
| `event_id` | yes | the event's id in the source system, at most 100 characters, unique in the file |
| `date` | yes | `YYYY-MM-DD` or Finnish `D.M.YYYY`; in a year the context has an agreement for (and in `context.year` when given) |
| `component` | yes | a component id of that year's agreement (`mainio`, `alkukartoitus`, …); when the agreement lists the components billed per event (`[billing.events]`), one of those |
| `municipality` | yes | the customer's home municipality: official code (`790`, `020`; `20` is read as `020`) or Finnish or Swedish name, any case |
| `customer` | yes | pseudonymous customer id (`A-000123`), at most 100 characters; never a personal identity code |
| `quantity` | yes | hours, visits or customers as the component counts them: ≥ 0 and below 10^9, decimal comma or point, at most 4 decimals |
| `integration_year` | no | 1 … 5; required for a component priced by integration year (tiers without a fixed tier) |
| `travel_days` | no | on-site delivery: per diem days, ≥ 0 and below 10^9, at most 4 decimals |
| `km` | no | on-site delivery: kilometres driven, ≥ 0 and below 10^9, at most 4 decimals |
| `interpretation_cost` | no | interpretation billed at cost, euros ≥ 0 and below 10^12, at most 2 decimals |

Any cell holding a valid Finnish personal identity code refuses its row; so
does a value under a column without a name. Other columns are refused (a
misspelt optional column would otherwise lose its data).

`iter_events` streams: memory stays flat whatever the file's size, but for the
set of event ids seen (to find an id used twice in the file).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from osuus.agreement.model import Agreement, UnitComponent
from osuus.billing.records import ServiceEventRecord
from osuus.imports import ImportContext, ProblemList
from osuus.problems import Problem
from osuus.agreement.checks import AMOUNT_LIMIT, COUNT_LIMIT
from osuus.imports.tables import (
    ISO_DATE,
    RowCheck,
    digits_below,
    file_label,
    municipality_text,
    parse_date,
    plain_number,
    read_rows,
)
from osuus.money import ZERO

REQUIRED = ("event_id", "date", "component", "municipality", "customer", "quantity")
OPTIONAL = ("integration_year", "travel_days", "km", "interpretation_cost")
COLUMNS = REQUIRED + OPTIONAL

MAX_ID_LENGTH = 100
QUANTITY_PLACES = 4
MONEY_PLACES = 2
INTEGRATION_YEARS = (1, 5)


def parse_events(path: str | Path, context: ImportContext) -> tuple[list[ServiceEventRecord], list[Problem]]:
    """Every valid event of the file, and a problem for every bad row (a `ProblemList`)."""
    problems = ProblemList()
    records = list(iter_events(path, context, problems))
    return records, problems


def iter_events(path: str | Path, context: ImportContext, problems: list[Problem], *,
                file: str | None = None) -> Iterator[ServiceEventRecord]:
    """Yield the valid events of the file one by one; append a problem for every bad row to `problems`.

    Pass a `ProblemList` to keep at most its limit of problems while counting
    them all. The file is good only if `problems` is still empty at the end.
    """
    label = file if file is not None else file_label(path)
    seen: set[str] = set()
    found: dict[tuple[int, str], object] = {}  # (agreement year, cell) -> municipality: a file names few
    plain = _PlainRows(context, seen, found)
    for row, cells in read_rows(path, problems, required=REQUIRED, optional=OPTIONAL, file=label):
        record = plain.event(cells, f"{label}:{row}") if RowCheck.looks_clean(cells) else None
        if record is None:  # anything unusual: the full checks, which say what is wrong
            record = _event(RowCheck(label, row, cells, problems), context, seen, found)
        if record is not None:
            yield record


def tiered(component: object) -> bool:
    """Priced by the customer's integration year: tiers, and no one tier fixed for all."""
    return isinstance(component, UnitComponent) and bool(component.tiers) and component.tier is None


def _billed_by_event(agreement: Agreement) -> tuple[str, ...]:
    """The components the agreement bills per service event (its `[billing.events]`); () when it does not say."""
    billing = getattr(agreement, "billing", None)
    events = getattr(billing, "events", None) or {}
    return tuple(events)


class _PlainRows:
    """The fast path of a big import: a row whose every cell is in its plainest form.

    Most rows of a system export look alike: an ISO date, a code, digits with a
    decimal point. Such a row is made into a record here with cached look-ups
    (dates, components, municipalities, numbers). Any cell that is not plain
    returns None, and the row goes through `_event`, whose checks accept the
    same rows and say what is wrong with the others (tests/test_imports.py
    checks that both paths give the same records).
    """

    def __init__(self, context: ImportContext, seen: set[str], municipalities: dict):
        self.context = context
        self.seen = seen
        self.municipalities = municipalities
        self.dates: dict[str, object] = {}
        self.numbers: dict[tuple[str, int], Decimal] = {}
        self.components: dict[tuple[int, str], object] = {}

    def _date(self, text: str):
        date = self.dates.get(text)
        if date is None and len(self.dates) < 5000:
            date = parse_date(text) if ISO_DATE.fullmatch(text) else None
            if date is None or date.year not in self.context.agreements or \
                    (self.context.year is not None and date.year != self.context.year):
                return None
            self.dates[text] = date
        return date

    def _number(self, text: str, places: int, limit: Decimal = COUNT_LIMIT) -> Decimal | None:
        if not text:
            return ZERO
        key = (text, places)
        value = self.numbers.get(key)
        if value is None:
            if not plain_number(places, digits_below(limit)).fullmatch(text):
                return None
            value = Decimal(text)
            if len(self.numbers) < 10000:
                self.numbers[key] = value
        return value

    def _component(self, agreement: Agreement, text: str):
        key = (agreement.year, text)
        if key not in self.components:
            component = agreement.components.get(text)
            billed = _billed_by_event(agreement)
            self.components[key] = component if component is not None and (not billed or text in billed) else None
        return self.components[key]

    def event(self, cells: dict[str, str], source: str) -> ServiceEventRecord | None:
        event_id = cells.get("event_id", "")
        customer = cells.get("customer", "")
        if not event_id or len(event_id) > MAX_ID_LENGTH or event_id in self.seen or \
                not customer or len(customer) > MAX_ID_LENGTH:
            return None
        date = self._date(cells.get("date", ""))
        if date is None:
            return None
        agreement = self.context.agreements[date.year]
        component = self._component(agreement, cells.get("component", ""))
        municipality = self.municipalities.get((agreement.year, cells.get("municipality", "")))
        if component is None or municipality is None:
            return None  # a first sight of the name is looked up (and cached) by the full checks
        quantity_text = cells.get("quantity", "")
        quantity = self._number(quantity_text, QUANTITY_PLACES) if quantity_text else None
        integration_text = cells.get("integration_year", "")
        if integration_text:
            if integration_text not in _INTEGRATION_TEXTS:
                return None
            integration_year = int(integration_text)
        elif tiered(component):
            return None
        else:
            integration_year = None
        travel_days = self._number(cells.get("travel_days", ""), QUANTITY_PLACES)
        km = self._number(cells.get("km", ""), QUANTITY_PLACES)
        interpretation = self._number(cells.get("interpretation_cost", ""), MONEY_PLACES, AMOUNT_LIMIT)
        if quantity is None or travel_days is None or km is None or interpretation is None:
            return None
        self.seen.add(event_id)
        return ServiceEventRecord(
            event_id=event_id, date=date, component=component.id, municipality=municipality.code,
            customer=customer, quantity=quantity, integration_year=integration_year, travel_days=travel_days,
            km=km, interpretation=interpretation, source=source)


_INTEGRATION_TEXTS = frozenset(str(y) for y in range(INTEGRATION_YEARS[0], INTEGRATION_YEARS[1] + 1))


def _event(r: RowCheck, context: ImportContext, seen: set[str], lookups: dict) -> ServiceEventRecord | None:
    r.screen()
    event_id = r.text("event_id", required=True, max_length=MAX_ID_LENGTH, what="the event id")
    if event_id:
        if event_id in seen:
            r.problem("event_id", "the same event id is on an earlier row of this file")
        seen.add(event_id)

    date = r.date("date")
    agreement: Agreement | None = None
    if date is not None:
        if date.year not in context.agreements:
            r.problem("date", f"no agreement for {date.year}: events can be imported for {context.years_text()}")
        elif context.year is not None and date.year != context.year:
            r.problem("date", f"not in {context.year}, the year being imported")
        else:
            agreement = context.agreements[date.year]
    if agreement is None:
        agreement = context.agreement_for(date.year if date else None)

    component_id = r.text("component", required=True, what="a component id of the agreement")
    component = None
    if component_id and agreement is not None:
        component = agreement.components.get(component_id) or agreement.components.get(component_id.lower())
        billed = _billed_by_event(agreement)
        if component is None:
            r.problem("component", f"unknown component: the {agreement.year} agreement has "
                                   f"{', '.join(billed or agreement.components)}")
        elif billed and component.id not in billed:
            r.problem("component", f"{component.id} is not billed per service event in the {agreement.year} "
                                   f"agreement: events are for {', '.join(billed)}")
            component = None

    municipality_code = None
    municipality = r.text("municipality", required=True, what="a municipality code or name")
    if municipality and agreement is not None:
        lookup_key = (agreement.year, municipality)
        found = lookups.get(lookup_key, lookups)
        if found is lookups:
            found = lookups[lookup_key] = agreement.find_municipality(municipality_text(municipality))
        if found is None:
            r.problem("municipality", f"unknown municipality: not a code or name of the {agreement.year} agreement")
        else:
            municipality_code = found.code

    customer = r.text("customer", required=True, max_length=MAX_ID_LENGTH, what="a pseudonymous customer id")
    quantity = r.decimal("quantity", what="a quantity", places=QUANTITY_PLACES, required=True)
    integration_year = r.integer("integration_year", what="an integration year", minimum=INTEGRATION_YEARS[0],
                                 maximum=INTEGRATION_YEARS[1])
    if component is not None and tiered(component) and not r.cells.get("integration_year", ""):
        r.problem("integration_year", f"missing: {component.id} is priced by integration year; "
                                      f"give integration_year ({INTEGRATION_YEARS[0]}–{INTEGRATION_YEARS[1]})")
    travel_days = r.decimal("travel_days", what="a number of travel days", places=QUANTITY_PLACES)
    km = r.decimal("km", what="kilometres", places=QUANTITY_PLACES)
    interpretation = r.decimal("interpretation_cost", what="an amount in euros", places=MONEY_PLACES,
                               limit=AMOUNT_LIMIT)

    if not r.ok:
        return None
    assert event_id and date and component_id and municipality_code and customer and quantity is not None
    return ServiceEventRecord(
        event_id=event_id, date=date, component=component.id if component else component_id,
        municipality=municipality_code, customer=customer, quantity=quantity, integration_year=integration_year,
        travel_days=travel_days if travel_days is not None else ZERO, km=km if km is not None else ZERO,
        interpretation=interpretation if interpretation is not None else ZERO, source=r.source,
    )
