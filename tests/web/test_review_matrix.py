"""Review: every page route × every person of tests/api/conftest.py PEOPLE (and no one), each
answer asserted; and every POST refused without its CSRF token.

Generated from `osuus.web.app.page_table`: a route added without an entry in `REQUESTS` fails
`test_every_page_route_is_in_the_review_matrix`. What a person gets follows from `NEEDS` (what
each route *should* require, by the role table of osuus.access; written here by hand, not read
from the route, so that a guard that is too strict or too lax shows) and `osuus.access.ALLOWED`:

- no session: a page of an area or a signed-in page sends to the sign-in page (303);
- `lappilainen` (admin of the other area): 404 on every page of `pirkanmaa`;
- a role that does not allow the route: 403;
- `nokia` asking for a document of Akaa's (a route marked `own`): 404, as for one not there;
- otherwise the status the request gets when allowed (`Ask.allowed`).

The writes are made so that their effect touches no other cell: a file imported already, a
period invoiced already (400), a draft approved with a hash it does not have (409), a reason
left out, a year not confirmed, a session of its own to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from osuus.access import ALLOWED, Action, Resource, Role
from tests.api.conftest import AGREEMENT, AKAA, AREA, EXAMPLES, PASSWORD, PEOPLE, make_ledger
from tests.web.conftest import client, csrf


@dataclass(frozen=True)
class Ask:
    """How a route is asked, and what it answers when the person may ask it."""

    url: str  # with {area}, {akaa} (Akaa's January invoice), {draft_run}, {draft_approve}, {draft_reject}
    allowed: int
    own: bool = False  # a document of Akaa's: another member gets 404
    data: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def _file(path: Path, kind: str = "text/csv") -> dict:
    return {"file": (path.name, path.read_bytes(), kind)}


PUBLIC, SIGNED_IN = ("public",), ("signed-in",)
R, W, A = Action.READ, Action.WRITE, Action.APPROVE

#: (method, path) -> (what the route should require: PUBLIC, SIGNED_IN or (resource or None, action), how it is asked)
REQUESTS: dict[tuple[str, str], tuple[tuple, Ask]] = {
    ("GET", "/"): (PUBLIC, Ask("/", 303)),
    ("GET", "/login"): (PUBLIC, Ask("/login", 200)),
    ("POST", "/login"):
        (PUBLIC, Ask("/login", 401, data={"name": "ei-ketaan-{person}", "password": "väärä-salasana-123"})),
    ("POST", "/logout"): (SIGNED_IN, Ask("/logout", 303)),
    ("POST", "/language"): (PUBLIC, Ask("/language", 303, data={"lang": "fi", "next": "/"})),
    ("GET", "/login/oidc/{provider}"): (PUBLIC, Ask("/login/oidc/ei-ole", 404)),  # no provider configured
    ("GET", "/login/oidc/{provider}/callback"): (PUBLIC, Ask("/login/oidc/ei-ole/callback", 404)),
    ("GET", "/accessibility"): (PUBLIC, Ask("/accessibility", 200)),
    ("POST", "/accessibility"): (PUBLIC, Ask("/accessibility", 400, data={"message": ""})),
    ("GET", "/areas/{area}/"): ((None, R), Ask("/areas/{area}/", 200)),
    # the agreement: every role reads the published tables; a member explains its own row only
    ("GET", "/areas/{area}/agreement"): ((Resource.AGREEMENTS, R), Ask("/areas/{area}/agreement", 200)),
    ("GET", "/areas/{area}/agreement/{year}"): ((Resource.AGREEMENTS, R), Ask("/areas/{area}/agreement/2021", 200)),
    ("GET", "/areas/{area}/agreement/{year}/explain"):
        ((Resource.AGREEMENTS, R), Ask("/areas/{area}/agreement/2021/explain?municipality=020", 200, own=True)),
    ("GET", "/areas/{area}/agreement/{year}/compare"):
        ((Resource.AGREEMENTS, R), Ask("/areas/{area}/agreement/2021/compare", 200)),
    ("GET", "/areas/{area}/agreement/{year}/tables.xlsx"):
        ((Resource.AGREEMENTS, R), Ask("/areas/{area}/agreement/2021/tables.xlsx", 200)),
    ("GET", "/areas/{area}/agreement/{year}/appendix.pdf"):
        ((Resource.AGREEMENTS, R), Ask("/areas/{area}/agreement/2021/appendix.pdf", 200)),
    # DEFECT (review #6): the imports page is guarded by imports:write, so the admin, the approver
    # and the auditor ("reads everything") who hold imports:read cannot see what was imported.
    ("GET", "/areas/{area}/imports"): ((Resource.IMPORTS, R), Ask("/areas/{area}/imports", 200)),
    ("POST", "/areas/{area}/imports/{kind}"):
        ((Resource.IMPORTS, W), Ask("/areas/{area}/imports/counts", 303, files=_file(EXAMPLES / "counts.csv"))),
    ("GET", "/areas/{area}/runs"): ((Resource.RUNS, R), Ask("/areas/{area}/runs", 200)),
    ("POST", "/areas/{area}/runs"):
        ((Resource.RUNS, W), Ask("/areas/{area}/runs", 400, data={"period": "2021-01", "date": "2021-02-01"})),
    ("GET", "/areas/{area}/runs/{draft_id}"): ((Resource.RUNS, R), Ask("/areas/{area}/runs/{draft_run}", 200)),
    ("GET", "/areas/{area}/runs/{draft_id}/documents/{k}/lines/{position}"):
        ((Resource.RUNS, R), Ask("/areas/{area}/runs/{draft_run}/documents/1/lines/1", 200)),
    ("POST", "/areas/{area}/runs/{draft_id}/approve"):
        ((Resource.RUNS, A), Ask("/areas/{area}/runs/{draft_approve}/approve", 409, data={"expected": "0" * 64})),
    ("POST", "/areas/{area}/runs/{draft_id}/reject"):
        ((Resource.RUNS, A), Ask("/areas/{area}/runs/{draft_reject}/reject", 400, data={"reason": ""})),
    ("POST", "/areas/{area}/runs/{draft_id}/recompute"):
        ((Resource.RUNS, W), Ask("/areas/{area}/runs/{draft_run}/recompute", 303)),
    ("GET", "/areas/{area}/runs/{draft_id}/documents.zip"):
        ((Resource.RUNS, R), Ask("/areas/{area}/runs/1/documents.zip", 200)),
    ("GET", "/areas/{area}/invoices"): ((Resource.INVOICES, R), Ask("/areas/{area}/invoices?year=2021", 200)),
    ("GET", "/areas/{area}/invoices/{number}"):
        ((Resource.INVOICES, R), Ask("/areas/{area}/invoices/{akaa}", 200, own=True)),
    ("GET", "/areas/{area}/invoices/{number}/lines/{position}"):
        ((Resource.INVOICES, R), Ask("/areas/{area}/invoices/{akaa}/lines/1", 200, own=True)),
    ("GET", "/areas/{area}/invoices/{number}/pdf"):
        ((Resource.INVOICES, R), Ask("/areas/{area}/invoices/{akaa}/pdf", 200, own=True)),
    ("GET", "/areas/{area}/invoices/{number}/finvoice"):
        ((Resource.INVOICES, R), Ask("/areas/{area}/invoices/{akaa}/finvoice", 200, own=True)),
    ("GET", "/areas/{area}/invoices/{number}/peppol"):
        ((Resource.INVOICES, R), Ask("/areas/{area}/invoices/{akaa}/peppol", 200, own=True)),
    ("POST", "/areas/{area}/invoices/{number}/credit"):
        ((Resource.RUNS, W),
         Ask("/areas/{area}/invoices/{akaa}/credit", 400, data={"reason": "", "date": "2021-05-03"})),
    ("GET", "/areas/{area}/year-end"): ((Resource.CLOSINGS, R), Ask("/areas/{area}/year-end", 200)),
    ("GET", "/areas/{area}/year-end/{year}"): ((Resource.CLOSINGS, R), Ask("/areas/{area}/year-end/2021", 200)),
    ("POST", "/areas/{area}/year-end/{year}"): ((Resource.CLOSINGS, W), Ask("/areas/{area}/year-end/2021", 400)),
    ("GET", "/areas/{area}/year-end/{year}/{municipality}"):
        ((Resource.CLOSINGS, R), Ask("/areas/{area}/year-end/2021/020", 200, own=True)),
    ("GET", "/areas/{area}/estimates"): ((Resource.ESTIMATES, R), Ask("/areas/{area}/estimates", 200)),
    ("POST", "/areas/{area}/estimates"):
        ((Resource.ESTIMATES, W), Ask("/areas/{area}/estimates", 400, data={"year": "x"})),
    ("GET", "/areas/{area}/estimates/{year}"): ((Resource.ESTIMATES, R), Ask("/areas/{area}/estimates/2021", 200)),
    ("GET", "/areas/{area}/estimates/{year}/{municipality}.pdf"):
        ((Resource.ESTIMATES, R), Ask("/areas/{area}/estimates/2021/020.pdf", 200, own=True)),
    ("GET", "/areas/{area}/estimates/{year}/{municipality}"):
        ((Resource.ESTIMATES, R), Ask("/areas/{area}/estimates/2021/020", 200, own=True)),
    ("GET", "/areas/{area}/reports"): ((Resource.REPORTS, R), Ask("/areas/{area}/reports", 200)),
    ("GET", "/areas/{area}/reports/{year}/{municipality}.pdf"):
        ((Resource.REPORTS, R), Ask("/areas/{area}/reports/2021/020.pdf", 200, own=True)),
    ("GET", "/areas/{area}/reports/{year}/{municipality}/settlement"):
        ((Resource.REPORTS, R), Ask("/areas/{area}/reports/2021/020/settlement", 200, own=True)),
    ("GET", "/areas/{area}/reports/{year}/{municipality}"):
        ((Resource.REPORTS, R), Ask("/areas/{area}/reports/2021/Akaa", 200, own=True)),
    ("GET", "/areas/{area}/audit"): ((Resource.AUDIT, R), Ask("/areas/{area}/audit", 200)),
    ("GET", "/areas/{area}/audit/verify"): ((Resource.AUDIT, R), Ask("/areas/{area}/audit/verify", 200)),
    ("POST", "/areas/{area}/audit/verify"): ((Resource.AUDIT, R), Ask("/areas/{area}/audit/verify", 200)),
    ("GET", "/areas/{area}/audit/{sequence}"): ((Resource.AUDIT, R), Ask("/areas/{area}/audit/1", 200)),
    ("GET", "/areas/{area}/users"): ((Resource.USERS, R), Ask("/areas/{area}/users", 200)),
    ("POST", "/areas/{area}/users"): ((Resource.USERS, W), Ask("/areas/{area}/users", 422)),
    ("POST", "/areas/{area}/users/grant"): ((Resource.USERS, W), Ask("/areas/{area}/users/grant", 422)),
    ("POST", "/areas/{area}/users/revoke"):
        ((Resource.USERS, W), Ask("/areas/{area}/users/revoke", 409, data={"name": "tarkastaja", "role": "approver"})),
    ("POST", "/areas/{area}/users/disable"):
        ((Resource.USERS, W), Ask("/areas/{area}/users/disable", 409, data={"name": "paakayttaja"})),  # not oneself
    ("GET", "/areas/{area}/users/keys"): ((Resource.USERS, R), Ask("/areas/{area}/users/keys", 200)),
    ("POST", "/areas/{area}/users/keys"): ((Resource.USERS, W), Ask("/areas/{area}/users/keys", 422)),
    ("POST", "/areas/{area}/users/keys/revoke"):
        ((Resource.USERS, W), Ask("/areas/{area}/users/keys/revoke", 409, data={"prefix": "eiole"})),
    ("GET", "/areas/{area}/users/feedback"): ((Resource.USERS, R), Ask("/areas/{area}/users/feedback", 200)),
}

PERSONS = [*PEOPLE, None]  # None: no session


def _routes() -> list[tuple[str, str, tuple]]:
    from osuus.api.settings import Settings
    from osuus.web.app import create_app, page_table

    return page_table(create_app(Settings(database_url="sqlite:////nonexistent/osuus.db")))


ROUTES = _routes()


def expected(method: str, path: str, person: str | None) -> int:
    needs, ask = REQUESTS[method, path]
    if needs == PUBLIC:
        return ask.allowed
    if person is None:
        return 303  # to the sign-in page
    if needs == SIGNED_IN:
        return ask.allowed
    area, role, municipality = PEOPLE[person]
    if area != AREA:
        return 404  # an area the person has no role in looks like no area
    resource, action = needs
    if resource is not None and action not in ALLOWED[Role(role)].get(resource, ()):
        return 403
    if ask.own and municipality is not None and municipality != AKAA:
        return 404
    return ask.allowed


def test_every_page_route_is_in_the_review_matrix():
    listed = {(m, p) for m, p, _ in ROUTES}
    assert listed == set(REQUESTS), (sorted(listed - set(REQUESTS)), sorted(set(REQUESTS) - listed))


@pytest.mark.parametrize("method, path, access", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_each_route_declares_the_guard_the_role_table_calls_for(method, path, access):
    needs, _ = REQUESTS[method, path]
    want = needs if needs in (PUBLIC, SIGNED_IN) else ("area", needs[0].value if needs[0] else None, needs[1].value)
    assert access == want


@pytest.fixture(scope="module")
def web_ledger(tmp_path_factory, cheap_passwords):
    """The API tests' ledger with a second revision of the 2021 agreement (the title only), so that
    the comparison of revisions has two to compare."""
    from osuus.services import agreements
    from osuus.services.ledger import Ledger

    url = f"sqlite:///{tmp_path_factory.mktemp('review') / 'osuus.db'}"
    ledger = make_ledger(url)
    revised = tmp_path_factory.mktemp("revision") / "pirkanmaa-2021.toml"
    revised.write_text(AGREEMENT.read_text(encoding="utf-8").replace(
        'kustannustenjakoliite 2021"', 'kustannustenjakoliite 2021 (tarkistettu)"', 1), encoding="utf-8")
    with Ledger(url, "paakayttaja", area=AREA) as opened:
        assert agreements.add_agreement(opened, revised).agreement.revision == 2
    return ledger


def _token(web_ledger, person: str, fresh: bool) -> str:
    if not fresh:
        return web_ledger.tokens[person]
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=PEOPLE[person][0]) as opened:
        return accounts.login(opened, person, PASSWORD, f"matriisi-{person}").token


def _client(web_app, web_ledger, person: str | None, *, fresh: bool = False):
    c = client(web_app)
    if person is not None:
        c.cookies.set("__Host-osuus_session", _token(web_ledger, person, fresh))
    return c


def _csrf_of(c) -> str:
    """The form's CSRF token: the session's, or (no session) the cookie the sign-in page sets."""
    if c.cookies.get("__Host-osuus_session"):
        return csrf(c)
    c.get("/login")
    return c.cookies.get("__Host-osuus_csrf")


def _records(web_app) -> int:
    """How many records the area's change log holds (a GET must add none)."""
    from sqlalchemy import func, select

    from osuus.store.tables import AuditRecord

    with web_app.state.ledgers.area(AREA, readonly=True).read() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord))


