"""Annual reports in the browser: staff choose a member and a year, a member reads its own; the
report's figures (checked by hand against the seed), its year-on-year chart (an SVG with the same
figures in a table), its PDF, and nothing of another member.

The module's ledger is the web tests' one (January–March 2021 invoiced) with the example 2022
agreement stored and January 2022 invoiced, so that the 2022 report has 2021 beside it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest

from tests.api.conftest import AKAA, AREA, NOKIA, ROOT, make_ledger

CENT = Decimal("0.01")


def share(costs, population=16_475, total_population=517_666) -> Decimal:
    """A member's Taulukko 1 share: the services' yearly costs plus the 17 % flat rate, by population,
    in cents (Akaa: 16 475 of 517 666 inhabitants on 31.12.2019)."""
    return (sum(map(Decimal, costs)) * Decimal("1.17") * population / total_population).quantize(CENT, ROUND_HALF_UP)


def instalment(yearly: Decimal) -> Decimal:
    """One of 12 advances: the yearly share / 12, cut to the cent."""
    return (yearly / 12).quantize(CENT, ROUND_DOWN)


#: Akaa's Taulukko 1 share 2021 from the seed's "Kulut/vuosi" (12 079,77 €), and 2022 from the example agreement.
AKAA_2021 = share([122_210, 70_801, 68_781, 62_620])
AKAA_2022 = share([124_654, 72_217, 70_157, 63_872])


@pytest.fixture(scope="module")
def web_ledger(tmp_path_factory, cheap_passwords):
    from osuus.calendar import Period
    from osuus.services import agreements, approval
    from osuus.services.ledger import Ledger

    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'osuus.db'}"
    made = make_ledger(url)
    with Ledger(url, "paakayttaja", area=AREA) as admin:
        agreements.add_agreement(admin, ROOT / "examples" / "2022" / "agreement.toml")
        draft = approval.prepare_run(admin.acting("valmistelija"), Period.month(2022, 1), dt.date(2022, 2, 1))
        approval.approve(admin.acting("hyvaksyja"), draft.id)
    return made


def money(value, places: int = 2) -> str:
    from osuus.render.formats import formats

    return formats("fi").money(Decimal(value), places)


def row(html: str, label: str) -> list[str]:
    """The cells of the table row headed `label`."""
    found = re.search(r'<th scope="row">' + re.escape(label) + r"</th>(.*?)</tr>", html, re.S)
    assert found, f"no row {label!r}"
    return re.findall(r'<td class="num">([^<]*)</td>', found.group(1))


def test_staff_choose_a_member_and_a_year(browser_for):
    auditor = browser_for("tarkastaja")
    index = auditor.get(f"/areas/{AREA}/reports")
    assert index.status_code == 200
    assert '<label for="year">' in index.text and '<label for="municipality">' in index.text
    assert '<option value="2022"' in index.text and '<option value="2021"' in index.text
    assert f'<option value="{NOKIA}"' in index.text
    chosen = auditor.get(f"/areas/{AREA}/reports?year=2021&municipality={AKAA}", follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == f"/areas/{AREA}/reports/2021/{AKAA}"
    wrong = auditor.get(f"/areas/{AREA}/reports?year=1999&municipality=999")
    assert wrong.status_code == 400 and 'href="#year"' in wrong.text and 'href="#municipality"' in wrong.text


def test_a_member_lists_its_own_years_only(browser_for):
    index = browser_for("akaa").get(f"/areas/{AREA}/reports")
    assert index.status_code == 200 and "<select" not in index.text
    links = re.findall(rf'href="/areas/{AREA}/reports/(\d+)/(\d+)"', index.text)
    assert links == [("2022", AKAA), ("2021", AKAA)]


def test_the_report_shows_the_members_figures(browser_for):
    page = browser_for("akaa").get(f"/areas/{AREA}/reports/2021/{AKAA}")
    assert page.status_code == 200
    assert "<h1>Vuosiraportti 2021: Akaa</h1>" in page.text
    # Taulukko 1: estimated at the year's share, billed in three advances (January–March)
    assert AKAA_2021 == Decimal("12079.77")
    money_table = page.text[page.text.index('id="money-title"'):page.text.index('id="settlement-title"')]
    cells = row(money_table, "Kuntien maksuosuudet 2021")
    assert cells[:2] == [money(AKAA_2021), money(3 * instalment(AKAA_2021))] and cells[2] == "–"
    # Mainio: 58,25 hours at 40 €/hour (kohta 5)
    assert row(money_table, "Omakielinen neuvonta (Mainio)")[1] == money(Decimal("58.25") * 40)
    assert row(page.text, "Omakielinen neuvonta (Mainio)")[1] == "58,25"  # the services: hours
    assert "Tasaus lasketaan, kun vuoden toteutuneet kustannukset on vahvistettu." in page.text
    assert "/settlement" not in page.text  # the year is not closed: nothing to explain yet
    settlement = browser_for("akaa").get(f"/areas/{AREA}/reports/2021/{AKAA}/settlement")
    assert settlement.status_code == 200 and "figure-tree" not in settlement.text
    assert "Tasaus lasketaan, kun vuoden toteutuneet kustannukset on vahvistettu." in settlement.text
    assert f'href="/areas/{AREA}/reports/2021/{AKAA}.pdf"' in page.text


def test_the_year_on_year_chart_has_its_figures_in_words(browser_for):
    page = browser_for("akaa").get(f"/areas/{AREA}/reports/2022/{AKAA}")
    assert page.status_code == 200
    figure = page.text[page.text.index("<figure"):page.text.index("</figure>")]
    assert '<svg class="chart" role="img" aria-labelledby="chart-caption"' in figure
    assert '<figcaption id="chart-caption">' in figure
    assert "<table>" in figure
    assert '<th scope="col" class="num">2021</th><th scope="col" class="num">2022</th>' in figure
    # the shared costs: three advances of 2021 beside January 2022's (whole euros, as the PDF's chart)
    label = "Kuntien maksuosuudet 2022"
    assert row(figure, label) == [money(3 * instalment(AKAA_2021), 0), money(instalment(AKAA_2022), 0)]
    # every bar is labelled with its year and its value, not by colour alone
    svg = figure[:figure.index("</svg>")]
    bars = svg.count("<rect")
    assert bars == 12 and svg.count('<text class="year"') == bars and svg.count('<text class="value"') == bars
    assert f">{money(instalment(AKAA_2022), 0)}</text>" in svg
    assert ' style=' not in page.text and "<script>" not in page.text


def test_a_report_is_a_pdf(browser_for):
    answer = browser_for("akaa").get(f"/areas/{AREA}/reports/2022/{AKAA}.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_a_member_gets_nothing_of_another_member(browser_for):
    member = browser_for("akaa")
    for path in (f"reports/2021/{NOKIA}", f"reports/2021/{NOKIA}.pdf", f"reports/2021/{NOKIA}/settlement",
                 "reports/2021/Nokia", "reports/2021/Nokia.pdf"):
        assert member.get(f"/areas/{AREA}/{path}").status_code == 404, path
    assert member.get(f"/areas/{AREA}/reports?year=2021&municipality={NOKIA}").status_code == 200  # ignored


def test_what_is_not_there_is_not_found(browser_for):
    auditor = browser_for("tarkastaja")
    for path in ("reports/1999/020", "reports/2021/999", "reports/12345/020", "reports/2019/020.pdf"):
        assert auditor.get(f"/areas/{AREA}/{path}").status_code == 404, path
    assert browser_for("lappilainen").get(f"/areas/{AREA}/reports/2021/{AKAA}").status_code == 404


@pytest.mark.parametrize("lang, words", [("sv", "Årsrapport 2021: Ackas"), ("en", "Annual report 2021: Akaa")])
def test_the_report_speaks_the_readers_language(browser_for, lang, words):
    c = browser_for("nokia")
    c.cookies.set("osuus_lang", lang)
    own = c.get(f"/areas/{AREA}/reports/2021/{NOKIA}")
    assert own.status_code == 200 and f'<html lang="{lang}">' in own.text
    auditor = browser_for("tarkastaja")
    auditor.cookies.set("osuus_lang", lang)
    assert words in auditor.get(f"/areas/{AREA}/reports/2021/{AKAA}").text
