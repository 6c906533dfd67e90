"""The change log commands (`osuus audit ...`): audit the ledger against its log, print a
checkpoint to keep elsewhere, and list the newest records.

`osuus audit verify` exits 0 when the log's chain holds and every row of the ledger is
what the record that wrote it says; otherwise it prints every finding (what, where, which
record) and exits 2.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Optional

import typer

from osuus.cli.edge import DB_OPTION, EXIT_PROBLEMS, app, fail, lang, ledger, stderr, t, width
from osuus.problems import Problem, ProblemsError

audit_app = typer.Typer(help=t("cli.help.audit"), no_args_is_help=True)
app.add_typer(audit_app, name="audit")


class Fmt(str, enum.Enum):
    text = "text"
    json = "json"


def _text():
    from osuus.render.audit_text import AuditText

    return AuditText(lang())


def _read_checkpoint(path: Path):
    from osuus.services.audit import read_checkpoint

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail([Problem("file not found", str(path), key="--checkpoint", code="file.missing")])
    except IsADirectoryError:
        fail([Problem("expected a file, found a folder", str(path), key="--checkpoint", code="file.folder")])
    except UnicodeDecodeError:
        fail([Problem("not a text file", str(path), key="--checkpoint", code="file.not-text")])
    except OSError as exc:
        fail([Problem(f"cannot read the file: {exc.strerror}", str(path), key="--checkpoint", code="file.unreadable")])
    try:
        return read_checkpoint(text, str(path))
    except ProblemsError as exc:
        fail(exc.problems)


@audit_app.command("verify", help=t("cli.help.audit_verify"))
def audit_verify(db: Optional[str] = DB_OPTION,
                 checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help=t("cli.option.checkpoint"))
                 ) -> None:
    from osuus.services.audit import verify

    kept = _read_checkpoint(checkpoint) if checkpoint is not None else None
    with ledger(db) as opened:
        result = verify(opened, kept)
    text = _text()
    if result.findings:
        for finding in result.findings:
            stderr(text.finding(finding))
        stderr(text.failed(result))
        raise typer.Exit(EXIT_PROBLEMS)
    print(text.verified(result), end="")


@audit_app.command("checkpoint", help=t("cli.help.audit_checkpoint"))
def audit_checkpoint(db: Optional[str] = DB_OPTION,
                     format: Fmt = typer.Option(Fmt.text, "--format", "-f", help=t("cli.option.format"))) -> None:
    from osuus.services.audit import checkpoint

    with ledger(db) as opened:
        head = checkpoint(opened)
    if format is Fmt.json:
        from osuus.render.audit_text import checkpoint_json

        print(json.dumps(checkpoint_json(head), ensure_ascii=False, indent=2))
        return
    print(_text().checkpoint(head), end="")


@audit_app.command("log", help=t("cli.help.audit_log"))
def audit_log(db: Optional[str] = DB_OPTION,
              limit: int = typer.Option(50, help=t("cli.option.limit"))) -> None:
    from osuus.render.ledger_text import LedgerText
    from osuus.services.audit import newest

    with ledger(db) as opened:
        print(LedgerText(lang(), width()).audit_log(newest(opened, limit)), end="")
