"""The server itself: health (no credentials), signing in and out, and who the caller is in an area."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from osuus import __version__
from osuus.api import models
from osuus.api.auth import Context, GuardedRoute, Session, in_area, public, signed_in
from osuus.api.problems import ApiProblem, responses
from osuus.problems import ProblemsError

router = APIRouter(route_class=GuardedRoute, tags=["server"])
area_router = APIRouter(prefix="/areas/{area}", route_class=GuardedRoute, tags=["server"])


@router.get("/health", response_model=models.Health, dependencies=[Depends(public)],
            responses={503: {"model": models.Health, "description": "The database cannot be used"}},
            summary="Whether the server and its database can be used")
def health(request: Request, response: Response) -> dict:
    """200 when the database answers and is migrated to the revision this program needs; else 503
    with the reason. Needs no credentials, and tells nothing of any area."""
    data = {"status": "ok", "version": __version__}
    try:
        data.update(request.app.state.ledgers.health())
    except Exception as exc:  # the database cannot be reached or read: said, not raised
        from osuus.store.db import NotMigrated, Unusable, unusable

        found = exc if isinstance(exc, (Unusable, NotMigrated)) else unusable(exc, request.app.state.ledgers.url)
        data.update(status="unavailable", detail=found.message if found is not None else type(exc).__name__)
        response.status_code = 503
        return data
    if not data["migrated"]:
        data.update(status="unavailable", detail="the database is not at the revision this program needs: run "
                                                 "`osuus db upgrade`")
        response.status_code = 503
    return data


def _login(request: Request, name: str, password: str, area: str | None):
    from osuus.services import accounts

    address = request.client.host if request.client else "unknown"
    ledgers = request.app.state.ledgers
    try:
        return accounts.login(ledgers.area(area) if area else ledgers.base(), name, password, address)
    except accounts.LoginRefused as exc:
        if exc.code == "login.rate-limited":
            raise ApiProblem(429, str(exc.problems[0].message), headers={"Retry-After": str(exc.retry_after or 60)},
                             log_reason="login-rate-limited") from None
        raise ApiProblem(401, exc.problems[0].message, headers={"WWW-Authenticate": 'Bearer realm="osuus"'},
                         log_reason="login-refused") from None
    except ProblemsError as exc:
        if any(p.code in ("area.unknown", "area.ambiguous") for p in exc.problems):
            # the same refusal as for wrong credentials: signing in tells no one which areas there are
            raise ApiProblem(401, accounts.REFUSED, headers={"WWW-Authenticate": 'Bearer realm="osuus"'},
                             log_reason="login-unknown-area") from None
        raise


@router.post("/login", response_model=models.LoginAnswer, dependencies=[Depends(public)],
             responses=responses(401, 422, 429), summary="Sign in: a bearer token for the session")
async def login(request: Request, body: models.LoginRequest) -> dict:
    """A session token for `Authorization: Bearer`, valid for 12 hours or until signed out, and the
    user's roles in `area` (default: the server's `OSUUS_AREA`; a token is of no one area).
    Refused (401) alike for an unknown name, a wrong password or a disabled user; too many
    failed attempts for a name or from an address are refused with 429 and `Retry-After`."""
    area = body.area or request.app.state.settings.area
    result = await run_in_threadpool(_login, request, body.name, body.password, area)
    request.scope.setdefault("state", {})["principal_name"] = result.user.name
    return {"token": result.token, "token_type": "bearer", "expires_at": result.expires_at, "user": result.user.name,
            "language": result.user.language, "area": area,
            "roles": [{"role": r.role.value, "municipality": r.municipality} for r in result.user.roles]}


@router.post("/logout", status_code=204, responses=responses(401), summary="Sign out: the session's token ends")
def logout(request: Request, session: Session = Depends(signed_in)) -> Response:
    from osuus.services import accounts

    if not accounts.logout(request.app.state.ledgers.base(), session.token):
        raise ApiProblem(401, "the token is not a session's, or its session has ended",
                         headers={"WWW-Authenticate": 'Bearer realm="osuus"'}, log_reason="logout-unknown")
    return Response(status_code=204)


@area_router.get("/me", response_model=models.Me, responses=responses(401, 404),
                 summary="Who the caller is in the area: roles, municipality, scopes")
def me(ctx: Context = Depends(in_area)) -> dict:
    p = ctx.principal
    return {"name": p.name, "kind": p.kind, "area": p.area_code, "roles": sorted(r.value for r in p.roles),
            "municipality": p.municipality, "scopes": sorted(p.scopes) if p.scopes is not None else None,
            "language": ctx.lang}
