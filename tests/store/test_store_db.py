"""Choosing the database, SQLite's settings, and refusing an unmigrated database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from osuus.store import db
from osuus.store.db import NotMigrated, make_engine, require_migrated, resolve_url


# --- resolve_url -------------------------------------------------------------------


def test_explicit_path_becomes_an_absolute_sqlite_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OSUUS_DATABASE_URL", "sqlite:////elsewhere.db")
    assert resolve_url("ledger.db") == f"sqlite:///{tmp_path.resolve() / 'ledger.db'}"
    assert resolve_url(str(tmp_path / "a" / "b.db")) == f"sqlite:///{tmp_path.resolve() / 'a' / 'b.db'}"


def test_explicit_url_is_used_as_is_and_postgresql_gets_psycopg():
    assert resolve_url("sqlite:////var/x.db") == "sqlite:////var/x.db"
    assert resolve_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"


def test_environment_variable_when_no_explicit_value(monkeypatch, tmp_path):
    monkeypatch.setenv("OSUUS_DATABASE_URL", "postgresql://postgres@127.0.0.1/ledger")
    assert resolve_url(None) == "postgresql+psycopg://postgres@127.0.0.1/ledger"
    monkeypatch.setenv("OSUUS_DATABASE_URL", str(tmp_path / "env.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path.resolve() / 'env.db'}"
    assert resolve_url("explicit.db").endswith("/explicit.db")


def test_default_is_osuus_db_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("OSUUS_DATABASE_URL", raising=False)
    folder = tmp_path / "data" / "osuus"
    import platformdirs

    seen = []

    def fake_user_data_dir(appname=None, *args, **kwargs):
        seen.append(appname)
        return str(folder)

    monkeypatch.setattr(platformdirs, "user_data_dir", fake_user_data_dir)
    assert resolve_url(None) == f"sqlite:///{folder / 'osuus.db'}"
    assert seen == ["osuus"]
    assert folder.is_dir()  # created


def test_default_follows_xdg_data_home(monkeypatch, tmp_path):
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("XDG_DATA_HOME is a Linux convention")
    monkeypatch.delenv("OSUUS_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'xdg' / 'osuus' / 'osuus.db'}"
    assert (tmp_path / "xdg" / "osuus").is_dir()


# --- SQLite engine -------------------------------------------------------------------


def test_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as connection:
            values = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")
            }
    finally:
        engine.dispose()
    assert values == {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 30000, "synchronous": 1}


def test_sqlite_transactions_begin_with_the_first_statement(tmp_path):
    """BEGIN IMMEDIATE is emitted by SQLAlchemy, even before a SELECT."""
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with engine.connect() as first:
            first.execute(text("SELECT 1"))
            assert first.connection.driver_connection.in_transaction
            # A second writer cannot begin while the first holds the write lock.
            other = make_engine(f"sqlite:///{tmp_path / 't.db'}")
            try:
                with other.connect() as second:
                    # on the driver's connection: through SQLAlchemy it would BEGIN first
                    second.connection.driver_connection.execute("PRAGMA busy_timeout=50")
                    with pytest.raises(Exception, match="locked"):
                        second.execute(text("SELECT 1"))
            finally:
                other.dispose()
    finally:
        engine.dispose()


def test_sqlite_writers_wait_for_each_other(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
            connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
        errors: list[BaseException] = []

        def work():
            try:
                for _ in range(25):
                    with engine.begin() as c:
                        n = c.exec_driver_sql("SELECT n FROM counter").scalar()  # read, then write
                        c.exec_driver_sql("UPDATE counter SET n = ?", (n + 1,))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 100  # no lost update
    finally:
        engine.dispose()


# --- require_migrated -----------------------------------------------------------------


def test_require_migrated_refuses_an_empty_database(database_url):
    engine = make_engine(database_url)
    try:
        with pytest.raises(NotMigrated) as caught:
            require_migrated(engine)
    finally:
        engine.dispose()
    message = caught.value.message
    assert "osuus db upgrade" in message
    assert db.display_name(database_url) in message
    assert "Tietokanta" in message and "database" in message


def test_require_migrated_accepts_a_migrated_database(migrated_url):
    engine = make_engine(migrated_url)
    try:
        require_migrated(engine)
    finally:
        engine.dispose()


def test_require_migrated_refuses_a_database_newer_than_the_program(migrated_url):
    engine = make_engine(migrated_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
        with pytest.raises(NotMigrated, match="newer than the program"):
            require_migrated(engine)
    finally:
        engine.dispose()


def test_display_name_hides_the_password():
    assert db.display_name("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
    assert db.display_name("sqlite:////tmp/x.db") == "/tmp/x.db"
