"""The reads the API makes, as use cases: a page of invoices, the audit log's records, a closed
year as it was closed, and the user of a session, on SQLite and on PostgreSQL.

One ledger per database (built once per module, as tests/api/conftest.py builds it): area
`pirkanmaa` holds the shipped 2021 agreement with January–March invoiced (21 invoices a
month, 2021-00001…2021-00063) and both credit-note drafts approved (Vesilahti's and Pälkäne's
January invoices credited: 2021-00064 and 2021-00065); area `lappi` holds the small agreement
of tests/billing/small.py, 2025 invoiced month by month and closed.

Akaa's (020) invoices, by hand from examples/2021/events.csv and the agreement's prices:
- every month the advance of Taulukko 1: 12 079,77 € / 12 = 1 006,6475 → 1 006,64 €;
- January: Alkukartoitus 1 × 140 + Mainio 2,5 h × 40 + Tredu 1 × 280 + Yrityskoordinaattori
  1 × 490 = 1 010,00 €: 2 016,64 €;
- February: Mainio 5 h × 40 = 200 + a half day's allowance 0,5 × 44 = 22,00 + 86 km × 0,44 =
  37,84 + Tredu 2 × 280 = 560: 819,84 €: 1 826,48 €;
- March: Mainio 5,5 h × 40 = 220 + 0,5 × 44 = 22,00 + 88 km × 0,44 = 38,72 + OMA-valmennus of
  integration year 3: 1 × 1 400 + Yrityskoordinaattori 1 × 490: 2 170,72 €: 3 177,36 €.

The small year's closing, by hand (tests/store/test_explain_billed.py): m confirmed at
500 € / (50 h × 8 €) = ×1,25 (8 € → 10 €), u at 800 € / (8 × 100 €) = ×1 (100 € → 100 €);
A (002): actual 540 + 200 + 30 + 100 = 870 €, billed 360 + 80 + 200 + 30 = 670 €: +200 €;
B (003): actual 1 800 × 20 % = 360 + 100 + 40 + 40 × 1,25 = 50: 550 €, billed 240 + 40 + 100 +
40 = 420 €: +130 €.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import event

from osuus.billing.kinds import DocumentKind
from osuus.problems import ProblemsError
from tests.api.conftest import AKAA, AREA, OTHER_AREA, PASSWORD, make_ledger, pg_clean
from tests.billing.small import TEXT as SMALL
from tests.store.test_explain_billed import COSTS as SMALL_COSTS, EVENTS as SMALL_EVENTS

VESILAHTI, PALKANE = "790", "604"
INVOICES_A_MONTH = 21  # the 22 municipalities but the host


@dataclasses.dataclass
class Built:
    url: str
    notes: dict[str, str]  # municipality -> its credit note's number
    january: dict[str, str]  # municipality -> its January invoice's number


def _small_year(url: str, folder) -> None:
    """Area `lappi`: the small agreement, 2025 invoiced month by month (drafted by one user,
    approved by another), its actual costs imported and the year closed."""
    from osuus.calendar import Period
    from osuus.services.agreements import add_agreement
    from osuus.services.closing import close_year
    from osuus.services.imports import import_costs, import_events
    from osuus.services.ledger import Ledger
    from tests.approving import invoice_period

    for name, content in (("small.toml", SMALL), ("events.csv", SMALL_EVENTS), ("costs.csv", SMALL_COSTS)):
        (folder / name).write_text(content, encoding="utf-8")
    with Ledger(url, "lappilainen", area=OTHER_AREA) as opened:
        add_agreement(opened, folder / "small.toml")
        import_events(opened, folder / "events.csv")
        for month in range(1, 13):
            invoice_period(opened, Period.month(2025, month),
                           dt.date(2025, month + 1, 1) if month < 12 else dt.date(2026, 1, 5))
        import_costs(opened, folder / "costs.csv")
        close_year(opened, 2025)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(request, tmp_path_factory) -> Built:
    from argon2 import PasswordHasher

    from osuus.services import accounts, approval
    from osuus.services.ledger import Ledger

    folder = tmp_path_factory.mktemp("reads")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'osuus.db'}"
    else:
        url = request.getfixturevalue("postgres_test_database")
        pg_clean(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        made = make_ledger(url)
        with Ledger(url, "hyvaksyja", area=AREA) as approver:
            notes = {VESILAHTI: approval.approve(approver, made.drafts["approve"]).credit_note.number,
                     PALKANE: approval.approve(approver, made.drafts["reject"]).credit_note.number}
        _small_year(url, folder)
        yield Built(url, notes, made.invoices)


@pytest.fixture
def ledger(built):
    from osuus.services.ledger import Ledger

    with Ledger(built.url, "tarkastaja", area=AREA, readonly=True) as opened:
        yield opened


def statements(engine):
    """A counter of the SQL statements run on `engine` (`before_cursor_execute`)."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(engine, "before_cursor_execute", count)


