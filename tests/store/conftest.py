"""Fixtures for the database tests: every test runs on SQLite and on PostgreSQL.

`database_url` is parametrized: `sqlite` is a file in tmp_path; `postgresql`
needs OSUUS_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
and is skipped, with that reason, when it is unset. For PostgreSQL the session
creates its own database (osuus_test_<pid>_<random>) through an AUTOCOMMIT
connection to that URL, each test gets a clean `public` schema, and the
database is dropped when the session ends.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from osuus.store.db import make_engine, session_factory, upgrade
from tests.conftest import PG_ENV  # noqa: F401  (the fixture postgres_test_database lives there)


def _clean_schema(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET lock_timeout = '20s'")
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'osuus.db'}"
    url = request.getfixturevalue("postgres_test_database")
    _clean_schema(url)
    return url


@pytest.fixture
def migrated_url(database_url) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url):
    """An engine (make_engine) on the migrated database; disposed after the test."""
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def Session(engine):
    return session_factory(engine, area_id=1)
