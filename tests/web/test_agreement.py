"""The agreement's pages: Taulukko 1 and 2 as published, each euro explained, the downloads, and
a year's revisions side by side.

The figures expected are the published appendix's (shared/seeds, transcribed by hand in
tests/test_golden_2021.py and /work/shared/DOMAIN.md), written as the page writes money in
Finnish (`14 240 €`, no-break spaces). The last tests store a second revision of 2021, so they
run last (the module's ledger is shared).
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

import pytest

from tests.web.conftest import AREA, OTHER_AREA

NBSP = "\u00a0"
PAGE = f"/areas/{AREA}/agreement"


def eur(text: str) -> str:
    """`14 240 €` as the page writes figures in Finnish and Swedish: no-break spaces between the
    digits and before the euro and per cent signs."""
    return re.sub(r"(?<=\d) (?=\d)| (?=[€%])", NBSP, text)


class Tables(HTMLParser):
    """Every table of a page: its caption, and its rows as [(cell text, link or None)]."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._link: str | None = None
        self._in_caption = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell, self._link = [], None
        elif tag == "a" and self._cell is not None:
            self._link = attrs.get("href")

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(("".join(self._cell).strip(), self._link))
            self._cell = None

    def handle_data(self, data):
        if self._in_caption:
            self.tables[-1]["caption"] += data
        elif self._cell is not None:
            self._cell.append(data)

    def table(self, caption: str, nth: int = 0) -> list[list[tuple[str, str | None]]]:
        found = [t for t in self.tables if t["caption"].strip() == caption]
        assert len(found) > nth, f"no table {caption!r} in {[t['caption'] for t in self.tables]}"
        return found[nth]["rows"]

    def row(self, caption: str, label: str, nth: int = 0) -> list[tuple[str, str | None]]:
        for row in self.table(caption, nth):
            if row and row[0][0] == label:
                return row
        raise AssertionError(f"no row {label!r} in {caption!r}")


def texts(row) -> list[str]:
    return [text for text, _ in row]


def test_taulukko_1_shows_the_published_figures(browser_for):
    answer = browser_for("valmistelija").get(PAGE)
    assert answer.status_code == 200
    page = Tables(answer.text)
    assert "Taulukko 1: Kuntien maksuosuudet 2021" in answer.text
    assert "Taulukko 2: Pirkanmaan keskitetyt maahanmuuttajapalvelut 2021" in answer.text
    # the header as on paper (the catalogue's layout words)
    head = texts(page.table("Kuntien maksuosuudet 2021")[0])
    assert head[0] == "Kunta" and head[-1] == "Maksuosuudet" and "Alennus €" in head
    # Sastamala: parts 6 706 + 3 885 + 3 774 + 3 436, total 17 800 (rounded on its own), 20 % off
    assert texts(page.row("Kuntien maksuosuudet 2021", "Sastamala")) == [
        "Sastamala", eur("24 277"), eur("4,7 %"), eur("6 706 €"), eur("3 885 €"), eur("3 774 €"), eur("3 436 €"),
        eur("17 800 €"), eur("20 %"), eur("3 560 €"), eur("14 240 €")]
    # the host pays Sastamala's reduction on top of its own share: 174 609 → 178 169
    tampere = texts(page.row("Kuntien maksuosuudet 2021", "Tampere"))
    assert tampere[1] == eur("238 140") and tampere[7] == eur("174 609 €") and tampere[-1] == eur("178 169 €")
    summa = texts(page.row("Kuntien maksuosuudet 2021", "Summa"))
    assert summa[1] == eur("517 666") and summa[7] == eur("379 562 €") and summa[-1] == eur("379 562 €")
    # the costs above the rows: cost, 17 % flat rate, total, the members' informative 54 %
    assert texts(page.row("Kustannukset", "ICT- ja tietopalvelut")) == [
        "ICT- ja tietopalvelut", eur("70 801 €"), eur("12 036 €"), eur("82 837 €"), eur("44 732 €")]
    assert texts(page.row("Kustannukset", "Summa"))[-1] == eur("204 964 €")


