"""The runs' pages: drafting a month, reviewing the draft per member with each line explained,
approving it (by another user, as shown) or rejecting it (with a reason), and the documents.

The module's ledger (tests/web/conftest.py, one per module) is the seeds': January–March
issued (2021-00001…63), April drafted (`drafts["run"]`), credit notes of Sastamala's and
Pirkkala's January invoices drafted (`drafts["approve"]`, `drafts["reject"]`). The tests change
it in their order: reviews first, then refusals, then approvals.
"""

from __future__ import annotations

import io
import re
import zipfile
from decimal import ROUND_DOWN, Decimal

import pytest

from tests.web.conftest import AREA, OTHER_AREA, PASSWORD, csrf

RUNS = f"/areas/{AREA}/runs"
INVOICES = f"/areas/{AREA}/invoices"
#: Sastamala's annual share in Taulukko 1 (README's explain example); an instalment is a twelfth of it, in
#: cents rounded down (the last of the year takes the rest).
SASTAMALA_YEARLY = Decimal("14240.27")
TWELFTH = (SASTAMALA_YEARLY / 12).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def money(value, lang: str = "fi") -> str:
    from osuus.render.formats import formats

    return formats(lang).money(Decimal(value))


def drafts_of(web_ledger):
    from osuus.services.approval import list_drafts
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "tarkastaja", area=AREA, readonly=True) as ledger:
        return {d.id: d for d in list_drafts(ledger, approved=True)}


def expected_hash(html: str) -> str:
    return re.search(r'name="expected" value="([0-9a-f]+)"', html).group(1)


def document_of(html: str, name: str) -> int:
    return int(re.search(rf'<a href="#document-(\d+)">{name}</a>', html).group(1))


@pytest.fixture(scope="module")
def both_roles(web_ledger):
    """A person who both prepares and approves (the use case, not the guard, refuses their own draft)."""
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "paakayttaja", area=AREA) as ledger:
        accounts.add_user(ledger, "kaksikko", password=PASSWORD)
        accounts.grant_role(ledger, "kaksikko", "preparer")
        accounts.grant_role(ledger, "kaksikko", "approver")
        return accounts.login(ledger, "kaksikko", PASSWORD, "testi").token


def signed_in(web_app, token: str):
    from tests.web.conftest import client

    c = client(web_app)
    c.cookies.set("__Host-osuus_session", token)
    return c


# -- reviewing ---------------------------------------------------------------------------

def test_the_runs_page_lists_the_open_drafts(browser_for, web_ledger):
    answer = browser_for("valmistelija").get(RUNS)
    assert answer.status_code == 200
    for draft in web_ledger.drafts.values():
        assert f'href="{RUNS}/{draft}"' in answer.text
    assert "huhtikuu 2021" in answer.text
    # a credit note of a whole invoice is that invoice negated: Sastamala's January, 1 736,68 €
    assert money("-1736.68") in answer.text
    assert f'action="{RUNS}"' in answer.text  # the preparer's form
    assert 'name="period" type="text" value="2021-05"' in answer.text  # the month after the newest run


def test_a_draft_is_reviewed_per_member_with_each_line(browser_for, web_ledger):
    draft = drafts_of(web_ledger)[web_ledger.drafts["run"]]
    answer = browser_for("hyvaksyja").get(f"{RUNS}/{draft.id}")
    assert answer.status_code == 200
    text = answer.text
    assert "<h1>Laskutusajo huhtikuu 2021 (luonnos 4)</h1>" in text
    assert len(re.findall(r'<section class="document"', text)) == 21
    totals = [Decimal(m.replace("\u00a0", "").replace(" ", "").replace(",", "."))
              for m in re.findall(r'<h3 id="document-\d+" tabindex="-1">[^:]+: ([^<]+?)\s*€</h3>', text)]
    assert len(totals) == 21 and sum(totals) == draft.total
    assert f"vuosiosuus {money(SASTAMALA_YEARLY)}" in text and money(TWELFTH) in text  # April: a twelfth again
    assert f'name="expected" value="{draft.content_hash}"' in text
    assert f'action="{RUNS}/{draft.id}/approve"' in text and f'action="{RUNS}/{draft.id}/reject"' in text


