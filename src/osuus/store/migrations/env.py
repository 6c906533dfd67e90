"""Alembic environment for osuus (run by osuus.store.db.upgrade, or by the alembic tool).

The database comes from, in order: `config.attributes["connection"]` (an open
SQLAlchemy connection, used as is), `config.attributes["url"]`, or the config's
`sqlalchemy.url`. Engines are made with `osuus.store.db.make_engine`, so SQLite
gets its pragmas and SQLAlchemy-emitted BEGIN; on SQLite the whole upgrade then
runs in one transaction (SQLite's DDL is transactional), with foreign keys
switched off while tables are rebuilt by batch operations and checked with
`PRAGMA foreign_key_check` before the commit.

Logging is not configured here: the program that runs the migration owns it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import make_url

from osuus.store.db import make_engine
from osuus.store.tables import Base
from osuus.store.types import _ScaledDecimal

config = context.config
target_metadata = Base.metadata

TYPES_IMPORT = "from osuus.store.types import Money, Price, Quantity"


def render_item(type_, obj, autogen_context):
    """Autogenerate writes the exact types as `Money()` etc., with their import."""
    if type_ == "type" and isinstance(obj, _ScaledDecimal):
        autogen_context.imports.add(TYPES_IMPORT)
        return f"{type(obj).__name__}()"
    return False


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set config.attributes['url'] or sqlalchemy.url")
    return url


def _configure(connection, *, own_transactions: bool) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    options = dict(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=is_sqlite,
        render_item=render_item,
    )
    if is_sqlite and own_transactions:
        # make_engine's BEGIN IMMEDIATE makes SQLite's DDL transactional.
        options["transactional_ddl"] = True
    context.configure(**options)


def _run(connection, *, own_transactions: bool) -> None:
    _configure(connection, own_transactions=own_transactions)
    is_sqlite = connection.dialect.name == "sqlite"
    with context.begin_transaction():
        context.run_migrations()
        if is_sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:10]}")


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=make_url(url).get_backend_name() == "sqlite",
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, own_transactions=False)
        return

    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            is_sqlite = connection.dialect.name == "sqlite"
            if is_sqlite:
                # PRAGMA foreign_keys is a no-op inside a transaction; no
                # transaction has begun yet on this connection.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                _run(connection, own_transactions=True)
            finally:
                if is_sqlite:
                    connection.rollback()  # nothing is pending: _run committed or failed
                    connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
