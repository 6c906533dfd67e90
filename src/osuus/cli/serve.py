"""`osuus serve`: the web app and the REST API, run by uvicorn.

FastAPI and uvicorn are imported only when the command runs, so that `osuus --help`
and every other command start as quickly as before.
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from osuus.cli.edge import DB_OPTION, State, app, fail, t


@app.command(help=t("cli.help.serve"))
def serve(host: Optional[str] = typer.Option(None, "--host", help=t("cli.option.host")),
          port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help=t("cli.option.port")),
          db: Optional[str] = DB_OPTION,
          area: Optional[str] = typer.Option(None, "--area", help=t("cli.option.serve_area")),
          workers: Optional[int] = typer.Option(None, "--workers", min=1, max=64, help=t("cli.option.workers"))) -> None:
    import uvicorn

    from osuus.api import logs
    from osuus.web.app import create_app
    from osuus.api.settings import Settings
    from osuus.problems import ProblemsError
    from osuus.store.db import display_name, resolve_url

    try:
        settings = Settings.from_env().replace(host=host, port=port, database_url=db, area=area or State.area,
                                               workers=workers)
    except ProblemsError as exc:
        fail(exc.problems, "command")
    logs.configure(settings.log_format)
    logs.log.info(t("cli.serve.listening", host=settings.host, port=settings.port,
                    database=display_name(resolve_url(settings.database_url))),
                  extra={"fields": {"event": "serve.start", "host": settings.host, "port": settings.port}})
    _warn_if_rls_is_bypassed(resolve_url(settings.database_url), logs.log)
    options = dict(host=settings.host, port=settings.port, log_config=None, access_log=False, server_header=False,
                   # behind a proxy that ends TLS the pages must see the https address the browser used (the
                   # CSRF check compares the Origin with it): only the proxies named are believed
                   proxy_headers=settings.trusted_proxies is not None,
                   forwarded_allow_ips=settings.trusted_proxies or "127.0.0.1")
    try:  # the app's own settings (an OpenID Connect file, say) are checked before it listens
        app = create_app(settings)
    except ProblemsError as exc:
        fail(exc.problems, "command")
    if settings.workers == 1:
        uvicorn.run(app, **options)
        return
    # several processes: each makes the app from the environment, which says what the options said
    os.environ.update({"OSUUS_DATABASE_URL": resolve_url(settings.database_url), "OSUUS_LOG_FORMAT": settings.log_format,
                       "OSUUS_SELF_APPROVAL": "1" if settings.self_approval else "0"})
    if settings.area:
        os.environ["OSUUS_AREA"] = settings.area
    if settings.trusted_proxies:
        os.environ["OSUUS_TRUSTED_PROXIES"] = settings.trusted_proxies
    uvicorn.run("osuus.web.app:create_app_from_env", factory=True, workers=settings.workers, **options)


def _warn_if_rls_is_bypassed(url: str, log) -> None:
    """On PostgreSQL the server should connect as the application's role (`osuus db app-role`),
    which row-level security holds to one area at a time; a superuser or the tables' owner
    serves too, held to the areas by the store's filters alone: said at start, as a warning."""
    from osuus.store.db import make_engine, rls_bypass_reasons

    if not url.startswith("postgresql"):
        return
    engine = make_engine(url)
    try:
        reasons = rls_bypass_reasons(engine)
    except Exception:  # the database cannot be reached now: health says so
        return
    finally:
        engine.dispose()
    for reason in reasons:
        log.warning(f"row-level security does not hold this server: {reason}",
                    extra={"fields": {"event": "serve.rls-bypassed", "reason": reason}})
