"""Who reads a page, in which area and language, and whether they may: the guards of every route.

Every page route declares exactly one guard, as the API's routes do (osuus.api.auth):

- `public_page`: anyone (sign-in, the accessibility statement);
- `signed_in_page`: a signed-in user, in no area yet (choosing an area);
- `page(resource, action)`: a signed-in user with a role in the area of the path that allows
  (resource, action); `page()` alone: any role of the area.

Not signed in (no cookie, or a session that expired or ended): a redirect to the sign-in page,
which comes back after. An area the user has no role in, or that is not there: 404, the same
page for both. A role that does not allow the page: 403. A member asking for another
municipality's document: 404, as for a document that is not there (the pages ask
`Page.sees`).

Every POST is checked before its route runs: a CSRF token in the form field `csrf_token`
(derived from the session's secret token, so it is bound to the session and needs no
server-side store; before sign-in, a random cookie submitted twice), and an `Origin` header,
when the browser sends one, of this server's own origin.

The session is the API's: `POST /login` makes the same 12-hour session token, kept here in an
HttpOnly, Secure, SameSite=Lax cookie; signing out ends it in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable
from urllib.parse import quote

from fastapi import Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from osuus.access import Action, Principal, Resource
from osuus.api.auth import AREA_PATTERN
from osuus.problems import ProblemsError

#: `__Host-`: the browser takes these cookies only from this very host over HTTPS (or loopback),
#: never from a sibling subdomain or plain http, so no one else can plant a session or a token.
SESSION_COOKIE = "__Host-osuus_session"
LANG_COOKIE = "osuus_lang"
CSRF_COOKIE = "__Host-osuus_csrf"
#: What a CSRF cookie this server made looks like (secrets.token_urlsafe(24)); anything else is replaced.
CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")
CSRF_FIELD = "csrf_token"
LANGUAGES = ("fi", "sv", "en")


class Redirect(Exception):
    """Answer with a redirect (303) to `location`: raised by a guard or a page."""

    def __init__(self, location: str):
        self.location = location


class PageError(Exception):
    """Answer with the error page: `status` and a catalogue key saying what happened."""

    def __init__(self, status: int, key: str, **params):
        self.status, self.key, self.params = status, key, params
        super().__init__(key)


def csrf_of_session(token: str) -> str:
    """The CSRF token of a session: a hash of its secret token, which only the session's own
    cookie (HttpOnly) holds, so that no other site can know or make it."""
    return hashlib.sha256(b"osuus-csrf:" + token.encode()).hexdigest()[:40]


def choose_language(request: Request, principal: Principal | None = None) -> str:
    """The reader's language: the switch's cookie, else the user's own, else the browser's
    Accept-Language, else Finnish."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    if principal is not None and principal.language in LANGUAGES:
        return principal.language
    from osuus.api.auth import language

    return language(request)


@dataclass
class Page:
    """One request of a page: its reader (None before sign-in), area and language."""

    request: Request
    lang: str
    token: str | None = None
    principal: Principal | None = None
    area: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- words and numbers -------------------------------------------------------------
    @cached_property
    def words(self):
        from osuus.render.i18n import catalogue

        return catalogue(self.lang)

    def t(self, key: str, /, **params) -> str:
        return self.words.t(key, **params)

    def n(self, key: str, count: int, /, **params) -> str:
        """The plural form for `count`, with the count written in the reader's locale (8 547)."""
        return self.words.n(key, count, **{"count": self.fmt.count(count), **params})

    @cached_property
    def fmt(self):
        from osuus.render.formats import formats

        return formats(self.lang)

    # -- who and where -----------------------------------------------------------------
    @property
    def csrf(self) -> str:
        if self.token:
            return csrf_of_session(self.token)
        if "csrf" not in self.extra:
            sent = self.request.cookies.get(CSRF_COOKIE, "")
            self.extra["csrf"] = sent if CSRF_SHAPE.fullmatch(sent) else secrets.token_urlsafe(24)
        return self.extra["csrf"]

    def may(self, resource: Resource, action: Action = Action.READ) -> bool:
        return self.principal is not None and self.principal.may(resource, action)

    @property
    def member(self) -> str | None:
        """The one municipality a member-only reader sees (None: staff, who see every one)."""
        p = self.principal
        return p.municipality if p is not None and p.is_member_only else None

    def sees(self, municipality: str) -> bool:
        return self.principal is not None and self.principal.sees_municipality(municipality)

    @cached_property
    def api(self):
        """The API's view of this request (its ledger and reader act as the reader, in the area)."""
        from osuus.api.auth import Context

        return Context(self.request, self.principal, self.area, self.lang)

    @property
    def ledger(self):
        return self.api.ledger

    @property
    def reader(self):
        return self.api.reader

    def url(self, path: str = "") -> str:
        """The address of `path` inside the area: `page.url("invoices")` → `/areas/x/invoices`."""
        base = f"/areas/{self.area}"
        return f"{base}/{path}" if path else f"{base}/"

    # -- answers -----------------------------------------------------------------------
    def render(self, template: str, status: int = 200, **values) -> HTMLResponse:
        from osuus.web.templating import render

        response = HTMLResponse(render(self, template, **values), status_code=status)
        if not self.token and "csrf" in self.extra and self.request.cookies.get(CSRF_COOKIE) != self.extra["csrf"]:
            response.set_cookie(CSRF_COOKIE, self.extra["csrf"], httponly=True, secure=True, samesite="lax", path="/")
        return response


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def safe_next(location: str | None, default: str = "/") -> str:
    """A place to go back to after signing in: a path of this server only (never another site)."""
    if not location or not location.startswith("/") or location.startswith("//") or "\\" in location:
        return default
    return location


