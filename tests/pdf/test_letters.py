"""PDF invoices, credit notes and estimate letters (osuus.render.pdf.letters).

The documents are built by hand with 2021 figures of the Pirkanmaa agreement:
Pirkkala's yearly share of Taulukko 1 is 379 562,04 € × 19 623 / 517 666 =
14 387,94 €, invoiced in twelve instalments of 1 198,99 € (the last takes the
rest); service events are priced at the unit prices of kohta 5. The texts are
read back from the PDFs with pypdf.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst")

from osuus.agreement import load_agreement
from osuus.agreement.model import Text
from osuus.billing.estimate import Basis
from osuus.billing.kinds import DocumentKind, LineKind
from osuus.billing.lines import Line
from osuus.calendar import Period
from osuus.documents.model import (
    BankAccount,
    EstimateLetter,
    InvoiceDocument,
    PartyDocument,
    PostalAddress,
    VatTreatment,
)
from osuus.ids import pankkiviivakoodi, viitenumero
from osuus.render.formats import formats
from osuus.render.i18n import catalogue
from osuus.render.pdf.letters import (
    SUPPORTED,
    estimate_pdf,
    fmt_period,
    invoice_data,
    invoice_pdf,
)

PDFTOPPM = "/usr/bin/pdftoppm"
PREVIEW = Path("/tmp/osuus-pdf")
N = "\u00a0"  # the group separator of fi and sv figures (CLDR's no-break space)
ROOT = Path(__file__).resolve().parents[2]
AGREEMENT, _problems = load_agreement(ROOT / "agreements" / "pirkanmaa-2021.toml")

TAMPERE = PartyDocument(
    name="Tampere", name_sv="Tammerfors", code="837", business_id="0211675-2",
    address=PostalAddress("Kaupungintalo", "33100", "Tampere"),
    einvoice_address="003702116752", operator="003721291126", contact="Työllisyyspalvelut, talous",
)
PIRKKALA = PartyDocument(
    name="Pirkkala", name_sv="Birkala", code="604", business_id="0152084-1",
    address=PostalAddress("Kunnanvirasto", "33960", "Pirkkala"),
    einvoice_address="003701520841", operator="003721291126", contact="Työllisyyspalvelut",
    buyer_reference="Työllisyyden kuntakokeilu",
)
ACCOUNT = BankAccount("FI7944052020036082", "ITELFIHH", "Säästöpankki")
VAT = VatTreatment(category="O", exemption_code="VATEX-EU-O",
                   exemption_text=Text("Ei arvonlisäveron alaista: kuntien välinen lakisääteisten tehtävien "
                                       "kustannustenjako (yhteistoimintasopimus)"))
T1 = "Taulukko 1 (19.11.2020)"
K5_MAINIO = "Kohta 5: omakielinen neuvonta 40 €/tunti/käynti"
K5_ALKU = "Kohta 5: 140 € / kartoitus; Taulukko 2"
K5_TREDU = "Kohta 5: 280 € / asiakas; Taulukko 2"
PER_DIEM = "Verohallinnon päätös verovapaista matkakustannusten korvauksista vuonna 2021: kokopäiväraha 44 €"
KM = "Verohallinnon päätös verovapaista matkakustannusten korvauksista vuonna 2021: 0,44 €/km"

REFERENCE = viitenumero.from_invoice_number(2021, 15)  # 20210000155, printed "2 02100 00155"


def line(position: int, kind: LineKind, component: str, quantity: str, unit: str, price: str, period: str,
         reference: str, **details) -> Line:
    q, p = Decimal(quantity), Decimal(price)
    return Line(kind, component, Period.parse(period), q, unit, p, (q * p).quantize(Decimal("0.01")), reference,
                details, None, position)


LINES = (
    line(1, LineKind.ADVANCE, "yhteiset", "1", "instalment", "1198.99", "2021-03", T1,
         table="yhteiset", index=3, count=12, yearly="14387.94"),
    line(2, LineKind.EVENT, "mainio", "12.5", "hour", "40", "2021-02", K5_MAINIO, events=9),
    line(3, LineKind.EVENT, "alkukartoitus", "3", "assessment", "140", "2021-02", K5_ALKU, events=3),
    line(4, LineKind.EVENT, "tredu", "2", "customer", "280", "2021-02", K5_TREDU, events=2),
    line(5, LineKind.TRAVEL, "alkukartoitus", "1", "day", "44", "2021-02", PER_DIEM, item="per_diem"),
    line(6, LineKind.TRAVEL, "alkukartoitus", "86", "km", "0.44", "2021-02", KM, item="km"),
)
TOTAL = sum((ln.amount for ln in LINES), Decimal(0))  # 2 760,83


def make_invoice(lines: tuple[Line, ...] = LINES, *, use_rf: bool = False,
                 period: Period = Period.month(2021, 3)) -> InvoiceDocument:
    total = sum((ln.amount for ln in lines), Decimal(0))
    return InvoiceDocument(
        kind=DocumentKind.INVOICE, number="2021-00015", issue_date=dt.date(2021, 3, 31),
        due_date=dt.date(2021, 4, 21), period=period, seller=TAMPERE, account=ACCOUNT, buyer=PIRKKALA,
        reference=REFERENCE, reference_rf=viitenumero.to_rf(REFERENCE), use_rf=use_rf, lines=lines, total=total,
        vat=VAT, agreement=AGREEMENT)


def make_credit_note() -> InvoiceDocument:
    from osuus.billing.credit_notes import correction

    note = correction("604", "2021-00015", (LINES[2],))
    reference = viitenumero.from_invoice_number(2021, 16)
    return InvoiceDocument(
        kind=DocumentKind.CREDIT_NOTE, number="2021-00016", issue_date=dt.date(2021, 4, 9),
        due_date=dt.date(2021, 4, 9), period=Period.month(2021, 3), seller=TAMPERE, account=ACCOUNT,
        buyer=PIRKKALA, reference=reference, reference_rf=viitenumero.to_rf(reference), use_rf=False,
        lines=tuple(dataclasses.replace(ln, position=i) for i, ln in enumerate(note.lines, 1)), total=note.total,
        vat=VAT, agreement=AGREEMENT, credited_number="2021-00015", credited_issue_date=dt.date(2021, 3, 31),
        reason="Alkukartoitukset kirjattiin Pirkkalalle virheellisesti; asiakkaat olivat nokialaisia.")


def make_long_invoice(count: int = 40) -> InvoiceDocument:
    """Eight months of late-billed service events, invoiced with December: the lines of LINES[1:] again and again."""
    lines = []
    for i in range(count):
        model = LINES[1 + i % (len(LINES) - 1)]
        month = 1 + i // (len(LINES) - 1)
        lines.append(dataclasses.replace(model, position=i + 1, period=Period.month(2021, month)))
    return make_invoice(tuple(lines), period=Period.month(2021, 12))


PARTS = (("yhteiset", Decimal("14604.00")), ("mainio", Decimal("5094.00")), ("alkukartoitus", Decimal("840.00")),
         ("omavalmentaja", Decimal("22400.00")), ("yrityskoordinaattori", Decimal("7840.00")),
         ("tredu", Decimal("11200.00")))


def make_estimate() -> EstimateLetter:
    return EstimateLetter(
        year=2022, date=dt.date(2021, 8, 16), seller=TAMPERE, buyer=PIRKKALA,
        amount=sum((amount for _, amount in PARTS), Decimal(0)), parts=PARTS,
        basis=(Basis("projection", (("agreement", "pirkanmaa-2021"), ("year", 2021))),
               Basis("latest_counts", (("key", "asukasluku"),))),
        agreement=AGREEMENT, revision=1, instalments=12, instalment=Decimal("1217.00"))


def pdf_text(pdf: bytes) -> tuple[int, list[str]]:
    """The number of pages and each page's text. pypdf reads a soft hyphen (U+00AD) into some
    bold words ("Yhteens\xadä"); poppler's pdftotext does not, and neither do these texts."""
    reader = pypdf.PdfReader(BytesIO(pdf))
    return len(reader.pages), [page.extract_text().replace("\xad", "") for page in reader.pages]