def test_taulukko_2_shows_the_published_figures(browser_for):
    page = Tables(browser_for("valmistelija").get(f"{PAGE}/2021").text)
    # Akaa: C 45, 5 % × C 2,25 → 3, K 17, 38,5 % × K → 7; the services; total = payment. (38,5 % × 17
    # is 6,545 exactly: the paper prints 6,55, the layout of every renderer the exact figure.)
    assert texts(page.row("Kuntien maksuosuudet 2021", "Akaa", nth=1)) == [
        "Akaa", "45", "2,25", "3", "17", "6,545", "7", eur("4,7 %"), eur("2 211 €"), eur("420 €"), eur("9 800 €"),
        eur("3 430 €"), eur("4 760 €"), eur("20 621 €"), eur("20 621 €")]
    # the members together and the host's share: 411 953 and 2 183 047 of 2 595 000
    shares = page.table("Osuudet yhteensä")
    assert texts(shares[1])[-1] == eur("411 953 €")
    assert texts(shares[2])[-1] == eur("2 183 047 €")
    assert texts(shares[3])[-1] == eur("2 595 000 €")


def test_every_euro_of_a_row_links_to_its_explanation(browser_for):
    page = Tables(browser_for("valmistelija").get(PAGE).text)
    row = page.row("Kuntien maksuosuudet 2021", "Sastamala")
    links = [html_lib.unescape(link) for _, link in row if link]
    base = f"{PAGE}/2021/explain?municipality=790"
    assert links == [base] + [f"{base}&figure=yhteiset.{part}" for part in (
        "johtaminen", "ict", "perehdytys", "viestinta", "row-total", "row-reduction", "row-payment")]
    assert row[1][1] is None and row[2][1] is None  # counts and shares are not money
    costs = page.row("Kustannukset", "ICT- ja tietopalvelut")
    assert html_lib.unescape(costs[3][1]) == f"{PAGE}/2021/explain?figure=component-total.ict"
    assert costs[4][1] is None  # the members' 54 % is informative, no figure of its own
    host = page.row("Osuudet yhteensä", "Tampereen osuus")
    assert html_lib.unescape(host[-1][1]) == \
        f"{PAGE}/2021/explain?municipality=837&figure=maahanmuuttajapalvelut.row-payment"


def test_an_explanation_shows_the_formula_with_its_numbers_its_inputs_and_its_clause(browser_for):
    answer = browser_for("valmistelija").get(f"{PAGE}/2021/explain?municipality=790&figure=yhteiset.ict")
    assert answer.status_code == 200
    text = answer.text
    assert "<h1>Selitys: ICT- ja tietopalvelut, Sastamala</h1>" in text
    # 70 801 € × 1,17 = 82 837,17 €, of which Sastamala's 24 277 of 517 666 inhabitants
    assert eur("82 837,17 € × 24 277 / 517 666 = <strong>3 884,82 €</strong>") in text
    assert eur("(taulukossa 3 885)") in text
    assert "Taulukko 1; kohta 2" in text  # the clause
    assert eur("70 801,00 € × (1 + 17 %) = <strong>82 837,17 €</strong>") in text  # an input, with its own
    assert f'href="{PAGE}/2021"' in text  # back to the tables


def test_the_payment_is_explained_down_to_the_reduction(browser_for):
    c = browser_for("valmistelija")
    text = c.get(f"{PAGE}/2021/explain?municipality=Sastamala&figure=yhteiset.row-payment").text
    assert eur("17 800,33 € − 3 560,07 € = <strong>14 240,27 €</strong>") in text
    assert "Kohta 6; kuntasopimuksen kohta 3.13" in text  # the reduction's clause
    assert eur("20 % × 3 884,82 € = <strong>776,96 €</strong>") in text


