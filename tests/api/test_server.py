"""The server: health, signing in and out, the one shape of every error, the request log, the
settings, and `osuus serve`."""

from __future__ import annotations

import json
import logging

import pytest

from osuus.api.settings import Settings
from osuus.problems import ProblemsError
from tests.api.conftest import AREA, PASSWORD, app_for, client_for, make_ledger


@pytest.fixture(scope="module")
def served(sqlite_url, cheap_passwords):
    ledger = make_ledger(sqlite_url, months=1)
    app = app_for(sqlite_url)
    yield ledger, client_for(app)
    app.state.ledgers.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- health ----------------------------------------------------------------------------------

def test_health_of_a_migrated_database(served):
    _, client = served
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["backend"], body["migrated"]) == ("ok", "sqlite", True)
    assert body["revision"] == body["head"] and body["version"]
    assert "database" not in body  # where the database is, is not told to anyone who asks


def test_health_of_a_database_not_migrated(tmp_path):
    app = app_for(f"sqlite:///{tmp_path / 'tyhja.db'}")
    client = client_for(app)
    answer = client.get("/api/v1/health")
    assert answer.status_code == 503
    assert (answer.json()["status"], answer.json()["migrated"]) == ("unavailable", False)
    assert "osuus db upgrade" in answer.json()["detail"]
    # and every route of an area says so too, as a problem
    refused = client.get(f"/api/v1/areas/{AREA}/me", headers=bearer("x"))
    assert refused.status_code == 503 and refused.headers["content-type"] == "application/problem+json"
    app.state.ledgers.close()


def test_health_of_a_database_that_cannot_be_reached(tmp_path):
    app = app_for(f"sqlite:///{tmp_path / 'ei' / 'kansiota.db'}")
    answer = client_for(app).get("/api/v1/health")
    assert answer.status_code == 503 and "does not exist" in answer.json()["detail"]


# --- signing in and out -------------------------------------------------------------------------

def test_login_me_logout(served):
    _, client = served
    login = client.post("/api/v1/login", json={"name": "akaa", "password": PASSWORD, "area": AREA})
    assert login.status_code == 200
    body = login.json()
    assert (body["user"], body["token_type"], body["area"]) == ("akaa", "bearer", AREA)
    assert body["roles"] == [{"role": "member", "municipality": "020"}]
    token = body["token"]
    me = client.get(f"/api/v1/areas/{AREA}/me", headers=bearer(token))
    assert me.json() == {"name": "akaa", "kind": "user", "area": AREA, "roles": ["member"], "municipality": "020",
                         "scopes": None, "language": "fi"}
    assert client.get(f"/api/v1/areas/{AREA}/me", headers={**bearer(token), "Accept-Language": "sv"}).json()[
        "language"] == "sv"
    assert client.post("/api/v1/logout", headers=bearer(token)).status_code == 204
    after = client.get(f"/api/v1/areas/{AREA}/me", headers=bearer(token))
    assert after.status_code == 401 and after.headers["www-authenticate"] == 'Bearer realm="osuus"'
    assert client.post("/api/v1/logout", headers=bearer(token)).status_code == 401


def test_login_is_refused_alike_and_then_rate_limited(served):
    _, client = served
    wrong = [client.post("/api/v1/login", json={"name": "tarkastaja", "password": f"väärin-{n}-väärin"})
             for n in range(5)]
    unknown = client.post("/api/v1/login", json={"name": "ei-ole-olemassa", "password": "väärin-väärin-1"})
    assert {a.status_code for a in wrong} == {401} and unknown.status_code == 401
    assert wrong[0].json()["detail"] == unknown.json()["detail"]  # an unknown name and a wrong password alike
    limited = client.post("/api/v1/login", json={"name": "tarkastaja", "password": PASSWORD})
    assert limited.status_code == 429 and limited.json()["type"] == "urn:osuus:problem:rate-limited"
    assert 0 < int(limited.headers["retry-after"]) <= 900


def test_signing_in_to_an_unknown_area_tells_nothing_of_the_areas(served):
    _, client = served
    answer = client.post("/api/v1/login", json={"name": "tarkastaja", "password": PASSWORD, "area": "salainen"})
    refused = client.post("/api/v1/login", json={"name": "ei-ole-olemassa", "password": "väärin-väärin-1"})
    assert answer.status_code == 401 and answer.json()["detail"] == refused.json()["detail"]
    assert AREA not in answer.text and "default" not in answer.text