def flat(text: str) -> str:
    """Text with its line breaks and runs of plain spaces made single spaces (figures keep their U+202F)."""
    return re.sub(r"[ \n]+", " ", text)


# --------------------------------------------------------------------------
# Texts and formats
# --------------------------------------------------------------------------

def fmt_amount(value: Decimal, lang: str = "fi") -> str:
    return formats(lang).amount(value)


def fmt_euros(value: Decimal, lang: str = "fi") -> str:
    return formats(lang).money(value)


def fmt_date(value: dt.date, lang: str = "fi") -> str:
    return formats(lang).date(value)


def fmt_quantity(value: Decimal, lang: str = "fi") -> str:
    return formats(lang).count(value)


@pytest.mark.parametrize("render", [lambda: invoice_pdf(make_invoice(), "de"),
                                    lambda: estimate_pdf(make_estimate(), "FI")])
def test_unknown_language_is_refused_naming_the_supported_ones(render):
    with pytest.raises(ValueError, match="fi, sv, en"):
        render()


def test_periods_months_and_quarters():
    assert fmt_period("2021-03") == "3/2021"
    assert fmt_period("2021-Q2") == "Q2/2021"
    quarterly = make_invoice(tuple(dataclasses.replace(ln, period=Period.quarter(2021, 1)) for ln in LINES),
                             period=Period.quarter(2021, 1))
    details = dict(invoice_data(quarterly, "fi")["details"])
    assert details["Laskutuskausi"] == "1.1.2021\u2009–\u200931.3.2021"
    yearly = make_invoice((line(1, LineKind.SETTLEMENT, "", "1", "lot", "5.38", "2021", "Kohta 5", year=2021,
                                settlement="year_end"),))
    assert dict(invoice_data(yearly, "en")["details"])["Billing period"] == "1 January 2021\u2009–\u200931 December 2021"


