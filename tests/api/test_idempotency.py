"""`Idempotency-Key`: a POST retried with the same key gets the first answer again and creates
nothing twice, one after the other and at the same moment, on SQLite and PostgreSQL."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.api.conftest import AREA, app_for, client_for, make_ledger

RUNS = f"/api/v1/areas/{AREA}/runs"


@pytest.fixture(scope="module")
def served(backend_url, cheap_passwords):
    # January invoiced, no draft open: the tests draft February (and reject what they drafted)
    ledger = make_ledger(backend_url, months=1)
    app = app_for(backend_url)
    client = client_for(app)
    reject_all(client, ledger)
    yield ledger, app, client
    app.state.ledgers.close()


def auth(ledger, person: str = "valmistelija", **more) -> dict:
    return {"Authorization": f"Bearer {ledger.tokens[person]}", **more}


def open_drafts(client, ledger) -> list[dict]:
    return client.get(RUNS, headers=auth(ledger)).json()["items"]


def reject_all(client, ledger) -> None:
    for draft in open_drafts(client, ledger):
        client.post(f"{RUNS}/{draft['draft']}/reject", json={"reason": "testi"}, headers=auth(ledger, "hyvaksyja"))


def test_the_same_post_twice_makes_one_draft(served):
    ledger, _, client = served
    body = {"period": "2021-02", "date": "2021-03-01"}
    first = client.post(RUNS, json=body, headers=auth(ledger, **{"Idempotency-Key": "maalis-1"}))
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = client.post(RUNS, json=body, headers=auth(ledger, **{"Idempotency-Key": "maalis-1"}))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert [d["draft"] for d in open_drafts(client, ledger)] == [first.json()["draft"]]
    # without the key, the same request is a new one, refused: the period has its draft
    assert client.post(RUNS, json=body, headers=auth(ledger)).status_code == 409
    reject_all(client, ledger)


def test_the_same_key_for_another_request_is_refused(served):
    ledger, _, client = served
    key = {"Idempotency-Key": "toinen-1"}
    first = client.post(RUNS, json={"period": "2021-02", "date": "2021-03-01"}, headers=auth(ledger, **key))
    assert first.status_code == 201
    other = client.post(RUNS, json={"period": "2021-02", "date": "2021-03-02"}, headers=auth(ledger, **key))
    assert other.status_code == 422 and other.json()["type"] == "urn:osuus:problem:idempotency-key-reused"
    assert len(open_drafts(client, ledger)) == 1
    reject_all(client, ledger)


def test_a_refusal_releases_the_key(served):
    ledger, _, client = served
    key = {"Idempotency-Key": "sulje-2021"}
    first = client.post(f"/api/v1/areas/{AREA}/closings/2021", headers=auth(ledger, **key))
    assert first.status_code == 422  # not invoiced to December
    again = client.post(f"/api/v1/areas/{AREA}/closings/2021", headers=auth(ledger, **key))
    assert again.status_code == 422 and "idempotent-replayed" not in again.headers  # run again, not replayed


def test_keys_are_each_principals_own(served):
    ledger, _, client = served
    key = {"Idempotency-Key": "yhteinen"}
    mine = client.post(f"/api/v1/areas/{AREA}/estimates/2021", headers=auth(ledger, **key))
    admins = client.post(f"/api/v1/areas/{AREA}/agreements", headers=auth(ledger, "paakayttaja", **key),
                         files={"file": ("a.toml", b"not = [toml", "application/toml")})
    assert mine.status_code == 200 and admins.status_code == 422  # the admin's request ran: not the preparer's answer


def test_an_upload_retried_with_another_boundary_is_the_same_request(served):
    ledger, _, client = served
    content = b"key,municipality,date,value,source\nasukasluku,020,2021-12-31,16600,\n"
    answers = [client.post(f"/api/v1/areas/{AREA}/imports/counts", headers=auth(ledger, **{"Idempotency-Key": "v-1"}),
                           files={"file": ("counts-2021.csv", content, "text/csv")}) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers["idempotent-replayed"] == "true" and answers[1].json()["added"] == 1


@pytest.mark.parametrize("key", ["", "ä".encode(), "x" * 201, "with space"])
def test_a_key_must_be_printable_ascii(served, key):
    ledger, _, client = served
    answer = client.post(f"/api/v1/areas/{AREA}/estimates/2021", headers=auth(ledger, **{"Idempotency-Key": key}))
    assert answer.status_code == 422


def test_the_same_post_at_the_same_moment_makes_one_draft(served):
    ledger, app, client = served
    body = {"period": "2021-02", "date": "2021-03-01"}

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://osuus") as http:
            answers: list[httpx.Response] = []

            async def post():
                headers = auth(ledger, **{"Idempotency-Key": "yhta-aikaa"})
                answers.append(await http.post(RUNS, json=body, headers=headers))

            async with anyio.create_task_group() as tasks:
                for _ in range(6):
                    tasks.start_soon(post)
            return answers

    answers = anyio.run(main)
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and 201 in statuses, [a.text for a in answers]
    made = {a.json()["draft"] for a in answers if a.status_code == 201}
    assert len(made) == 1
    assert sum(1 for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers) == 1
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["type"] == "urn:osuus:problem:idempotency-in-progress"
        assert refused.headers["retry-after"] == "1"
    assert [d["draft"] for d in open_drafts(client, ledger)] == list(made)
    reject_all(client, ledger)
