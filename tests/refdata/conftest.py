"""Fixtures for the reference data tests: a fake StatFin on 127.0.0.1, a clock that does not wait.

The live check against the real service is opt-in: `pytest tests/refdata --live`
(the option exists when this directory is named on the command line) or
`OSUUS_REFDATA_LIVE=1` (works however pytest is run). Without either it is
skipped, and says why.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.refdata.fakestat import FakeStatFin, FakeTime, Scenario

LIVE_ENV = "OSUUS_REFDATA_LIVE"
FETCHED = dt.datetime(2026, 6, 10, 8, 30, tzinfo=dt.timezone.utc)


def pytest_addoption(parser):
    parser.addoption("--live", action="store_true", default=False,
                     help="run the reference data tests against the real StatFin service (needs network access)")


def live_enabled(config) -> bool:
    try:
        option = bool(config.getoption("--live"))
    except ValueError:
        option = False
    return option or os.environ.get(LIVE_ENV, "").strip() not in ("", "0")


def pytest_collection_modifyitems(config, items):
    if live_enabled(config):
        return
    skip = pytest.mark.skip(reason=f"live StatFin check: run `pytest tests/refdata --live` or set {LIVE_ENV}=1 on a "
                                   f"machine with network access")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "live: talks to the real StatFin service (opt-in: --live)")


@pytest.fixture(scope="session")
def statfin_server():
    fake = FakeStatFin(Scenario()).start()
    yield fake
    fake.stop()


@pytest.fixture
def statfin(statfin_server):
    """The fake service, with a fresh scenario and no requests yet."""
    statfin_server.scenario = Scenario()
    statfin_server.requests.clear()
    return statfin_server


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def make_client(statfin, fake_time):
    from osuus.refdata.client import PxWebClient

    made = []

    def make(**options):
        options.setdefault("api_url", statfin.url)
        client = PxWebClient(sleep=fake_time.sleep, clock=fake_time.clock, now=lambda: FETCHED, timeout=5.0,
                             **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()
