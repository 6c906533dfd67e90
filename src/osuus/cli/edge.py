"""What every command of `osuus` shares: the language, problems and exit statuses,
the ledger, dates, the terminal's width and writing text out.

Exit status: 0 done; 2 the input has problems (every one is printed, nothing is
written); 1 an internal error (or, for `validate`, a document that breaks a rule).
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

from osuus import __version__
from osuus.problems import Problem, ProblemsError
from osuus.render.i18n import LANGUAGES, catalogue, default_language

EXIT_PROBLEMS = 2


class State:
    """The options of the whole command line (`osuus --language sv …`)."""

    lang: str = default_language()


def lang() -> str:
    return State.lang


def t(key: str, /, **params) -> str:
    """A message of the command line in the reader's language."""
    return catalogue(State.lang).t(key, **params)


def n(key: str, count: int, /, **params) -> str:
    """A message with a count, in the plural form of the reader's language."""
    return catalogue(State.lang).n(key, count, **params)


app = typer.Typer(
    name="osuus",
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


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help=t("cli.option.version")),
          language: Optional[str] = typer.Option(None, "--language", envvar="OSUUS_LANG", callback=_language,
                                                 is_eager=True, help=t("cli.option.language"))) -> None:
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
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        refuse(f"expected a date such as 2021-02-01, found {value!r}", option)


@contextlib.contextmanager
def problems_exit(where: str = "input") -> Iterator[None]:
    """A use case's refusal becomes its problems on stderr and exit status 2."""
    try:
        yield
    except ProblemsError as exc:
        fail(exc.problems, where)


@contextlib.contextmanager
def ledger(db: Optional[str], *, readonly: bool = False) -> Iterator:
    """The ledger of `--db` (or $OSUUS_DATABASE_URL, or the default file), migrated; a use
    case's problems exit 2. `readonly` commands (exports) do not take SQLite's write lock."""
    from osuus.services.ledger import Ledger, NotMigrated

    try:
        opened = Ledger(db, readonly=readonly)
    except NotMigrated as exc:
        stderr(str(exc))
        raise typer.Exit(EXIT_PROBLEMS)
    try:
        with problems_exit():
            yield opened
    finally:
        opened.close()


def write_text(text: str, output: Optional[Path]) -> None:
    """To stdout, or to a file through a temporary one (a crash leaves no half file)."""
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, output)


def check_output(output: Optional[Path]) -> None:
    if output is not None and not output.parent.resolve().is_dir():
        fail([Problem(f"the folder {output.parent} does not exist", str(output))], "output")


DB_OPTION = typer.Option(None, "--db", envvar="OSUUS_DATABASE_URL", help=t("cli.option.db"))