def test_units_and_the_same_clause_once():
    data = invoice_data(make_invoice(), "sv")
    assert [r["unit"] for r in data["lines"]] == ["rat", "timme", "kartläggning", "kund", "dygn", "km"]
    assert [r["mark"] for r in data["lines"]] == ["1", "2", "3", "4", "5", "6"]
    long = invoice_data(make_long_invoice(40))
    assert len(long["basis"]) == 5  # five distinct clauses for 40 lines
    assert {r["mark"] for r in long["lines"]} == {"1", "2", "3", "4", "5"}


def test_an_amount_too_large_for_the_barcode_is_left_for_the_payer_to_type():
    big = make_invoice((line(1, LineKind.SETTLEMENT, "", "1", "lot", "1000000.00", "2020", T1, year=2020,
                             settlement="year_end"),))
    slip = invoice_data(big)["slip"]
    assert slip["amount"] == f"1{N}000{N}000,00"
    assert slip["virtual"][17:25] == "00000000"  # the amount field of the bank barcode


# --------------------------------------------------------------------------
# The invoice
# --------------------------------------------------------------------------

EXPECTED_INVOICE = {
    "fi": ["LASKU", "Tampere", "Pirkkala", "Eräpäivä", "21.4.2021", "21 päivää netto", "Viitenumero",
           "Yhteensä", "Ei arvonlisäveron alaista", "Saajan tilinumero", "Maksajan nimi ja osoite",
           "Hintojen perusteet", "1.2.2021 – 31.3.2021"],
    "sv": ["FAKTURA", "Tammerfors", "Birkala", "Förfallodag", "21.4.2021", "21 dagar netto", "Referensnummer",
           "Totalt", "Ei arvonlisäveron alaista", "Mottagarens kontonummer", "Betalarens namn och adress",
           "Prisernas grunder", "1.2.2021 – 31.3.2021"],
    "en": ["INVOICE", "Tampere", "Pirkkala", "Due date", "21 April 2021", "21 days net", "Reference number",
           "Total", "Ei arvonlisäveron alaista", "Payee's account", "Payer's name and address",
           "Basis of the prices", "1 February 2021 – 31 March 2021"],
}


