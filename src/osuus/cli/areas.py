"""`osuus area` (the employment areas of one installation) and `osuus db app-role`."""

from __future__ import annotations

from typing import Optional

import typer

from osuus.cli.edge import DB_OPTION, app, database_errors, problems_exit, refuse, t
from osuus.cli.ledger import db_app

area_app = typer.Typer(help=t("cli.help.area"), no_args_is_help=True)
app.add_typer(area_app, name="area")


def _ledger(db: Optional[str]):
    from osuus.services.ledger import Ledger

    return Ledger(db, choose_area=False)


@area_app.command("add", help=t("cli.help.area_add"))
def area_add(code: str = typer.Argument(..., help=t("cli.arg.area_code")),
             name: str = typer.Option(..., "--name", help=t("cli.option.area_name")),
             db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.areas import add_area

    with database_errors(), problems_exit():
        with _ledger(db) as opened:
            added = add_area(opened, code, name)
    print(t("cli.area.added", code=added.code, name=added.name))


@area_app.command("list", help=t("cli.help.area_list"))
def area_list(db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.areas import list_areas

    with database_errors(), problems_exit():
        with _ledger(db) as opened:
            for area in list_areas(opened):
                print(f"{area.code}\t{area.name}")


@db_app.command("app-role", help=t("cli.help.db_app_role"))
def db_app_role(role: str = typer.Argument("osuus_app", help=t("cli.arg.role_name")),
                db: Optional[str] = DB_OPTION) -> None:
    from osuus.store.db import Unusable, grant_app_role, resolve_url

    with database_errors():
        try:
            grant_app_role(resolve_url(db), role)
        except Unusable as exc:
            refuse(exc.message, "ROLE")
    print(t("cli.area.app_role", role=role))
