"""The area's first page: the year at a glance for the host's staff, a member's own page for a
member (nothing of another member on it), and the year chooser."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import AKAA, AREA, NOKIA, OTHER_AREA

HOME = f"/areas/{AREA}/"


def text_of(html: str) -> str:
    """The page's main content as a reader reads it (tags out, spaces folded)."""
    import html as html_lib

    main = html[html.index("<main"):html.index("</main>")]
    return plain(re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", main))))


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def euros(amount) -> str:
    """Money as the Finnish pages write it (no-break spaces as plain ones)."""
    from osuus.render.formats import formats

    return plain(formats("fi").money(amount))


@pytest.mark.parametrize("person", ["paakayttaja", "valmistelija", "hyvaksyja", "tarkastaja"])
def test_the_staff_see_the_year_at_a_glance(browser_for, person):
    answer = browser_for(person).get(HOME)
    assert answer.status_code == 200
    text = text_of(answer.text)
    assert "Vuosi 2021 yhdellä silmäyksellä" in text  # the newest year with an agreement, by default
    assert "Sopimus tallennettu (versio 1)." in text
    assert "Rivejä: 66; kuntia: 22." in text  # examples/2021/counts.csv: 3 counts of 22 municipalities
    assert "Laskuja: 63; hyvityslaskuja: 0." in text  # January–March, 21 members each (the host is not billed)
    assert "3 luonnosta odottaa hyväksyntää." in text  # April's run and two credit notes


def test_the_month_strip_says_each_months_state_in_words(browser_for):
    text = text_of(browser_for("valmistelija").get(HOME).text)
    for month in ("tammikuu", "helmikuu", "maaliskuu"):
        assert f"{month} 2021: laskutettu" in text
    assert "huhtikuu 2021: luonnos odottaa hyväksyntää" in text
    assert "toukokuu 2021: ei laskutettu" in text and "joulukuu 2021: ei laskutettu" in text


def test_what_to_do_next_links_to_the_pages_that_do_it(browser_for, web_ledger):
    html = browser_for("valmistelija").get(HOME).text
    section = html[html.index('id="next-title"'):html.index('id="stages-title"')]
    steps = re.findall(r'<li>(?:<a href="([^"]+)">)?([^<]+)', section)
    assert [words for _, words in steps] == [
        "Hyväksy tai hylkää: laskutusajo huhtikuu 2021",
        "Hyväksy tai hylkää: hyvityslasku laskulle 2021-00016",
        "Hyväksy tai hylkää: hyvityslasku laskulle 2021-00012",
        "Tee vuoden 2022 arvio",
        "Tuo vuoden 2021 toteutuneet kustannukset",
    ]
    drafts = web_ledger.drafts
    assert [url for url, _ in steps] == [
        f"{HOME}runs/{drafts['run']}", f"{HOME}runs/{drafts['approve']}", f"{HOME}runs/{drafts['reject']}",
        f"{HOME}estimates/2022", f"{HOME}imports"]


def test_a_step_the_reader_may_not_take_is_said_without_a_link(browser_for):
    html = browser_for("tarkastaja").get(HOME).text  # an auditor imports nothing
    main = html[html.index('<main'):]  # the menu links the imports page, which an auditor may read
    assert "Tuo vuoden 2021 toteutuneet kustannukset" in main
    assert f'href="{HOME}imports"' not in main


@pytest.mark.parametrize("lang, words", [("sv", "Året 2021 i korthet"), ("en", "The year 2021 at a glance")])
def test_the_year_in_swedish_and_english(browser_for, lang, words):
    c = browser_for("hyvaksyja")
    c.cookies.set("osuus_lang", lang)
    answer = c.get(HOME)
    assert words in answer.text and f'<html lang="{lang}">' in answer.text


def test_the_year_chooser(browser_for):
    c = browser_for("valmistelija")
    assert '<option value="2021" selected>' in c.get(HOME).text
    other = text_of(c.get(HOME + "?year=2020").text)
    assert "Vuosi 2020 yhdellä silmäyksellä" in other and "Vuoden 2020 sopimusta ei ole tallennettu." in other
    assert c.get(HOME + "?year=kaksi").status_code == 404
    assert c.get(HOME + "?year=1800").status_code == 404  # beyond the years an agreement may be of


def test_an_empty_area_says_to_store_an_agreement_first(browser_for):
    text = text_of(browser_for("lappilainen").get(f"/areas/{OTHER_AREA}/").text)
    assert re.search(r"Seuraavaksi Tallenna vuoden \d{4} sopimus Vuoden vaiheet", text)


def _documents(web_ledger, code):
    from osuus.services.invoicing import list_invoices
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        return list_invoices(ledger, municipality=code, explanations=False)


def test_a_member_sees_its_own_page(browser_for, web_ledger):
    answer = browser_for("akaa").get(HOME)
    assert answer.status_code == 200
    text = text_of(answer.text)
    assert "Akaa – 2021" in text and "Vuoden vaiheet" not in text
    own = _documents(web_ledger, AKAA)
    assert len(own) == 3
    for invoice in own:
        assert invoice.number in text and euros(invoice.total) in text
    assert web_ledger.invoices[AKAA] in text
    assert f'href="{HOME}reports/2021/{AKAA}"' in answer.text
    assert f'href="{HOME}agreement/2021"' in answer.text


def test_a_members_page_shows_nothing_of_another_member(browser_for, web_ledger):
    text = text_of(browser_for("akaa").get(HOME).text)
    theirs = _documents(web_ledger, NOKIA)
    assert theirs
    for invoice in theirs:
        assert invoice.number not in text
        assert euros(invoice.total) not in text
    assert "Nokia" not in text and NOKIA not in text


def test_a_members_estimate_is_its_own(browser_for, web_ledger):
    from osuus.services.estimates import latest_estimates
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        own = latest_estimates(ledger, 2021, AKAA)[0].amount
        theirs = latest_estimates(ledger, 2021, NOKIA)[0].amount
    text = text_of(browser_for("akaa").get(HOME).text)
    assert f"Vuosi 2021: {euros(own)}" in text
    assert euros(theirs) not in text


def test_a_member_of_the_other_area_and_a_stranger_get_nothing(browser_for, anonymous):
    assert browser_for("lappilainen").get(HOME).status_code == 404
    assert anonymous.get(HOME, follow_redirects=False).status_code == 303
