"""The README's walkthrough as API calls (httpx against the app), by the people who would make
them: the admin stores the agreements, the preparer imports, drafts and closes, the approver
approves every draft, a member of Sastamala reads its own documents, the auditor verifies.

It gives the documents the command line gives: every invoice and credit note, as
`GET invoices` lists it and `GET invoices/NUMBER` answers it, is what `osuus invoices --format
json` prints for the same ledger,
and the ledger is what its change log says.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from tests.api.conftest import AGREEMENT, EXAMPLES, PASSWORD, ROOT, app_for, client_for

AREA = "pirkanmaa"
SASTAMALA = "790"
PEOPLE = {"paakayttaja": ("admin", None), "valmistelija": ("preparer", None), "hyvaksyja": ("approver", None),
          "tarkastaja": ("auditor", None), "sastamala": ("member", SASTAMALA)}


def _people(url: str) -> None:
    """What the API does not do: the database, the area and its people (`osuus db upgrade`,
    `osuus area add`, `osuus user add`, `osuus user role`)."""
    from osuus.services import accounts
    from osuus.services.areas import add_area
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade

    upgrade(url)
    with Ledger(url, "asennus") as setup:
        add_area(setup, AREA, "Pirkanmaan työllisyysalue")
    with Ledger(url, "asennus", area=AREA) as ledger:
        for name, (role, municipality) in PEOPLE.items():
            accounts.add_user(ledger, name, password=PASSWORD)
            accounts.grant_role(ledger, name, role, municipality)


class Walk:
    def __init__(self, client):
        self.client = client
        self.tokens = {name: self.ok("POST", "/api/v1/login", None, json={"name": name, "password": PASSWORD})["token"]
                       for name in PEOPLE}

    def ok(self, method: str, path: str, person: str | None, status: int | tuple = (200, 201), **kw):
        headers = {"Authorization": f"Bearer {self.tokens[person]}"} if person else {}
        answer = self.client.request(method, path, headers=headers, **kw)
        statuses = status if isinstance(status, tuple) else (status,)
        assert answer.status_code in statuses, (method, path, answer.text[:1000])
        return answer.json() if answer.headers.get("content-type", "").startswith("application/json") else answer

    def area(self, method: str, path: str, person: str, status: int | tuple = (200, 201), **kw):
        return self.ok(method, f"/api/v1/areas/{AREA}{path}", person, status, **kw)

    def upload(self, path: str, file, person: str, status: int = 201):
        return self.area("POST", path, person, status, files={"file": (file.name, file.read_bytes())})

    def invoice(self, period: str, date: dt.date) -> dict:
        draft = self.area("POST", "/runs", "valmistelija", 201, json={"period": period, "date": date.isoformat()})
        return self.area("POST", f"/runs/{draft['draft']}/approve", "hyvaksyja", 200)


@pytest.fixture(scope="module")
def walked(tmp_path_factory, cheap_passwords):
    url = f"sqlite:///{tmp_path_factory.mktemp('walk') / 'osuus.db'}"
    _people(url)
    app = app_for(url)
    walk = Walk(client_for(app))
    # the README's commands, one by one
    added = walk.upload("/agreements", AGREEMENT, "paakayttaja")
    assert (added["created"], added["agreement"]["year"], added["agreement"]["revision"]) == (True, 2021, 1)
    walk.area("POST", "/estimates/2021", "valmistelija", 201)
    assert walk.upload("/imports/counts", EXAMPLES / "counts.csv", "valmistelija")["added"] == 66
    events = walk.upload("/imports/events", EXAMPLES / "events.csv", "valmistelija")
    assert (events["rows"], events["added"]) == (8547, 8547)
    for month in range(1, 13):
        issued = walk.invoice(f"2021-{month:02d}", dt.date(2021, month + 1, 1) if month < 12 else dt.date(2022, 1, 3))
        assert len(issued["run"]["invoices"]) == 21 and issued["credit_note"] is None
    walk.upload("/imports/costs", EXAMPLES / "costs.csv", "valmistelija")
    closed = walk.area("POST", "/closings/2021", "valmistelija", 201)
    walk.area("POST", "/estimates/2022", "valmistelija", 201)
    walk.invoice("2022-01", dt.date(2022, 2, 1))
    report = walk.area("GET", "/reports/2021/Sastamala", "sastamala")
    credit = walk.area("POST", "/invoices/2021-00016/credit", "valmistelija", 201,
                       json={"reason": "Väärä laskutusosoite", "date": "2022-02-15"})
    credited = walk.area("POST", f"/runs/{credit['draft']}/approve", "hyvaksyja", 200)
    walk.upload("/agreements", ROOT / "examples" / "2022" / "agreement.toml", "paakayttaja")
    walk.invoice("2022-02", dt.date(2022, 3, 1))
    verified = walk.area("GET", "/audit/verify", "tarkastaja")
    yield url, walk, {"closed": closed, "report": report, "credited": credited, "verified": verified}
    app.state.ledgers.close()


def _all(walk: Walk, path: str, person: str) -> list[dict]:
    items, url = [], f"/api/v1/areas/{AREA}{path}"
    while url:
        answer = walk.client.get(url, headers={"Authorization": f"Bearer {walk.tokens[person]}"})
        items += answer.json()["items"]
        url = answer.headers["link"].split(";")[0].strip("<>") if "link" in answer.headers else None
    return items


def test_the_walkthrough_gives_what_the_command_line_gives(walked, invoke_cli):
    url, walk, _ = walked
    listed = _all(walk, "/invoices?limit=100", "tarkastaja")
    by_year = {}
    for invoice in listed:
        by_year.setdefault(invoice["number"][:4], []).append(invoice)
    # 11 runs dated in 2021; December (3.1.2022), January 2022, the credit note and February 2022 in 2022
    assert (len(by_year["2021"]), len(by_year["2022"])) == (11 * 21, 3 * 21 + 1)
    code, out, err, exc = invoke_cli("--area", AREA, "invoices", "--format", "json", "--db", url)
    assert code == 0, (err, exc)
    printed = json.loads(out)
    # the list is an index (each document's lines are at its own address): the rest is the same
    assert listed == [{k: v for k, v in invoice.items() if k != "lines"} for invoice in printed]
    one = printed[0]
    assert walk.area("GET", f"/invoices/{one['number']}", "tarkastaja") == one


def test_the_walkthroughs_figures(walked):
    _, walk, seen = walked
    january = walk.area("GET", "/invoices/2021-00016", "sastamala")
    assert (january["municipality"], january["period"], january["credited_by"]) == (SASTAMALA, "2021-01", "2022-00043")
    note = seen["credited"]["credit_note"]
    assert (note["number"], note["credited_invoice"], note["reason"]) == ("2022-00043", "2021-00016",
                                                                          "Väärä laskutusosoite")
    assert Decimal(note["total"]) == -Decimal(january["total"])
    settlements = {s["code"]: s for s in seen["closed"]["settlements"]}
    assert len(settlements) == 21 and all(Decimal(s["difference"]) == Decimal(s["actual"]) - Decimal(s["billed"])
                                          for s in settlements.values())
    assert seen["report"]["code"] == SASTAMALA and seen["report"]["settlement"] == settlements[SASTAMALA]["difference"]
    assert seen["verified"]["ok"] is True and seen["verified"]["findings"] == []
    estimate = walk.area("GET", "/estimates/2022", "sastamala")
    assert [m["code"] for m in estimate["members"]] == [SASTAMALA]


def test_a_member_fetches_its_documents(walked):
    _, walk, _ = walked
    mine = _all(walk, "/invoices", "sastamala")
    assert len(mine) == 15 and {i["municipality"] for i in mine} == {SASTAMALA}  # 14 invoices, the credit note
    pdf = walk.area("GET", "/invoices/2021-00016.pdf", "sastamala")
    assert pdf.content.startswith(b"%PDF")
    finvoice = walk.area("GET", "/invoices/2022-00043/finvoice", "sastamala")
    assert b"<InvoiceTypeCode>INV02</InvoiceTypeCode>" in finvoice.content  # a credit note
    assert walk.area("GET", "/reports/2021/790.pdf", "sastamala").content.startswith(b"%PDF")
    line = walk.area("GET", "/invoices/2021-00016/explain/1", "sastamala")
    assert line["lines"][0]["explanation"]["value"] == line["lines"][0]["amount"]
    settlement = walk.area("GET", "/reports/2021/Sastamala/settlement", "sastamala")
    assert settlement["figures"]


def test_a_closed_year_takes_no_more_events(walked):
    _, walk, _ = walked
    answer = walk.client.post(
        f"/api/v1/areas/{AREA}/imports/events", headers={"Authorization": f"Bearer {walk.tokens['valmistelija']}"},
        files={"file": ("myohassa.csv", b"event_id,date,component,municipality,customer,quantity\n"
                                        b"X-1,2021-12-30,mainio,790,A-1,1\n")})
    assert answer.status_code == 422
    assert [(e["row"], e["column"], e["code"]) for e in answer.json()["errors"]] == [(2, "date", "import.closed-year")]
