"""`osuus user` and `osuus apikey`: the people and programs that may use an area's ledger.

A password is never an argument (it would stay in the shell's history and show in the
process list): it is asked for twice, hidden, or read as one line from standard input
(`--password-stdin`). An API key is printed once, when it is made, on standard output
alone (for a program to capture), with the warning that it is not shown again on
standard error; only its hash is kept.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import List, Optional

import typer

from osuus.cli.edge import DB_OPTION, app, fail, lang, ledger, parse_date, stderr, t, width
from osuus.problems import Problem

REASON_OPTION = typer.Option("", "--reason", help=t("cli.option.change_reason"))

user_app = typer.Typer(help=t("cli.help.user"), no_args_is_help=True)
apikey_app = typer.Typer(help=t("cli.help.apikey"), no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")


def _area(opened) -> str:
    return getattr(opened, "area_code", "")


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    from osuus.render.terminal import TextTable

    return TextTable(title, header, rows).render(width())


def _date(value: dt.datetime | None) -> str:
    from osuus.render.formats import formats

    return formats(lang()).date(value.date()) if value is not None else ""


def _password_from_stdin() -> str:
    text = sys.stdin.read()
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    lines = text.splitlines()
    if len(lines) > 1:
        fail([Problem(t("cli.user.password_lines", count=len(lines)), key="--password-stdin",
                      code="password.lines")])
    return text


def _password_prompted() -> str:
    first = typer.prompt(t("cli.user.password_prompt"), hide_input=True)
    second = typer.prompt(t("cli.user.password_repeat"), hide_input=True)
    if first != second:
        fail([Problem(t("cli.user.password_mismatch"), key="password", code="password.mismatch")])
    return first


# --------------------------------------------------------------------------
# users
# --------------------------------------------------------------------------

@user_app.command("add", help=t("cli.help.user_add"))
def user_add(name: str = typer.Argument(..., help=t("cli.arg.user_name")),
             display_name: str = typer.Option("", "--display-name", help=t("cli.option.display_name")),
             password_stdin: bool = typer.Option(False, "--password-stdin", help=t("cli.option.password_stdin")),
             language: str = typer.Option("fi", "--language", help=t("cli.option.user_language")),
             reason: str = REASON_OPTION,
             db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.accounts import add_user

    with ledger(db) as opened:
        password = _password_from_stdin() if password_stdin else _password_prompted()
        user = add_user(opened, name, display_name=display_name, password=password, language=language,
                        reason=reason)
    print(t("cli.user.added", name=user.name))


@user_app.command("role", help=t("cli.help.user_role"))
def user_role(name: str = typer.Argument(..., help=t("cli.arg.user_name")),
              role: str = typer.Argument(..., help=t("cli.arg.role")),
              municipality: Optional[str] = typer.Option(None, "--municipality",
                                                         help=t("cli.option.member_municipality")),
              revoke: bool = typer.Option(False, "--revoke", help=t("cli.option.revoke")),
              reason: str = REASON_OPTION,
              db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.accounts import grant_role, revoke_role

    with ledger(db) as opened:
        change = revoke_role if revoke else grant_role
        user = change(opened, name, role, municipality, reason=reason)
        area = _area(opened)
    shown = role if not municipality else f"{role} ({municipality})"
    print(t("cli.user.role_revoked" if revoke else "cli.user.role_granted", name=user.name, role=shown, area=area))


@user_app.command("disable", help=t("cli.help.user_disable"))
def user_disable(name: str = typer.Argument(..., help=t("cli.arg.user_name")),
                 reason: str = REASON_OPTION,
                 db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.accounts import disable_user

    with ledger(db) as opened:
        user = disable_user(opened, name, reason=reason)
    print(t("cli.user.disabled", name=user.name))


@user_app.command("list", help=t("cli.help.user_list"))
def user_list(db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.accounts import list_users

    with ledger(db) as opened:
        users = list_users(opened)
        area = _area(opened)
    if not users:
        print(t("cli.user.none"))
        return

    def state(user) -> str:
        return t("cli.user.state.disabled" if user.disabled else "cli.user.state.active" if user.has_password
                 else "cli.user.state.no_password")

    rows = [[u.name, u.display_name, u.language,
             ", ".join(r.role.value + (f" ({r.municipality})" if r.municipality else "") for r in u.roles),
             state(u)] for u in users]
    print(_table(t("cli.user.title", area=area),
                 [t(f"cli.user.col.{k}") for k in ("name", "display_name", "language", "roles", "state")], rows),
          end="")


# --------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------

@apikey_app.command("create", help=t("cli.help.apikey_create"))
def apikey_create(name: str = typer.Argument(..., help=t("cli.arg.apikey_name")),
                  role: str = typer.Option(..., "--role", help=t("cli.option.key_role")),
                  scope: Optional[List[str]] = typer.Option(None, "--scope", help=t("cli.option.scope")),
                  expires: str = typer.Option(..., "--expires", help=t("cli.option.expires")),
                  municipality: Optional[str] = typer.Option(None, "--municipality",
                                                             help=t("cli.option.member_municipality")),
                  reason: str = REASON_OPTION,
                  db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.accounts import create_api_key

    last_day = parse_date(expires, "--expires")
    # valid through the day given: until the next day begins (UTC)
    until = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    with ledger(db) as opened:
        view, key = create_api_key(opened, name, role, list(scope or []), until, municipality, reason=reason)
    stderr(t("cli.apikey.created", prefix=view.prefix, role=view.role.value, scopes=", ".join(view.scopes),
             expires=_date(view.expires_at - dt.timedelta(microseconds=1))))
    stderr(t("cli.apikey.shown_once"))
    print(key)


@apikey_app.command("list", help=t("cli.help.apikey_list"))
def apikey_list(db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.accounts import list_api_keys

    with ledger(db) as opened:
        keys = list_api_keys(opened)
        area = _area(opened)
    if not keys:
        print(t("cli.apikey.none"))
        return
    rows = [[k.prefix, k.name, k.role.value + (f" ({k.municipality})" if k.municipality else ""),
             ", ".join(k.scopes), _date(k.expires_at - dt.timedelta(microseconds=1)), _date(k.last_used_at),
             t(f"cli.apikey.state.{k.state()}")] for k in keys]
    print(_table(t("cli.apikey.title", area=area),
                 [t(f"cli.apikey.col.{c}") for c in ("prefix", "name", "role", "scopes", "expires", "last_used",
                                                     "state")], rows), end="")


@apikey_app.command("revoke", help=t("cli.help.apikey_revoke"))
def apikey_revoke(prefix: str = typer.Argument(..., help=t("cli.arg.apikey_prefix")),
                  reason: str = REASON_OPTION,
                  db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.accounts import revoke_api_key

    with ledger(db) as opened:
        view = revoke_api_key(opened, prefix, reason=reason)
    print(t("cli.apikey.revoked", prefix=view.prefix))
