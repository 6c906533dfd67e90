"""Fixtures for the database tests: every test runs on SQLite and on PostgreSQL.

`database_url` is parametrized: `sqlite` is a file in tmp_path; `postgresql`
needs OSUUS_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
and is skipped, with that reason, when it is unset. For PostgreSQL the session
creates its own database (osuus_test_<pid>_<random>) through an AUTOCOMMIT
connection to that URL, each test gets a clean `public` schema, and the
database is dropped when the session ends.
"""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from osuus.store.db import make_engine, resolve_url, session_factory, upgrade

PG_ENV = "OSUUS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_test_database():
    """The URL of a PostgreSQL database made for this test session (dropped afterwards)."""
    base = os.environ.get(PG_ENV, "").strip()
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    base = resolve_url(base)
    name = f"osuus_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            try:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except DBAPIError:  # PostgreSQL < 13 has no FORCE
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


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
    return session_factory(engine)
