"""Every error of the API in one shape: RFC 9457 problem details (`application/problem+json`).

    {"type": "urn:osuus:problem:invalid-input", "title": "The input has problems", "status": 422,
     "detail": "events.csv:3: [date='2021-02-30'] expected a date as YYYY-MM-DD or D.M.YYYY",
     "instance": "/api/v1/areas/pirkanmaa/imports", "request_id": "3f2a…",
     "errors": [{"file": "events.csv", "row": 3, "column": "date", "value": "2021-02-30",
                 "code": "import", "message": "expected a date as …", "text": "events.csv:3: [date=…] …"}]}

A use case's refusal (`ProblemsError`) is 422 with every problem in `errors`, in the same
words as the command line (`text` is the line `osuus` prints); a refusal that says that
the thing asked for is not there (an unknown invoice, municipality, line, year) is 404,
one that says it is done already or in another state (a period invoiced, a draft open or
approved already, an invoice credited) is 409, and a preparer approving their own draft 403.
Refusals of the HTTP layer (401, 403, 404, 409, 412, 428, 429) have the same shape, with
no `errors` unless there is something to point at. A server error is 500 with no detail
but the request's id (the log has the rest). The `type` URIs are listed in docs/api.md.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from osuus.problems import Problem, ProblemsError

MEDIA_TYPE = "application/problem+json"

#: status -> (type name, title)
KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request cannot be read"),
    401: ("unauthorized", "Credentials are needed"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "The precondition failed"),
    413: ("too-large", "The request is too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "The input has problems"),
    428: ("precondition-required", "A precondition is required"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "The ledger is not available"),
}

#: Refusals of the use cases that mean "what you asked for is not there" (404, not 422).
NOT_FOUND = frozenset({
    "invoice.unknown", "invoice.unknown-line", "municipality.unknown", "municipality.not-in-agreement",
    "report.no-agreement", "estimate.missing", "settlement.not-closed", "area.unknown", "draft.unknown",
    "agreement.unknown", "document.not-in-agreement",
})
#: Refusals that mean "not in the state this needs" (409).
CONFLICT = frozenset({"credit.twice", "invoice.already", "draft.exists", "draft.approved", "draft.stale"})
#: Refusals that mean "not you": the preparer of a draft may not approve it too (403).
FORBIDDEN = frozenset({"draft.own"})


def type_uri(name: str) -> str:
    return f"urn:osuus:problem:{name}"


class ProblemItem(BaseModel):
    """One problem of the input, as the command line prints it (`text`), and in parts."""

    message: str
    code: str = ""
    file: str | None = None
    line: int | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None
    value: str | None = None
    severity: str = "error"
    text: str = Field(description="the line `osuus` prints for this problem")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:osuus:problem:not-found"])
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    request_id: str | None = None
    errors: list[ProblemItem] | None = None


class ApiProblem(Exception):
    """A refusal of the HTTP layer, answered as problem details."""

    def __init__(self, status: int, detail: str = "", *, name: str | None = None, title: str | None = None,
                 headers: dict[str, str] | None = None, problems: Iterable[Problem] = (), log_reason: str = ""):
        self.status = status
        self.detail = detail
        self.name = name
        self.title = title
        self.headers = headers or {}
        self.problems = list(problems)
        self.log_reason = log_reason
        super().__init__(detail)


def item(p: Problem) -> dict[str, Any]:
    data = {"message": p.message, "code": p.code, "severity": str(p.severity), "text": str(p)}
    for name in ("file", "key", "column", "value"):
        value = getattr(p, name)
        if value:
            data[name] = value
    for name in ("line", "row"):
        value = getattr(p, name)
        if value is not None:
            data[name] = value
    return data


def status_of(problems: list[Problem]) -> int:
    codes = {p.code for p in problems}
    if codes and codes <= NOT_FOUND:
        return 404
    if codes & FORBIDDEN:
        return 403
    if codes & CONFLICT:
        return 409
    return 422


def body(request: Request, status: int, detail: str = "", *, name: str | None = None, title: str | None = None,
         problems: Iterable[Problem] = ()) -> dict[str, Any]:
    kind, default_title = KINDS.get(status, ("error", "Error"))
    data: dict[str, Any] = {"type": type_uri(name or kind), "title": title or default_title, "status": status,
                            "detail": detail, "instance": request.url.path,
                            "request_id": request.scope.get("state", {}).get("request_id")}
    problems = list(problems)
    if problems:
        data["errors"] = [item(p) for p in problems]
    return data


def response(request: Request, status: int, detail: str = "", *, headers: dict[str, str] | None = None,
             **kw) -> JSONResponse:
    return JSONResponse(body(request, status, detail, **kw), status_code=status, headers=headers,
                        media_type=MEDIA_TYPE)


def _note(request: Request, reason: str) -> None:
    """Why the request was refused, for its log line (a reason noted earlier stays)."""
    if reason:
        request.scope.setdefault("state", {}).setdefault("refusal", reason)


async def on_api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
    _note(request, exc.log_reason)
    return response(request, exc.status, exc.detail, headers=exc.headers, name=exc.name, title=exc.title,
                    problems=exc.problems)


async def on_problems(request: Request, exc: ProblemsError) -> JSONResponse:
    status = status_of(exc.problems)
    detail = "\n".join(str(p) for p in exc.problems[:20])
    _note(request, ",".join(sorted({p.code for p in exc.problems if p.code}))[:200])
    return response(request, status, detail, problems=exc.problems)


async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))


def _location(loc: tuple) -> str:
    return ".".join(str(x) for x in loc if x not in ("body",))


async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request whose parameters or body do not parse: 422 naming each (`key` is where)."""
    problems = []
    for error in exc.errors():
        where = _location(tuple(error.get("loc", ())))
        value = error.get("input")
        shown = value if isinstance(value, str) else ""
        problems.append(Problem(error.get("msg", "invalid"), key=where, value=shown[:60], code="request.invalid"))
    return response(request, 422, "; ".join(str(p) for p in problems), problems=problems)


async def on_unusable(request: Request, exc: Exception) -> JSONResponse:
    return response(request, 503, getattr(exc, "message", "") or str(exc))


async def on_internal(request: Request, exc: Exception) -> JSONResponse:
    """A database that cannot be used (unreachable, full, locked) is 503 with the reason; anything
    else is a programming error: 500, logged with its traceback under the request's id."""
    from osuus.store.db import unusable

    url = getattr(getattr(request.app.state, "ledgers", None), "url", None)
    found = unusable(exc, url) if url else None
    if found is not None:
        return response(request, 503, found.message)
    logging.getLogger("osuus.api").error("internal error", exc_info=exc, extra={"fields": {
        "request_id": request.scope.get("state", {}).get("request_id"), "path": request.url.path}})
    return response(request, 500, "an internal error; the server's log has it under this request's id")


def install(app) -> None:
    from osuus.store.db import NotMigrated, Unusable

    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(ProblemsError, on_problems)
    app.add_exception_handler(HTTPException, on_http)
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(NotMigrated, on_unusable)
    app.add_exception_handler(Unusable, on_unusable)
    app.add_exception_handler(Exception, on_internal)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem answers a route may give, for the OpenAPI document (app.py moves their
    schema under `application/problem+json`)."""
    return {status: {"model": ProblemDetails, "description": KINDS.get(status, ("", "Error"))[1]}
            for status in statuses}
