"""Signing in and out, the language switch, and the choice of an area."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from osuus.web.app import PageRoute
from osuus.web.context import (LANG_COOKIE, LANGUAGES, SESSION_COOKIE, Page, end_session, public_page, redirect,
                               safe_next, signed_in_page, start_session)

router = APIRouter(route_class=PageRoute)


def areas_of(request: Request, token: str) -> list:
    """The areas the session's user has a role in, as (AreaView, Principal)."""
    from osuus.services import accounts
    from osuus.services.areas import list_areas

    ledgers = request.app.state.ledgers
    found = []
    for area in list_areas(ledgers.base(readonly=True)):
        principal = accounts.principal_for_token(ledgers.area(area.code, readonly=True), token)
        if principal is not None and principal.roles:
            found.append((area, principal))
    return found


@router.get("/")
async def start(request: Request, page: Page = Depends(public_page)):
    if page.token is None:
        return redirect("/login")
    found = await run_in_threadpool(areas_of, request, page.token)
    if len(found) == 1:
        return redirect(f"/areas/{found[0][0].code}/")
    return page.render("areas.html", areas=[a for a, _ in found])


@router.get("/login")
async def login_form(request: Request, next: str = "", page: Page = Depends(public_page)):
    from osuus.web.pages.oidc_links import providers_for_login

    return page.render("login.html", next=safe_next(next, ""), errors=[], name="",
                       providers=providers_for_login(request))


@router.post("/login")
async def login(request: Request, page: Page = Depends(public_page)):
    from osuus.services import accounts
    from osuus.web.pages.oidc_links import providers_for_login

    form = await request.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")), "/")
    errors, status = [], 400
    if not name.strip():
        errors.append(("name", page.t("web.login.name_missing")))
    if not password:
        errors.append(("password", page.t("web.login.password_missing")))
    if not errors:
        address = request.client.host if request.client else "unknown"
        try:
            result = await run_in_threadpool(accounts.login, request.app.state.ledgers.base(), name, password, address)
        except accounts.LoginRefused as exc:
            key = "web.login.rate_limited" if exc.code == "login.rate-limited" else "web.login.refused"
            errors.append(("name", page.t(key, seconds=exc.retry_after or 60)))
            status = 429 if exc.code == "login.rate-limited" else 401
        else:
            old = request.cookies.get(SESSION_COOKIE)
            if old:  # a sign-in over a session ends it: one browser, one session
                await run_in_threadpool(accounts.logout, request.app.state.ledgers.base(), old)
            response = redirect(target)
            start_session(response, result.token, result.expires_at)
            return response
    return page.render("login.html", status=status, next=target, errors=errors, name=name, providers=providers_for_login(request))


@router.post("/logout")
async def logout(request: Request, page: Page = Depends(signed_in_page)):
    from osuus.services import accounts

    form = await request.form()
    ledger = request.app.state.ledgers.base()
    if form.get("everywhere"):
        await run_in_threadpool(accounts.logout_everywhere, ledger, page.token)
    else:
        await run_in_threadpool(accounts.logout, ledger, page.token)
    response = redirect("/login?signed_out=1")
    end_session(response)
    return response


@router.post("/language")
async def language(request: Request, page: Page = Depends(public_page)):
    """The visible switch: the language in a cookie and, for a signed-in user, in their account."""
    form = await request.form()
    lang = str(form.get("lang", ""))
    target = safe_next(str(form.get("next", "")), "/")
    response = redirect(target)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, secure=True, samesite="lax",
                            path="/")
        token = request.cookies.get(SESSION_COOKIE)
        if page.token and token:
            from osuus.services import accounts

            user = await run_in_threadpool(accounts.session_user, request.app.state.ledgers.base(readonly=True),
                                           token)
            if user is not None:
                await run_in_threadpool(accounts.set_language, request.app.state.ledgers.base(), user.name, lang)
    return response
