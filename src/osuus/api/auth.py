"""Who asks, and whether they may: the dependencies every route declares.

A request carries `Authorization: Bearer <token>`: a session token from
`POST /api/v1/login`, or an API key `osuus_<prefix>_<secret>`. Either becomes an
`osuus.access.Principal` of the area in the path (osuus.services.accounts). Then

- no credentials, or credentials that are not valid (unknown, expired, revoked,
  disabled): 401, with `WWW-Authenticate: Bearer`;
- a signed-in user with no role in the area of the path, or an area the database
  does not have: 404 — an area is not shown to those who are not in it (an API key
  is of one area: in another it is no credential at all, 401);
- a role (and, for an API key, a scope) that does not allow the route's
  (resource, action): 403;
- a member asking for another municipality's document: 404, never 403 and never the
  document (the routes ask `Context.visible`).

Every route states its rule by declaring exactly one of `require(resource, action)`,
`in_area` (any role of the area), `signed_in` or `public`; `GuardedRoute` finds it, keeps
it on the route (`route.access`) and in the OpenAPI document (`x-osuus-access`), and refuses to build a route without
one, so the authorisation matrix test can be generated from the route table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from osuus.access import Action, Principal, Resource
from osuus.api.problems import ApiProblem
from osuus.problems import ProblemsError

API_KEY_PREFIX = "osuus_"
LANGUAGES = ("fi", "sv", "en")
#: An area's code in a path (osuus.store.areas.AREA_CODE).
AREA_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"

bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="A session token from `POST /api/v1/login`, or an API key `osuus_<prefix>_<secret>`.")


@dataclass(frozen=True)
class Access:
    """A route's rule: `public`, `signed-in` (any valid session), or `area` with the
    (resource, action) the principal's roles and scopes must allow."""

    kind: str
    resource: Resource | None = None
    action: Action | None = None

    def to_data(self) -> dict[str, str]:
        if self.kind != "area" or self.resource is None:
            return {"kind": self.kind}
        return {"kind": self.kind, "resource": self.resource.value, "action": self.action.value}


def _state(request: Request) -> dict:
    return request.scope.setdefault("state", {})


def language(request: Request, principal: Principal | None = None) -> str:
    """The reader's language: the first of fi, sv, en in Accept-Language, else the user's own, else fi."""
    header = request.headers.get("accept-language", "")
    ranked = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in LANGUAGES and q > 0:
            ranked.append((-q, n, lang))
    if ranked:
        return min(ranked)[2]
    if principal is not None and principal.language in LANGUAGES:
        return principal.language
    return "fi"


REASON_HEADER = "Osuus-Reason"
REASON_MAX = 500


def change_reason(request: Request) -> str:
    """Why the client makes this change (the header `Osuus-Reason`, UTF-8 percent-encoded as a
    header allows): it goes into the audit record where the use case asks for no reason."""
    from urllib.parse import unquote

    text = unquote(request.headers.get(REASON_HEADER, "")).strip()
    return text[:REASON_MAX]


@dataclass
class Context:
    """One request's principal, area and language, and the ledger it works on."""

    request: Request
    principal: Principal
    area: str
    lang: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ledgers(self):
        return self.request.app.state.ledgers

    @property
    def ledger(self):
        """The writer, acting as the principal in the area."""
        if "ledger" not in self.extra:
            state = self.request.scope.get("state", {})
            context = {"api": f"{self.request.method} {self.request.url.path}", "request_id": state.get("request_id"),
                       "principal": self.principal.kind}
            self.extra["ledger"] = self.ledgers.acting(self.principal.name, self.area,
                                                       reason=change_reason(self.request), context=context)
        return self.extra["ledger"]

    @property
    def reader(self):
        """The reader (on SQLite: takes no write lock), acting as the principal in the area."""
        if "reader" not in self.extra:
            self.extra["reader"] = self.ledgers.acting(self.principal.name, self.area, readonly=True)
        return self.extra["reader"]

    @property
    def member(self) -> str | None:
        """The one municipality a member-only principal sees (None: staff, who see every one)."""
        return self.principal.municipality if self.principal.is_member_only else None


def _unauthorized(detail: str, reason: str) -> ApiProblem:
    return ApiProblem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="osuus"'}, log_reason=reason)


def _area_not_found(area: str, reason: str) -> ApiProblem:
    return ApiProblem(404, f"no area {area!r}", log_reason=reason)


def _signed_in(ledger, token: str) -> bool:
    """Whether `token` is a live session of a user who may sign in (whatever their areas): such a
    user asking for an area they have no role in gets 404, as for an area that is not there."""
    from osuus.services.accounts import session_user

    return session_user(ledger, token) is not None


