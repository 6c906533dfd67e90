"""PDF renderers of the annual report and the appendix tables.

The appendix figures below are transcribed by hand from the published appendix,
shared/seeds/001_058df844e514d4a2.txt ("Taulukko 1 19.11.2020", "Taulukko 2
17.11.2020"), in the seed's own notation; the same figures are in
tests/test_golden_2021.py. They are NOT the program's output.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import struct
import subprocess
import zlib
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pypdf
import pytest

pytest.importorskip("typst", reason="the PDF extra (typst) is not installed")

from osuus.agreement.load import load_agreement
from osuus.billing.report import AnnualReport, MoneyLine, ServiceLine
from osuus.documents.model import AnnualReportDocument, PartyDocument, PostalAddress
from osuus.engine import allocate
from osuus.render.pdf.reports import annual_report_pdf, appendix_pdf

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
PDFTOPPM = "/usr/bin/pdftoppm"
PREVIEW = Path("/tmp/osuus-pdf")

# Rows of the seed, figures in the seed's order (columns the layout shows
# differently are left out: the seed prints 38,5 % × K to two decimals, "15,40",
# where the layout shows the exact "15,4").
T1_ROWS = {
    # Taulukko 1, "Kuntien maksuosuudet 2021"
    "Sastamala": ["24 277", "4,7 %", "6 706", "3 885", "3 774", "3 436", "17 800", "20 %", "3 560", "14 240"],
    "Tampere": ["238 140", "46,0 %", "65 777", "38 107", "37 020", "33 704", "174 609", "178 169"],
    "Akaa": ["16 475", "3,2 %", "4 551", "2 636", "2 561", "2 332", "12 080", "12 080"],
    # Taulukko 1, "Kokeilun jaettavat kustannukset 2021"
    "Kokeilukokonaisuuden johtaminen ja koordinointi": ["122 210", "20 776", "142 986", "77 212"],
}
T2_ROWS = {
    # Taulukko 2, "Pirkanmaan keskitetyt maahanmuuttajapalvelut 2021"
    "Pirkkala": ["101", "5,05", "6", "40", "16", "10,6 %", "4 962", "840", "22 400", "7 840", "11 200", "47 242"],
    "Mänttä-Vilppula": ["68", "3,4", "4", "43", "17", "7,2 %", "3 341", "560", "23 800", "8 330", "12 040", "48 071"],
}
SEED_SUMS = {
    # "Summa | 517 666 | 1,00 | 142 986 | 82 837 | 80 474 | 73 265 | 379 562 | 379 562" (the share
    # "1,00" is shown as "100,0 %")
    "Taulukko 1": ["517 666", "142 986", "82 837", "80 474", "73 265", "379 562", "379 562"],
    # "Summa | 949 | 47,45 | 337 | 129,75 | 100,0 % | 46 623 | ... | 411 953" (the layout shows the
    # exact 129,745)
    "Taulukko 2": ["949", "47,45", "337", "100,0 %", "46 623", "8 260", "194 600", "68 110", "94 360", "411 953"],
}
# Taulukko 2, the host's part: "Tampereen osuus" and "Yhteensä" of all services
SEED_HOST = ["248 148", "33 740", "1 002 797", "482 282", "416 080", "2 183 047"]
SEED_ALL = ["294 771", "42 000", "1 197 397", "550 392", "510 440", "2 595 000"]


def plain(text: str) -> str:
    """No-break spaces (before "€") and narrow ones (between digit groups) read as spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def text_of(pdf: bytes) -> list[str]:
    """The text of each page, spaces made plain."""
    reader = pypdf.PdfReader(BytesIO(pdf))
    return [plain(page.extract_text()) for page in reader.pages]


