"""Signing in with a municipality's own identity provider (OpenID Connect), against the small
provider of tests/web/oidc_provider.py served on loopback.

Two providers of the configuration use it: `akaa` (Akaa's own: everyone of its tenant is a
member of 020; the secret in the file, sent with HTTP Basic) and `seutu` (a regional one: the
role by the `roles` claim; the secret from the environment, sent in the form).
"""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from tests.api.conftest import AKAA, AREA, NOKIA, PASSWORD
from tests.web.conftest import client
from tests.web.oidc_provider import TestProvider, s256

AKAA_TENANT = "0b6e7c1a-akaa"
SEUTU_TENANT = "5d2f9e40-seutu"
SECRET_ENV = "OSUUS_TEST_OIDC_SEUTU_SECRET"
#: the browser at the provider (one client: making one costs a TLS context)
AT_PROVIDER = httpx.Client(follow_redirects=False)
PERSON = {"sub": "akaa-person-1", "name": "Aino Akaalainen", "tid": AKAA_TENANT, "locale": "fi-FI"}


def config_text(issuer: str) -> str:
    return f"""
redirect_base = "https://testserver"

[[providers]]
name = "akaa"
label = "Akaan kaupunki"
issuer = "{issuer}"
client_id = "osuus-akaa"
client_secret = "akaa-secret"
area = "{AREA}"
tenant_claim = "tid"
tenant = "{AKAA_TENANT}"
role = "member"
municipality = "{AKAA}"

[[providers]]
name = "seutu"
label = "Seudun tunnistus"
issuer = "{issuer}"
client_id = "osuus-seutu"
client_secret_env = "{SECRET_ENV}"
token_auth = "client_secret_post"
scopes = ["openid", "profile", "email"]
area = "{AREA}"
tenant_claim = "tid"
tenant = "{SEUTU_TENANT}"

[[providers.roles]]
claim = "roles"
value = "Osuus.Valmistelija"
role = "preparer"

[[providers.roles]]
claim = "roles"
value = "Osuus.Hyvaksyja"
role = "approver"
"""


@pytest.fixture(scope="module")
def provider():
    idp = TestProvider(clients={"osuus-akaa": "akaa-secret", "osuus-seutu": "seutu-secret"},
                       identity=dict(PERSON)).start()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def oidc_app(web_ledger, provider, tmp_path_factory):
    from osuus.api.settings import Settings
    from osuus.web.app import create_app

    path = tmp_path_factory.mktemp("oidc") / "oidc.toml"
    path.write_text(config_text(provider.issuer), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, "seutu-secret")
        app = create_app(Settings(database_url=web_ledger.url, oidc_config=str(path), secret="s" * 40))
    return app


@pytest.fixture
def browser(oidc_app, provider):
    provider.reset()
    oidc_app.state.oidc.forget()
    return client(oidc_app)


@pytest.fixture
def access_log():
    """The records of the `osuus.access` logger during a test."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("osuus.access")
    handler, level = Keep(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def refusals(records) -> list[dict]:
    return [r.fields for r in records if getattr(r, "fields", {}).get("event") == "oidc.refused"]


def to_provider(c, name: str = "akaa", next_: str | None = None):
    """Begin a sign-in; the provider's answer (it approves at once): the address back to osuus."""
    start = c.get(f"/login/oidc/{name}", params={"next": next_} if next_ else None, follow_redirects=False)
    assert start.status_code == 303, start.text
    at_idp = AT_PROVIDER.get(start.headers["location"])
    assert at_idp.status_code == 302, at_idp.text
    return at_idp.headers["location"]


def sign_in(c, name: str = "akaa", next_: str | None = None):
    return c.get(to_provider(c, name, next_), follow_redirects=False)


def user_of(web_ledger, issuer: str, sub: str, provider: str = "akaa"):
    """The user of osuus that the provider's `sub` is (None: not made), with its roles in the area."""
    from osuus.services import accounts
    from osuus.services.identities import user_name
    from osuus.services.ledger import Ledger

    name = user_name(provider, issuer, sub)
    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        return next((u for u in accounts.list_users(ledger) if u.name == name), None)


