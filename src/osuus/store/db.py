"""Choosing the database, making engines and sessions, and migrating.

The database is named by `--db` (a path or a URL), else by the environment
variable `OSUUS_DATABASE_URL`, else it is the SQLite file `osuus.db` in the
user's data folder. SQLite and PostgreSQL are supported.

SQLite is configured so that transactions are real: SQLAlchemy emits
`BEGIN IMMEDIATE` itself (the documented recipe for the pysqlite driver), so a
transaction takes the write lock when it starts, and concurrent writers wait
for one another (up to `busy_timeout`) instead of failing halfway with
"database is locked". Foreign keys are enforced and the journal is WAL.

The schema is migrated with alembic; the scripts ship inside the package
(`osuus/store/migrations`), and no alembic.ini is needed at run time.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Iterable

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ENV_URL = "OSUUS_DATABASE_URL"
DEFAULT_FILE_NAME = "osuus.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

SQLITE_PRAGMAS = (
    # busy_timeout first: switching to WAL may itself have to wait for a lock.
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
)


class NotMigrated(Exception):
    """The database is empty or its schema is not the one this program needs."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class Unusable(Exception):
    """The database named cannot be used: an unknown kind, a path that cannot be a SQLite file,
    a server that does not answer, a disk that is full. `message` says which and why."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


#: The kinds of database osuus works with (SQLAlchemy backend names).
BACKENDS = ("sqlite", "postgresql")


# --- choosing the database ---------------------------------------------------


def _normalise(value: str) -> str:
    """A URL as is (postgresql:// gets the psycopg 3 driver); a path as a SQLite URL."""
    value = value.strip()
    if _SCHEME.match(value):
        for plain in ("postgresql://", "postgres://"):
            if value.startswith(plain):
                return "postgresql+psycopg://" + value[len(plain):]
        return value
    path = Path(value).expanduser().resolve()
    return f"sqlite:///{path}"


def check_url(url: str) -> None:
    """Raise Unusable when `url` (as `resolve_url` makes it) cannot be a database of osuus, as far
    as can be told without connecting: an unknown kind, a SQLite file in a missing folder or
    that is a folder."""
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Unusable(f"expected a SQLite file or a PostgreSQL URL (postgresql://USER@HOST/DATABASE), found "
                       f"{url!r}") from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise Unusable(f"unknown kind of database '{parsed.drivername}': expected a SQLite file (a path, or "
                       "sqlite:///PATH) or a PostgreSQL URL (postgresql://USER@HOST/DATABASE)")
    if backend == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            raise Unusable("expected a SQLite database file (a path): a database in memory would be lost at once")
        path = Path(database)
        if path.is_dir():
            raise Unusable(f"{path} is a folder: expected a SQLite database file (a path to a file, new or made by "
                           "osuus)")
        if not path.parent.is_dir():
            raise Unusable(f"the folder {path.parent} does not exist: make it first, or name a file in a folder "
                           "that exists")


def unusable(exc: BaseException, url: str) -> Unusable | None:
    """What a database error means for the person who asked, as an Unusable; None when `exc` is
    not an error of the database itself (a programming error stays one). A transaction that
    failed this way has been rolled back whole: nothing of it was written."""
    from sqlalchemy.exc import DatabaseError, DataError, OperationalError

    if isinstance(exc, OverflowError) and "SQLite INTEGER" in str(exc):  # sqlite3 binding a huge int
        return Unusable(f"a number is beyond what the database {display_name(url)} holds (64-bit integers): "
                        "nothing was written")
    if not isinstance(exc, (OperationalError, DataError, DatabaseError)) or \
            type(exc).__name__ in ("IntegrityError", "ProgrammingError", "InternalError", "NotSupportedError"):
        return None
    name = display_name(url)
    detail = " ".join(str(getattr(exc, "orig", None) or exc).split()).strip()
    text = detail.lower()
    if "disk is full" in text or "disk full" in text or "no space left" in text:
        return Unusable(f"the disk of the database {name} is full: nothing was written; free some space and run "
                        "the command again")
    if "not a database" in text:
        return Unusable(f"{name} is not a SQLite database (or it is damaged): name the file `osuus db upgrade` "
                        "made, or a new file")
    if "unable to open database file" in text:
        return Unusable(f"cannot open the SQLite file {name}: check that its folder exists and may be written")
    if "readonly database" in text or "read-only" in text:
        return Unusable(f"the database {name} may not be written: {detail}")
    if "database is locked" in text:
        return Unusable(f"the database {name} is busy (another osuus is writing to it): nothing was written; run "
                        "the command again")
    if "integer overflow" in text or "out of range" in text or "overflow" in text:
        return Unusable(f"a sum is beyond what the database {name} holds: nothing was written ({detail})")
    if isinstance(exc, DataError):
        return Unusable(f"the database {name} refused a value: nothing was written ({detail})")
    if "does not exist" in text and "database" in text:
        return Unusable(f"the PostgreSQL database {name} does not exist: create it (createdb), then run "
                        "`osuus db upgrade`")
    if "connection" in text or "connect" in text or "could not translate host" in text or "timeout" in text:
        return Unusable(f"cannot connect to the database {name}: {detail}")
    return Unusable(f"the database {name} cannot be used: {detail}")


def default_path() -> Path:
    """The SQLite file used when nothing else is said; its folder is created."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("osuus"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / DEFAULT_FILE_NAME


def resolve_url(explicit: str | None) -> str:
    """`--db` if given, else $OSUUS_DATABASE_URL, else `osuus.db` in the user's data folder."""
    if explicit:
        return _normalise(explicit)
    from_env = os.environ.get(ENV_URL, "").strip()
    if from_env:
        return _normalise(from_env)
    return f"sqlite:///{default_path()}"


def display_name(url_or_engine: str | Engine) -> str:
    """The database as it may be shown to a person: a file path, or the URL without its password."""
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


# --- engines and sessions ----------------------------------------------------


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    # Take BEGIN away from the sqlite3 module (which would not emit it before
    # SELECT or DDL); `_sqlite_on_begin` emits it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_on_begin(conn) -> None:
    # IMMEDIATE: the write lock is taken at the start, so writers queue up
    # (busy_timeout) rather than fail when a read turns into a write.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_on_begin_read(conn) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, readonly: bool = False, pool_size: int | None = None) -> Engine:
    """An engine for `url`; SQLite gets its pragmas and real transactions.

    `pool_size`: connections kept open (as many again may be opened at a peak); the server
    asks for more than the default 5, as it answers many requests at once.

    `readonly`: for commands that only read (exports). On SQLite their
    transactions begin DEFERRED, which in WAL mode neither takes nor waits
    for the write lock, so a long export does not hold up an invoice run."""
    check_url(url)
    backend = make_url(url).get_backend_name()
    pool = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": pool_size}
    if backend == "sqlite":
        engine = create_engine(url, **pool)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin_read if readonly else _sqlite_on_begin)
        return engine
    # a server that does not answer is reported after ten seconds, not after the system's TCP timeout
    timeout = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 10}
    return create_engine(url, pool_pre_ping=True, connect_args=timeout, **pool)


