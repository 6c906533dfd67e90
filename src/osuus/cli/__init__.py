"""The `osuus` command: parse what was asked, call one use case, render its result.

The commands live in four modules, by what they work on: `allocation` (an
agreement file: check, allocate, explain), `ledger` (the database and the yearly
cycle), `audit` (the change log: verify, checkpoint, log), `export` (documents
and their validation); `edge` holds what they share,
the Typer app among it. A run imports the module of the command asked for and
no other (heavy libraries are imported inside the commands that need them), so
that start-up stays quick; `osuus.cli.app` is the app with every command.
"""

from __future__ import annotations

import importlib
import sys

#: The module of each command (a command of a group by the group's name).
MODULES = {
    "check": "allocation", "allocate": "allocation", "explain": "allocation",
    "db": ("ledger", "areas"), "agreement": "ledger", "import": "ledger", "estimate": "ledger",
    "invoice": "ledger", "invoices": "ledger", "credit": "ledger", "close-year": "ledger", "report": "ledger",
    "export": "export", "validate": "export", "audit": "audit",
    "area": "areas", "approve": "ledger", "reject": "ledger", "drafts": "ledger",
    "user": "users", "apikey": "users", "serve": "serve", "demo": "demo",
}
#: The order the modules' commands are listed in by `osuus --help`.
ORDER = ("allocation", "ledger", "areas", "audit", "export", "users", "serve", "demo")
#: The options of the whole command line that take a value.
_VALUED = {"--language", "--db", "--area"}


def _load(modules) -> None:
    for module in modules:
        importlib.import_module(f"osuus.cli.{module}")


def _command(argv: list[str]) -> str | None:
    """The command named in `argv`, past the options of the whole command line."""
    args = iter(argv)
    for arg in args:
        if arg in _VALUED:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: list[str] | None = None) -> None:
    from osuus.cli.edge import app

    argv = sys.argv[1:] if argv is None else argv
    command = _command(argv)
    found = MODULES.get(command)
    _load(ORDER if found is None else (found,) if isinstance(found, str) else found)
    app(argv, prog_name="osuus")


def __getattr__(name: str):
    """`osuus.cli.app`: the app with every command registered (for tests and programs)."""
    if name == "app":
        from osuus.cli.edge import app

        _load(ORDER)
        return app
    raise AttributeError(name)


if __name__ == "__main__":
    main()
