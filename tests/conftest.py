"""Shared fixtures: the command line, and a PostgreSQL database for the session.

`run_cli(*args)` runs the real program in a subprocess (`python -m osuus ...`,
from the repository root) and returns (returncode, stdout, stderr).
`invoke_cli(*args)` runs `osuus.cli.app` in-process through Typer's CliRunner,
which is much quicker; it returns the same triple plus the exception caught.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
PG_ENV = "OSUUS_TEST_POSTGRES_URL"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["PYTHONUTF8"] = "1"
    env["NO_COLOR"] = "1"
    for name in ("FORCE_COLOR", "COLUMNS", "LINES"):
        env.pop(name, None)
    return env


def run_cli_process(*args: str | os.PathLike, cwd: Path = ROOT) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "osuus", *map(str, args)],
        capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=_env(), timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def invoke_cli_in_process(*args: str | os.PathLike):
    from typer.testing import CliRunner

    from osuus.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr, result.exception


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def agreement_path() -> Path:
    return SHIPPED_AGREEMENT


@pytest.fixture(scope="session")
def agreement_text() -> str:
    return SHIPPED_AGREEMENT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def run_cli():
    return run_cli_process


@pytest.fixture(scope="session")
def invoke_cli():
    return invoke_cli_in_process


@pytest.fixture(scope="session")
def postgres_test_database():
    """The URL of a PostgreSQL database made for this test session (dropped afterwards)."""
    base = os.environ.get(PG_ENV, "").strip()
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from osuus.store.db import resolve_url

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


@pytest.fixture(scope="session", autouse=True)
def _cache_folder(tmp_path_factory):
    """What osuus keeps in the user's cache folder goes to a folder of the test session."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
