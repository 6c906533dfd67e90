"""The ASGI app of `osuus serve`: the REST API under `/api/v1`, described by OpenAPI 3.1.

FastAPI, because the API's contract is then one thing: the routes' pydantic models and
dependencies *are* the OpenAPI document (3.1, generated, committed as docs/openapi.json and
compared by a test), the authorisation of every route is a dependency that the route table
shows (osuus.api.auth), and the routes stay plain functions that call the same use cases as
the command line (osuus.services), run in a thread pool since the ledger is synchronous.

`create_app(settings)` builds the app; nothing is opened until the first request (the
ledgers are made on first use, so an app can be made before its database is migrated).
"""

from __future__ import annotations

import contextlib

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from osuus import __version__
from osuus.api import idempotency, problems
from osuus.api.ledgers import Ledgers
from osuus.api.logs import RequestLog
from osuus.api.settings import Settings

PREFIX = "/api/v1"
DESCRIPTION = """\
The ledger of an employment area's cost sharing: agreements and their published tables, imports,
invoice runs drafted and approved by two people, invoices and credit notes with their
explanations and documents, estimates, the year's closing, annual reports and the change log.

Every route of an area is under `/api/v1/areas/{area}` and needs `Authorization: Bearer` with a
session token (`POST /api/v1/login`) or an API key. Money is a decimal string; errors are
RFC 9457 problem details. See docs/api.md.
"""


def _openapi(app: FastAPI) -> dict:
    """The OpenAPI document, with every error answer under `application/problem+json`."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title="osuus", version=__version__, openapi_version="3.1.0", description=DESCRIPTION,
                         routes=app.routes, tags=TAGS)
    ref = {"$ref": "#/components/schemas/ProblemDetails"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, answer in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400 and "content" in answer:
                    answer["content"] = {problems.MEDIA_TYPE: {"schema": ref}}
                if status == "304":
                    answer.pop("content", None)
    schemas = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422: answered as a problem here
        schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema


TAGS = [
    {"name": "server", "description": "Health, signing in and out, and who the caller is."},
    {"name": "agreements", "description": "The year's agreement, its published tables and their explanations."},
    {"name": "imports", "description": "Service events, reference counts and actual costs, all or nothing."},
    {"name": "runs", "description": "Invoice runs and credit notes as drafts, approved by a second person."},
    {"name": "invoices", "description": "Issued invoices and credit notes, their explanations and documents."},
    {"name": "estimates", "description": "The August estimate of next year's costs."},
    {"name": "closings", "description": "A year's closing: confirmed prices and settlements."},
    {"name": "reports", "description": "A member's annual report."},
    {"name": "audit", "description": "The hash-chained change log and its verification."},
]


def create_app(settings: Settings | None = None, *, ledgers: Ledgers | None = None) -> FastAPI:
    """The app for `settings` (by default: from the environment)."""
    from osuus.api.routes import routers

    settings = settings or Settings.from_env()
    ledgers = ledgers or Ledgers(settings.database_url, self_approval=settings.self_approval)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        ledgers.close()

    app = FastAPI(title="osuus", version=__version__, description=DESCRIPTION, openapi_url=f"{PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=lifespan, openapi_tags=TAGS)
    app.state.settings = settings
    app.state.ledgers = ledgers
    for router in routers():
        app.include_router(router, prefix=PREFIX)
    problems.install(app)
    app.add_exception_handler(idempotency.Replay, idempotency.on_replay)
    app.add_middleware(RequestLog)
    app.openapi = lambda: _openapi(app)
    return app


def openapi_document(settings: Settings | None = None) -> dict:
    """The OpenAPI document of the app (what docs/openapi.json holds)."""
    return create_app(settings or Settings(database_url="sqlite:////nonexistent/osuus.db")).openapi()


def route_table(app: FastAPI) -> list[tuple[str, str, object]]:
    """Every route of the app as (method, full path, access rule), in the order they match: what
    the authorisation matrix test is generated from."""
    from osuus.api.auth import GuardedRoute

    try:  # FastAPI ≥ 0.160 keeps included routers whole and gives each route with its context
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older: included routes are copied into the app's own list
        contexts = [(route, route) for route in app.routes]
    else:
        contexts = [(c.original_route, c) for c in iter_route_contexts(app.routes)]
    table = []
    for original, effective in contexts:
        if isinstance(original, GuardedRoute):
            for method in sorted(effective.methods or ()):
                table.append((method, effective.path, original.access))
    return table
