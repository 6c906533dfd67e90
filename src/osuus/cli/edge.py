"""What every command of `osuus` shares: the language, problems and exit statuses,
the ledger, dates and years, the terminal's width and writing text out.

Exit status: 0 done; 2 the input has problems (every one is printed, nothing is
written); 1 an internal error (or, for `validate`, a document that breaks a rule).

The database is named by `--db`, after the command (`osuus invoices --db x.db`) or
before it (`osuus --db x.db invoices`), else by $OSUUS_DATABASE_URL, else it is the
default file. A database that cannot be used (an unknown kind, a missing folder, a
folder, a file that is not a database, a server that does not answer, a full disk)
is refused with exit status 2 and the reason, never a traceback; what failed
halfway was one transaction, rolled back whole.

Years given on the command line and dates (`--date`) are of the years
FIRST_YEAR–LAST_YEAR (those an agreement may be of); others are refused before any
use case runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
from pathlib import Path
from typing import Iterable, Iterator, NoReturn, Optional

import typer
from typer.core import TyperGroup

from osuus import __version__
from osuus.problems import Problem, ProblemsError
from osuus.render.i18n import LANGUAGES, catalogue, default_language

EXIT_PROBLEMS = 2

#: The years of the command line's year arguments and dates: those an agreement may be of
#: (osuus.agreement.checks.FIRST_YEAR, LAST_YEAR; tests/test_refusals.py holds them equal).
FIRST_YEAR, LAST_YEAR = 1900, 2200


class State:
    """The options of the whole command line (`osuus --language sv …`, `osuus --db FILE …`)."""

    lang: str = default_language()
    db: str | None = None  # --db before the command
    area: str | None = None  # --area before the command (else $OSUUS_AREA, else the only area)
    url: str | None = None  # the database the command uses, once known (for messages)


def lang() -> str:
    return State.lang


def t(key: str, /, **params) -> str:
    """A message of the command line in the reader's language."""
    return catalogue(State.lang).t(key, **params)


def n(key: str, count: int, /, **params) -> str:
    """A message with a count, in the plural form of the reader's language."""
    return catalogue(State.lang).n(key, count, **params)


class _Commands(TyperGroup):
    """The app's group: a database error that escapes a command (one that opens its database
    itself, as `db upgrade` does) is refused like those inside `ledger()` (database_errors)."""

    def invoke(self, ctx):
        with database_errors():
            return super().invoke(ctx)


app = typer.Typer(
    name="osuus",
    cls=_Commands,
    help=t("cli.help.app"),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"osuus {__version__}")
        raise typer.Exit()


def _language(value: Optional[str]) -> Optional[str]:
    State.lang = default_language()  # each invocation afresh (tests run many in one process)
    if value is not None:
        if value not in LANGUAGES:
            raise typer.BadParameter(f"expected one of {', '.join(LANGUAGES)}, found {value!r}")
        State.lang = value
    return value


def _global_db(value: Optional[str]) -> Optional[str]:
    State.db, State.url = value, None  # each invocation afresh
    return value


def _global_area(value: Optional[str]) -> Optional[str]:
    State.area = value  # each invocation afresh
    return value


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help=t("cli.option.version")),
          language: Optional[str] = typer.Option(None, "--language", envvar="OSUUS_LANG", callback=_language,
                                                 is_eager=True, help=t("cli.option.language")),
          db: Optional[str] = typer.Option(None, "--db", callback=_global_db, help=t("cli.option.db")),
          area: Optional[str] = typer.Option(None, "--area", callback=_global_area, help=t("cli.option.area"))) -> None:
    """osuus: kuntien kustannustenjako."""


def stderr(message: str) -> None:
    print(message, file=sys.stderr)


def fail(problems: Iterable[Problem], where: str = "input") -> NoReturn:
    """Print every problem and a summary; exit 2 (nothing was written)."""
    problems = list(problems)
    for p in problems:
        stderr(str(p))
    stderr(catalogue(State.lang).n("cli.failed", len(problems), where=t(f"cli.where.{where}")))
    raise typer.Exit(EXIT_PROBLEMS)


def refuse(message: str, key: str = "", where: str = "command") -> NoReturn:
    fail([Problem(message, key=key)], where)