def _principal(request: Request, area: str, token: str) -> Principal:
    from osuus.services import accounts

    ledgers = request.app.state.ledgers

    def refused(reason: str) -> ApiProblem:
        """No principal of this area: 404 to a signed-in user (whether the area is there or not),
        401 to anyone else (so that no one learns from 401 and 404 which areas there are)."""
        if not token.startswith(API_KEY_PREFIX) and _signed_in(ledgers.base(readonly=True), token):
            return _area_not_found(area, reason)
        return _unauthorized("the credentials are not valid: unknown, expired, revoked or disabled",
                             "bad-credentials")

    try:  # the reader: on SQLite, signing a request in takes no write lock (a key's last use writes alone)
        ledger = ledgers.area(area, readonly=True)
    except ProblemsError as exc:
        if any(p.code in ("area.unknown", "area.ambiguous") for p in exc.problems):
            raise refused("unknown-area") from None
        raise
    if token.startswith(API_KEY_PREFIX):
        principal = accounts.principal_for_api_key(ledger, token)
    else:
        principal = accounts.principal_for_token(ledger, token)
    if principal is None:
        raise refused("other-area")  # signed in with no role in this area, or not signed in at all
    _state(request)["principal_name"] = principal.name
    if principal.area_code != area or not principal.roles:
        raise _area_not_found(area, "other-area")
    return principal


async def authenticate(request: Request, area: str = Path(pattern=AREA_PATTERN, description="the area's code"),
                       credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    _state(request)["area"] = area
    if credentials is None or not credentials.credentials:
        raise _unauthorized("this needs credentials: Authorization: Bearer <session token or API key>",
                            "no-credentials")
    return await run_in_threadpool(_principal, request, area, credentials.credentials)


def require(resource: Resource, action: Action) -> Callable:
    """The dependency of a route of an area: the principal may do `action` on `resource`.
    On a POST it also begins the request's idempotency (osuus.api.idempotency)."""

    async def guard(request: Request, principal: Principal = Depends(authenticate)) -> Context:
        if not principal.may(resource, action):
            raise ApiProblem(403, f"{principal.name} may not {action.value} {resource.value} in this area",
                             log_reason=f"forbidden:{resource.value}:{action.value}")
        ctx = Context(request, principal, principal.area_code, language(request, principal))
        if request.method == "POST":
            from osuus.api import idempotency

            await idempotency.begin(request, ctx)
        return ctx

    guard.access = Access("area", resource, action)
    guard.__name__ = f"require_{resource.value}_{action.value}"
    return guard


async def in_area(request: Request, principal: Principal = Depends(authenticate)) -> Context:
    """The dependency of a route any principal of the area may call (whatever its roles)."""
    return Context(request, principal, principal.area_code, language(request, principal))


in_area.access = Access("area")


@dataclass(frozen=True)
class Session:
    """A signed-in user's token, for the routes of no area (logout)."""

    token: str


async def signed_in(request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Session:
    if credentials is None or not credentials.credentials:
        raise _unauthorized("this needs credentials: Authorization: Bearer <session token>", "no-credentials")
    return Session(credentials.credentials)


signed_in.access = Access("signed-in")


def public() -> None:
    """The marker of a route anyone may call (health, login)."""


public.access = Access("public")


def _access_of(dependant) -> Access | None:
    found = getattr(dependant.call, "access", None)
    if isinstance(found, Access):
        return found
    for sub in dependant.dependencies:
        found = _access_of(sub)
        if found is not None:
            return found
    return None


class GuardedRoute(APIRoute):
    """A route that states its access rule (see the module's doc) and honours `Idempotency-Key`."""

    def __init__(self, path: str, endpoint: Callable, **kwargs):
        super().__init__(path, endpoint, **kwargs)
        access = _access_of(self.dependant)
        if access is None:
            raise RuntimeError(f"the route {path} declares no access rule (require(...), signed_in or public)")
        self.access = access
        if self.operation_id is None:  # `invoices_show`: the tag and the function, stable and readable
            self.operation_id = f"{self.tags[0] if self.tags else 'osuus'}_{self.name.rstrip('_')}"
        extra = {**(self.openapi_extra or {}), "x-osuus-access": access.to_data()}
        if "POST" in self.methods and access.kind == "area":
            from osuus.api.idempotency import PARAMETER

            extra["parameters"] = [*extra.get("parameters", []), PARAMETER]
        self.openapi_extra = extra

    def get_route_handler(self) -> Callable:
        from osuus.api import idempotency

        handler = super().get_route_handler()

        async def handle(request: Request):
            try:
                response = await handler(request)
            except BaseException:
                await idempotency.release(request)
                raise
            await idempotency.finish(request, response)
            return response

        return handle