def test_with_htmx_the_explanation_opens_in_place(browser_for):
    answer = browser_for("valmistelija").get(f"{PAGE}/2021/explain?municipality=790&figure=yhteiset.ict",
                                              headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "<html" not in answer.text and "<h1" not in answer.text
    assert '<section class="explanation"' in answer.text and "<h2" in answer.text
    assert eur("= <strong>3 884,82 €</strong>") in answer.text
    page = browser_for("valmistelija").get(PAGE).text
    assert 'id="explanation"' in page and 'hx-target="#explanation"' in page and 'hx-boost="true"' in page


def test_a_component_total_and_every_figure_of_a_municipality_are_explained(browser_for):
    c = browser_for("tarkastaja")
    total = c.get(f"{PAGE}/2021/explain?figure=component-total.ict").text
    assert eur("70 801,00 € × (1 + 17 %) = <strong>82 837,17 €</strong>") in total
    every = c.get(f"{PAGE}/2021/explain?municipality=020").text
    assert "Taulukko 1: Kuntien maksuosuudet 2021" in every and "Taulukko 2: Pirkanmaan" in every
    assert eur("(taulukossa 12 080)") in every and eur("(taulukossa 20 621)") in every


@pytest.mark.parametrize("query", ["municipality=790&figure=nosuch.ict", "municipality=790&figure=yhteiset.nosuch",
                                   "municipality=999&figure=yhteiset.ict", "figure=yhteiset.ict",
                                   "figure=component-total.nosuch", "municipality=790&figure=yhteiset.ict&revision=9"])
def test_a_figure_that_is_not_there_is_not_found(browser_for, query):
    assert browser_for("valmistelija").get(f"{PAGE}/2021/explain?{query}").status_code == 404


def test_a_member_sees_the_published_tables_and_explains_its_own_figures_only(browser_for):
    c = browser_for("akaa")
    answer = c.get(PAGE)
    assert answer.status_code == 200
    page = Tables(answer.text)
    sastamala = page.row("Kuntien maksuosuudet 2021", "Sastamala")
    assert sastamala[-1] == (eur("14 240 €"), None)  # another member's figure: shown, not explained
    assert texts(page.row("Kuntien maksuosuudet 2021", "Tampere"))[-1] == eur("178 169 €")
    own = page.row("Kuntien maksuosuudet 2021", "Akaa")
    assert own[-1][0] == eur("12 080 €") and "municipality=020" in own[-1][1]
    assert all("municipality=020" in link for link in re.findall(r'href="([^"]*explain\?municipality=[^"]*)"',
                                                                  answer.text))
    assert "Tallentaja" not in answer.text  # who stored the agreement is the host's business
    assert c.get(f"{PAGE}/2021/explain?municipality=020&figure=yhteiset.row-payment").status_code == 200
    for other in ("790", "Sastamala", "837"):
        assert c.get(f"{PAGE}/2021/explain?municipality={other}&figure=yhteiset.row-payment").status_code == 404
        assert c.get(f"{PAGE}/2021/explain?municipality={other}").status_code == 404
    assert c.get(f"{PAGE}/2021/explain?figure=component-total.ict").status_code == 200  # a published figure


@pytest.mark.parametrize("lang, words", [("sv", ["Tabell 1", "Kommun", eur("14 240 €"), "Ackas"]),
                                         ("en", ["Table 1", "Municipality", "€14,240", "€178,169"])])
def test_the_tables_in_swedish_and_english(browser_for, lang, words):
    c = browser_for("hyvaksyja")
    c.cookies.set("osuus_lang", lang)
    answer = c.get(PAGE)
    assert f'<html lang="{lang}">' in answer.text
    for word in words:
        assert word in answer.text


def test_the_tables_download_as_xlsx_and_as_the_appendix_pdf(browser_for):
    import io

    from openpyxl import load_workbook

    c = browser_for("nokia")
    xlsx = c.get(f"{PAGE}/2021/tables.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="liite-taulukot-2021.xlsx"' in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v}
    assert "Sastamala" in cells and "Tampere" in cells
    pdf = c.get(f"{PAGE}/2021/appendix.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert 'filename="liite-taulukot-2021.pdf"' in pdf.headers["content-disposition"]
    page = c.get(PAGE).text
    assert f'href="{PAGE}/2021/tables.xlsx"' in page and f'href="{PAGE}/2021/appendix.pdf"' in page


def test_a_year_or_an_area_without_an_agreement(browser_for):
    assert browser_for("valmistelija").get(f"{PAGE}/2022").status_code == 404
    assert browser_for("valmistelija").get(f"{PAGE}/2022/tables.xlsx").status_code == 404
    assert browser_for("valmistelija").get(f"{PAGE}/99999").status_code == 404
    assert browser_for("lappilainen").get(PAGE).status_code == 404  # another area's user: as if none
    empty = browser_for("lappilainen").get(f"/areas/{OTHER_AREA}/agreement")
    assert empty.status_code == 200 and "Alueelle ei ole vielä tallennettu sopimusta." in empty.text
    assert browser_for("valmistelija").get(f"{PAGE}/2021/compare").status_code == 404  # one revision only


# --- revisions: these store revision 2 of 2021, so they come last ---------------------------------

@pytest.fixture(scope="module")
def revision_2(web_ledger, tmp_path_factory):
    """The 2021 agreement with ICT's cost 10 000 € higher (70 801 → 80 801), stored as revision 2."""
    from osuus.services.agreements import add_agreement
    from osuus.services.ledger import Ledger
    from tests.api.conftest import AGREEMENT

    source = AGREEMENT.read_text(encoding="utf-8")
    assert source.count("value = 70_801,") == 1
    path = tmp_path_factory.mktemp("revision") / "pirkanmaa-2021.toml"
    path.write_text(source.replace("value = 70_801,", "value = 80_801,"), encoding="utf-8")
    with Ledger(web_ledger.url, "paakayttaja", area=AREA) as ledger:
        added = add_agreement(ledger, path)
    assert added.created and added.agreement.revision == 2
    return added


def test_two_revisions_side_by_side_with_the_difference(browser_for, revision_2):
    c = browser_for("valmistelija")
    answer = c.get(f"{PAGE}/2021/compare?a=1&b=2")
    assert answer.status_code == 200
    page = Tables(answer.text)
    caption = "Taulukko 1: Kuntien maksuosuudet 2021: Maksuosuudet"
    assert texts(page.table(caption)[0]) == ["Kunta", "Versio 1", "Versio 2", "Erotus"]
    # ICT costs 10 000 € × 1,17 = 11 700 € more, divided by population:
    # Akaa 11 700 × 16 475 / 517 666 = 372,36
    assert texts(page.row(caption, "Akaa")) == ["Akaa", eur("12 080 €"), eur("12 452 €"), eur("+372 €")]
    # Sastamala 11 700 × 24 277 / 517 666 = 548,70, of which it pays 80 %: 438,96
    assert texts(page.row(caption, "Sastamala"))[1:] == [eur("14 240 €"), eur("14 679 €"), eur("+439 €")]
    # Tampere: its own 11 700 × 238 140 / 517 666 = 5 382,32, and Sastamala's 20 % (109,74) on top
    assert texts(page.row(caption, "Tampere"))[-1] == eur("+5 492 €")
    assert texts(page.row(caption, "Summa"))[1:] == [eur("379 562 €"), eur("391 262 €"), eur("+11 700 €")]
    # Taulukko 2 did not change
    other = "Taulukko 2: Pirkanmaan keskitetyt maahanmuuttajapalvelut 2021: Maksuosuudet"
    assert texts(page.row(other, "Akaa"))[1:] == [eur("20 621 €"), eur("20 621 €"), eur("0 €")]


def test_the_newest_revision_is_shown_and_an_older_one_can_be_asked_for(browser_for, revision_2):
    c = browser_for("akaa")
    newest = Tables(c.get(PAGE).text)
    assert texts(newest.row("Kuntien maksuosuudet 2021", "Akaa"))[-1] == eur("12 452 €")
    old = c.get(f"{PAGE}/2021?revision=1")
    assert old.status_code == 200 and "Tämä ei ole voimassa oleva versio: uusin on versio 2." in old.text
    row = Tables(old.text).row("Kuntien maksuosuudet 2021", "Akaa")
    assert row[-1][0] == eur("12 080 €") and "revision=1" in row[-1][1]
    assert eur("(taulukossa 12 080)") in c.get(f"{PAGE}/2021/explain?municipality=020&revision=1").text
    assert c.get(f"{PAGE}/2021?revision=3").status_code == 404
    listing = c.get(PAGE).text
    assert f'action="{PAGE}/2021/compare"' in listing and 'name="a"' in listing and 'name="b"' in listing
    assert c.get(f"{PAGE}/2021/compare?a=1&b=2").status_code == 200  # members read the published tables


def test_the_pages_are_for_the_areas_roles_only(anonymous, browser_for):
    assert anonymous.get(PAGE, follow_redirects=False).status_code == 303
    for person in ("paakayttaja", "valmistelija", "hyvaksyja", "tarkastaja", "akaa", "nokia"):
        assert browser_for(person).get(f"{PAGE}/2021").status_code == 200, person
