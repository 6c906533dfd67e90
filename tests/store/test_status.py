"""The year at a glance (osuus.services.status), on SQLite and PostgreSQL: the 2021 example year
is walked through once per database (agreement, counts and events, January–February invoiced,
March drafted with a credit note, the rest invoiced, the estimate of 2022, the costs, the
closing, January 2022), and what `year_status` and `years` say is kept at each stage, as of a
date in the cycle. Expected figures come from the example files (examples/2021) themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from osuus.calendar import Period, PeriodKind
from osuus.services.status import STEPS, WaitingDraft, YearStatus, next_steps, year_status, years
from tests.api.conftest import backend_url  # noqa: F401  (a module-scoped empty database of each backend)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "2021"
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
PREPARER = "valmistelija"
MEMBERS = 21  # the host is not invoiced


def _rows(name: str) -> list[dict]:
    with open(EXAMPLES / name, encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    return list(csv.DictReader(text.splitlines(), delimiter=";" if text.count(";") > text.count(",") else ","))


EVENTS = _rows("events.csv")
COUNTS = _rows("counts.csv")
COSTS = _rows("costs.csv")


@pytest.fixture(scope="module")
def seen(backend_url) -> dict:
    """What `years` and `year_status` said at each stage of the example year (one walk per database)."""
    from osuus.services import agreements, approval, closing, estimates, imports
    from osuus.services.areas import add_area
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade
    from tests.approving import APPROVER, credit_invoice, invoice_period

    url = backend_url
    upgrade(url)
    out = {}
    with Ledger(url, PREPARER) as ledger:
        def look(stage: str, today: dt.date, year: int = 2021) -> None:
            out[stage] = (years(ledger), year_status(ledger, year, today=today))

        look("empty", dt.date(2021, 1, 10))
        agreements.add_agreement(ledger, AGREEMENT)
        look("agreement", dt.date(2021, 1, 10))
        imports.import_counts(ledger, EXAMPLES / "counts.csv")
        imports.import_events(ledger, EXAMPLES / "events.csv")
        for month in (1, 2):
            invoice_period(ledger, Period.month(2021, month), dt.date(2021, month + 1, 1))
        march = approval.prepare_run(ledger, Period.month(2021, 3), dt.date(2021, 4, 1))
        credit = approval.prepare_credit(ledger, "2021-00001", "Väärä viite", dt.date(2021, 4, 6))
        out["drafts"] = (march, credit)
        look("spring", dt.date(2021, 4, 5))
        look("spring, in August", dt.date(2021, 8, 2))
        approval.approve(ledger.acting(APPROVER), march.id)
        approval.reject(ledger.acting(APPROVER), credit.id, "Ei hyvitetä")
        look("april", dt.date(2021, 5, 3))
        for month in range(4, 13):
            invoice_period(ledger, Period.month(2021, month),
                           dt.date(2021, month + 1, 1) if month < 12 else dt.date(2022, 1, 3))
        look("year's end", dt.date(2022, 1, 10))
        estimates.make_estimate(ledger, 2022)
        imports.import_costs(ledger, EXAMPLES / "costs.csv")
        look("ready", dt.date(2022, 1, 20))
        closing.close_year(ledger, 2021)
        look("closed", dt.date(2022, 1, 20))
        look("2022 before invoicing", dt.date(2022, 2, 10), 2022)
        invoice_period(ledger, Period.month(2022, 1), dt.date(2022, 2, 1))
        credit_invoice(ledger, "2021-00016", "Väärä laskutusosoite", dt.date(2022, 2, 15))
        look("credited", dt.date(2022, 2, 20))
        look("2022", dt.date(2022, 3, 2), 2022)
        out["estimate made"] = estimates.latest_estimates(ledger, 2022)[0].created_at
        out["closing"] = closing.show_closing(ledger, 2021)
        add_area(ledger, "lappi", "Lapin työllisyysalue")
    with Ledger(url, PREPARER, area="lappi") as other:
        out["other area"] = (years(other), year_status(other, 2021, today=dt.date(2022, 2, 20)))
    return out


def months(*numbers: int) -> tuple[Period, ...]:
    return tuple(Period.month(2021, m) for m in numbers)


def test_an_empty_ledger_has_no_years_and_stores_the_agreement_first(seen):
    found, status = seen["empty"]
    assert found == []
    assert status == YearStatus(2021, None, PeriodKind.MONTH, 0, 0, 0, 0, 0, (), (), None, None, None, None, 0, 0,
                                ("store-agreement",))
    assert (status.agreement_revisions, status.closed, status.invoiced_months) == (0, False, ())


def test_with_the_agreement_stored_counts_and_events_come_next(seen):
    found, status = seen["agreement"]
    assert found == [2021]
    assert (status.agreement_revision, status.agreement_revisions, status.billing_period) == (1, 1, PeriodKind.MONTH)
    assert status.next_steps == ("import-counts", "import-events")  # January has not ended


def test_in_spring_the_imports_the_invoiced_months_and_the_drafts_waiting(seen):
    _, status = seen["spring"]
    march, credit = seen["drafts"]
    municipalities = {r["municipality"] for r in COUNTS}
    assert (status.counts, status.count_municipalities) == (len(COUNTS), len(municipalities)) == (66, 22)
    assert (status.events, status.costs) == (len(EVENTS), 0) == (8547, 0)
    assert status.unbilled_events == sum(r["date"] >= "2021-03-01" for r in EVENTS) == 7265
    assert (status.invoiced, status.invoiced_months) == (months(1, 2), (1, 2))
    assert (status.invoices, status.credit_notes) == (2 * MEMBERS, 0)
    assert status.drafts == (
        WaitingDraft(march.id, "invoice_run", "2021-03", PREPARER, march.prepared_at),
        WaitingDraft(credit.id, "credit_note", "2021-00001", PREPARER, credit.prepared_at))
    # both drafts wait for an approver; March is drafted, April has not ended
    assert status.next_steps == (f"approve-draft:{march.id}", f"approve-draft:{credit.id}")
    # the estimate of 2022 is made in August
    _, august = seen["spring, in August"]
    assert august.next_steps == (f"approve-draft:{march.id}", f"approve-draft:{credit.id}", "make-estimate")


def test_once_a_month_has_ended_it_is_drafted_next(seen):
    _, status = seen["april"]
    assert (status.invoiced_months, status.drafts) == ((1, 2, 3), ())
    assert status.next_steps == ("draft-month:4",)


def test_after_the_year_the_estimate_and_the_costs_then_the_closing(seen):
    _, status = seen["year's end"]
    assert (status.invoiced, status.invoiced_months) == (months(*range(1, 13)), tuple(range(1, 13)))
    assert (status.unbilled_events, status.invoices, status.credit_notes) == (0, 12 * MEMBERS, 0)
    assert status.next_steps == ("make-estimate", "import-costs")
    _, ready = seen["ready"]
    made = seen["estimate made"]  # as stored: SQLite gives it back naive, in UTC
    made = made if made.tzinfo is not None else made.replace(tzinfo=dt.timezone.utc)
    assert (ready.costs, ready.estimate_revision, ready.estimate_made_at) == (len(COSTS), 1, made)
    assert (ready.closed, ready.next_steps) == (False, ("close-year",))


def test_a_closed_year_sends_its_annual_reports(seen):
    _, status = seen["closed"]
    closing = seen["closing"]
    assert (status.closed, status.closed_by, status.next_steps) == (True, PREPARER, ("annual-reports",))
    assert status.closed_at.tzinfo is not None
    _, credited = seen["credited"]
    # the credit note of a January invoice, issued in 2022, is of January 2021's period
    assert (credited.invoices, credited.credit_notes) == (12 * MEMBERS, 1)
    assert closing.year == 2021 and len(closing.settlements) == MEMBERS


def test_the_next_year_without_its_agreement_is_invoiced_by_the_one_before(seen):
    found, status = seen["2022 before invoicing"]
    assert found == [2021]  # no agreement or invoice of 2022 yet
    assert (status.agreement_revision, status.billing_period, status.counts) == (None, PeriodKind.MONTH, 0)
    # the counts of 2021 (31.12.2020, July 2021) are 2021's; events of 2022 wait for its agreement
    assert status.next_steps == ("store-agreement", "import-counts", "draft-month:1")
    found, status = seen["2022"]
    assert found == [2022, 2021]
    assert (status.invoiced_months, status.invoices, status.credit_notes) == ((1,), MEMBERS, 0)
    assert status.next_steps == ("store-agreement", "import-counts", "draft-month:2")


def test_another_area_sees_nothing_of_this_one(seen):
    found, status = seen["other area"]
    assert found == []
    assert status == YearStatus(2021, None, PeriodKind.MONTH, 0, 0, 0, 0, 0, (), (), None, None, None, None, 0, 0,
                                ("store-agreement",))


# --- next_steps alone --------------------------------------------------------------------------

def status_of(**values) -> YearStatus:
    empty = dict(year=2023, agreement_revision=1, billing_period=PeriodKind.QUARTER, counts=10,
                 count_municipalities=5, costs=0, events=100, unbilled_events=0, invoiced=(), drafts=(),
                 estimate_revision=None, estimate_made_at=None, closed_at=None, closed_by=None, invoices=0,
                 credit_notes=0, next_steps=())
    return YearStatus(**{**empty, **values})


def test_a_year_invoiced_by_quarter_is_drafted_by_quarter():
    q1 = Period.quarter(2023, 1)
    status = status_of(invoiced=(q1,))
    assert status.invoiced_months == (1, 2, 3)
    assert next_steps(status, dt.date(2023, 6, 30)) == ()  # the second quarter has not ended
    assert next_steps(status, dt.date(2023, 7, 1)) == ("draft-quarter:2",)
    drafted = (WaitingDraft(7, "invoice_run", "2023-Q2", "x", dt.datetime(2023, 7, 1, tzinfo=dt.timezone.utc)),)
    assert next_steps(status_of(invoiced=(q1,), drafts=drafted), dt.date(2023, 7, 1)) == ("approve-draft:7",)


def test_a_year_is_closed_only_with_every_period_invoiced_every_event_billed_and_its_costs():
    every = tuple(Period.quarter(2023, q) for q in range(1, 5))
    after = dt.date(2024, 1, 15)
    ready = dict(invoiced=every, costs=8, estimate_revision=1)
    assert next_steps(status_of(**ready), after) == ("close-year",)
    assert next_steps(status_of(**ready), dt.date(2023, 12, 31)) == ()  # the year has not ended
    assert next_steps(status_of(**{**ready, "costs": 0}), after) == ("import-costs",)
    assert next_steps(status_of(**{**ready, "unbilled_events": 3}), after) == ()
    assert next_steps(status_of(**{**ready, "invoiced": every[:3]}), after) == ("draft-quarter:4",)


def test_without_any_agreement_only_storing_one_comes_next():
    status = status_of(agreement_revision=None, counts=0, events=0)
    assert next_steps(status, dt.date(2023, 9, 1), any_agreement=False) == ("store-agreement",)
    # with the agreement of a year before: its counts, its first quarter (by that agreement), the estimate
    assert next_steps(status, dt.date(2023, 9, 1)) == ("store-agreement", "import-counts", "draft-quarter:1",
                                                       "make-estimate")


def test_every_step_is_a_known_code():
    for status in (status_of(), status_of(agreement_revision=None), status_of(closed_at=dt.datetime(2024, 1, 1))):
        for today in (dt.date(2023, 1, 1), dt.date(2023, 9, 1), dt.date(2024, 2, 1)):
            assert all(step.split(":")[0] in STEPS for step in next_steps(status, today))