def test_a_drafted_line_is_explained_in_place_or_on_its_own_page(browser_for, web_ledger):
    c = browser_for("hyvaksyja")
    draft = web_ledger.drafts["run"]
    k = document_of(c.get(f"{RUNS}/{draft}").text, "Sastamala")
    own = c.get(f"{RUNS}/{draft}/documents/{k}/lines/1")
    assert own.status_code == 200
    assert f"{money(SASTAMALA_YEARLY)} / 12 =" in own.text and money(TWELFTH) in own.text
    assert "Taulukko 1; kohta 1" in own.text
    in_place = c.get(f"{RUNS}/{draft}/documents/{k}/lines/1", headers={"HX-Request": "true"})
    assert "<html" not in in_place.text and f"{money(SASTAMALA_YEARLY)} / 12 =" in in_place.text
    assert c.get(f"{RUNS}/{draft}/documents/99/lines/1").status_code == 404
    assert c.get(f"{RUNS}/{draft}/documents/{k}/lines/99").status_code == 404


def test_who_may_see_the_runs(browser_for, web_ledger):
    draft = web_ledger.drafts["run"]
    for name in ("akaa", "nokia"):
        assert browser_for(name).get(RUNS).status_code == 403
        assert browser_for(name).get(f"{RUNS}/{draft}").status_code == 403
    for name in ("tarkastaja", "paakayttaja"):
        answer = browser_for(name).get(f"{RUNS}/{draft}")
        assert answer.status_code == 200
        assert "/approve" not in answer.text and 'action="' + RUNS + '"' not in browser_for(name).get(RUNS).text
    assert browser_for("lappilainen").get(RUNS).status_code == 404
    other = browser_for("lappilainen").get(f"/areas/{OTHER_AREA}/runs")
    assert other.status_code == 200 and f"/runs/{draft}" not in other.text  # the other area's drafts only: none
    assert browser_for("valmistelija").get(f"{RUNS}/999").status_code == 404


# -- refusals ----------------------------------------------------------------------------

def test_a_month_is_drafted_only_when_it_may_be(browser_for):
    c = browser_for("valmistelija")
    bad = c.post(RUNS, data={"period": "2021-13", "date": "1.6.2021", "csrf_token": csrf(c)})
    assert bad.status_code == 400 and 'href="#period"' in bad.text and 'href="#date"' in bad.text
    twice = c.post(RUNS, data={"period": "2021-04", "date": "2021-05-01", "csrf_token": csrf(c)})
    assert twice.status_code == 400 and "on jo avoin luonnos" in twice.text
    gap = c.post(RUNS, data={"period": "2021-05", "date": "2021-06-01", "csrf_token": csrf(c)})
    assert gap.status_code == 400 and "Aiempi kausi on vielä laskuttamatta" in gap.text
    assert browser_for("hyvaksyja").post(RUNS, data={"period": "2021-05", "date": "2021-06-01",
                                                     "csrf_token": csrf(browser_for("hyvaksyja"))}).status_code == 403


def test_a_preparer_cannot_approve_their_own_draft(web_app, web_ledger, both_roles):
    c = signed_in(web_app, both_roles)
    made = c.post(f"{INVOICES}/2021-00002/credit", data={"reason": "Väärä osoite", "date": "2021-05-03",
                                                         "csrf_token": csrf(c)}, follow_redirects=False)
    assert made.status_code == 303
    location = made.headers["location"]
    draft = int(location.rsplit("/", 1)[1])
    page = c.get(location)
    assert f'action="{RUNS}/{draft}/approve"' in page.text  # the form is there: the use case refuses
    refused = c.post(f"{RUNS}/{draft}/approve", data={"expected": expected_hash(page.text), "csrf_token": csrf(c)})
    assert refused.status_code == 403
    assert "Et voi hyväksyä luonnosta, jonka olet itse valmistellut" in refused.text
    assert drafts_of(web_ledger)[draft].status == "draft"


def test_only_an_approver_approves(browser_for, web_ledger):
    draft = web_ledger.drafts["run"]
    c = browser_for("valmistelija")
    assert c.post(f"{RUNS}/{draft}/approve", data={"expected": "x", "csrf_token": csrf(c)}).status_code == 403
    approver = browser_for("hyvaksyja")
    assert approver.post(f"{RUNS}/{draft}/approve", data={"expected": "x"}).status_code == 403  # no CSRF token


def test_a_draft_changed_since_it_was_shown_is_not_approved(browser_for, web_ledger):
    c = browser_for("hyvaksyja")
    draft = web_ledger.drafts["run"]
    answer = c.post(f"{RUNS}/{draft}/approve", data={"expected": "0" * 64, "csrf_token": csrf(c)})
    assert answer.status_code == 409 and "laskettu uudelleen sen jälkeen" in answer.text
    assert drafts_of(web_ledger)[draft].status == "draft"