def width() -> int | None:
    """The terminal's width; None (no limit) when the output is not a terminal and COLUMNS is unset."""
    if os.environ.get("COLUMNS", "").strip().isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def parse_date(value: Optional[str], option: str = "--date") -> dt.date:
    """A date of the command line (today when not given), of the years FIRST_YEAR–LAST_YEAR."""
    if value is None:
        return dt.date.today()
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        refuse(f"expected a date such as 2021-02-01, found {value!r}", option)
    if not FIRST_YEAR <= date.year <= LAST_YEAR:
        refuse(f"expected a date of the years {FIRST_YEAR}–{LAST_YEAR}, found {value!r}", option)
    return date


def parse_year(value: str) -> int:
    """A year argument or option (`parser=parse_year`): a year of FIRST_YEAR–LAST_YEAR, refused
    by the command line (exit 2, naming the argument) before any use case sees it."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4 and FIRST_YEAR <= int(text) <= LAST_YEAR):
        raise typer.BadParameter(f"expected a year from {FIRST_YEAR} to {LAST_YEAR}, found {text!r}")
    return int(text)


parse_year.__name__ = "year"  # the metavar the help shows: YEAR


@contextlib.contextmanager
def problems_exit(where: str = "input") -> Iterator[None]:
    """A use case's refusal becomes its problems on stderr and exit status 2."""
    try:
        yield
    except ProblemsError as exc:
        fail(exc.problems, where)


def _database_problem(exc: BaseException, url: Optional[str]) -> Optional[Problem]:
    """A database error as the problem a person reads (naming --db), or None if it is no such error."""
    from osuus.store.db import Unusable, resolve_url, unusable

    if isinstance(exc, Unusable):
        found: Optional[Unusable] = exc
    else:
        try:
            found = unusable(exc, url or resolve_url(State.db))
        except Exception:  # the error stays what it was
            return None
    return None if found is None else Problem(found.message, key="--db", code="database")


@contextlib.contextmanager
def database_errors(url: Optional[str] = None) -> Iterator[None]:
    """An error of the database (it cannot be opened or reached, its disk is full, it refuses a
    value) becomes a refusal naming --db, exit 2: the transaction it broke was rolled back."""
    try:
        yield
    except Exception as exc:
        problem = _database_problem(exc, url or State.url)
        if problem is None:
            raise
        fail([problem], "command")


@contextlib.contextmanager
def ledger(db: Optional[str], *, readonly: bool = False) -> Iterator:
    """The ledger of `--db` (or $OSUUS_DATABASE_URL, or the default file), migrated; a use
    case's problems exit 2, and so does a database that cannot be used (database_errors).
    `readonly` commands (exports) do not take SQLite's write lock."""
    from osuus.services.ledger import Ledger, NotMigrated

    with database_errors():
        try:
            with problems_exit():
                opened = Ledger(db, area=State.area, readonly=readonly)
        except NotMigrated as exc:
            stderr(str(exc))
            raise typer.Exit(EXIT_PROBLEMS)
        State.url = opened.url
        try:
            with problems_exit():
                yield opened
        finally:
            opened.close()


def write_text(content: str | bytes, output: Optional[Path] = None, *, force: bool = False) -> None:
    """To stdout, or to the file `output` through osuus.cli.files.write_file: a temporary file
    created exclusively (a random name) in its folder and renamed into place, so a crash leaves
    no half file and a planted link captures nothing; an existing file only with `force`. A file
    that cannot be written is refused (exit 2, naming --output)."""
    if output is None:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return
    from osuus.cli.files import write_file

    with problems_exit("output"):
        write_file(output, content.encode("utf-8") if isinstance(content, str) else content, force=force)


def _command_db(ctx: typer.Context, param: typer.CallbackParam, value: Optional[str]) -> Optional[str]:
    """`--db` of a command: given after the command, or before it (`osuus --db x.db invoices`),
    else $OSUUS_DATABASE_URL. Named twice with two databases is refused; a database that cannot
    be one (an unknown kind, a missing folder, a folder) is refused before the command runs."""
    source = ctx.get_parameter_source(param.name or "db")
    given_here = source is not None and source.name == "COMMANDLINE"
    if State.db is not None:
        if given_here and value != State.db:
            refuse(f"--db is given before the command ({State.db}) and after it ({value}): name one database",
                   "--db")
        value = State.db
        given_here = True
    from osuus.store.db import Unusable, check_url, resolve_url

    url = resolve_url(value)
    try:
        check_url(url)
    except Unusable as exc:
        refuse(exc.message, "--db" if given_here else "OSUUS_DATABASE_URL")
    State.url = url
    return value


DB_OPTION = typer.Option(None, "--db", envvar="OSUUS_DATABASE_URL", callback=_command_db, help=t("cli.option.db"))
