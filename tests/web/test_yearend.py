"""The year's end and the estimates in the browser: a preview of every member's settlement that
writes nothing and is what closing then commits, closing only when confirmed, the estimate of a
year with each member's letter, and what a member may (not) see.

The module's ledger is the web tests' one (January–March 2021 invoiced, April drafted) taken to
the end of the year as the README's walkthrough does: April approved, May–December invoiced and
the example's actual costs imported, so that 2021 can be closed. The tests run in order: the
year is previewed, refused without confirmation, closed, then read as closed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.api.conftest import AKAA, AREA, EXAMPLES, NOKIA, make_ledger
from tests.web.conftest import csrf

SEED_POPULATION, AKAA_POPULATION = Decimal(517_666), Decimal(16_475)  # Taulukko 1, "Asukasluku 31.12.2019"
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding="ROUND_HALF_UP")


#: Akaa's Taulukko 1 share 2021 from the seed: the four services' "Kulut/vuosi" plus the 17 % flat
#: rate, divided by population (its 12 advances add up to it).
AKAA_T1 = cents((Decimal(122_210) + Decimal(70_801) + Decimal(68_781) + Decimal(62_620)) * Decimal("1.17")
                * AKAA_POPULATION / SEED_POPULATION)
#: Akaa's Taulukko 2 estimate from the seed: Mainio 294 771 € × 45 / 6 000; ceil(5 % × 45) = 3
#: assessments × 140 €; ceil(38.5 % × 17) = 7 coached × (1 400 € + 490 €); 17 × 280 € (Tredu).
AKAA_T2 = cents(Decimal(294_771) * 45 / 6000 + 3 * 140 + 7 * 1400 + 7 * 490 + 17 * 280)
#: Akaa's events of examples/2021/events.csv at the prices of kohta 5: 2 assessments × 140 €,
#: 58.25 hours × 40 €, OMA coaching 5 × 1 400 € (3rd year) + 2 × 1 150 € (2nd), 17 × 280 €, 7 × 490 €.
AKAA_EVENTS = 2 * 140 + Decimal("58.25") * 40 + 5 * 1400 + 2 * 1150 + 17 * 280 + 7 * 490
#: Akaa's actual Taulukko 1 share: examples/2021/costs.csv's actual costs of the four services, as above.
AKAA_T1_ACTUAL = cents((Decimal("122558.92") + Decimal("72355.54") + Decimal("69058.87") + Decimal("62782.10"))
                       * Decimal("1.17") * AKAA_POPULATION / SEED_POPULATION)


@pytest.fixture(scope="module")
def web_ledger(tmp_path_factory, cheap_passwords):
    """The web tests' ledger, with all of 2021 invoiced and its actual costs imported."""
    from osuus.calendar import Period
    from osuus.services import approval, imports
    from osuus.services.ledger import Ledger

    url = f"sqlite:///{tmp_path_factory.mktemp('yearend') / 'osuus.db'}"
    made = make_ledger(url)
    with Ledger(url, "valmistelija", area=AREA) as preparer:
        approver = preparer.acting("hyvaksyja")
        approval.approve(approver, made.drafts["run"])
        for month in range(5, 13):
            draft = approval.prepare_run(preparer, Period.month(2021, month),
                                         dt.date(2021, month + 1, 1) if month < 12 else dt.date(2022, 1, 3))
            approval.approve(approver, draft.id)
        imports.import_costs(preparer, EXAMPLES / "costs.csv")
    return made


def money(value) -> str:
    from osuus.render.formats import formats

    return formats("fi").money(Decimal(value))


def rows_of(html: str) -> dict[str, tuple[str, str, str]]:
    """The settlement table's rows: code -> (actual, billed, difference) as shown."""
    found = re.findall(r'<span class="code">(\d{3})</span></th>\s*<td class="num">([^<]+)</td>\s*'
                       r'<td class="num">([^<]+)</td>\s*<td class="num">([^<]+)</td>', html)
    return {code: (a, b, d) for code, a, b, d in found}


