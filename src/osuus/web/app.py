"""The ASGI app of `osuus serve`: the REST API under /api/v1 and the web app's pages beside it.

`create_app(settings)` builds both on one FastAPI app (osuus.api.app), so that a page and an API
call share the ledgers, the sessions and the request log. The pages are not in the OpenAPI
document. An error on a page is answered as a page (in the reader's language); an error of the
API as a problem document, as before.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from osuus.api.settings import Settings
from osuus.problems import ProblemsError
from osuus.web.context import PageError, Redirect, choose_language, redirect

STATIC = Path(__file__).resolve().parent / "static"


class PageRoute(APIRoute):
    """A page's route: not in the API's OpenAPI document, and refused at start without a guard
    (osuus.web.context: public_page, signed_in_page or page(...))."""

    def __init__(self, path: str, endpoint, **kwargs):
        kwargs["include_in_schema"] = False
        super().__init__(path, endpoint, **kwargs)
        self.access = _access_of(self.dependant)
        if self.access is None:
            raise RuntimeError(f"the page {path} declares no guard (public_page, signed_in_page or page(...))")


def _access_of(dependant):
    found = getattr(dependant.call, "access", None)
    if isinstance(found, tuple):
        return found
    for sub in dependant.dependencies:
        found = _access_of(sub)
        if found is not None:
            return found
    return None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(request: Request, status: int, key: str, **params):
    """The error page, in the reader's language (whoever they are: the guard may not have run)."""
    from osuus.web.context import Page

    page = Page(request, choose_language(request))
    page.area = request.path_params.get("area") if status != 404 else None
    return page.render("error.html", status=status, status_code=status, message_key=key, params=params)


def _install_handlers(app: FastAPI) -> None:
    api_handlers = dict(app.exception_handlers)

    def dispatch(kind):
        api = api_handlers.get(kind)

        async def handle(request: Request, exc):
            if _is_api(request) and api is not None:
                return await api(request, exc)
            if isinstance(exc, StarletteHTTPException):
                key = {404: "web.error.not_found", 405: "web.error.not_found"}.get(exc.status_code,
                                                                                  "web.error.unexpected")
                return error_page(request, exc.status_code if exc.status_code in (404, 405) else 400, key)
            if isinstance(exc, RequestValidationError):
                return error_page(request, 404, "web.error.not_found")
            if isinstance(exc, ProblemsError):
                return error_page(request, 422, "web.error.problems", problems=exc.problems)
            from osuus.api.logs import log

            log.exception("a page failed", extra={"fields": {"event": "web.error", "path": request.url.path}})
            return error_page(request, 500, "web.error.unexpected")

        return handle

    for kind in (ProblemsError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(kind, dispatch(kind))

    async def on_redirect(request: Request, exc: Redirect):
        return redirect(exc.location)

    async def on_page_error(request: Request, exc: PageError):
        return error_page(request, exc.status, exc.key, **exc.params)

    app.add_exception_handler(Redirect, on_redirect)
    app.add_exception_handler(PageError, on_page_error)


def create_app(settings: Settings | None = None, *, ledgers=None) -> FastAPI:
    """The API and the pages for `settings` (by default: from the environment)."""
    from osuus.api.app import create_app as create_api
    from osuus.web.oidc import Registry
    from osuus.web.pages import routers
    from osuus.web.security import BodyLimit, SecurityHeaders

    app = create_api(settings, ledgers=ledgers)
    app.state.oidc = Registry.from_settings(app.state.settings)  # the OpenID Connect providers (pages/oidc.py)
    for router in routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    return app


def create_app_from_env() -> FastAPI:
    """The app of each process of `osuus serve --workers N` (uvicorn's factory): its settings from
    the environment, which the command filled in from its options, and its logs configured as
    they say, as the command does for one process (a worker does not inherit the parent's
    logging: its request log would be lost)."""
    from osuus.api import logs

    settings = Settings.from_env()
    logs.configure(settings.log_format)
    return create_app(settings)


def page_table(app: FastAPI) -> list[tuple[str, str, tuple]]:
    """Every page route as (method, path, guard): what the access tests are generated from."""
    try:  # FastAPI ≥ 0.160 keeps included routers whole (as osuus.api.app.route_table)
        from fastapi.routing import iter_route_contexts
    except ImportError:
        contexts = [(route, route) for route in app.routes]
    else:
        contexts = [(c.original_route, c) for c in iter_route_contexts(app.routes)]
    table = []
    for original, effective in contexts:
        if isinstance(original, PageRoute):
            for method in sorted(effective.methods or ()):
                table.append((method, effective.path, original.access))
    return table
