"""The invoices' pages: the list searched and filtered, one document with its lines, each line
explained down to the clause, the documents, a credit note's draft; a member sees its own only.

Figures are the seeds' (tests/api/conftest.py: the 2021 example, January–March invoiced, so 21
members × 3 = 63 invoices numbered 2021-00001…63 in run order) and checked by hand: a January
invoice's first line is 1/12 of the member's annual share in Taulukko 1, in cents rounded down
(README: Sastamala 14 240,27 € / 12 = 1 186,68 €).
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal

import pytest

from tests.web.conftest import AREA, OTHER_AREA, csrf

BASE = f"/areas/{AREA}/invoices"
SASTAMALA, AKAA_JANUARY, NOKIA_JANUARY = "2021-00016", "2021-00001", "2021-00009"


def money(value: str, lang: str = "fi") -> str:
    from osuus.render.formats import formats

    return formats(lang).money(Decimal(value))


def numbers_in(html: str) -> list[str]:
    """The invoice numbers the list's rows link to, in order."""
    return re.findall(r'<th scope="row"><a href="/areas/[^/]+/invoices/([0-9-]+)">', html)


def test_the_list_is_paged_in_number_order(browser_for):
    c = browser_for("valmistelija")
    first = c.get(BASE)
    assert first.status_code == 200
    assert numbers_in(first.text) == [f"2021-{n:05d}" for n in range(1, 51)]
    assert "1–50" in first.text and "63" in first.text
    second = c.get(f"{BASE}?page=2")
    assert numbers_in(second.text) == [f"2021-{n:05d}" for n in range(51, 64)]
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


@pytest.mark.parametrize("query, expected", [
    ("period=2021-02", [f"2021-{n:05d}" for n in range(22, 43)]),  # the February run: 21 invoices
    ("municipality=790", ["2021-00016", "2021-00037", "2021-00058"]),  # Sastamala, January to March
    ("municipality=790&period=2021-03", ["2021-00058"]),
    ("number=2021-00016", ["2021-00016"]),
    ("year=2021&kind=invoice&municipality=020", ["2021-00001", "2021-00022", "2021-00043"]),
    ("kind=credit_note", []),  # the credit notes are drafts still
    ("year=2020", []),
])
def test_the_filters_narrow_the_list(browser_for, query, expected):
    answer = browser_for("tarkastaja").get(f"{BASE}?{query}")
    assert answer.status_code == 200
    assert numbers_in(answer.text) == expected


def test_a_filter_that_is_not_valid_is_said_next_to_its_field(browser_for):
    answer = browser_for("valmistelija").get(f"{BASE}?period=2021-13&year=kaksi")
    assert answer.status_code == 400
    assert 'href="#period"' in answer.text and 'href="#year"' in answer.text
    assert numbers_in(answer.text) == []


def test_a_member_lists_its_own_invoices_only(browser_for):
    c = browser_for("akaa")
    answer = c.get(BASE)
    assert answer.status_code == 200
    assert numbers_in(answer.text) == ["2021-00001", "2021-00022", "2021-00043"]
    assert 'id="municipality"' not in answer.text  # no choice of another municipality
    assert numbers_in(c.get(f"{BASE}?municipality=536").text) == ["2021-00001", "2021-00022", "2021-00043"]
    assert numbers_in(c.get(f"{BASE}?number={NOKIA_JANUARY}").text) == []


def test_an_invoice_shows_its_lines_and_the_first_is_a_twelfth_of_the_annual_share(browser_for):
    answer = browser_for("valmistelija").get(f"{BASE}/{SASTAMALA}")
    assert answer.status_code == 200
    text = answer.text
    assert "<h1>Lasku 2021-00016</h1>" in text
    assert "Sastamala (790)" in text
    twelfth = (Decimal("14240.27") / 12).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assert twelfth == Decimal("1186.68")
    assert f"vuosiosuus {money('14240.27')}" in text and money(str(twelfth)) in text
    assert money("1736.68") in text  # the invoice's total
    assert f'href="{BASE}/{SASTAMALA}/lines/1"' in text
    for document in ("pdf", "finvoice", "peppol"):
        assert f'href="{BASE}/{SASTAMALA}/{document}"' in text


def test_a_line_is_explained_down_to_the_clause(browser_for):
    answer = browser_for("valmistelija").get(f"{BASE}/{SASTAMALA}/lines/1")
    assert answer.status_code == 200
    text = answer.text
    # the instalment, the share net of the discount, and the allocation by population with its clause
    assert f"{money('14240.27')} / 12 =" in text and money("1186.68") in text
    assert f"{money('17800.33')} − {money('3560.07')} =" in text
    assert "Taulukko 1; kohta 1" in text and "Kohta 6; kuntasopimuksen kohta 3.13" in text
    assert "24\u00a0277" in text or "24 277" in text  # Sastamala's population, 31.12.2019
    assert browser_for("valmistelija").get(f"{BASE}/{SASTAMALA}/lines/99").status_code == 404