# --------------------------------------------------------------------------
# invoice_page
# --------------------------------------------------------------------------

def test_a_members_invoices_with_their_totals(ledger):
    from osuus.services.invoicing import invoice_page

    page = invoice_page(ledger, municipality=AKAA)
    assert page.total == 3
    assert [(i.period.code, i.total, i.lines[0].amount) for i in page.invoices] == [
        ("2021-01", D("2016.64"), D("1006.64")), ("2021-02", D("1826.48"), D("1006.64")),
        ("2021-03", D("3177.36"), D("1006.64"))]
    assert [i.number for i in page.invoices] == sorted(i.number for i in page.invoices)
    assert all(sum(line.amount for line in i.lines) == i.total for i in page.invoices)


def test_a_list_reads_no_explanations_unless_asked(ledger):
    from osuus.services.invoicing import invoice_page, list_invoices

    listed = invoice_page(ledger, municipality=AKAA).invoices
    whole = invoice_page(ledger, municipality=AKAA, explanations=True).invoices
    assert all(line.explanation is None for i in listed for line in i.lines)
    assert all(line.explanation is not None and line.explanation.value == line.amount
               for i in whole for line in i.lines)
    assert listed == tuple(dataclasses.replace(i, lines=tuple(dataclasses.replace(line, explanation=None)
                                                              for line in i.lines)) for i in whole)
    assert tuple(list_invoices(ledger, municipality=AKAA)) == whole  # the whole documents, as before


def test_pages_run_through_the_list_in_number_order(ledger):
    from osuus.services.invoicing import invoice_page, list_invoices

    every = [i.number for i in list_invoices(ledger)]
    assert every == [f"2021-{n:05d}" for n in range(1, 3 * INVOICES_A_MONTH + 3)]
    pages = [invoice_page(ledger, offset=offset, limit=25) for offset in (0, 25, 50, 75)]
    assert [(len(p.invoices), p.total) for p in pages] == [(25, 65), (25, 65), (15, 65), (0, 65)]
    assert [i.number for p in pages for i in p.invoices] == every
    january = invoice_page(ledger, year=2021, kind=DocumentKind.INVOICE, offset=20, limit=2)
    assert ([i.number for i in january.invoices], january.total) == (["2021-00021", "2021-00022"], 63)


def test_credit_notes_and_what_they_credit(built, ledger):
    from osuus.services.invoicing import invoice_page

    notes = invoice_page(ledger, kind=DocumentKind.CREDIT_NOTE)
    assert [(i.number, i.municipality, i.credited, i.credited_issue_date, i.reason) for i in notes.invoices] == [
        (built.notes[VESILAHTI], VESILAHTI, built.january[VESILAHTI], dt.date(2021, 2, 1), "Väärä osoite"),
        (built.notes[PALKANE], PALKANE, built.january[PALKANE], dt.date(2021, 2, 1), "Väärä osoite")]
    credited = invoice_page(ledger, number=built.january[VESILAHTI]).invoices[0]
    assert credited.credited_by == built.notes[VESILAHTI]
    assert notes.invoices[0].total == -credited.total and credited.total > 0
    assert notes.invoices[0].agreement_year == credited.agreement_year == 2021


def test_a_page_takes_the_same_queries_however_many_documents(built, ledger):
    """No query per document: a page of two credit notes (whose credited invoices are not on it)
    takes as many statements as a page of one, and a page of 50 invoices as a page of 2."""
    from osuus.services.invoicing import invoice_page

    def counted(**where) -> int:
        seen, stop = statements(ledger.engine)
        try:
            invoice_page(ledger, **where)
        finally:
            stop()
        return len(seen)

    assert counted(kind=DocumentKind.CREDIT_NOTE) == counted(number=built.notes[VESILAHTI])
    assert counted(limit=50) == counted(limit=2)


def test_a_page_of_another_area_is_empty(built):
    from osuus.services.invoicing import invoice_page
    from osuus.services.ledger import Ledger

    with Ledger(built.url, "lappilainen", area=OTHER_AREA, readonly=True) as lappi:
        page = invoice_page(lappi, municipality=AKAA)
        small = invoice_page(lappi, municipality="002")
    assert (page.invoices, page.total) == ((), 0)
    assert (small.total, small.invoices[0].number) == (12, "2025-00001")


