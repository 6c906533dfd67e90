"""The frame of the web app: signing in and out, the language switch, CSRF, security headers,
session expiry, and the guard of every page."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.conftest import AREA, OTHER_AREA, PASSWORD, client, csrf, csrf_in


def sign_in(c, name: str, password: str = PASSWORD, next_: str = ""):
    page = c.get("/login")
    assert page.status_code == 200
    return c.post("/login", data={"name": name, "password": password, "csrf_token": csrf_in(page.text),
                                  "next": next_}, follow_redirects=False)


def test_a_page_of_an_area_sends_a_stranger_to_sign_in_and_back(anonymous):
    answer = anonymous.get(f"/areas/{AREA}/?year=2021", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next=%2Fareas%2F{AREA}%2F%3Fyear%3D2021"


def test_signing_in_sets_a_secure_http_only_cookie_and_goes_back(anonymous):
    answer = sign_in(anonymous, "valmistelija", next_=f"/areas/{AREA}/")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/areas/{AREA}/"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("__Host-osuus_session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert anonymous.get(f"/areas/{AREA}/").status_code == 200


def test_a_wrong_password_is_refused_in_the_readers_language(anonymous):
    anonymous.cookies.set("osuus_lang", "sv")
    answer = sign_in(anonymous, "valmistelija", "väärä")
    assert answer.status_code == 401
    assert "Användarnamnet eller lösenordet är fel" in answer.text
    assert 'href="#name"' in answer.text  # the summary links to the field


def test_a_form_without_its_csrf_token_is_refused(browser_for):
    c = browser_for("hyvaksyja")
    assert c.post("/language", data={"lang": "sv"}, follow_redirects=False).status_code == 403
    assert c.post("/language", data={"lang": "sv", "csrf_token": "x" * 40}, follow_redirects=False).status_code == 403
    assert c.post("/logout", data={}, follow_redirects=False).status_code == 403
    ok = c.post("/language", data={"lang": "sv", "csrf_token": csrf(c), "next": "/"}, follow_redirects=False)
    assert ok.status_code == 303


def test_a_post_from_another_origin_is_refused_even_with_the_token(browser_for):
    c = browser_for("hyvaksyja")
    answer = c.post("/language", data={"lang": "sv", "csrf_token": csrf(c)}, headers={"Origin": "https://evil.example"},
                    follow_redirects=False)
    assert answer.status_code == 403


def test_the_sign_in_form_carries_its_own_csrf_token(anonymous):
    anonymous.get("/login")
    answer = anonymous.post("/login", data={"name": "valmistelija", "password": PASSWORD, "csrf_token": "forged"},
                            follow_redirects=False)
    assert answer.status_code == 403


def test_pages_carry_the_security_headers(anonymous):
    answer = anonymous.get("/login")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert "<script>" not in answer.text and " style=" not in answer.text


def test_an_area_the_user_has_no_role_in_looks_like_no_area(browser_for):
    c = browser_for("lappilainen")
    assert c.get(f"/areas/{AREA}/").status_code == 404
    assert c.get("/areas/nowhere/").status_code == 404
    assert c.get(f"/areas/{OTHER_AREA}/").status_code == 200


def test_signing_out_ends_the_session_in_the_database(web_app, web_ledger):
    c = client(web_app)
    sign_in(c, "tarkastaja")
    token = c.cookies.get("__Host-osuus_session")
    assert c.post("/logout", data={"csrf_token": csrf(c)}, follow_redirects=False).status_code == 303
    stale = client(web_app)
    stale.cookies.set("__Host-osuus_session", token)
    assert stale.get(f"/areas/{AREA}/", follow_redirects=False).status_code == 303


def test_signing_out_everywhere_ends_every_session_of_the_user(web_app):
    first, second = client(web_app), client(web_app)
    sign_in(first, "tarkastaja")
    sign_in(second, "tarkastaja")
    first.post("/logout", data={"csrf_token": csrf(first), "everywhere": "1"})
    assert second.get(f"/areas/{AREA}/", follow_redirects=False).status_code == 303


def test_an_expired_session_is_sent_to_sign_in(web_app, web_ledger):
    from sqlalchemy import create_engine, update

    from osuus.services.accounts import token_hash
    from osuus.store.tables import UserSession

    c = client(web_app)
    sign_in(c, "tarkastaja")
    token = c.cookies.get("__Host-osuus_session")
    assert c.get(f"/areas/{AREA}/", follow_redirects=False).status_code == 200
    engine = create_engine(web_ledger.url)
    with engine.begin() as conn:
        conn.execute(update(UserSession).where(UserSession.token_hash == token_hash(token))
                     .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    engine.dispose()
    assert c.get(f"/areas/{AREA}/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("lang, words", [("fi", "Kirjaudu sisään"), ("sv", "Logga in"), ("en", "Sign in")])
def test_the_language_switch_is_kept_in_a_cookie(anonymous, lang, words):
    page = anonymous.get("/login")
    answer = anonymous.post("/language", data={"lang": lang, "next": "/login", "csrf_token": csrf_in(page.text)},
                            follow_redirects=True)
    assert f'<html lang="{lang}">' in answer.text and words in answer.text


def test_every_page_route_declares_a_guard(web_app):
    from osuus.web.app import page_table

    table = page_table(web_app)
    assert table and all(access for _, _, access in table)


def test_behind_a_trusted_proxy_that_ends_tls_a_form_is_accepted(web_app, web_ledger):
    """`osuus serve` with OSUUS_TRUSTED_PROXIES believes the proxy's X-Forwarded-Proto, so a page
    posted from the https address the browser used passes the Origin check."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from osuus.api.settings import Settings
    from tests.web.conftest import client_for

    assert Settings.from_env({"OSUUS_TRUSTED_PROXIES": "10.0.0.1"}).trusted_proxies == "10.0.0.1"
    c = client_for(ProxyHeadersMiddleware(web_app, trusted_hosts="*"))  # plain http to the server
    c.cookies.set("__Host-osuus_session", web_ledger.tokens["hyvaksyja"])
    answer = c.post("/language", data={"lang": "fi", "csrf_token": csrf(c), "next": "/"},
                    headers={"Origin": "https://testserver", "X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert answer.status_code == 303
    without = c.post("/language", data={"lang": "fi", "csrf_token": csrf(c), "next": "/"},
                     headers={"Origin": "https://testserver"}, follow_redirects=False)
    assert without.status_code == 403  # no proxy said https: the Origin is not the server's own
