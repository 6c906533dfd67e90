"""The imports page: what is imported so far, an upload form per kind of file, every problem of a
refused file in a table with nothing written, a file taken with a summary after a redirect, the
same file again "already imported", and the preparer alone may do it.

The module's ledger (tests/web/conftest.py) has the example counts and events of 2021 imported,
no actual costs; the tests that import costs come after those that expect none.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

from tests.api.conftest import EXAMPLES
from tests.web.conftest import AREA, csrf

PAGE = f"/areas/{AREA}/imports"
NBSP = "\u00a0"


def lines_of(name: str) -> int:
    """The data rows of an example file (its lines but the header)."""
    with open(EXAMPLES / name, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip()) - 1


def stored(web_ledger) -> dict[str, int]:
    """What the ledger holds: service events, reference counts, actual costs, imported files."""
    from sqlalchemy import func, select

    from osuus.services.ledger import Ledger
    from osuus.store.tables import ActualCost, ImportBatch, ReferenceCount, ServiceEvent

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger, ledger.read() as session:
        return {name: session.scalar(select(func.count()).select_from(table)) for name, table in
                (("events", ServiceEvent), ("counts", ReferenceCount), ("costs", ActualCost), ("files", ImportBatch))}


class ProblemRows(HTMLParser):
    """The rows of the page's problems table: (row, column, value, reason)."""

    def __init__(self, text: str):
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self._inside = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "problems") in attrs:
            self._inside = True
        elif self._inside and tag == "tbody":
            self._row = None
        elif self._inside and tag == "tr":
            self._row = []
        elif self._inside and tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = False
        elif self._inside and tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif self._inside and tag == "tr" and self._row:
            self.rows.append(tuple(self._row))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def upload(c, kind: str, name: str, content: bytes, *, year: str | None = None, headers=None, token: bool = True):
    data = {"csrf_token": csrf(c)} if token else {}
    if year is not None:
        data["year"] = year
    return c.post(f"{PAGE}/{kind}", data=data, files={"file": (name, content, "application/octet-stream")},
                  headers=headers or {}, follow_redirects=False)


BAD_EVENTS = (
    "event_id,date,component,municipality,customer,quantity\n"
    "X-1,2021-13-01,mainio,020,A-1,1\n"           # row 2: no such date
    "X-2,2021-02-01,nosuch,Nowhere,A-2,x\n"       # row 3: component, municipality, quantity
    "X-2,2021-02-01,mainio,020,,1\n"              # row 4: the same event id again, no customer
    "X-4,2022-02-01,mainio,020,A-4,1\n"           # row 5: no agreement for 2022
    "X-5,2021-02-01,mainio,020,A-5,1.12345\n"     # row 6: five decimals (four allowed)
).encode()


def test_the_page_shows_what_is_imported_and_a_form_per_kind(browser_for):
    answer = browser_for("valmistelija").get(PAGE)
    assert answer.status_code == 200
    text = answer.text
    # 2021: the example events and counts (the population of 31.12.2020 serves 2021), no costs yet
    row = re.search(r'<tr><th scope="row">2021</th>(.*?)</tr>', text).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells == [f"{lines_of('events.csv'):,}".replace(",", NBSP), str(lines_of("counts.csv")), "0"]
    assert ">events.csv</th>" in text and ">counts.csv</th>" in text
    for kind in ("events", "counts", "costs"):
        form = re.search(rf'<form class="upload" method="post" action="{PAGE}/{kind}"(.*?)</form>', text, re.S)
        assert form, kind
        body = form.group(1)
        assert 'enctype="multipart/form-data"' in body and f'hx-post="{PAGE}/{kind}"' in body
        assert 'hx-encoding="multipart/form-data"' in body and 'name="csrf_token"' in body
        assert '<div class="dropzone field" data-dropzone>' in body
        assert f'<label for="file-{kind}">' in body and f'id="file-{kind}" name="file" type="file"' in body
        assert "<progress hidden" in body
    assert 'id="year-events" name="year"' in text


@pytest.mark.parametrize("person", ["akaa", "hyvaksyja", "tarkastaja", "paakayttaja"])
def test_only_the_preparer_imports(browser_for, web_ledger, person):
    c = browser_for(person)
    page = c.get(PAGE)
    if person == "akaa":  # a member reads no imports
        assert page.status_code == 403
    else:  # imports:read: what is imported, without the forms
        assert page.status_code == 200 and "<h1>Tuonnit</h1>" in page.text and 'type="file"' not in page.text
    before = stored(web_ledger)
    assert upload(c, "costs", "costs.csv", (EXAMPLES / "costs.csv").read_bytes()).status_code == 403
    assert stored(web_ledger) == before