def rows_of(pdf: bytes) -> list[list[list[str]]]:
    """Per page, the lines of text as lists of cells: each cell of a table is one text run,
    so a table row reads back as its cells, left to right."""
    pages = []
    for page in pypdf.PdfReader(BytesIO(pdf)).pages:
        lines: dict[float, list[tuple[float, str]]] = {}

        def visit(text, cm, tm, font, size, lines=lines):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                lines.setdefault(round(y, 1), []).append((x, plain(text.strip())))

        page.extract_text(visitor_text=visit)
        pages.append([[t for _, t in sorted(lines[y])] for y in sorted(lines, reverse=True)])
    return pages


def subsequence(cells: list[str], figures: list[str]) -> bool:
    """The figures are whole cells of the row, in this order."""
    it = iter(cells)
    return all(any(c == f for c in it) for f in figures)


def rows_starting(page: list[list[str]], label: str) -> list[list[str]]:
    return [r for r in page if r and r[0] == label]


def in_order(line: str, figures: list[str]) -> bool:
    """Every figure appears in the line of text, not inside a longer number, in this order."""
    pos = 0
    for fig in figures:
        m = re.compile(r"(?<![\d,.])" + re.escape(fig) + r"(?![\d])").search(line, pos)
        if m is None:
            return False
        pos = m.end()
    return True


def line_starting(text: str, label: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith(label + " ")]
    assert lines, f"no line for {label!r}"
    return lines[0]


@pytest.fixture(scope="module")
def allocation():
    agreement, problems = load_agreement(AGREEMENT)
    assert agreement is not None and not problems, problems
    result = allocate(agreement)
    assert not result.problems, result.problems
    return result


@pytest.fixture(scope="module")
def appendix_fi(allocation) -> bytes:
    return appendix_pdf(allocation)


# ---------------------------------------------------------------------------
# the appendix
# ---------------------------------------------------------------------------

def find_table(pages: list[list[list[str]]], caption: str) -> list[list[str]]:
    """The lines of the pages of one table, from its caption to the next one."""
    lines = [line for page in pages for line in page]
    first = next(i for i, line in enumerate(lines) if line[0].startswith(caption + ":"))
    word = caption.split()[0]
    rest = [i for i, line in enumerate(lines) if i > first and line[0].startswith(word + " ")]
    return lines[first:rest[0] if rest else None]


def test_appendix_shows_the_published_figures(appendix_fi):
    pages = rows_of(appendix_fi)
    t1 = find_table(pages, "Taulukko 1")
    t2 = find_table(pages, "Taulukko 2")
    for table, seed in ((t1, T1_ROWS), (t2, T2_ROWS)):
        for label, figures in seed.items():
            (row,) = rows_starting(table, label)
            assert subsequence(row[1:], figures), (label, row)
    # Taulukko 1 has two sums (the services and the municipalities); Taulukko 2 one
    assert any(subsequence(r, SEED_SUMS["Taulukko 1"]) for r in rows_starting(t1, "Summa"))
    assert any(subsequence(r, SEED_SUMS["Taulukko 2"]) for r in rows_starting(t2, "Summa"))
    assert any(subsequence(r, SEED_HOST) for r in rows_starting(t2, "Tampereen osuus"))
    assert any(subsequence(r, SEED_ALL) for r in rows_starting(t2, "Yhteensä"))
    # Taulukko 2's unit prices keep their cents
    assert any(subsequence(r, ["1 400,00"]) for r in rows_starting(t2, "OMA-valmennus"))
    # every municipality once in Taulukko 1, the members in Taulukko 2
    assert len([r for r in t1 if len(r) == 11]) == 22 + 1
    assert ["Taulukko 1: Kuntien maksuosuudet 2021", "Taulukko 1 (19.11.2020)"] in t1
    header = next(r for r in t1 if r[0] == "Kunta")
    assert header[-1] == "Maksuosuudet"