@pytest.mark.parametrize("lang", SUPPORTED)
def test_invoice_shows_parties_figures_and_payment_details(lang):
    doc = make_invoice()
    assert TOTAL == Decimal("2760.83")
    pages, texts = pdf_text(invoice_pdf(doc, lang))
    assert pages == 1
    text = flat(texts[0].replace("\u2009", " "))
    for expected in EXPECTED_INVOICE[lang]:
        assert expected in text, f"{lang}: {expected!r} not in the invoice"
    if lang == "sv":
        assert "Pirkkala" not in text.replace("Kunnanvirasto 33960 Pirkkala", "")
    # figures, formatted for the language
    for value in ("1198.99", "500.00", "420.00", "560.00", "44.00", "37.84", "2760.83", "0.44", "40.00"):
        assert fmt_amount(Decimal(value), lang) in text, f"{lang}: {value}"
    assert fmt_quantity(Decimal("12.5"), lang) in text
    assert fmt_euros(TOTAL, lang) in text
    # payment details
    assert "2 02100 00155" in text  # the reference in groups of five from the right
    assert "FI79 4405 2020 0360 82" in text and "ITELFIHH" in text
    assert "0211675-2" in text  # the host's business ID
    assert "003701520841" in text and "003721291126" in text  # the buyer's e-invoice address and operator
    assert "Työllisyyden kuntakokeilu" in text  # the buyer's reference
    virtual = pankkiviivakoodi.virtual_barcode(ACCOUNT.iban, TOTAL, REFERENCE, dt.date(2021, 4, 21))
    assert virtual.startswith("4794405202003608200276083") and virtual.endswith("210421")
    assert virtual in text.replace(" ", "")
    # the clause each price comes from
    for ref in (T1, K5_MAINIO, K5_TREDU):
        assert flat(ref) in text


def test_invoice_with_an_rf_reference_prints_it_in_groups_of_four():
    doc = make_invoice(use_rf=True)
    _, texts = pdf_text(invoice_pdf(doc))
    text = flat(texts[0])
    rf = doc.reference_rf
    assert rf.startswith("RF")
    assert " ".join(rf[i:i + 4] for i in range(0, len(rf), 4)) in text
    virtual = pankkiviivakoodi.virtual_barcode(ACCOUNT.iban, TOTAL, rf, doc.due_date)
    assert virtual.startswith("5") and virtual in text.replace(" ", "")


def test_long_invoice_flows_over_pages_with_the_header_repeated():
    doc = make_long_invoice(40)
    pages, texts = pdf_text(invoice_pdf(doc))
    assert pages > 1
    with_lines = [text for text in texts if "Jälkikirjaus" in text]
    assert len(with_lines) > 1
    for text in with_lines:  # each page with lines starts its table with the header
        assert text.count("Selite") == 1 and text.count("Toimitus") == 1 and text.count("hinta €") == 1
        assert text.index("Selite") < text.index("Jälkikirjaus")
    assert sum(t.count("Jälkikirjaus (") for t in texts) == 40
    everything = flat(" ".join(texts))
    assert fmt_euros(doc.total) in everything
    virtual = pankkiviivakoodi.virtual_barcode(ACCOUNT.iban, doc.total, REFERENCE, doc.due_date)
    # the payment slip is at the foot of the first page only; the lines flow above it and on
    assert virtual in texts[0].replace(" ", "") and "Saajan tilinumero" in texts[0]
    assert all(virtual not in t.replace(" ", "") and "Saajan tilinumero" not in t for t in texts[1:])
    assert texts[0].index("Jälkikirjaus") < texts[0].index("Saajan tilinumero")
    assert f"1 / {pages}" in texts[0] and f"{pages} / {pages}" in texts[-1]


# --------------------------------------------------------------------------
# The credit note
# --------------------------------------------------------------------------