def start_session(response, token: str, expires_at) -> None:
    """Keep a session token in the browser until it expires (or the browser closes, whichever first)."""
    import datetime as dt

    seconds = max(0, int((expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds()))
    response.set_cookie(SESSION_COOKIE, token, max_age=seconds, httponly=True, secure=True, samesite="lax", path="/")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=True, httponly=True, samesite="lax")


def end_session(response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")


async def _check_post(request: Request, expected: str | None) -> None:
    """A POST comes from a form of this server: its Origin (when sent) is ours and its
    form carries the CSRF token of the session (or, before sign-in, of the cookie)."""
    if request.method != "POST":
        return
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin.rstrip("/") != own:
            raise PageError(403, "web.error.csrf")
    elif origin == "null":
        raise PageError(403, "web.error.csrf")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise PageError(403, "web.error.csrf")


def _login_location(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def _principal(request: Request, area: str, token: str) -> Principal | None:
    from osuus.services import accounts

    ledgers = request.app.state.ledgers
    try:
        ledger = ledgers.area(area, readonly=True)
    except ProblemsError as exc:
        if any(p.code in ("area.unknown", "area.ambiguous") for p in exc.problems):
            return None
        raise
    return accounts.principal_for_token(ledger, token)


def _signed_in(request: Request, token: str):
    from osuus.services import accounts

    return accounts.session_user(request.app.state.ledgers.base(readonly=True), token)


async def public_page(request: Request) -> Page:
    """Anyone may read the page (a signed-in reader is known, but not required)."""
    token = request.cookies.get(SESSION_COOKIE) or None
    page = Page(request, choose_language(request), token=None)
    if token and await run_in_threadpool(_signed_in, request, token) is not None:
        page.token = token
    await _check_post(request, page.csrf)
    return page


public_page.access = ("public",)


async def signed_in_page(request: Request) -> Page:
    """A signed-in reader, in no area."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or await run_in_threadpool(_signed_in, request, token) is None:
        raise Redirect(_login_location(request))
    page = Page(request, choose_language(request), token=token)
    await _check_post(request, page.csrf)
    return page


signed_in_page.access = ("signed-in",)


def page(resource: Resource | None = None, action: Action = Action.READ) -> Callable:
    """The guard of a page of an area: a role there that may do `action` on `resource`
    (`resource` None: any role of the area)."""

    async def guard(request: Request, area: str = Path(pattern=AREA_PATTERN)) -> Page:
        token = request.cookies.get(SESSION_COOKIE)
        principal = await run_in_threadpool(_principal, request, area, token) if token else None
        if principal is None:
            if not token or await run_in_threadpool(_signed_in, request, token) is None:
                raise Redirect(_login_location(request))
            raise PageError(404, "web.error.not_found")  # signed in, but not in this area (or no such area)
        found = Page(request, choose_language(request, principal), token=token, principal=principal, area=area)
        if not principal.roles:
            raise PageError(404, "web.error.not_found")
        if resource is not None and not principal.may(resource, action):
            raise PageError(403, "web.error.forbidden")
        await _check_post(request, found.csrf)
        return found

    guard.access = ("area", resource.value if resource else None, action.value)
    guard.__name__ = f"page_{resource.value if resource else 'any'}_{action.value}"
    return guard
