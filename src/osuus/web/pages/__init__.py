"""The pages, one router per part of the app; `routers()` lists them in the order they match."""

from __future__ import annotations

import importlib

#: The modules of osuus.web.pages whose `router` is part of the app.
MODULES = ("session", "oidc", "home", "member", "agreement", "imports", "runs", "invoices", "yearend", "reports",
           "audit", "users")


def routers() -> list:
    found = []
    for name in MODULES:
        module = importlib.import_module(f"osuus.web.pages.{name}")
        found.append(module.router)
    return found