EXPECTED_CREDIT = {
    "fi": ["HYVITYSLASKU", "Hyvitettävä lasku", "Hyvityksen syy", "Hyvitys yhteensä", "ei maksettavaa"],
    "sv": ["KREDITNOTA", "Krediterad faktura", "Orsak till krediteringen", "Kredit totalt", "inget att betala"],
    "en": ["CREDIT NOTE", "Credited invoice", "Reason for the credit", "Total credited", "nothing to pay"],
}


@pytest.mark.parametrize("lang", SUPPORTED)
def test_credit_note_shows_the_credited_invoice_and_no_payment_slip(lang):
    doc = make_credit_note()
    pages, texts = pdf_text(invoice_pdf(doc, lang))
    assert pages == 1
    text = flat(texts[0])
    for expected in EXPECTED_CREDIT[lang]:
        assert expected in text, f"{lang}: {expected!r} not in the credit note"
    assert "2021-00015" in text and fmt_date(dt.date(2021, 3, 31), lang) in text
    assert "asiakkaat olivat nokialaisia" in text
    assert fmt_amount(Decimal(-420), lang) in text
    assert ("Tammerfors" if lang == "sv" else "Tampere") in text
    # nothing to pay: no slip, no due date, no barcode
    assert "Saajan tilinumero" not in text and "Payee's account" not in text
    assert "Virtua" not in text and not re.search(r"\d{54}", text.replace(" ", ""))
    assert catalogue(lang).t("letter.due_date") not in text


CREDIT_SETTLED = {  # (settled_by, lang): what the credit note says instead of asking for a payment
    ("offset", "fi"): "Hyvitys vähennetään seuraavan laskumme maksusta.",
    ("offset", "sv"): "Krediteringen dras av från betalningen av vår nästa faktura.",
    ("offset", "en"): "The credit is deducted from the payment of our next invoice.",
    ("refund", "fi"): "Hyvitys maksetaan tilillenne.",
    ("refund", "sv"): "Krediteringen betalas till ert konto.",
    ("refund", "en"): "The credit is paid to your account.",
}


@pytest.mark.parametrize("settled_by, lang", sorted(CREDIT_SETTLED))
def test_credit_note_says_how_the_credit_is_settled(settled_by, lang):
    from osuus.agreement.model import CreditSettlement

    billing = AGREEMENT.billing._replace(credits=CreditSettlement(settled_by, "clause"))
    doc = dataclasses.replace(make_credit_note(), agreement=AGREEMENT._replace(billing=billing))
    _pages, texts = pdf_text(invoice_pdf(doc, lang))
    text = flat(texts[0])
    assert CREDIT_SETTLED[settled_by, lang] in text
    other = CREDIT_SETTLED["refund" if settled_by == "offset" else "offset", lang]
    assert other not in text


# --------------------------------------------------------------------------
# The estimate letter
# --------------------------------------------------------------------------

EXPECTED_ESTIMATE = {
    "fi": ["Arvio kuntaosuudesta vuodelle 2022", "16.8.2021", "12 kuukausierässä", "vuoden 2023 ensimmäisellä laskulla",
           "Tampere, työllisyyspalvelut", "Pirkkala", "Ystävällisin terveisin", "Arvio 2022, €"],
    "sv": ["Uppskattning av kommunandelen för år 2022", "16.8.2021", "12 månadsrater", "första fakturan år 2023",
           "Tammerfors, sysselsättningstjänster", "Birkala", "Med vänliga hälsningar", "Uppskattning 2022, €"],
    "en": ["Estimate of the municipal share for 2022", "16 August 2021", "12 monthly instalments",
           "first invoice of 2023", "Tampere, employment services", "Pirkkala", "Kind regards", "Estimate 2022, €"],
}


@pytest.mark.parametrize("lang", SUPPORTED)
def test_estimate_letter(lang):
    letter = make_estimate()
    assert letter.amount == Decimal("61978.00")
    pages, texts = pdf_text(estimate_pdf(letter, lang))
    assert pages == 1
    text = flat(texts[0])
    for expected in EXPECTED_ESTIMATE[lang]:
        assert expected in text, f"{lang}: {expected!r} not in the letter"
    for part, amount in letter.parts:
        assert fmt_amount(amount, lang) in text
        assert AGREEMENT.label_of(part, lang) in text
    assert fmt_amount(letter.amount, lang) in text  # the table's total
    assert fmt_euros(letter.amount, lang) in text  # and in the text
    assert fmt_euros(letter.instalment, lang) in text
    basis = {"fi": "viimeisimmillä luvuilla", "sv": "med de senaste siffrorna", "en": "with the latest counts"}
    assert basis[lang] in text  # the basis, in the letter's language


