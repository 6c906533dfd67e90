"""Documents and drafts through the API: ETags and 304 on every document, the same bytes as the
command line's export, a member's documents only, pagination, and four eyes."""

from __future__ import annotations

import pytest

from tests.api.conftest import AKAA, AREA, NOKIA, app_for, client_for, make_ledger

INVOICES = f"/api/v1/areas/{AREA}/invoices"
RUNS = f"/api/v1/areas/{AREA}/runs"


@pytest.fixture(scope="module")
def served(sqlite_url, cheap_passwords):
    ledger = make_ledger(sqlite_url, months=2)
    app = app_for(sqlite_url)
    yield ledger, client_for(app)
    app.state.ledgers.close()


def auth(ledger, person: str, **more) -> dict:
    return {"Authorization": f"Bearer {ledger.tokens[person]}", **more}


@pytest.mark.parametrize("suffix, media_type, weak", [
    (".pdf", "application/pdf", False),
    ("/finvoice", "application/xml", True),
    ("/peppol", "application/xml", False),
    ("", "application/json", False),
])
def test_etag_and_304(served, suffix, media_type, weak):
    ledger, client = served
    url = f"{INVOICES}/{ledger.invoices[AKAA]}{suffix}"
    first = client.get(url, headers=auth(ledger, "akaa"))
    assert first.status_code == 200 and first.headers["content-type"].startswith(media_type)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') if weak else etag.startswith('"')
    assert first.headers["cache-control"] == "private, no-cache"
    same = client.get(url, headers=auth(ledger, "akaa", **{"If-None-Match": etag}))
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    listed = client.get(url, headers=auth(ledger, "akaa", **{"If-None-Match": f'"other", {etag}'}))
    assert listed.status_code == 304
    other = client.get(url, headers=auth(ledger, "akaa", **{"If-None-Match": '"something-else"'}))
    assert other.status_code == 200 and other.headers["etag"] == etag
    # another member: not there, whatever it sends
    for headers in ({}, {"If-None-Match": etag}):
        refused = client.get(url, headers=auth(ledger, "nokia", **headers))
        assert refused.status_code == 404 and etag not in refused.text


def test_the_etag_follows_the_language(served):
    ledger, client = served
    url = f"{INVOICES}/{ledger.invoices[AKAA]}.pdf"
    fi = client.get(url, headers=auth(ledger, "akaa")).headers["etag"]
    sv = client.get(url + "?lang=sv", headers=auth(ledger, "akaa"))
    assert sv.status_code == 200 and sv.headers["etag"] != fi
    assert client.get(url + "?lang=sv", headers=auth(ledger, "akaa", **{"If-None-Match": fi})).status_code == 200


def test_the_pdf_is_what_export_writes(served, tmp_path, invoke_cli):
    ledger, client = served
    number = ledger.invoices[AKAA]
    pdf = client.get(f"{INVOICES}/{number}.pdf", headers=auth(ledger, "akaa")).content
    code, out, err, exc = invoke_cli("--area", AREA, "export", "pdf", number, "--output", tmp_path, "--db", ledger.url)
    assert code == 0, (err, exc)
    assert [p.read_bytes() for p in tmp_path.rglob("*.pdf")] == [pdf]


def test_a_member_sees_only_its_own(served):
    ledger, client = served
    mine = client.get(INVOICES, headers=auth(ledger, "akaa")).json()
    assert mine["total"] == 2 and {i["municipality"] for i in mine["items"]} == {AKAA}
    asked_for_another = client.get(f"{INVOICES}?municipality=Nokia", headers=auth(ledger, "akaa")).json()
    assert (asked_for_another["total"], asked_for_another["items"]) == (0, [])
    nokia = ledger.invoices[NOKIA]
    unknown = client.get(f"{INVOICES}/2021-99999", headers=auth(ledger, "akaa")).json()
    for suffix in ("", ".pdf", "/finvoice", "/peppol", "/explain", "/explain/1"):
        answer = client.get(f"{INVOICES}/{nokia}{suffix}", headers=auth(ledger, "akaa"))
        assert answer.status_code == 404 and answer.json()["detail"] == unknown["detail"].replace("2021-99999", nokia)
    for path in ("reports/2021/536", "reports/2021/Nokia.pdf", "reports/2021/536/settlement",
                 "estimates/2021/explain/536", "agreements/2021/explain/536"):
        assert client.get(f"/api/v1/areas/{AREA}/{path}", headers=auth(ledger, "akaa")).status_code == 404
    estimate = client.get(f"/api/v1/areas/{AREA}/estimates/2021", headers=auth(ledger, "akaa")).json()
    assert [m["code"] for m in estimate["members"]] == [AKAA]


def test_pages(served):
    ledger, client = served
    seen, url, pages = [], f"{INVOICES}?year=2021&limit=15", 0
    while url:
        answer = client.get(url, headers=auth(ledger, "tarkastaja"))
        body = answer.json()
        assert answer.headers["x-total-count"] == str(body["total"]) == "42"
        seen += [i["number"] for i in body["items"]]
        pages += 1
        link = answer.headers.get("link")
        assert (link is None) == (body["next_cursor"] is None)
        url = link.split(";")[0].strip("<>") if link else None
    assert pages == 3 and seen == [f"2021-{n:05d}" for n in range(1, 43)]