def test_a_rejection_needs_a_reason(browser_for, web_ledger):
    c = browser_for("hyvaksyja")
    draft = web_ledger.drafts["reject"]
    empty = c.post(f"{RUNS}/{draft}/reject", data={"reason": " ", "csrf_token": csrf(c)})
    assert empty.status_code == 400
    assert 'href="#reason"' in empty.text and "Kirjoita hylkäyksen syy." in empty.text
    assert draft in drafts_of(web_ledger)
    done = c.post(f"{RUNS}/{draft}/reject", data={"reason": "Väärä kausi", "csrf_token": csrf(c)},
                  follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{RUNS}?rejected={draft}"
    assert draft not in drafts_of(web_ledger)
    assert c.get(f"{RUNS}/{draft}").status_code == 404
    listed = c.get(done.headers["location"]).text
    assert f"Luonnos {draft} hylättiin" in listed and f'href="{RUNS}/{draft}"' not in listed


# -- approvals and documents -------------------------------------------------------------

def test_an_approver_approves_the_run_as_shown_and_its_invoices_are_issued(browser_for, web_ledger):
    c = browser_for("hyvaksyja")
    draft = web_ledger.drafts["run"]
    shown = c.get(f"{RUNS}/{draft}").text
    done = c.post(f"{RUNS}/{draft}/approve", data={"expected": expected_hash(shown), "csrf_token": csrf(c)},
                  follow_redirects=False)
    assert done.status_code == 303
    page = c.get(done.headers["location"])
    assert "Hyväksytty" in page.text and "/approve" not in page.text
    numbers = [f"2021-{n:05d}" for n in range(64, 85)]  # after January–March's 63
    for number in numbers:
        assert f'href="{INVOICES}/{number}/pdf"' in page.text
    listed = c.get(f"{INVOICES}?period=2021-04").text
    assert re.findall(r'<th scope="row"><a href="[^"]+">([0-9-]+)</a>', listed) == numbers
    again = c.post(f"{RUNS}/{draft}/approve", data={"expected": expected_hash(shown), "csrf_token": csrf(c)})
    assert again.status_code == 409 and "on jo hyväksytty" in again.text


def test_the_runs_documents_download_one_by_one_and_all_at_once(browser_for, web_ledger):
    c = browser_for("valmistelija")
    draft = web_ledger.drafts["run"]
    one = c.get(f"{INVOICES}/2021-00064/pdf")
    assert one.status_code == 200 and one.content.startswith(b"%PDF")
    everything = c.get(f"{RUNS}/{draft}/documents.zip?format=all")
    assert everything.status_code == 200 and everything.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(everything.content)) as archive:
        names = sorted(archive.namelist())
        assert len(names) == 63
        assert archive.read("2021-00064.pdf").startswith(b"%PDF")
        assert archive.read("2021-00084.finvoice.xml").lstrip().startswith(b"<?xml")
        assert b"Invoice" in archive.read("2021-00070.peppol.xml")[:400]
    pdfs = c.get(f"{RUNS}/{draft}/documents.zip?format=pdf")
    with zipfile.ZipFile(io.BytesIO(pdfs.content)) as archive:
        assert sorted(archive.namelist()) == [f"2021-{n:05d}.pdf" for n in range(64, 85)]
    assert c.get(f"{RUNS}/{draft}/documents.zip?format=docx").status_code == 404
    open_draft = web_ledger.drafts["approve"]  # not approved: nothing issued, nothing to download
    assert c.get(f"{RUNS}/{open_draft}/documents.zip").status_code == 404


def test_the_next_month_is_drafted_after_the_run_is_issued(browser_for):
    c = browser_for("valmistelija")
    made = c.post(RUNS, data={"period": "2021-05", "date": "2021-06-01", "csrf_token": csrf(c)},
                  follow_redirects=False)
    assert made.status_code == 303
    page = c.get(made.headers["location"]).text
    assert "Laskutusajo toukokuu 2021" in page and money(TWELFTH) in page


def test_an_approved_credit_note_is_issued_and_shown_on_its_invoice(browser_for, web_ledger):
    c = browser_for("hyvaksyja")
    draft = web_ledger.drafts["approve"]
    shown = c.get(f"{RUNS}/{draft}").text
    assert "Hyvityslasku laskusta 2021-00016" in shown
    done = c.post(f"{RUNS}/{draft}/approve", data={"expected": expected_hash(shown), "csrf_token": csrf(c)},
                  follow_redirects=False)
    assert done.status_code == 303
    assert 'href="' + INVOICES + '/2021-00085"' in c.get(done.headers["location"]).text
    credits = c.get(f"{INVOICES}?kind=credit_note").text
    assert "2021-00085" in credits and money("-1736.68") in credits
    invoice = c.get(f"{INVOICES}/2021-00016").text
    assert f'href="{INVOICES}/2021-00085"' in invoice