def _url(web_ledger, ask: Ask) -> str:
    return ask.url.format(area=AREA, akaa=web_ledger.invoices[AKAA], draft_run=web_ledger.drafts["run"],
                          draft_approve=web_ledger.drafts["approve"], draft_reject=web_ledger.drafts["reject"])


CELLS = [(method, path, person) for method, path, _ in ROUTES for person in PERSONS]


@pytest.mark.parametrize("method, path, person", CELLS, ids=[f"{m} {p} as {who or 'no one'}" for m, p, who in CELLS])
def test_matrix(web_app, web_ledger, method, path, person):
    _, ask = REQUESTS[method, path]
    c = _client(web_app, web_ledger, person, fresh=path == "/logout")  # a session of its own to end
    url = _url(web_ledger, ask)
    if method == "GET":
        before = _records(web_app)
        answer = c.get(url, follow_redirects=False)
        assert _records(web_app) == before, "a GET wrote to the change log"
    else:
        data = {**{k: v.format(person=person) for k, v in ask.data.items()}, "csrf_token": _csrf_of(c)}
        answer = c.post(url, data=data, files=ask.files or None, follow_redirects=False)
    want = expected(method, path, person)
    assert answer.status_code == want, answer.text[:300]
    if want == 303 and person is None and path.startswith("/areas/"):
        assert answer.headers["location"].startswith("/login?next=")


POSTS = [(path, next(p for p in PERSONS if p is not None and expected("POST", path, p) not in (403, 404)))
         for method, path, _ in ROUTES if method == "POST"]


@pytest.mark.parametrize("path, person", POSTS, ids=[path for path, _ in POSTS])
def test_every_post_is_refused_without_its_csrf_token(web_app, web_ledger, path, person):
    """The person the route allows, the request exactly as in the matrix, without the token: 403;
    and with a token of another session: 403."""
    _, ask = REQUESTS["POST", path]
    c = _client(web_app, web_ledger, person, fresh=path == "/logout")
    url = _url(web_ledger, ask)
    assert c.post(url, data=dict(ask.data), files=ask.files or None, follow_redirects=False).status_code == 403
    other = csrf(_client(web_app, web_ledger, "tarkastaja" if person != "tarkastaja" else "hyvaksyja"))
    forged = {**ask.data, "csrf_token": other}
    assert c.post(url, data=forged, files=ask.files or None, follow_redirects=False).status_code == 403