def test_appendix_pages_are_landscape_and_text_stays_on_the_page(appendix_fi):
    reader = pypdf.PdfReader(BytesIO(appendix_fi))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        assert width > height
        starts = []

        def visit(text, cm, tm, font, size, starts=starts):
            if text.strip():
                starts.append(tm[4] * cm[0] + tm[5] * cm[2] + cm[4])

        page.extract_text(visitor_text=visit)
        assert starts
        # the house margins are 20 mm (56.7 pt): no column may start in or beyond the right one
        assert min(starts) >= 50 and max(starts) < width - 50, (min(starts), max(starts))


def test_appendix_in_english_and_swedish(allocation):
    en = rows_of(appendix_pdf(allocation, "en"))
    # the agreement's own English title and captions; its Finnish ones without them
    assert ["Pirkanmaa municipal employment experiment: cost-sharing appendix 2021"] in en[0]
    (row,) = rows_starting(find_table(en, "Table 1"), "Sastamala")
    assert subsequence(row, ["24,277", "4.7%", "6,706", "17,800", "20%", "3,560", "14,240"]), row
    t2 = find_table(en, "Table 2")
    (row,) = rows_starting(t2, "Pirkkala")
    assert subsequence(row, ["101", "5.05", "10.6%", "47,242"]), row
    assert any(subsequence(r, ["1,400.00"]) for r in rows_starting(t2, "OMA coaching"))
    sv = rows_of(appendix_pdf(allocation, "sv"))
    assert ["Birkalands kommunförsök för främjande av sysselsättningen: bilaga om kostnadsfördelning 2021"] in sv[0]
    assert any("Ansvarskommun: Tammerfors" in r[0] for r in sv[0])  # municipalities by their Swedish names
    # headings in Swedish; figures written as in Finland
    (row,) = rows_starting(find_table(sv, "Tabell 1"), "Sastamala")
    assert subsequence(row, T1_ROWS["Sastamala"])
    without = allocation._replace(agreement=allocation.agreement._replace(
        title=allocation.agreement.title._replace(en="")))
    assert ["Cost-sharing appendix 2021"] in rows_of(appendix_pdf(without, "en"))[0]


# ---------------------------------------------------------------------------
# the annual report
# ---------------------------------------------------------------------------

def party(name: str, name_sv: str, code: str, business_id: str, street: str, postcode: str) -> PartyDocument:
    return PartyDocument(name=name, name_sv=name_sv, code=code, business_id=business_id,
                         address=PostalAddress(street, postcode, name), contact="Talouspalvelut")


HOST = party("Tampere", "Tammerfors", "837", "0211675-2", "PL 487", "33101")
PIRKKALA = party("Pirkkala", "Birkala", "604", "0149999-5", "Suupantie 11", "33960")


SHIPPED, _ = load_agreement(AGREEMENT)


def year_2021(**changes) -> AnnualReport:
    """Pirkkala's year, made up by hand: a masked count, missing values."""
    values = dict(
        year=2021, municipality="604", customers=3,
        services=(ServiceLine("mainio", "hour", 12, Decimal("18.5"), 3),
                  ServiceLine("alkukartoitus", "assessment", 6, Decimal(6), 6)),
        money=(MoneyLine("johtaminen", Decimal("5420.00"), Decimal("5420.00"), Decimal("5311.62")),
               MoneyLine("mainio", None, Decimal("740.00"), Decimal("812.40")),
               MoneyLine("omavalmentaja", Decimal("22400.00"), Decimal("21000.00"), None)),
        travel_and_interpretation=Decimal("312.80"), estimate=Decimal("47242.00"), billed=Decimal("45790.35"),
        actual=Decimal("46650.12"), settlement=Decimal("859.77"), settlement_documents=())
    values.update(changes)
    return AnnualReport(**values)


def year_2020() -> AnnualReport:
    """The year before, for the chart: what was paid for each item (the actual share)."""
    return AnnualReport(2020, "604", 7, (), (MoneyLine("johtaminen", None, Decimal("5100.00"), Decimal("5102.00")),
                                             MoneyLine("omavalmentaja", None, Decimal("18000.00"), Decimal("18200.00"))),
                        Decimal(0), None, Decimal("23100.00"), Decimal("23302.00"), Decimal("202.00"), ())


