"""A ledger for the API tests: two areas of one database, people with every role, and the
first months of the README's 2021 walkthrough, built once per module through the use cases
(the API's own walkthrough test makes its ledger through the API).

Area `pirkanmaa` holds the shipped 2021 agreement, the example counts and events, the
estimate, January–March invoiced (prepared by `valmistelija`, approved by `hyvaksyja`),
April drafted and two credit-note drafts; area `lappi` holds nothing but its admin.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "2021"
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
AREA, OTHER_AREA = "pirkanmaa", "lappi"
PASSWORD = "testisalasana-2021"
AKAA, NOKIA = "020", "536"

#: name -> (area, role, municipality)
PEOPLE = {
    "paakayttaja": (AREA, "admin", None),
    "valmistelija": (AREA, "preparer", None),
    "hyvaksyja": (AREA, "approver", None),
    "tarkastaja": (AREA, "auditor", None),
    "akaa": (AREA, "member", AKAA),
    "nokia": (AREA, "member", NOKIA),
    "lappilainen": (OTHER_AREA, "admin", None),
}


def client_for(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def cheap_passwords():
    """argon2 with cheap parameters for the tests' many sign-ins (per module: the tests of the
    hasher itself, in other modules, see the real parameters)."""
    from argon2 import PasswordHasher

    from osuus.services import accounts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@dataclass
class Ledgerful:
    """A database made for the tests: its URL, and what the tests need to know of it."""

    url: str
    tokens: dict[str, str]  # person -> session token
    invoices: dict[str, str]  # municipality code -> its January 2021 invoice's number
    drafts: dict[str, int]  # what a draft is for -> its id
    key: str = ""  # an API key of the area: auditor, scope invoices:read


def make_ledger(url: str, *, months: int = 3) -> Ledgerful:
    from osuus.calendar import Period
    from osuus.services import accounts, agreements, approval, estimates, imports, invoicing
    from osuus.services.areas import add_area
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade

    upgrade(url)
    with Ledger(url, "asennus") as setup:
        add_area(setup, AREA, "Pirkanmaan työllisyysalue")
        add_area(setup, OTHER_AREA, "Lapin työllisyysalue")
    tokens, drafts = {}, {}
    with Ledger(url, "paakayttaja", area=AREA) as ledger:
        other = ledger.acting("asennus", OTHER_AREA)
        for name, (area, role, municipality) in PEOPLE.items():
            accounts.add_user(ledger, name, password=PASSWORD)
            accounts.grant_role(ledger if area == AREA else other, name, role, municipality)
        agreements.add_agreement(ledger, AGREEMENT)
        preparer, approver = ledger.acting("valmistelija"), ledger.acting("hyvaksyja")
        estimates.make_estimate(preparer, 2021)
        imports.import_counts(preparer, EXAMPLES / "counts.csv")
        imports.import_events(preparer, EXAMPLES / "events.csv")
        for month in range(1, months + 1):
            draft = approval.prepare_run(preparer, Period.month(2021, month), dt.date(2021, month + 1, 1))
            approval.approve(approver, draft.id)
        january = invoicing.list_invoices(ledger, period=Period.month(2021, 1))
        numbers = {i.municipality: i.number for i in january}
        drafts["run"] = approval.prepare_run(preparer, Period.month(2021, months + 1),
                                             dt.date(2021, months + 2, 1)).id
        drafts["approve"] = approval.prepare_credit(preparer, numbers["790"], "Väärä osoite", dt.date(2021, 5, 3)).id
        drafts["reject"] = approval.prepare_credit(preparer, numbers["604"], "Väärä osoite", dt.date(2021, 5, 3)).id
        for name, (area, _, _) in PEOPLE.items():
            tokens[name] = accounts.login(ledger if area == AREA else other, name, PASSWORD, "testi").token
        _, key = accounts.create_api_key(ledger, "raportointi", "auditor", ["invoices:read"],
                                         dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30))
    return Ledgerful(url, tokens, numbers, drafts, key)


def pg_clean(url: str) -> None:
    """An empty `public` schema (the store's tests do the same)."""
    from tests.store.conftest import _clean_schema

    _clean_schema(url)


def app_for(url: str, **settings):
    from osuus.api.app import create_app
    from osuus.api.settings import Settings

    return create_app(Settings(database_url=url, **settings))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_url(request, tmp_path_factory) -> str:
    """A database URL of each backend, empty (PostgreSQL: a clean schema of the session's database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('api') / 'osuus.db'}"
    url = request.getfixturevalue("postgres_test_database")
    pg_clean(url)
    return url


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('api') / 'osuus.db'}"