def test_an_upload_without_its_csrf_token_is_refused(browser_for, web_ledger):
    before = stored(web_ledger)
    answer = upload(browser_for("valmistelija"), "costs", "costs.csv", (EXAMPLES / "costs.csv").read_bytes(),
                    token=False)
    assert answer.status_code == 403
    assert stored(web_ledger) == before


def test_a_bad_file_shows_every_problem_and_writes_nothing(browser_for, web_ledger):
    before = stored(web_ledger)
    answer = upload(browser_for("valmistelija"), "events", "tapahtumat.csv", BAD_EVENTS)
    assert answer.status_code == 422
    assert stored(web_ledger) == before
    assert ProblemRows(answer.text).rows == [
        ("2", "date", "2021-13-01", "Odotettiin päivämäärää muodossa VVVV-KK-PP tai P.K.VVVV."),
        ("3", "component", "nosuch", "Tuntematon palvelu. Sopimuksen palvelut: mainio, alkukartoitus, omavalmentaja, "
                                     "yrityskoordinaattori, tredu."),
        ("3", "municipality", "Nowhere", "Tuntematon kunta: ei sopimuksen kunnan koodi eikä nimi."),
        ("3", "quantity", "x", "Odotettiin lukua, esimerkiksi 12,5 tai 12.5."),
        ("4", "event_id", "X-2", "Sama tieto on jo tiedoston aiemmalla rivillä."),
        ("4", "customer", "", "Arvo puuttuu."),
        ("5", "date", "2022-02-01", "Vuodelle ei ole tallennettu sopimusta. Tietoja voi tuoda vuosille: 2021."),
        ("6", "quantity", "1.12345", "Liikaa desimaaleja: enintään 4."),
    ]
    assert "Tiedoston tapahtumat.csv virheet (8)" in answer.text
    assert '<a href="#file-events">Tiedostoa tapahtumat.csv ei tuotu' in answer.text  # the summary, to the field
    assert "Mitään ei tallennettu." in answer.text


@pytest.mark.parametrize("lang, reason", [
    ("sv", "Okänd kommun: varken koden eller namnet på en kommun i avtalet."),
    ("en", "Unknown municipality: not the code or name of a municipality of the agreement."),
])
def test_the_reasons_are_in_the_readers_language(browser_for, lang, reason):
    c = browser_for("valmistelija")
    c.cookies.set("osuus_lang", lang)
    answer = upload(c, "events", "tapahtumat.csv", BAD_EVENTS)
    assert answer.status_code == 422 and f'<html lang="{lang}">' in answer.text
    assert reason in [row[3] for row in ProblemRows(answer.text).rows]


def test_a_header_without_its_columns_is_refused_in_words(browser_for):
    answer = upload(browser_for("valmistelija"), "counts", "luvut.csv", b"key;municipality;paiva;value\nx;020;1;2\n")
    assert answer.status_code == 422
    rows = ProblemRows(answer.text).rows
    assert ("1", "paiva", "", "Tuntematon sarake. Sallitut sarakkeet: key, municipality, date, value, source.") in rows
    assert ("1", "date", "", "Pakollinen sarake puuttuu otsikkoriviltä.") in rows


def test_a_file_of_another_kind_is_refused(browser_for):
    answer = upload(browser_for("valmistelija"), "costs", "kulut.pdf", b"%PDF-1.7")
    assert answer.status_code == 422
    assert ProblemRows(answer.text).rows == [
        ("", "", ".pdf", "Tuntematon tiedostotyyppi: odotettiin .csv- tai .xlsx-tiedostoa.")]


def test_no_file_or_a_bad_year_is_said_at_the_field(browser_for, web_ledger):
    c = browser_for("valmistelija")
    before = stored(web_ledger)
    empty = upload(c, "costs", "", b"")
    assert empty.status_code == 422 and '<a href="#file-costs">Valitse tuotava tiedosto.</a>' in empty.text
    assert 'aria-invalid="true"' in empty.text
    year = upload(c, "events", "events.csv", b"event_id\n", year="20x1")
    assert year.status_code == 422 and '<a href="#year-events">Anna vuosi numeroina' in year.text
    assert 'value="20x1"' in year.text
    assert c.post(f"{PAGE}/nosuch", data={"csrf_token": csrf(c)}).status_code == 404
    assert stored(web_ledger) == before


