"""The sign-in page's buttons for the identity providers the server knows (osuus.web.oidc)."""

from __future__ import annotations


def providers_for_login(request) -> list[dict]:
    """[{"name", "label"}] of the configured OpenID Connect providers, in their order."""
    registry = getattr(request.app.state, "oidc", None)
    if registry is None:
        return []
    return [{"name": p.name, "label": p.label} for p in registry.providers]