def report(current: AnnualReport | None = None, previous: AnnualReport | None | bool = True) -> AnnualReportDocument:
    if previous is True:
        previous = year_2020()
    return AnnualReportDocument(date=dt.date(2022, 2, 15), seller=HOST, buyer=PIRKKALA, report=current or year_2021(),
                                agreement=SHIPPED, previous=previous or None, previous_agreement=SHIPPED)


def test_annual_report_in_finnish():
    pdf = annual_report_pdf(report())
    # figures as on the invoices: no-break spaces between digit groups and before €
    assert "47\u00a0242,00\u00a0€" in pypdf.PdfReader(BytesIO(pdf)).pages[0].extract_text()
    (text,) = text_of(pdf)
    box = pypdf.PdfReader(BytesIO(pdf)).pages[0].mediabox
    assert float(box.height) > float(box.width)  # portrait
    assert "Vuosiraportti 2021: Pirkkala" in text
    assert "Tampere" in text and "Y-tunnus 0149999-5" in text and "15.2.2022" in text
    assert re.search(r"Asiakkaita vuonna 2021\s+<5", text)
    assert in_order(line_starting(text, "Omakielinen neuvonta (Mainio) tunti"), ["12", "18,5", "<5"])
    assert in_order(line_starting(text, "Alkukartoitus työvoiman ulkopuolisille kartoitus"), ["6", "6", "6"])
    assert in_order(line_starting(text, "Kokeilukokonaisuuden johtaminen ja koordinointi"),
                    ["5 420,00 €", "5 420,00 €", "5 311,62 €"])
    assert "Omakielinen neuvonta (Mainio) – 740,00 € 812,40 €" in text  # no estimate: a dash
    assert "OMA-valmennus 22 400,00 € 21 000,00 € –" in text
    assert "312,80 €" in text
    for figure in ("47 242,00 €", "45 790,35 €", "46 650,12 €", "859,77 €"):
        assert figure in text
    assert "lisälaskutus" in text and "Tasataan vuoden 2022 ensimmäisellä laskulla." in text
    # the chart: title, legend, a value at the end of each bar
    assert "Osuus palveluittain, vuosivertailu" in text
    assert "2020" in text and "2021" in text
    for value in ("5 102 €", "5 312 €", "18 200 €", "21 000 €", "0 €", "812 €"):
        assert value in text


def test_annual_report_in_swedish_uses_swedish_names():
    (text,) = text_of(annual_report_pdf(report(), "sv"))
    assert "Årsrapport 2021: Birkala" in text
    assert "Tammerfors" in text and "Avsändare".upper() in text
    assert re.search(r"Kunder år 2021\s+<5", text)
    for figure in ("47 242,00 €", "45 790,35 €", "46 650,12 €", "859,77 €", "21 000 €"):
        assert figure in text
    assert "Utjämnas på den första fakturan år 2022." in text


def test_annual_report_in_english():
    (text,) = text_of(annual_report_pdf(report(), "en"))
    assert "Annual report 2021: Pirkkala" in text
    assert "15 February 2022" in text
    assert re.search(r"Customers in 2021\s+<5", text)
    for figure in ("€47,242.00", "€45,790.35", "€46,650.12", "€859.77", "€21,000", "18.5"):
        assert figure in text
    assert "Share by service, year on year" in text


def test_settlement_credit_on_named_documents_and_an_open_year():
    settled = year_2021(settlement=Decimal("-120.50"),
                        settlement_documents=(("2022-00001", Decimal("-5.38")), ("2022-00045", Decimal("-115.12"))))
    (text,) = text_of(annual_report_pdf(report(settled)))
    assert "-120,50 €" in text and "hyvitys" in text
    assert "Tasaus laskulla 2022-00001 (-5,38 €), 2022-00045 (-115,12 €)." in text
    (text,) = text_of(annual_report_pdf(report(year_2021(actual=None, settlement=None)), "en"))
    assert "once the year's actual costs are confirmed" in text


