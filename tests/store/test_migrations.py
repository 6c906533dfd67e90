"""The migrations build exactly the schema of osuus.store.tables, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from osuus.store.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from osuus.store.tables import Base


def test_migrated_database_matches_the_tables(migrated_url):
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_every_table_is_created(migrated_url):
    engine = make_engine(migrated_url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= names
    assert "alembic_version" in names


def test_upgrade_is_idempotent(database_url):
    head = head_revision()
    assert head == "0006"
    assert upgrade(database_url) == (None, head)
    assert upgrade(database_url) == (head, head)  # nothing to do


def test_downgrade_to_base_and_back(migrated_url):
    command.downgrade(alembic_config(migrated_url), "base")
    engine = make_engine(migrated_url)
    try:
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    assert upgrade(migrated_url) == (None, head_revision())
