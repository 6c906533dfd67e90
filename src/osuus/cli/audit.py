"""The change log commands (`osuus audit ...`): verify the log and the ledger against it,
print a checkpoint to keep elsewhere, and list the newest records."""

from __future__ import annotations

from typing import Optional

import typer

from osuus.cli.edge import DB_OPTION, EXIT_PROBLEMS, app, lang, ledger, n, stderr, t, width

audit_app = typer.Typer(help=t("cli.help.audit"), no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify", help=t("cli.help.audit_verify"))
def audit_verify(db: Optional[str] = DB_OPTION) -> None:
    from osuus.services.audit import verify

    with ledger(db) as opened:
        result = verify(opened)
    if result.broken:
        for b in result.broken:
            stderr(b)
        stderr(n("cli.audit.broken", len(result.broken)))
        raise typer.Exit(EXIT_PROBLEMS)
    print(n("cli.audit.intact", result.records))


@audit_app.command("log", help=t("cli.help.audit_log"))
def audit_log(db: Optional[str] = DB_OPTION,
              limit: int = typer.Option(50, help=t("cli.option.limit"))) -> None:
    from osuus.render.ledger_text import LedgerText
    from osuus.services.audit import newest

    with ledger(db) as opened:
        print(LedgerText(lang(), width()).audit_log(newest(opened, limit)), end="")
