"""The web app in a real browser: Debian's chromium driven by Playwright for Python (sync API).

Playwright uses /usr/bin/chromium through `executable_path` (no browser download; `.ci/run`
installs Debian's chromium with apt when it is missing); without chromium or Playwright every
test here skips, saying why. `OSUUS_CHROMIUM` names another binary.

`live_server(url)` serves the web app (osuus.web.app.create_app) on a ledger, run by uvicorn in a
thread on a free port of 127.0.0.1: the session cookie is Secure, and Chromium keeps Secure
cookies over http on the loopback address (it counts as a secure context). Each test module
makes its own ledger (tests.api.conftest.make_ledger: the people of every role, the 2021
example with January–March invoiced, April drafted and two credit-note drafts), so a module
that writes does not change what another sees. Passwords are hashed with cheap argon2
parameters, as in the API tests.

`signed_in(name)` is a fresh browser context with a page, signed in through the sign-in form.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.conftest import (AKAA, AREA, NOKIA, OTHER_AREA, PASSWORD, PEOPLE, Ledgerful,  # noqa: F401
                                cheap_passwords, make_ledger)

CHROMIUM = Path(os.environ.get("OSUUS_CHROMIUM", "/usr/bin/chromium"))
#: How long a browser action may wait (ms): generous for a busy CI machine, short enough to fail fast.
TIMEOUT_MS = 10_000
LANGUAGES = ("fi", "sv", "en")


def _require_browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does) "
                    "or name one with OSUUS_CHROMIUM")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is not installed: pip install -e '.[test]'")


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    except Exception as exc:  # a chromium that does not start is said, not hidden
        manager.stop()
        pytest.fail(f"chromium at {CHROMIUM} did not start: {exc}")
    yield launched
    launched.close()
    manager.stop()


@dataclass
class LiveServer:
    """The web app served by uvicorn in a thread; `base` is its address."""

    database_url: str
    base: str = ""
    _server: object = None
    _thread: threading.Thread | None = None
    app: object = None

    def start(self) -> "LiveServer":
        import uvicorn

        from osuus.api.settings import Settings
        from osuus.web.app import create_app

        self.app = create_app(Settings(database_url=self.database_url))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="on", server_header=False)
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name=f"osuus-live-{port}")
        self._thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        self.base = f"http://127.0.0.1:{port}"
        return self

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def module_ledger(tmp_path_factory, cheap_passwords) -> Ledgerful:
    """The API tests' ledger (every role; 2021 with January–March invoiced, April drafted), the module's own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'osuus.db'}"
    return make_ledger(url)


@pytest.fixture(scope="module")
def server(module_ledger):
    live = LiveServer(module_ledger.url).start()
    yield live
    live.stop()


@dataclass
class Session:
    """A browser context signed in as `name`, with its one page."""

    name: str
    context: object
    page: object
    server: LiveServer

    def go(self, path: str):
        return self.page.goto(self.server.url(path))


def new_context(browser, *, lang: str = "fi", **options):
    context = browser.new_context(locale={"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}[lang],
                                  accept_downloads=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in(page, server: LiveServer, name: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person does; then the area's first page (or the areas' list)."""
    page.goto(server.url("/login"))
    page.locator("#name").fill(name)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    if "/login" in page.url:
        raise AssertionError(f"{name} could not sign in: {page.url}\n{page.locator('main').inner_text()}")


@pytest.fixture
def signed_in(browser, server):
    """`signed_in(name, lang="fi")`: a fresh context signed in as `name`, closed after the test."""
    made = []

    def make(name: str, lang: str = "fi", **options) -> Session:
        context = new_context(browser, lang=lang, **options)
        page = context.new_page()
        sign_in(page, server, name)
        session = Session(name, context, page, server)
        made.append(session)
        return session

    yield make
    for session in made:
        session.context.close()
