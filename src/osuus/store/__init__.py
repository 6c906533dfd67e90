"""The database edge: the ledger's tables, migrations, sessions and the audit log.

Everything that touches a database lives here. Nothing in the core (agreement,
engine, render, money) imports this package; the CLI and, later, the web app do.

- `tables` — the ledger's tables (SQLAlchemy 2, typed)
- `types` — exact Money / Quantity / Price column types (NUMERIC on PostgreSQL,
  scaled integers on SQLite)
- `db` — choosing the database, engines, sessions and migrations (alembic)
- `audit` — the hash-chained audit log
- `migrations/` — the alembic scripts, shipped with the package
"""