def session_factory(engine: Engine, area_id: int | None = None) -> sessionmaker[Session]:
    """Sessions of `engine` that keep to their area (osuus.store.areas). With `area_id`, each
    transaction begins in that area (tools and tests: the ledger names its area itself)."""
    from osuus.store import areas

    factory = sessionmaker(bind=engine, expire_on_commit=False,
                           info={"area_id": area_id} if area_id is not None else None)
    areas.install(factory)
    if area_id is not None:
        event.listen(factory, "after_begin", lambda session, transaction, connection:
                     areas.begin_in_area(session, area_id, connection))
    return factory


# --- the planner's statistics ---------------------------------------------------


def analyze(session: Session, tables: Iterable[str] = ("service_events",)) -> list[str]:
    """Refresh the query planner's statistics of `tables` (the ledger's, by name) in the session's
    transaction: after an import that added many rows (a year's events), so that the planner
    knows how many rows each index leads to. SQLite: ANALYZE of each (about a second for a million
    events); PostgreSQL: ANALYZE of those the connected role may analyze (their owner, or the
    database's: the application role is neither, and autovacuum's analyze does it then).
    Returns the tables analysed."""
    from sqlalchemy import text

    from osuus.store.tables import Base

    names = list(dict.fromkeys(tables))
    unknown = [name for name in names if name not in Base.metadata.tables]
    if unknown:
        raise ValueError(f"not a table of the ledger: {', '.join(unknown)}")
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        allowed = set(connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(:names) "
            "AND (pg_has_role(current_user, tableowner, 'USAGE') OR pg_has_role(current_user, "
            "(SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE'))"),
            {"names": names}).scalars())
        names = [name for name in names if name in allowed]
    for name in names:
        connection.exec_driver_sql(f'ANALYZE "{name}"')
    return names


