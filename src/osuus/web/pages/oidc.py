"""Signing in with a municipality's own identity provider (OpenID Connect): the flow's two addresses.

`GET /login/oidc/{provider}` sends the browser to the provider's sign-in, with the flow's
signed cookie (osuus.web.oidc). `GET /login/oidc/{provider}/callback` checks the provider's
answer, finds or makes the person's user and gives it the roles of the provider's mapping
(osuus.services.identities), starts the same session as a password sign-in and goes on to
the area's page (or to `next`, when it is a page of this server).

Both are public pages and GETs: no form is posted, and the state (bound to this browser by
the flow cookie) is what ties the provider's answer to the sign-in begun here. A refusal is
a page saying what happened (401; 403 when the person has no access to the area; 502 when
the provider cannot be reached) and a warning on the `osuus.access` logger with the reason
and, of the token, its issuer, tenant and subject only.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from osuus.privacy import mask_personal_codes
from osuus.problems import ProblemsError
from osuus.web.app import PageRoute, error_page
from osuus.web.context import SESSION_COOKIE, Page, PageError, public_page, redirect, safe_next, start_session
from osuus.web.oidc import FLOW_COOKIE, FLOW_LIFETIME, FLOW_PATH, Provider, Refused, display_name, language

router = APIRouter(route_class=PageRoute)
log = logging.getLogger("osuus.access")
PROVIDER_PATTERN = r"^[a-z0-9][a-z0-9-]{0,29}$"


def _provider(request: Request, name: str) -> Provider:
    registry = getattr(request.app.state, "oidc", None)
    found = registry.get(name) if registry is not None else None
    if found is None:
        raise PageError(404, "web.error.not_found")
    return found


def _callback_address(request: Request, provider: Provider) -> str:
    """Where the provider sends the browser back: under the configured `redirect_base` (required
    with providers: osuus.web.oidc), never an address made from the request's Host header."""
    return f"{request.app.state.oidc.redirect_base}{FLOW_PATH}/{provider.name}/callback"


def _end_flow(response) -> None:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=True, httponly=True, samesite="lax")


def _refused(request: Request, provider: Provider, refusal: Refused):
    fields = {"event": "oidc.refused", "provider": provider.name, "reason": refusal.reason}
    for name in ("issuer", "tenant", "sub"):
        value = getattr(refusal, name)
        if value is not None:
            fields[name] = mask_personal_codes(value)
    if refusal.detail:
        fields["detail"] = mask_personal_codes(refusal.detail)
    log.warning("OpenID Connect sign-in refused", extra={"fields": fields})
    response = error_page(request, refusal.status, refusal.key)
    _end_flow(response)
    return response


@router.get("/login/oidc/{provider}")
async def oidc_begin(request: Request, provider: str = Path(pattern=PROVIDER_PATTERN), next: str = "",
                     p: Page = Depends(public_page)):
    found = _provider(request, provider)
    try:
        address, cookie = await request.app.state.oidc.begin(found, _callback_address(request, found),
                                                             safe_next(next, ""), p.lang)
    except Refused as refusal:
        return _refused(request, found, refusal)
    response = RedirectResponse(address, status_code=303)
    response.set_cookie(FLOW_COOKIE, cookie, max_age=FLOW_LIFETIME, httponly=True, secure=True, samesite="lax",
                        path=FLOW_PATH)
    return response


def _sign_in(request: Request, provider: Provider, identity):
    from osuus.services.identities import sign_in_external

    state = request.scope.get("state", {})
    context = {"api": f"GET {FLOW_PATH}/{provider.name}/callback", "request_id": state.get("request_id"),
               "principal": "oidc"}
    ledger = request.app.state.ledgers.acting(f"oidc:{provider.name}", provider.area, context=context)
    return sign_in_external(ledger, identity)


@router.get("/login/oidc/{provider}/callback")
async def oidc_callback(request: Request, provider: str = Path(pattern=PROVIDER_PATTERN),
                        p: Page = Depends(public_page)):
    from osuus.services.identities import ExternalIdentity

    found = _provider(request, provider)
    try:
        claims, flow = await request.app.state.oidc.finish(found, request.query_params,
                                                           request.cookies.get(FLOW_COOKIE))
    except Refused as refusal:
        return _refused(request, found, refusal)
    known = {"issuer": claims["iss"], "tenant": claims[found.tenant_claim], "sub": claims["sub"]}
    roles = found.roles_for(claims)
    if not roles:
        return _refused(request, found, Refused("no-role", **known))
    identity = ExternalIdentity(provider=found.name, issuer=found.issuer, subject=claims["sub"], roles=roles,
                                display_name=display_name(claims), language=language(claims))
    try:
        result = await run_in_threadpool(_sign_in, request, found, identity)
    except ProblemsError as exc:
        codes = ", ".join(sorted({problem.code for problem in exc.problems}))
        return _refused(request, found, Refused("account", detail=codes, **known))
    log.info("signed in with OpenID Connect", extra={"fields": {
        "event": "oidc.signed-in", "provider": found.name, "user": result.user.name, "created": result.created}})
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a sign-in over a session ends it, as the password's does: one browser, one session
        from osuus.services import accounts

        await run_in_threadpool(accounts.logout, request.app.state.ledgers.base(), old)
    response = redirect(safe_next(flow.next, f"/areas/{found.area}/"))
    start_session(response, result.token, result.expires_at)
    _end_flow(response)
    return response