def xlsx(*rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_file_is_checked_row_by_row(browser_for, web_ledger):
    before = stored(web_ledger)
    answer = upload(browser_for("valmistelija"), "counts", "luvut.xlsx", xlsx(
        ["key", "municipality", "date", "value"],
        ["asukasluku", "Atlantis", "2021-12-31", 100],
        ["asukasluku", "020", "31.12.2021", -5]))
    assert answer.status_code == 422
    assert ProblemRows(answer.text).rows == [
        ("2", "municipality", "Atlantis", "Tuntematon kunta: ei sopimuksen kunnan koodi eikä nimi."),
        ("3", "value", "-5", "Luku ei saa olla negatiivinen."),
    ]
    assert stored(web_ledger) == before


def test_an_xlsx_file_of_rows_stored_before_adds_nothing(browser_for, web_ledger):
    before = stored(web_ledger)
    answer = upload(browser_for("valmistelija"), "counts", "luvut.xlsx", xlsx(
        ["key", "municipality", "date", "value"],
        ["asukasluku", "020", "2020-12-31", 16550],  # as in examples/2021/counts.csv
        ["asukasluku", "108", "2020-12-31", 10353]))
    assert answer.status_code == 303
    shown = browser_for("valmistelija").get(answer.headers["location"])
    assert "luvut.xlsx: 2 riviä, kaikki jo tallennettu; mitään ei lisätty." in shown.text
    assert stored(web_ledger) == before


def test_with_htmx_the_answer_replaces_the_content(browser_for):
    c = browser_for("valmistelija")
    refused = upload(c, "events", "tapahtumat.csv", BAD_EVENTS, headers={"HX-Request": "true"})
    # 422, which base.html's htmx-config swaps in (htmx swaps no 4xx answer by default)
    assert refused.status_code == 422
    assert "<html" not in refused.text and '<table class="problems">' in refused.text
    assert len(ProblemRows(refused.text).rows) == 8
    page = c.get(PAGE, headers={"HX-Request": "true"})
    assert "<html" not in page.text and "<h1>Tuonnit</h1>" in page.text


# --- these import the example costs, so they come last --------------------------------------------

def test_a_good_file_is_imported_and_summed_up_after_a_redirect(browser_for, web_ledger):
    before = stored(web_ledger)
    assert before["costs"] == 0
    answer = upload(browser_for("valmistelija"), "costs", "costs.csv", (EXAMPLES / "costs.csv").read_bytes())
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(f"{PAGE}?")
    rows = lines_of("costs.csv")
    after = stored(web_ledger)
    assert after["costs"] == rows and after["files"] == before["files"] + 1
    shown = browser_for("valmistelija").get(location)
    assert shown.status_code == 200
    assert f"costs.csv: {rows} riviä tarkistettu, {rows} lisätty." in shown.text
    row = re.search(r'<tr><th scope="row">2021</th>(.*?)</tr>', shown.text).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[-1] == str(rows)


def test_the_same_file_again_is_already_imported(browser_for, web_ledger):
    before = stored(web_ledger)
    answer = upload(browser_for("valmistelija"), "costs", "costs.csv", (EXAMPLES / "costs.csv").read_bytes())
    assert answer.status_code == 303
    shown = browser_for("valmistelija").get(answer.headers["location"])
    assert "costs.csv: sama tiedosto on jo tuotu; mitään ei lisätty." in shown.text
    assert stored(web_ledger) == before


def test_every_reason_the_page_knows_is_in_the_catalogue():
    from osuus.render.i18n import catalogue
    from osuus.web.pages.imports import REASONS

    codes = {to for _, _, to in REASONS} | {"privacy.personal-code", "request.file-name", "file.missing",
                                            "file.folder", "file.unreadable"}
    for lang in ("fi", "sv", "en"):
        missing = [code for code in codes if not catalogue(lang).has(f"problem.{code}")]
        assert not missing, (lang, missing)


@pytest.mark.parametrize("message, code, key", [
    ("expected an integration year: a whole number from 1 to 5", "import.not-integer", "1–5"),
    ("expected a date of the years 1900–2200", "import.date-range", "1900–2200"),
    ("the year 2020 is closed; its costs can no longer change", "import.closed-year", "2020"),
    ("… and 12 more problems (only the first 1000 are listed)", "import.more", ""),
    ("a reason no one has written yet", "import", ""),
])
def test_a_reason_is_given_its_own_code_and_detail(message, code, key):
    from osuus.problems import Problem
    from osuus.web.pages.imports import readable

    raised = "import" if code == "import" else code if code in ("import.closed-year", "import.more") else "import"
    found = readable(Problem(message, code=raised))
    assert (found.code, found.key, found.message) == (code, key, message)


def test_a_refused_files_problems_are_counted_with_those_not_listed():
    from osuus.problems import Problem
    from osuus.web.pages.imports import problem_count

    listed = [Problem("x", code="import")] * 3 + [Problem("… and 7 more problems (only the first 3 are listed)",
                                                          code="import.more")]
    assert problem_count(listed) == 10
    assert problem_count(listed[:3]) == 3