# --------------------------------------------------------------------------
# Pictures: what a reader sees
# --------------------------------------------------------------------------

@pytest.mark.skipif(not shutil.which(PDFTOPPM), reason=f"{PDFTOPPM} (poppler-utils) is not installed")
@pytest.mark.parametrize("name, render", [
    ("invoice", lambda: invoice_pdf(make_invoice())),
    ("credit-note", lambda: invoice_pdf(make_credit_note())),
    ("estimate", lambda: estimate_pdf(make_estimate())),
    ("invoice-long", lambda: invoice_pdf(make_long_invoice())),
])
def test_first_page_renders_to_a_picture(name, render, tmp_path):
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(render())
    subprocess.run([PDFTOPPM, "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / name)],
                   check=True, capture_output=True, timeout=60)
    (png,) = tmp_path.glob(f"{name}*.png")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (662, 936)  # A4 at 80 dpi
    assert len(data) > 20_000  # not a blank page
    PREVIEW.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, PREVIEW / f"letters-{name}.png")
    shutil.copy(pdf, PREVIEW / f"letters-{name}.pdf")


@pytest.mark.skipif(not shutil.which(PDFTOPPM), reason=f"{PDFTOPPM} (poppler-utils) is not installed")
def test_the_drawn_barcode_reads_back_as_its_modules(tmp_path):
    """Render page 1 at 254 dpi, where a 0.3 mm module is 3 pixels, and read the bars back along a row
    through the barcode: they must be the Code 128 modules of the virtual barcode, bar for bar."""
    doc = make_invoice()
    virtual = pankkiviivakoodi.virtual_barcode(ACCOUNT.iban, TOTAL, REFERENCE, doc.due_date)
    modules = pankkiviivakoodi.code128_modules(virtual)
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(invoice_pdf(doc))
    subprocess.run([PDFTOPPM, "-gray", "-r", "254", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=60)
    (pgm,) = tmp_path.glob("page*.pgm")
    raw = pgm.read_bytes()
    magic, width, height, maxval, *_ = raw.split(maxsplit=4)
    assert magic == b"P5" and int(maxval) == 255
    width, height = int(width), int(height)
    pixels = raw[len(raw) - width * height:]

    def runs(y: int) -> list[tuple[str, int]]:
        row = pixels[y * width:(y + 1) * width]
        out: list[tuple[str, int]] = []
        for value in row:
            bit = "1" if value < 128 else "0"
            if out and out[-1][0] == bit:
                out[-1] = (bit, out[-1][1] + 1)
            else:
                out.append((bit, 1))
        return out

    bars = modules.count("10") + 1  # runs of bars in the code
    for y in range(height - 1, 0, -1):  # the barcode is the lowest thing with that many bars
        found = runs(y)
        if sum(1 for bit, _ in found if bit == "1") == bars:
            break
    else:
        pytest.fail("no pixel row crosses the barcode")
    inner = found[1:-1]  # drop the white margins (quiet zones included)
    read = "".join(bit * round(length / 3) for bit, length in inner)
    assert read == modules


def test_pdfs_rendered_in_several_threads_at_once_are_the_same_bytes():
    """The server renders PDFs in its worker threads: a typst compiler shared between threads
    failed ("Already borrowed"); each thread has its own, and the bytes do not depend on which."""
    from concurrent.futures import ThreadPoolExecutor

    expected = invoice_pdf(make_invoice(), "fi")
    with ThreadPoolExecutor(8) as pool:
        rendered = list(pool.map(lambda _: invoice_pdf(make_invoice(), "fi"), range(32)))
    assert all(pdf == expected for pdf in rendered)