def test_money_is_decimal_strings(served):
    ledger, client = served
    invoice = client.get(f"{INVOICES}/{ledger.invoices[AKAA]}", headers=auth(ledger, "akaa")).json()
    # Akaa's January: the advance of Taulukko 1 (12 079,77 € a year: 1/12 is 1 006,6475 €, cents down)
    assert (invoice["lines"][0]["kind"], invoice["lines"][0]["amount"]) == ("advance", "1006.64")
    from decimal import Decimal

    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(invoice["total"]) == Decimal("2016.64")
    tables = client.get(f"/api/v1/areas/{AREA}/agreements/2021/tables", headers=auth(ledger, "akaa")).json()
    akaa = next(r for r in tables["tables"][0]["rows"] if r["code"] == AKAA)
    assert akaa["payment"] == "12079.77"


# --- four eyes ------------------------------------------------------------------------------------

def test_four_eyes(served):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    ledger, client = served
    with Ledger(ledger.url, "paakayttaja", area=AREA) as opened:
        accounts.grant_role(opened, "valmistelija", "approver")
    drafted = client.post(f"{INVOICES}/{ledger.invoices['020']}/credit", json={"reason": "Väärä viite"},
                          headers=auth(ledger, "valmistelija"))
    assert drafted.status_code == 201
    draft = drafted.json()
    assert draft["documents"][0]["number"] is None and draft["documents"][0]["reference"] is None
    url = drafted.headers["location"]
    assert url == f"{RUNS}/{draft['draft']}"
    # a draft has no number, so no document of it can be asked for
    assert client.get(f"{INVOICES}/None.pdf", headers=auth(ledger, "tarkastaja")).status_code == 404
    own = client.post(f"{url}/approve", headers=auth(ledger, "valmistelija"))
    assert own.status_code == 403 and own.json()["errors"][0]["code"] == "draft.own"
    stale = client.post(f"{url}/approve", headers=auth(ledger, "hyvaksyja", **{"If-Match": '"vanha"'}))
    assert stale.status_code == 412
    etag = client.get(url, headers=auth(ledger, "hyvaksyja")).headers["etag"]
    approved = client.post(f"{url}/approve", headers=auth(ledger, "hyvaksyja", **{"If-Match": etag}))
    assert approved.status_code == 200
    note = approved.json()["credit_note"]
    assert note["kind"] == "credit_note" and note["credited_invoice"] == ledger.invoices["020"]
    assert note["total"] == "-" + client.get(f"{INVOICES}/{ledger.invoices['020']}",
                                             headers=auth(ledger, "akaa")).json()["total"]
    twice = client.post(f"{url}/approve", headers=auth(ledger, "hyvaksyja"))
    assert twice.status_code == 409 and twice.json()["errors"][0]["code"] == "draft.approved"
    assert client.get(f"{INVOICES}/{note['number']}.pdf", headers=auth(ledger, "akaa")).status_code == 200


def test_a_rejected_draft_is_gone(served):
    ledger, client = served
    draft = client.get(f"{RUNS}/{ledger.drafts['reject']}", headers=auth(ledger, "hyvaksyja"))
    assert draft.status_code == 200
    rejected = client.post(f"{RUNS}/{ledger.drafts['reject']}/reject", json={"reason": "Ei näin"},
                           headers=auth(ledger, "hyvaksyja"))
    assert rejected.status_code == 200 and rejected.json()["rejected_by"] == "hyvaksyja"
    assert client.get(f"{RUNS}/{ledger.drafts['reject']}", headers=auth(ledger, "hyvaksyja")).status_code == 404
    log = client.get(f"/api/v1/areas/{AREA}/audit/log?limit=1", headers=auth(ledger, "tarkastaja")).json()
    assert (log["items"][0]["action"], log["items"][0]["reason"]) == ("draft.reject", "Ei näin")


def test_self_approval_of_a_one_person_installation_is_recorded(served):
    from osuus.problems import ProblemsError
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    ledger, _ = served
    with Ledger(ledger.url, "paakayttaja", area=AREA) as opened:
        try:
            accounts.grant_role(opened, "valmistelija", "approver")
        except ProblemsError:  # granted by an earlier test
            pass
    app = app_for(ledger.url, self_approval=True)
    try:
        approved = client_for(app).post(f"{RUNS}/{ledger.drafts['approve']}/approve",
                                        headers=auth(ledger, "valmistelija"))
        assert approved.status_code == 200, approved.text
        assert (approved.json()["draft"]["self_approved"], approved.json()["draft"]["approved_by"]) == (
            True, "valmistelija")
    finally:
        app.state.ledgers.close()


def test_the_document_cache_keeps_strong_tags_by_area_and_within_its_bound():
    from osuus.api.etags import DocumentCache

    made = []

    def make(content: bytes):
        def run():
            made.append(content)
            return content
        return run

    cache = DocumentCache(max_bytes=10)
    assert cache.get_or_make("a", '"t1"', make(b"12345")) == b"12345"
    assert cache.get_or_make("a", '"t1"', make(b"other")) == b"12345"  # made once
    assert cache.get_or_make("b", '"t1"', make(b"abcde")) == b"abcde"  # another area: its own
    assert cache.get_or_make("a", '"t2"', make(b"xyz")) == b"xyz"  # over the bound: the oldest goes
    assert cache.get_or_make("a", '"t1"', make(b"again")) == b"again"
    assert cache.get_or_make("a", 'W/"t3"', make(b"w")) == b"w" and cache.get_or_make("a", 'W/"t3"', make(b"w2")) == b"w2"
    assert made == [b"12345", b"abcde", b"xyz", b"again", b"w", b"w2"]
    assert cache.size <= 10