def test_chart_with_one_year_and_without_data():
    (text,) = text_of(annual_report_pdf(report(previous=None)))
    assert "Osuus palveluittain 2021" in text and "21 000 €" in text and "5 102 €" not in text
    empty = year_2021(money=())
    (text,) = text_of(annual_report_pdf(report(empty, previous=None)))
    assert "Osuus palveluittain" not in text
    assert "Vuosi yhteensä" in text


def test_the_chart_matches_the_years_by_item_not_by_title():
    """An item is one bar with both years' values, whatever the agreement of each year calls it."""
    from osuus.render.pdf.reports import annual_report_data

    chart = annual_report_data(report())["chart"]
    assert chart["years"] == ["2020", "2021"]
    labels = [bar["label"] for bar in chart["bars"]]
    assert labels == ["Kokeilukokonaisuuden johtaminen ja koordinointi", "Omakielinen neuvonta (Mainio)",
                      "OMA-valmennus"]
    assert [[v["text"] for v in bar["values"]] for bar in chart["bars"]] == [
        ["5\u00a0102\u00a0€", "5\u00a0312\u00a0€"], ["0\u00a0€", "812\u00a0€"], ["18\u00a0200\u00a0€", "21\u00a0000\u00a0€"]]


def test_languages(allocation):
    with pytest.raises(ValueError, match="fi, sv, en"):
        annual_report_pdf(report(), "de")
    with pytest.raises(ValueError, match="fi, sv, en"):
        appendix_pdf(allocation, "no")


# ---------------------------------------------------------------------------
# a look at the first page of each
# ---------------------------------------------------------------------------

def png_size_and_ink(png: bytes) -> tuple[int, int, float]:
    """Width, height and the share of pixels that are not white, from an 8-bit PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert depth == 8 and colour in (0, 2, 6), (depth, colour)
    channels = {0: 1, 2: 3, 6: 4}[colour]
    data, pos = b"", 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    previous = bytearray(stride)
    inked = 0
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG filter of the line
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p_ = a + b - c
                pa, pb, pc = abs(p_ - a), abs(p_ - b), abs(p_ - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        inked += sum(1 for x in range(0, stride, channels) if min(line[x:x + min(channels, 3)]) < 0xF0)
        previous = line
    return width, height, inked / (width * height)


@pytest.mark.skipif(not Path(PDFTOPPM).exists() and shutil.which("pdftoppm") is None,
                    reason="pdftoppm (poppler-utils) is not installed: cannot render the PDFs to images")
def test_first_pages_render_to_images(allocation, appendix_fi, tmp_path):
    tool = PDFTOPPM if Path(PDFTOPPM).exists() else shutil.which("pdftoppm")
    documents = {"appendix": appendix_fi, "report": annual_report_pdf(report())}
    for name, pdf in documents.items():
        source = tmp_path / f"{name}.pdf"
        source.write_bytes(pdf)
        subprocess.run([tool, "-png", "-r", "80", "-f", "1", "-l", "1", str(source), str(tmp_path / name)],
                       check=True, capture_output=True, timeout=60)
        (image,) = tmp_path.glob(f"{name}-*.png")
        png = image.read_bytes()
        width, height, ink = png_size_and_ink(png)
        assert (width > height) == (name == "appendix")
        assert min(width, height) > 500
        assert 0.01 < ink < 0.5, ink  # text and rules on a white page, neither blank nor a black box
        try:  # for a person to look at
            PREVIEW.mkdir(exist_ok=True)
            (PREVIEW / f"{name}-page1.png").write_bytes(png)
            (PREVIEW / f"{name}.pdf").write_bytes(pdf)
        except OSError:
            pass