def counts(url: str) -> tuple[int, ...]:
    """Rows of what closing writes (and the audit log), to see that a preview writes nothing."""
    from sqlalchemy import create_engine, func, select

    from osuus.store.tables import AuditRecord, Settlement, YearClosing

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.scalar(select(func.count()).select_from(t)) for t in (AuditRecord, Settlement,
                                                                                     YearClosing))
    finally:
        engine.dispose()


def settlement_text(html: str) -> str:
    """An explanation page's tree, as text without its tags."""
    tree = html[html.index('<ul class="figure-tree">'):html.rindex("</ul>")]
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", tree)).strip()


# --- the year's end ----------------------------------------------------------------------------

def test_the_year_end_lists_the_years_with_their_state(browser_for):
    page = browser_for("valmistelija").get(f"/areas/{AREA}/year-end")
    assert page.status_code == 200
    assert f'href="/areas/{AREA}/year-end/2021"' in page.text and "12 / 12" in page.text
    assert "Ei päätetty" in page.text
    chosen = browser_for("valmistelija").get(f"/areas/{AREA}/year-end?year=2021", follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == f"/areas/{AREA}/year-end/2021"
    wrong = browser_for("valmistelija").get(f"/areas/{AREA}/year-end?year=20x1")
    assert wrong.status_code == 400 and 'href="#year"' in wrong.text


def test_a_member_never_reaches_the_year_end(browser_for):
    member = browser_for("akaa")
    for path in ("year-end", "year-end/2021", f"year-end/2021/{AKAA}"):
        assert member.get(f"/areas/{AREA}/{path}").status_code == 403, path
    assert member.post(f"/areas/{AREA}/year-end/2021", data={"confirm": "yes", "csrf_token": csrf(member)}
                       ).status_code == 403
    assert "year-end" not in member.get(f"/areas/{AREA}/").text  # nor is it in the menu


def test_the_preview_shows_every_members_settlement_and_writes_nothing(browser_for, web_ledger):
    from osuus.services.closing import preview_close
    from osuus.services.ledger import Ledger

    before = counts(web_ledger.url)
    page = browser_for("valmistelija").get(f"/areas/{AREA}/year-end/2021")
    assert page.status_code == 200
    assert counts(web_ledger.url) == before
    rows = rows_of(page.text)
    assert len(rows) == 21 and "Tampere" not in page.text.split("<tbody>")[1].split("</tbody>")[0]
    with Ledger(web_ledger.url, "tarkastaja", area=AREA, readonly=True) as ledger:
        preview = preview_close(ledger, 2021)
    assert preview.preview
    for s in preview.settlements:
        assert rows[s.municipality] == (money(s.actual), money(s.billed), money(s.difference))
    # Akaa by hand: billed = its 12 advances (Taulukko 1's share) + its events at the agreed prices
    akaa = next(s for s in preview.settlements if s.municipality == AKAA)
    assert akaa.billed == AKAA_T1 + AKAA_EVENTS == Decimal("32179.77")
    assert rows[AKAA][1] == money("32179.77")
    total = sum((s.difference for s in preview.settlements), Decimal(0))
    assert f'<td class="num">{money(total)}</td>' in page.text
    assert 'name="confirm"' in page.text and "Esikatselu" in page.text


def test_a_members_preview_is_explained_down_to_the_clause(browser_for):
    page = browser_for("valmistelija").get(f"/areas/{AREA}/year-end/2021/{AKAA}")
    assert page.status_code == 200
    text = settlement_text(page.text)
    assert text.startswith("Tasaus 2021: toteutunut osuus − laskutettu:")
    assert money(AKAA_T1_ACTUAL) in text and "Taulukko 1" in text
    assert browser_for("valmistelija").get(f"/areas/{AREA}/year-end/2021/999").status_code == 404


def test_others_see_the_preview_but_may_not_close(browser_for):
    approver = browser_for("hyvaksyja")
    page = approver.get(f"/areas/{AREA}/year-end/2021")
    assert page.status_code == 200 and len(rows_of(page.text)) == 21 and 'name="confirm"' not in page.text
    assert approver.post(f"/areas/{AREA}/year-end/2021", data={"confirm": "yes", "csrf_token": csrf(approver)}
                         ).status_code == 403


def test_closing_refuses_without_the_csrf_token_or_the_confirmation(browser_for, web_ledger):
    preparer = browser_for("valmistelija")
    before = counts(web_ledger.url)
    assert preparer.post(f"/areas/{AREA}/year-end/2021", data={"confirm": "yes"}).status_code == 403
    refused = preparer.post(f"/areas/{AREA}/year-end/2021", data={"csrf_token": csrf(preparer)})
    assert refused.status_code == 400
    assert 'class="error-summary"' in refused.text and 'href="#confirm"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert counts(web_ledger.url) == before


def test_closing_commits_what_the_preview_showed(browser_for, web_ledger):
    from osuus.services.closing import show_closing
    from osuus.services.ledger import Ledger

    preparer = browser_for("valmistelija")
    preview = preparer.get(f"/areas/{AREA}/year-end/2021")
    explained = settlement_text(preparer.get(f"/areas/{AREA}/year-end/2021/{AKAA}").text)
    closed = preparer.post(f"/areas/{AREA}/year-end/2021", data={"confirm": "yes", "csrf_token": csrf(preparer)},
                           follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == f"/areas/{AREA}/year-end/2021?closed=1"
    with Ledger(web_ledger.url, "tarkastaja", area=AREA, readonly=True) as ledger:
        committed = show_closing(ledger, 2021)
    shown = rows_of(preview.text)
    assert {s.municipality: (money(s.actual), money(s.billed), money(s.difference))
            for s in committed.settlements} == shown
    after = preparer.get(closed.headers["location"])
    assert after.status_code == 200 and 'role="status"' in after.text
    assert rows_of(after.text) == shown and 'name="confirm"' not in after.text
    assert "Päätetty" in after.text and "valmistelija" in after.text
    # the member's explanation, as committed, is what the preview explained
    assert settlement_text(preparer.get(f"/areas/{AREA}/year-end/2021/{AKAA}").text) == explained


def test_a_closed_year_is_closed_once(browser_for):
    preparer = browser_for("valmistelija")
    again = preparer.post(f"/areas/{AREA}/year-end/2021", data={"confirm": "yes", "csrf_token": csrf(preparer)},
                          follow_redirects=False)
    assert again.status_code == 303  # close_year answers a closed year as it was closed
    assert "Päätetty" in preparer.get(f"/areas/{AREA}/year-end").text


def test_a_year_that_cannot_be_closed_says_why(browser_for):
    page = browser_for("valmistelija").get(f"/areas/{AREA}/year-end/2022")
    assert page.status_code == 200 and 'name="confirm"' not in page.text
    assert "Vuotta 2022 ei voi vielä päättää" in page.text
    assert "Vuodelle ei ole tallennettu sopimusta." in page.text
    member = browser_for("valmistelija").get(f"/areas/{AREA}/year-end/2022/{AKAA}")
    assert member.status_code == 200 and "Vuotta 2022 ei voi vielä päättää" in member.text
    assert "figure-tree" not in member.text


# --- the estimates -----------------------------------------------------------------------------

def test_the_estimates_list_and_the_years_estimate(browser_for):
    preparer = browser_for("valmistelija")
    index = preparer.get(f"/areas/{AREA}/estimates")
    assert index.status_code == 200 and f'href="/areas/{AREA}/estimates/2021"' in index.text
    assert 'name="year"' in index.text  # the preparer's form
    page = preparer.get(f"/areas/{AREA}/estimates/2021")
    assert page.status_code == 200
    assert page.text.count('<th scope="row">') == 22  # 21 members and the total
    # Akaa by hand from the seed: Taulukko 1 + Taulukko 2
    assert AKAA_T1 + AKAA_T2 == Decimal("32700.55")
    akaa = page.text[page.text.index(f'<span class="code">{AKAA}</span>'):]
    akaa = akaa[:akaa.index("</tr>")]
    assert money(AKAA_T1) in akaa and money(AKAA_T2) in akaa and money(AKAA_T1 + AKAA_T2) in akaa
    assert f'href="/areas/{AREA}/estimates/2021/{AKAA}.pdf"' in akaa
    none = preparer.get(f"/areas/{AREA}/estimates/2030")
    assert none.status_code == 404 and "Vuodelle 2030 ei ole tehty arviota." in none.text and 'name="year"' in none.text
    # the members' totals are the seed's: Taulukko 1's 379 562 € less the host's 178 169 €, and
    # Taulukko 2's "members together" 411 953 € (the published figures are whole euros)
    total = page.text[page.text.index('<tr class="total">'):]
    t1, t2, _ = (Decimal(x.replace("\xa0", "").replace("€", "").replace(",", "."))
                 for x in re.findall(r'<td class="num">([^<]+)</td>', total)[:3])
    assert (t1.quantize(Decimal(1), "ROUND_HALF_UP"), t2.quantize(Decimal(1), "ROUND_HALF_UP")) == (
        Decimal(379_562 - 178_169), Decimal(411_953))


def test_a_member_sees_its_own_estimate_only(browser_for):
    member = browser_for("akaa")
    index = member.get(f"/areas/{AREA}/estimates")
    assert index.status_code == 200 and 'name="year"' not in index.text
    assert money(AKAA_T1 + AKAA_T2) in index.text
    page = member.get(f"/areas/{AREA}/estimates/2021")
    assert page.status_code == 200 and page.text.count('<th scope="row">') == 1
    assert "Nokia" not in page.text and money(AKAA_T1 + AKAA_T2) in page.text
    for path in (f"estimates/2021/{NOKIA}.pdf", f"estimates/2021/{NOKIA}", "estimates/2021/Nokia.pdf"):
        assert member.get(f"/areas/{AREA}/{path}").status_code == 404, path
    assert member.post(f"/areas/{AREA}/estimates", data={"year": "2022", "csrf_token": csrf(member)}
                       ).status_code == 403


def test_an_estimate_letter_is_a_pdf_and_its_figures_are_explained(browser_for):
    member = browser_for("akaa")
    letter = member.get(f"/areas/{AREA}/estimates/2021/{AKAA}.pdf")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")
    explained = member.get(f"/areas/{AREA}/estimates/2021/{AKAA}")
    assert explained.status_code == 200 and "Kustannusarvio 2021: Akaa (versio 1)" in explained.text
    assert money(AKAA_T1 + AKAA_T2) in explained.text


def test_the_preparer_makes_the_next_years_estimate(browser_for, web_ledger):
    from osuus.services.estimates import latest_estimates
    from osuus.services.ledger import Ledger

    preparer = browser_for("valmistelija")
    assert preparer.post(f"/areas/{AREA}/estimates", data={"year": "2022"}).status_code == 403  # no CSRF token
    wrong = preparer.post(f"/areas/{AREA}/estimates", data={"year": "ensi vuosi", "csrf_token": csrf(preparer)})
    assert wrong.status_code == 400 and 'href="#year"' in wrong.text
    made = preparer.post(f"/areas/{AREA}/estimates", data={"year": "2022", "csrf_token": csrf(preparer)},
                         follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == f"/areas/{AREA}/estimates/2022?made=1"
    with Ledger(web_ledger.url, "tarkastaja", area=AREA, readonly=True) as ledger:
        stored = latest_estimates(ledger, 2022)
    assert len(stored) == 21 and stored[0].revision == 1
    page = preparer.get(made.headers["location"])
    assert page.status_code == 200 and 'role="status"' in page.text
    assert money(sum((e.amount for e in stored), Decimal(0))) in page.text
    again = preparer.post(f"/areas/{AREA}/estimates", data={"year": "2022", "csrf_token": csrf(preparer)},
                          follow_redirects=False)
    assert again.headers["location"] == f"/areas/{AREA}/estimates/2022?same=1"
    refused = preparer.post(f"/areas/{AREA}/estimates", data={"year": "1999", "csrf_token": csrf(preparer)})
    assert refused.status_code == 422 and 'class="error-summary"' in refused.text


def test_the_pages_speak_swedish_and_english(browser_for):
    for lang, words in (("sv", ("Avslut av år 2021", "Faktisk andel")), ("en", ("Closing 2021", "Actual share"))):
        c = browser_for("tarkastaja")
        c.cookies.set("osuus_lang", lang)
        page = c.get(f"/areas/{AREA}/year-end/2021")
        assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
        assert all(w in page.text for w in words), lang