def test_an_api_key(served):
    ledger, client = served
    me = client.get(f"/api/v1/areas/{AREA}/me", headers=bearer(ledger.key)).json()
    assert (me["kind"], me["roles"], me["scopes"]) == ("key", ["auditor"], ["invoices:read"])
    assert client.get(f"/api/v1/areas/{AREA}/invoices", headers=bearer(ledger.key)).status_code == 200
    assert client.get(f"/api/v1/areas/{AREA}/audit/log", headers=bearer(ledger.key)).status_code == 403  # scope
    assert client.get(f"/api/v1/areas/{AREA}/me", headers=bearer(ledger.key[:-2] + "xx")).status_code == 401
    assert client.get("/api/v1/areas/lappi/me", headers=bearer(ledger.key)).status_code == 401  # of one area


# --- the shape of every error --------------------------------------------------------------------

@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/v1/ei-tallaista", 404),
    ("DELETE", "/api/v1/health", 405),
    ("GET", f"/api/v1/areas/{AREA}/invoices/2099-99999", 404),
    ("GET", f"/api/v1/areas/{AREA}/invoices?limit=0", 422),
    ("GET", f"/api/v1/areas/{AREA}/invoices?cursor=ei-kursori", 422),
    ("GET", f"/api/v1/areas/{AREA}/invoices?period=2021-13", 422),
    ("POST", f"/api/v1/areas/{AREA}/runs", 403),
    ("GET", "/api/v1/areas/EI_KELPAA/me", 422),
    ("GET", "/api/v1/areas/ei-ole/me", 404),
])
def test_every_error_is_problem_details(served, method, path, status):
    ledger, client = served
    answer = client.request(method, path, headers={**bearer(ledger.tokens["tarkastaja"]), "X-Request-ID": "testi-1"})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert set(body) >= {"type", "title", "status", "detail", "instance", "request_id"}
    assert body["type"].startswith("urn:osuus:problem:") and body["status"] == status
    assert body["instance"] == path.split("?")[0]
    assert body["request_id"] == answer.headers["x-request-id"] == "testi-1"


def test_an_area_that_is_not_there_is_not_told_to_those_not_signed_in(served):
    ledger, client = served
    assert client.get("/api/v1/areas/ei-ole/me", headers=bearer(ledger.tokens["akaa"])).status_code == 404
    assert client.get("/api/v1/areas/ei-ole/me", headers=bearer("arvaus")).status_code == 401
    assert client.get(f"/api/v1/areas/{AREA}/me", headers=bearer("arvaus")).status_code == 401
    assert client.get("/api/v1/areas/ei-ole/me", headers=bearer(ledger.key)).status_code == 401


def test_a_refusal_of_a_use_case_carries_its_problems_in_the_cli_words(served):
    ledger, client = served
    answer = client.get(f"/api/v1/areas/{AREA}/invoices/2099-99999", headers=bearer(ledger.tokens["tarkastaja"]))
    assert answer.json()["errors"] == [{"message": "no invoice numbered 2099-99999", "code": "invoice.unknown",
                                        "key": "invoice", "severity": "error",
                                        "text": "[invoice] no invoice numbered 2099-99999"}]


def test_a_bad_body_names_each_field(served):
    ledger, client = served
    answer = client.post(f"/api/v1/areas/{AREA}/runs", json={"date": "eilen"},
                         headers=bearer(ledger.tokens["valmistelija"]))
    assert answer.status_code == 422
    assert {e["key"] for e in answer.json()["errors"]} == {"period", "date"}


def test_an_internal_error_tells_nothing_but_its_request_id(served, monkeypatch):
    ledger, client = served
    from osuus.services import invoicing

    monkeypatch.setattr(invoicing, "list_invoices", lambda *a, **k: 1 / 0)
    answer = client.get(f"/api/v1/areas/{AREA}/invoices/2021-00001", headers=bearer(ledger.tokens["tarkastaja"]))
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert "ZeroDivision" not in answer.text and answer.json()["request_id"]


# --- the request log ----------------------------------------------------------------------------

def test_one_json_line_per_request_and_refusals_at_warning(served, capsys):
    from osuus.api import logs

    ledger, client = served
    logs.configure("json")
    try:
        client.get(f"/api/v1/areas/{AREA}/invoices?limit=1", headers=bearer(ledger.tokens["akaa"]))
        client.get(f"/api/v1/areas/{AREA}/invoices/2021-00009", headers=bearer(ledger.tokens["akaa"]))
        client.get(f"/api/v1/areas/{AREA}/me", headers=bearer("vanhentunut"))
    finally:
        for name in (logs.LOGGER, "uvicorn", "uvicorn.error"):
            logging.getLogger(name).handlers[:] = []
            logging.getLogger(name).propagate = True
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == logs.LOGGER]
    assert [(r["method"], r["status"], r["level"]) for r in requests] == [
        ("GET", 200, "info"), ("GET", 404, "warning"), ("GET", 401, "warning")]
    first, other, anonymous = requests
    assert (first["path"], first["principal"], first["area"]) == (f"/api/v1/areas/{AREA}/invoices", "akaa", AREA)
    assert isinstance(first["duration_ms"], float) and len(first["request_id"]) == 16
    assert other["reason"] == "other-municipality" and anonymous["reason"] == "bad-credentials"
    assert "vanhentunut" not in json.dumps(lines) and ledger.tokens["akaa"] not in json.dumps(lines)


