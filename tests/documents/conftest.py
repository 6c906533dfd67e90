"""A ledger holding the README's 2021–2022 walkthrough, built once per test session
through the ledger's own functions (the walkthrough test runs the CLI itself)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "2021"
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"


def build_walkthrough(url: str) -> None:
    """The README's walkthrough, one use case at a time (the walkthrough test runs the CLI itself)."""
    from osuus.calendar import Period
    from osuus.services import agreements, closing, estimates, imports
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade
    from tests.approving import credit_invoice, invoice_period

    upgrade(url)
    with Ledger(url, "test") as ledger:
        agreements.add_agreement(ledger, AGREEMENT)
        estimates.make_estimate(ledger, 2021)
        imports.import_counts(ledger, EXAMPLES / "counts.csv")
        imports.import_events(ledger, EXAMPLES / "events.csv")
        for month in range(1, 13):
            issue = dt.date(2021, month + 1, 1) if month < 12 else dt.date(2022, 1, 3)
            invoice_period(ledger, Period.month(2021, month), issue)
        imports.import_costs(ledger, EXAMPLES / "costs.csv")
        closing.close_year(ledger, 2021)
        estimates.make_estimate(ledger, 2022)
        invoice_period(ledger, Period.month(2022, 1), dt.date(2022, 2, 1))
        credit_invoice(ledger, "2021-00016", "Väärä laskutusosoite", dt.date(2022, 2, 15))


@pytest.fixture(scope="session")
def walkthrough_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'walkthrough.db'}"
    build_walkthrough(url)
    return url


@pytest.fixture
def walkthrough_ledger(walkthrough_url):
    from osuus.services.ledger import Ledger

    with Ledger(walkthrough_url, "test", readonly=True) as ledger:
        yield ledger


@pytest.fixture
def walkthrough_session(walkthrough_ledger):
    with walkthrough_ledger.read() as session:
        yield session


@pytest.fixture(scope="session")
def validator(tmp_path_factory):
    """The official validators, or a skip that says what is missing.

    Without a Finvoice XSD in the user's data folder, one is fetched from PyPI
    into a temporary folder for this session (OSUUS_TESTS_OFFLINE=1 skips instead)."""
    from osuus.einvoice import validate as v

    try:
        v.finvoice_xsd_path()
    except v.ValidatorUnavailable as exc:
        if os.environ.get("OSUUS_TESTS_OFFLINE"):
            pytest.skip(f"no Finvoice 3.0 XSD and OSUUS_TESTS_OFFLINE is set: {exc}")
        dest = v.install_finvoice_xsd(dest=tmp_path_factory.mktemp("finvoice") / v.FINVOICE_XSD_NAME)
        os.environ[v.FINVOICE_XSD_ENV] = str(dest)
    try:
        v.warm_up()
    except v.ValidatorUnavailable as exc:
        pytest.skip(f"e-invoice validators unavailable ({exc}): pip install -e '.[validate]'")
    return v


@pytest.fixture(scope="session")
def walkthrough_pg_url(postgres_test_database) -> str:
    """The same walkthrough in PostgreSQL (skipped, saying why, without OSUUS_TEST_POSTGRES_URL)."""
    from sqlalchemy import create_engine

    engine = create_engine(postgres_test_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:  # a clean schema: the store tests share this database
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    build_walkthrough(postgres_test_database)
    return postgres_test_database