def test_a_lines_explanation_opens_in_place_for_htmx(browser_for):
    answer = browser_for("valmistelija").get(f"{BASE}/{SASTAMALA}/lines/1", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "<html" not in answer.text and 'class="figure-tree"' in answer.text
    assert f"{money('14240.27')} / 12 =" in answer.text


def test_the_agreements_words_are_marked_finnish_on_a_swedish_page(browser_for):
    c = browser_for("akaa")
    c.cookies.set("osuus_lang", "sv")
    answer = c.get(f"{BASE}/{AKAA_JANUARY}/lines/1")
    assert answer.status_code == 200
    assert '<html lang="sv">' in answer.text and "<h1>Faktura 2021-00001, rad 1</h1>" in answer.text
    assert '<span lang="fi">Taulukko 1; kohta 1</span>' in answer.text


@pytest.mark.parametrize("path", ["", "/lines/1", "/pdf", "/finvoice", "/peppol"])
def test_another_members_invoice_is_not_there(browser_for, path):
    c = browser_for("akaa")
    other = c.get(f"{BASE}/{NOKIA_JANUARY}{path}")
    missing = c.get(f"{BASE}/2021-99999{path}")
    assert other.status_code == missing.status_code == 404
    assert re.search(r"<h1>(.*?)</h1>", other.text).group(1) == re.search(r"<h1>(.*?)</h1>", missing.text).group(1)
    assert "Nokia" not in other.text and NOKIA_JANUARY not in other.text.replace(f"{BASE}/{NOKIA_JANUARY}", "")


def test_a_member_reads_its_own_invoice_and_its_documents(browser_for):
    c = browser_for("akaa")
    page = c.get(f"{BASE}/{AKAA_JANUARY}")
    assert page.status_code == 200 and money("2016.64") in page.text
    assert 'action="' not in page.text.split("<main", 1)[1]  # no credit-note form for a member
    pdf = c.get(f"{BASE}/{AKAA_JANUARY}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_documents_are_pdf_finvoice_and_peppol(browser_for):
    from lxml import etree

    c = browser_for("valmistelija")
    pdf = c.get(f"{BASE}/{SASTAMALA}/pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    finvoice = c.get(f"{BASE}/{SASTAMALA}/finvoice")
    assert finvoice.headers["content-type"].startswith("application/xml")
    assert finvoice.headers["content-disposition"].startswith("attachment")
    root = etree.fromstring(finvoice.content)
    assert etree.QName(root).localname == "Finvoice"
    assert "1736,68" in finvoice.text or "1736.68" in finvoice.text
    peppol = etree.fromstring(c.get(f"{BASE}/{SASTAMALA}/peppol").content)
    assert etree.QName(peppol).localname == "Invoice"


def test_who_may_read_the_invoices(browser_for):
    for name in ("paakayttaja", "valmistelija", "hyvaksyja", "tarkastaja", "akaa", "nokia"):
        assert browser_for(name).get(BASE).status_code == 200, name
    assert browser_for("lappilainen").get(BASE).status_code == 404
    assert browser_for("lappilainen").get(f"/areas/{OTHER_AREA}/invoices").status_code == 200


def test_an_invoice_with_a_credit_draft_links_to_it_instead_of_a_form(browser_for, web_ledger):
    text = browser_for("valmistelija").get(f"{BASE}/{SASTAMALA}").text
    draft = web_ledger.drafts["approve"]  # the seeds' credit-note draft of Sastamala's January invoice
    assert f'href="/areas/{AREA}/runs/{draft}"' in text
    assert f'action="{BASE}/{SASTAMALA}/credit"' not in text


def test_a_credit_note_needs_a_reason(browser_for, web_ledger):
    c = browser_for("valmistelija")
    answer = c.post(f"{BASE}/{AKAA_JANUARY}/credit", data={"reason": "  ", "date": "2021-05-03", "csrf_token": csrf(c)})
    assert answer.status_code == 400
    assert 'href="#reason"' in answer.text and 'aria-invalid="true"' in answer.text
    assert c.post(f"{BASE}/{AKAA_JANUARY}/credit", data={"reason": "Väärä osoite", "date": "2021-05-03"},
                  follow_redirects=False).status_code == 403  # no CSRF token
    for name in ("hyvaksyja", "akaa", "tarkastaja"):
        other = browser_for(name)
        assert other.post(f"{BASE}/{AKAA_JANUARY}/credit", data={"reason": "x", "date": "2021-05-03",
                                                                   "csrf_token": csrf(other)}).status_code == 403


def test_a_preparer_drafts_a_credit_note_from_the_invoice(browser_for, web_ledger):
    from osuus.services.approval import list_drafts
    from osuus.services.ledger import Ledger

    c = browser_for("valmistelija")
    assert f'action="{BASE}/{AKAA_JANUARY}/credit"' in c.get(f"{BASE}/{AKAA_JANUARY}").text
    answer = c.post(f"{BASE}/{AKAA_JANUARY}/credit", data={"reason": "Väärä viite", "date": "2021-05-03",
                                                           "csrf_token": csrf(c)}, follow_redirects=False)
    assert answer.status_code == 303
    draft_id = int(answer.headers["location"].rsplit("/", 1)[1])
    with Ledger(web_ledger.url, "tarkastaja", area=AREA, readonly=True) as ledger:
        draft = next(d for d in list_drafts(ledger) if d.id == draft_id)
    assert (draft.kind, draft.subject, draft.reason, draft.prepared_by) == ("credit_note", AKAA_JANUARY,
                                                                             "Väärä viite", "valmistelija")
    assert draft.total == Decimal("-2016.64")  # the whole invoice, credited
    shown = c.get(answer.headers["location"])
    assert shown.status_code == 200 and money("-2016.64") in shown.text
    again = c.post(f"{BASE}/{AKAA_JANUARY}/credit", data={"reason": "Toinen kerta", "date": "2021-05-03",
                                                          "csrf_token": csrf(c)}, follow_redirects=False)
    assert again.status_code == 409 and "avoin luonnos" in again.text  # one draft of an invoice at a time