# --------------------------------------------------------------------------
# audit_entries
# --------------------------------------------------------------------------

def test_audit_entries_newest_first_in_pages(built, ledger):
    from osuus.services.audit import audit_entries, newest

    first = audit_entries(ledger, limit=2)
    # the module's last writes in the area: the two credit notes approved, Pälkäne's last
    assert [(e.actor, e.action, e.subject) for e in first.entries] == [
        ("hyvaksyja", "invoice.credit", built.january[PALKANE]), ("hyvaksyja", "invoice.credit", built.january[VESILAHTI])]
    every = [e.id for offset in range(0, first.total, 7) for e in audit_entries(ledger, offset=offset, limit=7).entries]
    assert every == sorted(every, reverse=True) and len(every) == len(set(every)) == first.total
    assert audit_entries(ledger, offset=first.total, limit=7).entries == ()
    assert newest(ledger, 2) == list(reversed(first.entries))  # the command line's `audit log`, oldest first


def test_audit_entries_are_of_the_area(built, ledger):
    from osuus.services.audit import audit_entries
    from osuus.services.ledger import Ledger

    with Ledger(built.url, "lappilainen", area=OTHER_AREA, readonly=True) as lappi:
        theirs = audit_entries(lappi, limit=500)
    ours = audit_entries(ledger, limit=500)
    assert len(theirs.entries) == theirs.total and len(ours.entries) == ours.total
    assert theirs.entries[0].action == "year.close" and theirs.entries[0].subject == "2025"
    assert not {e.hash for e in theirs.entries} & {e.hash for e in ours.entries}


# --------------------------------------------------------------------------
# show_closing
# --------------------------------------------------------------------------

def test_a_closed_year_as_it_was_closed(built):
    from osuus.services.closing import close_year, show_closing
    from osuus.services.ledger import Ledger

    with Ledger(built.url, "lappilainen", area=OTHER_AREA) as lappi:
        shown = show_closing(lappi, 2025)
        again = close_year(lappi, 2025)
    assert (shown.year, shown.created) == (2025, False)
    assert [(s.municipality, s.actual, s.billed, s.difference) for s in shown.settlements] == [
        ("002", D("870.00"), D("670.00"), D("200.00")), ("003", D("550.00"), D("420.00"), D("130.00"))]
    assert {(p.component, p.agreed, p.confirmed) for p in shown.prices if p.component in ("m", "u")} == {
        ("m", D(8), D(10)), ("u", D(100), D(100))}
    assert next(p for p in shown.prices if p.component == "m").explanation.value == D("1.25")
    assert again == shown  # closing it again answers the same, as it was closed


def test_a_year_not_closed_is_refused(built, ledger):
    from osuus.services.closing import show_closing

    with pytest.raises(ProblemsError) as refused:
        show_closing(ledger, 2021)
    (problem,) = refused.value.problems
    assert (problem.message, problem.code) == ("2021 is not closed", "settlement.not-closed")
    with pytest.raises(ProblemsError):
        show_closing(ledger, 2025)  # closed, but in the other area


# --------------------------------------------------------------------------
# session_user
# --------------------------------------------------------------------------

def test_the_user_of_a_session(built, ledger):
    from argon2 import PasswordHasher

    from osuus.access import Role
    from osuus.services import accounts
    from osuus.services.ledger import Ledger, now

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with Ledger(built.url, "paakayttaja", area=AREA) as admin:
            live = accounts.login(admin, "akaa", PASSWORD, "reads").token
            ended = accounts.login(admin, "akaa", PASSWORD, "reads").token
            accounts.logout(admin, ended)
            expired = accounts.login(admin, "akaa", PASSWORD, "reads", at=now() - dt.timedelta(hours=13)).token
            elsewhere = accounts.login(admin, "lappilainen", PASSWORD, "reads").token
            accounts.add_user(admin, "poistuva", password=PASSWORD)
            leaving = accounts.login(admin, "poistuva", PASSWORD, "reads").token
            assert accounts.session_user(admin, leaving).name == "poistuva"
            accounts.disable_user(admin, "poistuva")
    user = accounts.session_user(ledger, live)
    assert (user.name, [(r.role, r.municipality) for r in user.roles]) == ("akaa", [(Role.MEMBER, AKAA)])
    assert [accounts.session_user(ledger, t) for t in (ended, expired, leaving, "ei-istunto", "x" * 201, "")] == \
        [None] * 6
    other = accounts.session_user(ledger, elsewhere)  # signed in, with no role in this area
    assert (other.name, other.roles) == ("lappilainen", ())
