"""The authorisation matrix, generated from the route table: every route × every principal, each
answer asserted, on SQLite and on PostgreSQL.

The principals: each role of the area (admin, preparer, approver, auditor), a member of Akaa
(whose documents the requests name) and a member of Nokia, an admin of another area, an API key
(auditor, scope `invoices:read` only), and no credentials. What each gets follows from the
route's rule as the route table states it (`route.access`) and `osuus.access.ALLOWED`:

- no credentials: 401; the other area's admin: 404 (the area is not shown to it);
- a role (or a key's scope) that does not allow the route: 403;
- a member asking for another municipality's document (a route marked `own` below): 404,
  exactly as for a document that does not exist;
- otherwise what the request gets when allowed (`REQUESTS`).

A route added without an entry in `REQUESTS` fails `test_every_route_is_in_the_matrix`.
The requests that write are made so that their effect touches no other cell: the same
agreement and counts again (nothing added), a period invoiced already (409), a year that
cannot be closed (422), and drafts of their own to approve, reject and compute again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from osuus.access import ALLOWED, Role, scope_for
from tests.api.conftest import AGREEMENT, AKAA, AREA, EXAMPLES, OTHER_AREA, app_for, make_ledger, client_for

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Ask:
    """How a route is asked in the matrix, and what it answers when the principal may ask it."""

    url: str  # with {area}, {akaa} (Akaa's January invoice), {draft_run}, {draft_approve}, {draft_reject}
    allowed: int
    own: bool = False  # a document of Akaa's: another member gets 404
    json: dict | None = None
    files: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


def _file(path, kind="text/csv"):
    return {"file": (path.name, path.read_bytes(), kind)}


REQUESTS: dict[tuple[str, str], Ask] = {
    ("GET", "/health"): Ask("/health", 200),
    ("POST", "/login"): Ask("/login", 401, json={"name": "ei-ketaan-{principal}", "password": "väärä-salasana-123"}),
    ("POST", "/logout"): Ask("/logout", 204),
    ("GET", "/areas/{area}/me"): Ask("/areas/{area}/me", 200),
    ("POST", "/areas/{area}/agreements"): Ask("/areas/{area}/agreements", 200,
                                              files=_file(AGREEMENT, "application/toml")),
    ("GET", "/areas/{area}/agreements"): Ask("/areas/{area}/agreements", 200),
    ("GET", "/areas/{area}/agreements/{year}"): Ask("/areas/{area}/agreements/2021", 200),
    ("GET", "/areas/{area}/agreements/{year}/tables"): Ask("/areas/{area}/agreements/2021/tables", 200),
    ("GET", "/areas/{area}/agreements/{year}/explain/{municipality}"):
        Ask("/areas/{area}/agreements/2021/explain/Akaa", 200, own=True),
    ("POST", "/areas/{area}/imports/{kind}"): Ask("/areas/{area}/imports/counts", 200,
                                                 files=_file(EXAMPLES / "counts.csv")),
    ("POST", "/areas/{area}/runs"): Ask("/areas/{area}/runs", 409, json={"period": "2021-01", "date": "2021-02-01"}),
    ("GET", "/areas/{area}/runs"): Ask("/areas/{area}/runs", 200),
    ("GET", "/areas/{area}/runs/{draft_id}"): Ask("/areas/{area}/runs/{draft_run}", 200),
    ("POST", "/areas/{area}/runs/{draft_id}/recompute"): Ask("/areas/{area}/runs/{draft_run}/recompute", 200),
    ("POST", "/areas/{area}/runs/{draft_id}/approve"): Ask("/areas/{area}/runs/{draft_approve}/approve", 200),
    ("POST", "/areas/{area}/runs/{draft_id}/reject"): Ask("/areas/{area}/runs/{draft_reject}/reject", 200,
                                                          json={"reason": "Ei tätä"}),
    ("GET", "/areas/{area}/invoices"): Ask("/areas/{area}/invoices?year=2021", 200),
    ("GET", "/areas/{area}/invoices/{number}.pdf"): Ask("/areas/{area}/invoices/{akaa}.pdf", 200, own=True),
    ("GET", "/areas/{area}/invoices/{number}/finvoice"): Ask("/areas/{area}/invoices/{akaa}/finvoice", 200, own=True),
    ("GET", "/areas/{area}/invoices/{number}/peppol"): Ask("/areas/{area}/invoices/{akaa}/peppol", 200, own=True),
    ("GET", "/areas/{area}/invoices/{number}"): Ask("/areas/{area}/invoices/{akaa}", 200, own=True),
    ("GET", "/areas/{area}/invoices/{number}/explain"): Ask("/areas/{area}/invoices/{akaa}/explain", 200, own=True),
    ("GET", "/areas/{area}/invoices/{number}/explain/{line}"):
        Ask("/areas/{area}/invoices/{akaa}/explain/1", 200, own=True),
    ("POST", "/areas/{area}/invoices/{number}/credit"): Ask("/areas/{area}/invoices/{akaa}/credit", 201,
                                                            json={"reason": "Väärä viite", "date": "2021-05-03"}),
    ("POST", "/areas/{area}/estimates/{year}"): Ask("/areas/{area}/estimates/2021", 200),
    ("GET", "/areas/{area}/estimates/{year}"): Ask("/areas/{area}/estimates/2021", 200),
    ("GET", "/areas/{area}/estimates/{year}/explain/{municipality}"):
        Ask("/areas/{area}/estimates/2021/explain/020", 200, own=True),
    ("POST", "/areas/{area}/closings/{year}"): Ask("/areas/{area}/closings/2021", 422),
    ("GET", "/areas/{area}/closings/{year}"): Ask("/areas/{area}/closings/2021", 404),
    ("GET", "/areas/{area}/reports/{year}/{municipality}.pdf"):
        Ask("/areas/{area}/reports/2021/020.pdf?date=2022-03-01", 200, own=True),
    ("GET", "/areas/{area}/reports/{year}/{municipality}"): Ask("/areas/{area}/reports/2021/Akaa", 200, own=True),
    ("GET", "/areas/{area}/reports/{year}/{municipality}/settlement"):
        Ask("/areas/{area}/reports/2021/020/settlement", 404, own=True),  # 2021 is not closed in this ledger
    ("GET", "/areas/{area}/audit/log"): Ask("/areas/{area}/audit/log", 200),
    ("GET", "/areas/{area}/audit/verify"): Ask("/areas/{area}/audit/verify", 200),
}

#: principal -> (person whose token it uses, its roles in the area), None: no credentials
PRINCIPALS = {
    "admin": ("paakayttaja", {Role.ADMIN}),
    "preparer": ("valmistelija", {Role.PREPARER}),
    "approver": ("hyvaksyja", {Role.APPROVER}),
    "auditor": ("tarkastaja", {Role.AUDITOR}),
    "member-own": ("akaa", {Role.MEMBER}),
    "member-other": ("nokia", {Role.MEMBER}),
    "other-area": ("lappilainen", set()),
    "api-key": ("key", {Role.AUDITOR}),
    "anonymous": (None, set()),
}
KEY_SCOPES = {"invoices:read"}


def _routes():
    from osuus.api.app import create_app, route_table
    from osuus.api.settings import Settings

    app = create_app(Settings(database_url="sqlite:////nonexistent/osuus.db"))
    return [(method, path[len(PREFIX):], access) for method, path, access in route_table(app)]


ROUTES = _routes()


def expected(method: str, path: str, access, principal: str) -> int:
    ask = REQUESTS[method, path]
    person, roles = PRINCIPALS[principal]
    if access.kind == "public":
        return ask.allowed
    if person is None:
        return 401
    if access.kind == "signed-in":
        return ask.allowed
    if principal == "other-area":
        return 404
    if principal == "api-key" and access.resource is None:
        return ask.allowed
    if access.resource is not None:
        may = any(access.action in ALLOWED[role].get(access.resource, ()) for role in roles)
        if principal == "api-key":
            may = may and scope_for(access.resource, access.action) in KEY_SCOPES
        if not may:
            return 403
    if principal == "member-other" and ask.own:
        return 404
    return ask.allowed


def test_every_route_is_in_the_matrix():
    listed = {(m, p) for m, p, _ in ROUTES}
    assert listed == set(REQUESTS), (sorted(listed - set(REQUESTS)), sorted(set(REQUESTS) - listed))
    assert len(ROUTES) >= 30


def test_every_route_states_its_rule_in_the_openapi_document():
    from osuus.api.app import openapi_document

    document = openapi_document()
    for method, path, access in ROUTES:
        operation = document["paths"][PREFIX + path][method.lower()]
        assert operation["x-osuus-access"] == access.to_data()


@pytest.fixture(scope="module")
def served(backend_url, cheap_passwords):
    ledger = make_ledger(backend_url)
    app = app_for(backend_url)
    client = client_for(app)
    yield ledger, client
    app.state.ledgers.close()


CELLS = [(method, path, access, principal) for method, path, access in ROUTES for principal in PRINCIPALS]


@pytest.mark.parametrize("method, path, access, principal", CELLS,
                         ids=[f"{m} {p} as {who}" for m, p, _, who in CELLS])
def test_matrix(served, method, path, access, principal):
    ledger, client = served
    ask = REQUESTS[method, path]
    person = PRINCIPALS[principal][0]
    if path == "/logout" and person is not None:  # a session of its own to end, not the one the others use
        from osuus.services import accounts
        from osuus.services.ledger import Ledger

        with Ledger(ledger.url, "testi", area=AREA if person != "lappilainen" else OTHER_AREA) as opened:
            token = ledger.key if person == "key" else accounts.login(opened, person, "testisalasana-2021",
                                                                          "matriisi").token
        want = 401 if person == "key" else ask.allowed  # an API key is no session to end
    else:
        token = ledger.key if person == "key" else ledger.tokens.get(person)
        want = expected(method, path, access, principal)
    url = PREFIX + ask.url.format(area=AREA, akaa=ledger.invoices[AKAA], draft_run=ledger.drafts["run"],
                                  draft_approve=ledger.drafts["approve"], draft_reject=ledger.drafts["reject"])
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {k: v.format(principal=principal) for k, v in ask.json.items()} if ask.json else None
    answer = client.request(method, url, headers=headers, json=body, files=ask.files or None)
    assert answer.status_code == want, answer.text[:500]
    if want >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == want
        if want == 401:
            assert answer.headers["www-authenticate"].startswith("Bearer")
