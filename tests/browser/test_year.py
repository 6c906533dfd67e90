"""The year 2021 through the browser, in order: the host's clerk uploads the example files and
drafts January, an approver (in another browser) approves it, the clerk downloads the PDFs,
February–December are invoiced (by the use cases, as the command line would: eleven more
rounds of the same two clicks would only make the test slow) and the clerk closes the year
after its preview; then Akaa's finance office signs in, finds its invoice, opens the
explanation of a line and its annual report, and gets the not-found page for every address of
Nokia's it types.

The ledger starts as a new installation does: the areas, the people of every role, the 2021
agreement and its estimate (the README's walkthrough, steps 1–3). The tests of this module run
in the order written, each on what the one before did.

Golden figures: Akaa's payment of Taulukko 1 is 12 079,77 € (the README's JSON contract); its
advance instalment is a twelfth of it, to the cent down: 1 006,64 €. examples/2021 holds 66
counts, 8 547 events and 11 cost rows.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from tests.api.conftest import AGREEMENT, EXAMPLES, Ledgerful
from tests.browser.conftest import AKAA, AREA, NOKIA, OTHER_AREA, PASSWORD, PEOPLE

YEAR = 2021
MEMBERS = 21  # the agreement's 22 municipalities but the host, Tampere


def words(key: str, **params) -> str:
    from osuus.render.i18n import catalogue

    return catalogue("fi").t(key, **params)


def money(amount) -> str:
    from osuus.render.formats import formats

    return formats("fi").money(Decimal(amount))


@pytest.fixture(scope="module")
def module_ledger(tmp_path_factory, cheap_passwords) -> Ledgerful:
    """A new installation: areas, people, the 2021 agreement and its estimate; nothing imported."""
    from osuus.services import accounts, agreements, estimates
    from osuus.services.areas import add_area
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('year') / 'osuus.db'}"
    upgrade(url)
    with Ledger(url, "asennus") as setup:
        add_area(setup, AREA, "Pirkanmaan työllisyysalue")
        add_area(setup, OTHER_AREA, "Lapin työllisyysalue")
    with Ledger(url, "paakayttaja", area=AREA) as ledger:
        other = ledger.acting("asennus", OTHER_AREA)
        for name, (area, role, municipality) in PEOPLE.items():
            accounts.add_user(ledger, name, password=PASSWORD)
            accounts.grant_role(ledger if area == AREA else other, name, role, municipality)
        agreements.add_agreement(ledger, AGREEMENT)
        estimates.make_estimate(ledger.acting("valmistelija"), YEAR)
    return Ledgerful(url, {}, {}, {})


@pytest.fixture(scope="module")
def ledger(module_ledger):
    from osuus.services.ledger import Ledger

    with Ledger(module_ledger.url, "testi", area=AREA) as opened:
        yield opened


@pytest.fixture(scope="module")
def state() -> dict:
    """What one step leaves for the next (the draft's address, its total)."""
    return {}


def nav(page, key: str):
    """Follow a link of the menu, as a person does."""
    page.get_by_role("navigation", name=words("web.nav.label")).get_by_role("link", name=words(key),
                                                                          exact=True).click()


def test_the_clerk_imports_the_files_and_drafts_january(signed_in, ledger, state):
    from sqlalchemy import func, select

    from osuus.store.tables import ActualCost, ReferenceCount, ServiceEvent

    clerk = signed_in("valmistelija")
    page = clerk.page
    nav(page, "web.nav.imports")
    page.get_by_role("heading", level=1, name=words("web.imports.title")).wait_for()
    for kind, name in (("counts", "counts.csv"), ("events", "events.csv"), ("costs", "costs.csv")):
        form = page.locator("form").filter(has=page.get_by_role("heading", name=words(f"web.imports.kind.{kind}")))
        form.get_by_label(words("web.imports.file")).set_input_files(EXAMPLES / name)
        form.get_by_role("button", name=words(f"web.imports.submit.{kind}")).click()
        page.get_by_role("status").filter(has_text=name).wait_for()
    with ledger.read() as session:
        stored = [session.scalar(select(func.count()).select_from(t)) for t in (ReferenceCount, ServiceEvent,
                                                                                ActualCost)]
    assert stored == [66, 8547, 11]

    nav(page, "web.nav.runs")
    page.get_by_label(words("web.runs.prepare.period")).fill("2021-01")
    page.get_by_label(words("web.runs.prepare.date")).fill("2021-02-01")
    with page.expect_navigation():
        page.get_by_role("button", name=words("web.runs.prepare.submit")).click()
    assert "/runs/" in page.url
    draft_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    facts = page.locator("dl.facts")
    assert facts.locator("dt", has_text=words("web.runs.col.documents")).locator("+ dd").inner_text() == str(MEMBERS)
    state.update(draft=draft_id, draft_url=page.url,
                 total=facts.locator("dt", has_text=words("web.runs.col.total")).locator("+ dd").inner_text())
    # Akaa's document in the draft: its advance instalment, a twelfth of its 12 079,77 €
    akaa = page.locator("section.document").filter(has=page.get_by_role("heading", name="Akaa"))
    assert money("1006.64") in akaa.inner_text()


def test_an_approver_approves_january_in_another_browser(signed_in, ledger, state):
    from osuus.calendar import Period
    from osuus.services.invoicing import list_invoices

    approver = signed_in("hyvaksyja")
    page = approver.page
    nav(page, "web.nav.runs")
    page.get_by_role("link", name=words("web.runs.draft_link", draft=state["draft"]), exact=True).click()
    page.get_by_role("button", name=words("web.runs.approve.submit", draft=state["draft"])).click()
    page.get_by_role("status").filter(has_text=words("web.runs.notice.approved")).wait_for()
    january = list_invoices(ledger, period=Period.month(YEAR, 1), explanations=False)
    assert len(january) == MEMBERS
    assert money(sum(i.total for i in january)) == state["total"]
    state["numbers"] = {i.municipality: i.number for i in january}


def test_the_clerk_downloads_the_pdfs(signed_in, state):
    clerk = signed_in("valmistelija")
    page = clerk.page
    page.goto(state["draft_url"])
    with page.expect_download() as download:
        page.get_by_role("link", name=words("web.runs.zip.pdf")).click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    names = sorted(archive.namelist())
    assert names == sorted(f"{n}.pdf" for n in state["numbers"].values())
    assert all(archive.read(name).startswith(b"%PDF-") for name in names)


def test_the_clerk_closes_the_year_after_its_preview(signed_in, ledger, state):
    from osuus.calendar import Period
    from osuus.services import approval
    from osuus.services.closing import show_closing

    preparer, approver = ledger.acting("valmistelija"), ledger.acting("hyvaksyja")
    for month in range(2, 13):
        end = Period.month(YEAR, month).end
        draft = approval.prepare_run(preparer, Period.month(YEAR, month), end + dt.timedelta(days=1))
        approval.approve(approver, draft.id)

    clerk = signed_in("valmistelija")
    page = clerk.page
    nav(page, "web.nav.year_end")
    page.get_by_role("link", name=str(YEAR), exact=True).click()
    page.get_by_text(words("web.yearend.preview_intro", year=YEAR)).wait_for()
    preview = page.get_by_role("table", name=words("web.yearend.caption_preview", year=YEAR))
    assert preview.locator("tbody tr").count() == MEMBERS
    page.get_by_label(words("web.yearend.confirm", year=YEAR)).check()
    page.get_by_role("button", name=words("web.yearend.close_button", year=YEAR)).click()
    page.get_by_role("status").filter(has_text=words("web.yearend.just_closed", year=YEAR)).wait_for()
    closed = show_closing(ledger, YEAR)
    assert len(closed.settlements) == MEMBERS
    shown = page.get_by_role("table", name=words("web.yearend.caption_closed", year=YEAR))
    akaa = next(s for s in closed.settlements if s.municipality == AKAA)
    assert money(akaa.difference) in shown.locator("tr", has_text="Akaa").inner_text()


def test_a_member_finds_its_invoice_its_explanation_and_its_report(signed_in, state):
    member = signed_in("akaa")
    page = member.page
    number = state["numbers"][AKAA]
    nav(page, "web.nav.invoices")
    table = page.get_by_role("table").first
    assert state["numbers"][NOKIA] not in table.inner_text()  # only its own documents are listed
    page.get_by_role("link", name=number, exact=True).click()
    page.get_by_role("heading", level=1).filter(has_text=number).wait_for()
    explain = page.get_by_role("link", name=f'{words("web.invoices.explain")} '
                                            f'{words("web.invoices.explain_line", position=1)}')
    explain.first.click()
    # the line's explanation, in place (htmx) or as its own page: the annual share and its twelfth
    explanation = page.get_by_text(money("12079.77")).first
    explanation.wait_for()
    assert money("1006.64") in page.locator("main").inner_text()

    nav(page, "web.nav.reports")
    page.get_by_role("link", name=words("web.reports.year_link", year=YEAR)).click()
    assert page.url.endswith(f"/reports/{YEAR}/{AKAA}")
    main = page.locator("main")
    assert "Akaa" in main.get_by_role("heading", level=1).inner_text()
    assert main.locator("svg, img").count() >= 1  # the year-on-year chart


def test_a_member_typing_another_members_addresses_finds_nothing(signed_in, state):
    member = signed_in("akaa")
    page = member.page
    own, other = state["numbers"][AKAA], state["numbers"][NOKIA]
    base = f"/areas/{AREA}"
    for code, number, expected in ((AKAA, own, 200), (NOKIA, other, 404)):
        for path in (f"{base}/invoices/{number}", f"{base}/invoices/{number}/pdf", f"{base}/invoices/{number}/lines/1",
                     f"{base}/reports/{YEAR}/{code}", f"{base}/reports/{YEAR}/{code}.pdf",
                     f"{base}/estimates/{YEAR}/{code}", f"{base}/estimates/{YEAR}/{code}.pdf"):
            answer = member.context.request.get(member.server.url(path))
            assert answer.status == expected, (path, answer.status)
            if expected == 404:
                member.go(path)
                assert page.get_by_role("heading", level=1).inner_text() == words("web.error.not_found")
                shown = page.locator("main").inner_text()
                assert "Nokia" not in shown and other not in shown
