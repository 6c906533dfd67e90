"""The web app over the API tests' ledger (tests/api/conftest.py): two areas, every role, the
2021 example with January–March invoiced, April drafted and two credit-note drafts.

`browser_for(name)` is a test client signed in as `name` (the session cookie of the ledger's
token), over HTTPS as the cookies are Secure; `form(client, name)` the CSRF field for its posts.
"""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import (AREA, OTHER_AREA, PASSWORD, PEOPLE, cheap_passwords, client_for,  # noqa: F401
                                make_ledger)


@pytest.fixture(scope="module")
def web_ledger(tmp_path_factory, cheap_passwords):
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'osuus.db'}"
    return make_ledger(url)


@pytest.fixture(scope="module")
def web_app(web_ledger):
    from osuus.api.settings import Settings
    from osuus.web.app import create_app

    return create_app(Settings(database_url=web_ledger.url))


def client(app):
    c = client_for(app)
    c.base_url = "https://testserver"
    return c


@pytest.fixture
def anonymous(web_app):
    return client(web_app)


@pytest.fixture
def browser_for(web_app, web_ledger):
    """A client signed in as a person of the ledger (a fresh client each call)."""

    def make(name: str):
        c = client(web_app)
        c.cookies.set("__Host-osuus_session", web_ledger.tokens[name])
        c.person = name
        return c

    return make


def csrf(c) -> str:
    """The CSRF token of a signed-in client (derived from its session token)."""
    from osuus.web.context import csrf_of_session

    return csrf_of_session(c.cookies.get("__Host-osuus_session"))


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)