# --- settings and the command -------------------------------------------------------------------

def test_settings_from_the_environment():
    settings = Settings.from_env({"OSUUS_DATABASE_URL": "x.db", "OSUUS_AREA": "pirkanmaa", "OSUUS_HOST": "0.0.0.0",
                                  "OSUUS_PORT": "8080", "OSUUS_LOG_FORMAT": "text", "OSUUS_SELF_APPROVAL": "1",
                                  "OSUUS_WORKERS": "2"})
    assert settings == Settings("x.db", "pirkanmaa", "0.0.0.0", 8080, "text", True, 2)
    assert Settings.from_env({}) == Settings()
    with pytest.raises(ProblemsError) as refused:
        Settings.from_env({"OSUUS_PORT": "80000", "OSUUS_LOG_FORMAT": "xml", "OSUUS_SELF_APPROVAL": "ehkä",
                           "OSUUS_WORKERS": "0"})
    assert [p.key for p in refused.value.problems] == ["OSUUS_PORT", "OSUUS_WORKERS", "OSUUS_LOG_FORMAT",
                                                       "OSUUS_SELF_APPROVAL"]


def test_serve_is_listed_and_starts_nothing_heavy(run_cli):
    code, out, err = run_cli("serve", "--help")
    assert code == 0 and "--port" in out and "--host" in out
    code, out, err = run_cli("serve", "--port", "0")
    assert code == 2


def test_osuus_serve_answers_on_loopback(served, free_tcp_port):
    """The real command: uvicorn on 127.0.0.1, one JSON log line per request, stopped by its pid."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from tests.conftest import ROOT, _env

    ledger, _ = served
    env = {**_env(), "OSUUS_LOG_FORMAT": "json"}
    command = [sys.executable, "-m", "osuus", "serve", "--port", str(free_tcp_port), "--db", ledger.url]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, answer = time.monotonic() + 30, None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{free_tcp_port}/api/v1/health", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200 and answer.json()["status"] == "ok"
        me = httpx.get(f"http://127.0.0.1:{free_tcp_port}/api/v1/areas/{AREA}/me",
                       headers=bearer(ledger.tokens["akaa"]), timeout=5)
        assert me.json()["municipality"] == "020"
    finally:
        os.kill(server.pid, signal.SIGINT)
        _, err = server.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("path", "").startswith("/api/v1/")]
    assert [(r["path"], r["status"]) for r in requests] == [("/api/v1/health", 200), (f"/api/v1/areas/{AREA}/me", 200)]
    assert requests[1]["principal"] == "akaa"


# --- who changed what, and why -------------------------------------------------------------------

def test_a_change_made_through_the_api_records_who_why_and_which_request(served):
    """The audit record of a write names the principal, the reason sent in `Osuus-Reason`
    (UTF-8, percent-encoded) and the request it came from."""
    from sqlalchemy import select

    from osuus.services.ledger import Ledger
    from osuus.store.db import make_engine, session_factory
    from osuus.store.tables import AuditRecord

    ledger, client = served
    token = ledger.tokens["valmistelija"]
    drafts = client.get(f"/api/v1/areas/{AREA}/runs", headers=bearer(token)).json()["items"]
    draft = next(d for d in drafts if d["subject"] == "2021-02")
    answer = client.post(f"/api/v1/areas/{AREA}/runs/{draft['draft']}/recompute",
                         headers={**bearer(token), "Osuus-Reason": "helmikuun%20laskutus%20%E2%80%93%20ty%C3%B6ohje%207",
                                  "X-Request-ID": "pyynto-42"})
    assert answer.status_code == 200, answer.text
    engine = make_engine(ledger.url)
    try:
        with Ledger(ledger.url, area=AREA) as opened:
            area_id = opened.area_id
        with session_factory(engine, area_id=area_id)() as session:
            record = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    finally:
        engine.dispose()
    assert (record.actor, record.action, record.reason) == ("valmistelija", "draft.recompute",
                                                           "helmikuun laskutus – työohje 7")
    assert record.details["via"] == {"api": f"POST /api/v1/areas/{AREA}/runs/{draft['draft']}/recompute",
                                     "request_id": "pyynto-42",
                                     "principal": "user"}