# --- migrations ----------------------------------------------------------------


def alembic_config(url: str | None = None):
    """An alembic Config built in code, pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # Passed as an attribute, not as sqlalchemy.url: a '%' in a password
        # would upset configparser's interpolation.
        config.attributes["url"] = url
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision of the shipped migrations (read once: they are files of the package)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str) -> tuple[str | None, str | None]:
    """Run `alembic upgrade head`; return the revisions (before, after).

    before == after means there was nothing to do.
    """
    from alembic import command

    engine = make_engine(url)
    try:
        before = current_revision(engine)
    finally:
        engine.dispose()
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    try:
        after = current_revision(engine)
    finally:
        engine.dispose()
    return before, after


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def require_migrated(engine: Engine) -> None:
    """Raise NotMigrated unless the database's schema is at the shipped head."""
    name = display_name(engine)
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if current is None:
        raise NotMigrated(
            f"Tietokanta {name} on tyhjä tai alustamaton: aja ensin `osuus db upgrade`. "
            f"(The database {name} is empty or not initialised: run `osuus db upgrade` first.)"
        )
    if not _known_revision(current):
        raise NotMigrated(
            f"Tietokanta {name} on versiossa {current}, jota tämä ohjelma ei tunne "
            f"(uusin tuntemani on {head}): tietokanta on uudempi kuin ohjelma, päivitä osuus. "
            f"(The database {name} is at revision {current}, which this program does not know "
            f"(its newest is {head}): the database is newer than the program; update osuus.)"
        )
    raise NotMigrated(
        f"Tietokanta {name} on versiossa {current}, ohjelma tarvitsee version {head}: "
        f"aja `osuus db upgrade`. "
        f"(The database {name} is at revision {current}, this program needs {head}: "
        f"run `osuus db upgrade`.)"
    )


# --- the application's role (PostgreSQL) -------------------------------------------

#: Tables the application only reads and appends to: it never changes or removes their rows.
APPEND_ONLY = ("audit_log",)
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_app_role(url: str, role: str) -> list[str]:
    """Make (or bring up to date) the role the application connects as on PostgreSQL: it can
    log in, owns no table, is no superuser and has no BYPASSRLS, so row-level security holds it
    to one area at a time; it may read and write the ledger's tables (the audit log: read and
    append only) and use their sequences. Run by the owner after each `db upgrade` (idempotent).
    Returns the statements run."""
    from psycopg import sql

    if not ROLE_NAME.fullmatch(role):
        raise Unusable(f"expected a role name of a–z, 0–9 and _ (at most 63), found {role!r}")
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            raise Unusable("SQLite has no roles: the store's area filters keep areas apart there; an "
                           "application role is made on PostgreSQL")
        require_migrated(engine)
        from osuus.store.tables import Base

        tables = sorted(set(Base.metadata.tables) | {"alembic_version"})
        ident = sql.Identifier(role)
        statements = []
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            exists = connection.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).first()
            if exists is None:
                statements.append(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
            statements.append(sql.SQL("ALTER ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
                              .format(ident))
            database = connection.exec_driver_sql("SELECT current_database()").scalar_one()
            statements.append(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident))
            statements.append(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
            for table in tables:
                privileges = "SELECT" if table == "alembic_version" else (
                    "SELECT, INSERT" if table in APPEND_ONLY else "SELECT, INSERT, UPDATE, DELETE")
                statements.append(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.Identifier(table), ident))
                statements.append(sql.SQL("GRANT " + privileges + " ON TABLE {} TO {}")
                                  .format(sql.Identifier(table), ident))
            statements.append(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident))
            statements.append(sql.SQL("GRANT EXECUTE ON FUNCTION osuus_current_area() TO {}").format(ident))
            with raw.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            return [statement.as_string(raw) for statement in statements]
    finally:
        engine.dispose()


def rls_bypass_reasons(engine: Engine) -> list[str]:
    """Why the role connected to PostgreSQL is not held by row-level security (empty: it is)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").one()
        owned = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user").scalar_one()
    out = []
    if row.rolsuper:
        out.append("the database role is a superuser, which row-level security does not hold")
    if row.rolbypassrls:
        out.append("the database role has BYPASSRLS")
    if owned:
        out.append(f"the database role owns {owned} tables (migrations run as the owner; the application "
                   "connects as the role `osuus db app-role` makes)")
    return out
