"""The routes of `/api/v1`, one module per resource; `ROUTERS` in the order they are listed."""

from __future__ import annotations


def routers() -> list:
    from osuus.api.routes import agreements, audit, closings, estimates, imports, invoices, reports, runs, server

    return [server.router, server.area_router, agreements.router, imports.router, runs.router, invoices.router,
            estimates.router, closings.router, reports.router, audit.router]