def audit_of(web_ledger, actor: str) -> list:
    """The area's audit records by `actor`, oldest first, as (action, subject, details)."""
    from sqlalchemy import select

    from osuus.services.ledger import Ledger
    from osuus.store.tables import AuditRecord

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger, ledger.read() as session:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.actor == actor).order_by(AuditRecord.id))
        return [(r.action, r.subject, r.details) for r in rows]


# --------------------------------------------------------------------------
# signing in
# --------------------------------------------------------------------------

def test_the_sign_in_page_offers_each_provider(browser):
    page = browser.get("/login?next=/areas/pirkanmaa/")
    assert page.status_code == 200
    assert 'href="/login/oidc/akaa?next=/areas/pirkanmaa/"' in page.text
    assert "Kirjaudu: Akaan kaupunki" in page.text and "Kirjaudu: Seudun tunnistus" in page.text


def test_the_provider_is_asked_with_pkce_state_and_nonce(browser, provider):
    start = browser.get("/login/oidc/akaa", follow_redirects=False)
    assert start.status_code == 303
    assert start.headers["location"].startswith(f"{provider.issuer}/authorize?")
    cookie = next(h for h in start.headers.get_list("set-cookie") if h.startswith("osuus_oidc="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie and "Path=/login/oidc" in cookie
    AT_PROVIDER.get(start.headers["location"])
    asked = provider.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["client_id"] == "osuus-akaa" and asked["scope"] == "openid profile"
    assert asked["redirect_uri"] == "https://testserver/login/oidc/akaa/callback"
    assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32 and asked["state"] != asked["nonce"]
    assert asked["ui_locales"] == "fi"


def test_the_address_back_is_the_configured_one_whatever_the_host_header_says(browser, provider):
    start = browser.get("/login/oidc/akaa", headers={"Host": "evil.example"}, follow_redirects=False)
    assert start.status_code == 303
    AT_PROVIDER.get(start.headers["location"])
    asked = provider.authorize_requests[-1]
    assert asked["redirect_uri"] == "https://testserver/login/oidc/akaa/callback"


def test_a_sign_in_over_a_session_ends_that_session(browser, web_ledger):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        old = accounts.login(ledger, "akaa", PASSWORD, "testi").token
        assert accounts.session_user(ledger, old) is not None
    browser.cookies.set("__Host-osuus_session", old)
    answer = sign_in(browser)
    assert answer.status_code == 303, answer.text
    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        assert accounts.session_user(ledger, old) is None  # ended, not left alive beside the new one


def test_a_member_municipalitys_person_lands_in_the_area_as_its_member(browser, provider, web_ledger, access_log):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    answer = sign_in(browser)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/areas/{AREA}/"
    cookies = answer.headers.get_list("set-cookie")
    session = next(h for h in cookies if h.startswith("__Host-osuus_session="))
    assert "HttpOnly" in session and "Secure" in session and "SameSite=lax" in session
    assert any(h.startswith('osuus_oidc=""') or h.startswith("osuus_oidc=;") for h in cookies)  # the flow ended
    # the provider got the PKCE verifier of the challenge it was sent, with the client's secret in Basic
    sent = provider.token_requests[-1]
    assert sent["basic"] and s256(sent["form"]["code_verifier"]) == provider.authorize_requests[-1]["code_challenge"]

    home = browser.get(f"/areas/{AREA}/")
    assert home.status_code == 200
    assert f" · {AKAA}" in home.text  # the header names the municipality the reader acts for
    token = browser.cookies.get("__Host-osuus_session")
    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        principal = accounts.principal_for_token(ledger, token)
    assert {r.value for r in principal.roles} == {"member"} and principal.municipality == AKAA
    assert principal.name.startswith("oidc-akaa-") and len(principal.name) == len("oidc-akaa-") + 24

    # the same session as a password's: the API shows Akaa its own invoices, and nothing of Nokia's
    api = client(browser.app)
    api.headers["Authorization"] = f"Bearer {token}"
    listed = api.get(f"/api/v1/areas/{AREA}/invoices")
    assert listed.status_code == 200
    assert listed.json()["items"] and {i["municipality"] for i in listed.json()["items"]} == {AKAA}
    assert api.get(f"/api/v1/areas/{AREA}/invoices/{web_ledger.invoices[NOKIA]}").status_code == 404
    assert api.get(f"/api/v1/areas/{AREA}/invoices/{web_ledger.invoices[AKAA]}").status_code == 200

    user = user_of(web_ledger, provider.issuer, PERSON["sub"])
    assert user.display_name == "Aino Akaalainen" and not user.has_password and user.language == "fi"
    assert [(r.role.value, r.municipality, r.granted_by) for r in user.roles] == [("member", AKAA, "oidc:akaa")]
    signed_in = [r.fields for r in access_log if getattr(r, "fields", {}).get("event") == "oidc.signed-in"]
    assert signed_in[-1]["user"] == user.name


def test_the_next_sign_in_finds_the_same_user_and_writes_nothing_to_the_audit_log(browser, provider, web_ledger):
    sign_in(client(browser.app))  # the user exists after this (whatever ran before)
    before = audit_of(web_ledger, "oidc:akaa")
    answer = sign_in(browser, next_=f"/areas/{AREA}/?year=2021")
    assert answer.status_code == 303 and answer.headers["location"] == f"/areas/{AREA}/?year=2021"
    after = audit_of(web_ledger, "oidc:akaa")
    assert after == before
    name = user_of(web_ledger, provider.issuer, PERSON["sub"]).name
    added = [(action, details) for action, subject, details in after if subject == name]
    assert len(added) == 1 and added[0][0] == "user.add"
    details = added[0][1]
    assert details["provider"] == "akaa" and details["password"] is False
    assert details["granted"] == [{"role": "member", "municipality": AKAA}]


def test_next_is_a_page_of_this_server_only(browser):
    answer = sign_in(browser, next_="https://evil.example/")
    assert answer.status_code == 303 and answer.headers["location"] == f"/areas/{AREA}/"


def test_a_personal_identity_code_in_the_name_is_never_stored(browser, provider, web_ledger):
    provider.identity = {**PERSON, "sub": "akaa-person-2", "name": "Outi Akaalainen 131052-308T"}
    assert sign_in(browser).status_code == 303
    user = user_of(web_ledger, provider.issuer, "akaa-person-2")
    assert "131052-308T" not in user.display_name and user.display_name.startswith("Outi Akaalainen 131052-")


def test_a_regional_provider_gives_the_role_of_the_claim_and_takes_back_what_it_no_longer_says(
        browser, provider, web_ledger):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    provider.identity = {"sub": "seutu-1", "name": "Sanna Seutu", "tid": SEUTU_TENANT,
                         "roles": ["Osuus.Valmistelija", "Muu"]}
    answer = sign_in(browser, "seutu")
    assert answer.status_code == 303, answer.text
    assert not provider.token_requests[-1]["basic"] and provider.token_requests[-1]["form"]["client_secret"]
    token = browser.cookies.get("__Host-osuus_session")
    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        assert {r.value for r in accounts.principal_for_token(ledger, token).roles} == {"preparer"}

    provider.identity = {**provider.identity, "roles": ["Osuus.Hyvaksyja"]}
    assert sign_in(browser, "seutu").status_code == 303
    user = user_of(web_ledger, provider.issuer, "seutu-1", "seutu")
    assert [r.role.value for r in user.roles] == ["approver"]
    assert browser.get(f"/areas/{AREA}/").status_code == 200
    # one record for the new user and its role, one for the change of role
    assert [(action, details.get("granted"), details.get("revoked"))
            for action, subject, details in audit_of(web_ledger, "oidc:seutu") if subject == user.name] == [
        ("user.add", [{"role": "preparer", "municipality": None}], None),
        ("user.external", [{"role": "approver", "municipality": None}], [{"role": "preparer", "municipality": None}]),
    ]


def test_a_role_granted_by_hand_is_left_as_it_is(browser, provider, web_ledger):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    provider.identity = {"sub": "seutu-3", "tid": SEUTU_TENANT, "roles": ["Osuus.Valmistelija"]}
    assert sign_in(browser, "seutu").status_code == 303
    name = user_of(web_ledger, provider.issuer, "seutu-3", "seutu").name
    with Ledger(web_ledger.url, "paakayttaja", area=AREA) as ledger:
        accounts.grant_role(ledger, name, "auditor")
    provider.identity = {**provider.identity, "roles": ["Osuus.Hyvaksyja"]}
    assert sign_in(browser, "seutu").status_code == 303
    roles = user_of(web_ledger, provider.issuer, "seutu-3", "seutu").roles
    assert sorted((r.role.value, r.granted_by) for r in roles) == [("approver", "oidc:seutu"),
                                                                   ("auditor", "paakayttaja")]


def test_a_disabled_user_is_refused(browser, provider, web_ledger, access_log):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    provider.identity = {**PERSON, "sub": "akaa-person-3"}
    assert sign_in(browser).status_code == 303
    name = user_of(web_ledger, provider.issuer, "akaa-person-3").name
    with Ledger(web_ledger.url, "paakayttaja", area=AREA) as ledger:
        accounts.disable_user(ledger, name)
    answer = sign_in(client(browser.app))
    assert answer.status_code == 403 and "ei ole käyttöoikeutta" in answer.text
    assert refusals(access_log)[-1]["reason"] == "account"
    assert refusals(access_log)[-1]["detail"] == "login.refused"


def test_a_person_the_mapping_gives_no_role_is_refused(browser, provider, access_log):
    provider.identity = {"sub": "seutu-2", "tid": SEUTU_TENANT, "roles": ["Muu"]}
    answer = sign_in(browser, "seutu")
    assert answer.status_code == 403
    assert "ei ole käyttöoikeutta" in answer.text
    assert "__Host-osuus_session" not in answer.headers.get("set-cookie", "")
    assert refusals(access_log)[-1]["reason"] == "no-role"


# --------------------------------------------------------------------------
# what is refused
# --------------------------------------------------------------------------

def refused(answer, access_log, reason: str, status: int = 401) -> dict:
    assert answer.status_code == status, answer.text
    assert "__Host-osuus_session=" not in " ".join(answer.headers.get_list("set-cookie"))
    found = refusals(access_log)
    assert found and found[-1]["reason"] == reason, found
    return found[-1]


def test_a_discovery_document_of_another_issuer_is_refused(browser, provider, access_log):
    provider.discovery_overrides = {"issuer": provider.issuer + "/"}  # not even a slash of leniency
    answer = browser.get("/login/oidc/akaa", follow_redirects=False)
    logged = refused(answer, access_log, "discovery-issuer")
    assert "ei tullut siltä tunnistuspalvelulta" in answer.text
    assert logged["issuer"] == provider.issuer + "/"


def test_an_id_token_of_another_issuer_is_refused(browser, provider, access_log):
    provider.token_overrides = {"iss": "https://login.example.com/other"}
    logged = refused(sign_in(browser), access_log, "issuer")
    assert logged["issuer"] == "https://login.example.com/other" and logged["sub"] == PERSON["sub"]


def test_an_id_token_of_another_tenant_is_refused(browser, provider, access_log):
    provider.identity = {**PERSON, "tid": SEUTU_TENANT}  # a real tenant, but not Akaa's
    answer = sign_in(browser)
    logged = refused(answer, access_log, "tenant")
    assert "eri organisaatioon" in answer.text
    assert logged["tenant"] == SEUTU_TENANT and logged["issuer"] == provider.issuer


def test_an_id_token_without_the_tenant_claim_is_refused(browser, provider, access_log):
    provider.token_overrides = {"tid": None}
    refused(sign_in(browser), access_log, "tenant")


def test_an_id_token_signed_by_another_key_is_refused(browser, provider, access_log):
    provider.sign_with_other_key = True
    refused(sign_in(browser), access_log, "signature")


def test_an_id_token_for_another_client_is_refused(browser, provider, access_log):
    provider.token_overrides = {"aud": "someone-else"}
    refused(sign_in(browser), access_log, "audience")


def test_an_id_token_with_another_nonce_is_refused(browser, provider, access_log):
    provider.token_overrides = {"nonce": "not-the-one-sent"}
    refused(sign_in(browser), access_log, "nonce")


def test_an_id_token_without_a_nonce_is_refused(browser, provider, access_log):
    provider.token_overrides = {"nonce": None}
    refused(sign_in(browser), access_log, "nonce")


def test_an_expired_id_token_is_refused(browser, provider, access_log):
    now = int(time.time())
    provider.token_overrides = {"iat": now - 4000, "exp": now - 3600}
    refused(sign_in(browser), access_log, "expired")


def test_an_id_token_issued_in_the_future_is_refused(browser, provider, access_log):
    provider.token_overrides = {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}
    refused(sign_in(browser), access_log, "issued-at")


def test_a_replayed_answer_is_refused(browser, access_log):
    back = to_provider(browser)
    flow = browser.cookies.get("osuus_oidc", path="/login/oidc")
    assert browser.get(back, follow_redirects=False).status_code == 303
    browser.cookies.set("osuus_oidc", flow, path="/login/oidc")  # the same cookie and answer, once more
    refused(browser.get(back, follow_redirects=False), access_log, "state-replayed")


def test_an_answer_without_its_flow_cookie_is_refused(browser, oidc_app, access_log):
    back = to_provider(browser)
    stranger = client(oidc_app)  # another browser: the answer was not asked for here
    answer = stranger.get(back, follow_redirects=False)
    refused(answer, access_log, "state-missing")
    assert "Aloita kirjautuminen uudelleen" in answer.text


def test_an_answer_without_a_state_is_refused(browser, access_log):
    back = to_provider(browser)
    refused(browser.get(back.split("&state=")[0], follow_redirects=False), access_log, "state-missing")


def test_an_answer_to_another_sign_in_is_refused(browser, access_log):
    first = to_provider(browser)
    to_provider(browser)  # a second sign-in in this browser replaces the first one's cookie
    refused(browser.get(first, follow_redirects=False), access_log, "state-mismatch")


def test_a_forged_flow_cookie_is_refused(browser, access_log):
    back = to_provider(browser)
    flow = browser.cookies.get("osuus_oidc", path="/login/oidc")
    payload, _, mac = flow.partition(".")
    browser.cookies.set("osuus_oidc", f"{payload}.{mac[:-2]}AA", path="/login/oidc")
    refused(browser.get(back, follow_redirects=False), access_log, "state-invalid")


def test_a_person_who_declines_at_the_provider_is_refused(browser, provider, access_log):
    provider.deny = True
    answer = sign_in(browser)
    refused(answer, access_log, "idp-error")
    assert "Tunnistuspalvelu ei hyväksynyt kirjautumista" in answer.text


def test_a_refusal_logs_no_token(browser, provider, access_log):
    provider.token_overrides = {"aud": "someone-else"}
    back = to_provider(browser)
    refused(browser.get(back, follow_redirects=False), access_log, "audience")
    code = back.split("code=")[1].split("&")[0]
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in access_log)
    assert provider.id_tokens[-1] not in logged and code not in logged
    assert set(refusals(access_log)[-1]) <= {"event", "provider", "reason", "issuer", "tenant", "sub", "detail"}


def test_an_unreachable_provider_is_a_page_that_says_so(browser, oidc_app, access_log):
    from dataclasses import replace

    registry = oidc_app.state.oidc
    original = registry.providers[:]
    registry.providers[0] = replace(original[0], issuer="http://127.0.0.1:9")  # the discard port: nobody
    try:
        answer = browser.get("/login/oidc/akaa", follow_redirects=False)
    finally:
        registry.providers[:] = original
    refused(answer, access_log, "unreachable", status=502)


def test_an_unknown_provider_is_not_found(browser):
    assert browser.get("/login/oidc/nobody", follow_redirects=False).status_code == 404
    assert browser.get("/login/oidc/nobody/callback?code=x&state=y", follow_redirects=False).status_code == 404
    assert browser.get("/login/oidc/NOT..VALID", follow_redirects=False).status_code == 404


def test_the_language_of_the_refusal_is_the_readers(browser, provider):
    browser.cookies.set("osuus_lang", "sv")
    provider.token_overrides = {"aud": "someone-else"}
    answer = sign_in(browser)
    assert answer.status_code == 401 and "identifieringstjänstens svar klarade inte kontrollerna" in answer.text


def test_the_use_case_refuses_a_mapping_it_cannot_keep(web_ledger):
    from osuus.access import Role
    from osuus.problems import ProblemsError
    from osuus.services.identities import ExternalIdentity, sign_in_external
    from osuus.services.ledger import Ledger

    def codes(**changes):
        identity = ExternalIdentity(**{"provider": "akaa", "issuer": "https://idp.example.fi", "subject": "s-9",
                                       "roles": ((Role.MEMBER, AKAA),), **changes})
        with Ledger(web_ledger.url, "oidc:akaa", area=AREA) as ledger, pytest.raises(ProblemsError) as caught:
            sign_in_external(ledger, identity)
        return sorted(p.code for p in caught.value.problems)

    assert codes(roles=()) == ["identity.no-role"]
    assert codes(roles=((Role.MEMBER, AKAA), (Role.MEMBER, NOKIA))) == ["role.one-municipality"]
    assert codes(roles=((Role.MEMBER, "999"),)) == ["role.municipality-unknown"]  # not a party to the agreement
    assert codes(roles=((Role.ADMIN, AKAA),)) == ["role.municipality"]
    assert codes(provider="Akaa!") == ["identity.provider"]


# --------------------------------------------------------------------------
# the configuration
# --------------------------------------------------------------------------

def test_a_server_without_providers_offers_none(web_app):
    c = client(web_app)
    assert "/login/oidc/" not in c.get("/login").text
    assert c.get("/login/oidc/akaa", follow_redirects=False).status_code == 404


def test_the_configuration_is_refused_with_every_problem_at_once():
    from osuus.problems import ProblemsError
    from osuus.web.oidc import parse_config

    data = {"providers": [
        {"name": "Akaa!", "issuer": "http://idp.example.com", "client_id": "x", "area": "pirkanmaa",
         "tenant_claim": "tid", "tenant": "t", "role": "member", "scopes": ["profile"], "colour": "blue"},
        {"name": "nokia", "label": "Nokia", "issuer": "https://idp.example.com/nokia?x=1", "client_id": "x",
         "client_secret": "s", "client_secret_env": "S", "area": "Pirkanmaa!", "tenant_claim": "tid",
         "role": "admin", "municipality": "536", "token_auth": "private_key_jwt",
         "roles": [{"claim": "roles", "value": "v", "role": "boss"}]},
        {"name": "nokia", "label": "Nokia", "issuer": "https://idp.example.com", "client_id": "x",
         "client_secret_env": "NOT_SET_ANYWHERE", "area": "pirkanmaa", "tenant_claim": "tid", "tenant": "t"},
    ], "redirect_base": "ftp://osuus.example.fi", "extra": 1}
    with pytest.raises(ProblemsError) as caught:
        parse_config(data, file="oidc.toml", env={})
    found = {(p.key, p.code) for p in caught.value.problems}
    assert found == {
        ("extra", "oidc.unknown-key"),
        ("redirect_base", "oidc.redirect-base"),
        ("providers[1].name", "oidc.name"),
        ("providers[1].colour", "oidc.unknown-key"),
        ("providers[1].label", "oidc.missing"),
        ("providers[1].issuer", "oidc.issuer"),  # http only on this machine
        ("providers[1].client_secret", "oidc.secret"),
        ("providers[1].scopes", "oidc.scopes"),
        ("providers[1].municipality", "oidc.municipality"),  # a member of no municipality
        ("providers.nokia.issuer", "oidc.issuer"),
        ("providers.nokia.client_secret", "oidc.secret"),
        ("providers.nokia.token_auth", "oidc.token-auth"),
        ("providers.nokia.area", "oidc.area"),
        ("providers.nokia.tenant", "oidc.missing"),
        ("providers.nokia.municipality", "oidc.municipality"),  # an admin is of the whole area
        ("providers.nokia.roles[1].role", "oidc.role"),
        ("providers[3].name", "oidc.name-taken"),
        ("providers[3].client_secret_env", "oidc.secret-env"),
        ("providers[3].role", "oidc.no-role"),
    }
    assert all(p.file == "oidc.toml" for p in caught.value.problems)


def test_providers_are_refused_without_the_servers_own_address():
    """The address the provider sends people back to is never made from a request's Host header."""
    import tomllib

    from osuus.problems import ProblemsError
    from osuus.web.oidc import Registry, parse_config

    data = tomllib.loads(config_text("https://login.example.fi/akaa/v2.0").replace(
        'redirect_base = "https://testserver"', ""))
    with pytest.raises(ProblemsError) as caught:
        parse_config(data, file="oidc.toml", env={SECRET_ENV: "seutu-secret"})
    assert [(p.key, p.code) for p in caught.value.problems] == [("redirect_base", "oidc.redirect-base")]
    config = parse_config({**data, "redirect_base": "https://osuus.example.fi/"}, env={SECRET_ENV: "s"})
    assert config.redirect_base == "https://osuus.example.fi"
    with pytest.raises(ValueError):
        Registry(config.providers)


def test_a_provider_of_the_configuration_keeps_its_secret_out_of_sight(tmp_path):
    from osuus.web.oidc import load_config

    path = tmp_path / "oidc.toml"
    path.write_text(config_text("https://login.example.fi/akaa/v2.0"), encoding="utf-8")
    config = load_config(path, env={SECRET_ENV: "seutu-secret"})
    akaa, seutu = config.providers
    assert (akaa.name, akaa.issuer, akaa.role.value, akaa.municipality) == (
        "akaa", "https://login.example.fi/akaa/v2.0", "member", AKAA)
    assert seutu.client_secret == "seutu-secret" and seutu.scopes == ("openid", "profile", "email")
    assert [(r.claim, r.value, r.role.value) for r in seutu.rules] == [
        ("roles", "Osuus.Valmistelija", "preparer"), ("roles", "Osuus.Hyvaksyja", "approver")]
    assert "akaa-secret" not in repr(akaa) and "seutu-secret" not in repr(seutu)
    path.write_text("[[providers]\nname = 1", encoding="utf-8")
    from osuus.problems import ProblemsError

    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    assert caught.value.problems[0].code == "oidc.toml"


def test_the_settings_name_the_file_and_the_secret():
    from osuus.api.settings import Settings
    from osuus.problems import ProblemsError

    settings = Settings.from_env({"OSUUS_OIDC_CONFIG": "/etc/osuus/oidc.toml", "OSUUS_SECRET": "k" * 32})
    assert settings.oidc_config == "/etc/osuus/oidc.toml" and settings.secret == "k" * 32
    assert "k" * 32 not in repr(settings)
    with pytest.raises(ProblemsError) as caught:
        Settings.from_env({"OSUUS_SECRET": "short"})
    assert [p.key for p in caught.value.problems] == ["OSUUS_SECRET"]
