"""`osuus demo`: the web app on a SQLite database of the 2021 example year, with demo accounts.

The database is the demo's own (never $OSUUS_DATABASE_URL, which may name a real ledger):
`--db PATH`, else `demo/osuus-demo.db` in the user's data folder. Its accounts' passwords are
made at the first run and kept beside it (`<name>.logins.json`, readable by the user alone),
so that a second run reuses the database and prints the same logins; a database with no such
file beside it was not made by the demo, and is refused rather than given demo accounts.

The server listens on 127.0.0.1 only: the passwords are printed, and browsers keep the
session's Secure cookie over http on the loopback address. Heavy libraries (SQLAlchemy,
FastAPI, uvicorn) are imported when the command runs.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Optional

import typer

from osuus.cli.edge import State, app, database_errors, problems_exit, refuse, t, width

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_FOLDER, DEFAULT_FILE = "demo", "osuus-demo.db"
#: The demo passwords: groups of letters and digits that cannot be mistaken for one another.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_GROUPS, GROUP_LENGTH = 4, 4


def make_password() -> str:
    """A password to read off the screen and type: 16 characters (about 79 bits) in groups."""
    return "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GROUP_LENGTH))
                    for _ in range(PASSWORD_GROUPS))


def default_database() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("osuus")) / DEFAULT_FOLDER / DEFAULT_FILE


def logins_file(database: Path) -> Path:
    return database.with_name(database.stem + ".logins.json")


def _database(value: Optional[str]) -> Path:
    """The demo's SQLite file: `--db` (after the command or before it), else the default."""
    if State.db is not None and value is not None and value != State.db:
        refuse(t("cli.demo.db_twice", before=State.db, after=value), "--db")
    chosen = value if value is not None else State.db
    if chosen is None:
        return default_database()
    if "://" in chosen or chosen.startswith(("sqlite:", "postgresql:", "postgres:")):
        refuse(t("cli.demo.not_a_file", value=chosen), "--db")
    return Path(chosen).expanduser().resolve()


def _known_passwords(database: Path) -> dict[str, str]:
    """The passwords kept by an earlier run; refused when the database is not the demo's."""
    kept = logins_file(database)
    if not kept.exists():
        if database.exists() and database.stat().st_size > 0:
            refuse(t("cli.demo.not_ours", path=database, logins=kept.name), "--db")
        return {}
    try:
        found = json.loads(kept.read_text(encoding="utf-8"))
        if not isinstance(found, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
            raise ValueError("expected an object of names and passwords")
    except (OSError, ValueError) as exc:
        refuse(t("cli.demo.logins_unreadable", path=kept, reason=getattr(exc, "strerror", None) or exc), "--db")
    return found


def _keep_passwords(database: Path, logins) -> None:
    """The passwords beside the database, readable by the user alone; written whole or not at all."""
    kept = logins_file(database)
    text = json.dumps({login.person.name: login.password for login in logins}, ensure_ascii=False, indent=2) + "\n"
    temporary = kept.with_name(f".{kept.name}.{secrets.token_hex(6)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(temporary, kept)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _role_text(person) -> str:
    if person.role == "member":
        return t("cli.demo.role.member", municipality=person.municipality_name, code=person.municipality)
    return t(f"cli.demo.role.{person.role}")


def _report(built, database: Path) -> None:
    from osuus.cli.edge import n
    from osuus.render.terminal import TextTable

    print(t("cli.demo.area_added" if built.area_added else "cli.demo.area_kept", area=built.area))
    shown = built.agreement.agreement
    print(t("cli.demo.agreement_added" if built.agreement.created else "cli.demo.agreement_kept",
            agreement=shown.agreement_id, year=shown.year, revision=shown.revision))
    for result in built.imports:
        print(n("cli.demo.imported", result.rows, file=result.file, added=result.added) if result.created
              else t("cli.demo.import_kept", file=result.file))
    print(t("cli.demo.estimate_added" if built.estimate_created else "cli.demo.estimate_kept",
            year=built.estimate_year))
    print()
    print(TextTable(t("cli.demo.logins_title", path=logins_file(database)),
                    [t("cli.demo.col.name"), t("cli.demo.col.password"), t("cli.demo.col.role")],
                    [[login.person.name, login.password, _role_text(login.person)] for login in built.logins],
                    label_columns=3)
          .render(width()), end="")


@app.command(help=t("cli.help.demo"))
def demo(port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help=t("cli.option.demo_port")),
         db: Optional[str] = typer.Option(None, "--db", metavar="PATH", help=t("cli.option.demo_db")),
         no_serve: bool = typer.Option(False, "--no-serve", help=t("cli.option.no_serve"))) -> None:
    from osuus.services.demo import build_demo, find_sources

    database = _database(db)
    print(t("cli.demo.database", path=database), flush=True)
    if not no_serve and not _port_free(port):
        refuse(t("cli.demo.port_taken", port=port), "--port")
    passwords = _known_passwords(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{database}"
    State.url = url
    with database_errors(url), problems_exit():
        sources = find_sources()
        if sources.examples is None:
            print(t("cli.demo.no_examples", folder=sources.agreement.parent.parent / "examples" / "2021"))
        built = build_demo(url, sources, passwords, make_password)
    if any(login.new for login in built.logins) or not logins_file(database).exists():
        _keep_passwords(database, built.logins)
    _report(built, database)
    if no_serve:
        print(t("cli.demo.not_serving"))
        return
    _serve(url, port, built.area)


def _serve(url: str, port: int, area: str) -> None:
    import uvicorn

    from osuus.api import logs
    from osuus.api.settings import Settings
    from osuus.web.app import create_app

    settings = Settings(database_url=url, area=area, host=HOST, port=port, log_format="text")
    logs.configure(settings.log_format)
    print(t("cli.demo.serving", port=port), flush=True)
    uvicorn.run(create_app(settings), host=HOST, port=port, log_config=None, access_log=False, proxy_headers=False,
                server_header=False)
