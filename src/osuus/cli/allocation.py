"""Commands on an agreement file (no database): check, allocate, and explain.

`explain` also explains what the ledger billed: `explain invoice NUMBER [--line N]`,
`explain settlement YEAR -m …`, `explain estimate YEAR -m …`.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import List, Optional

import typer

from osuus.cli.edge import (
    DB_OPTION,
    app,
    fail,
    lang,
    ledger,
    parse_year,
    problems_exit,
    refuse,
    stderr,
    t,
    width,
    write_text,
)


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class ExplainFormat(str, enum.Enum):
    text = "text"
    json = "json"


def _allocation(path: Path, *, documents: bool = False):
    """The figures of an agreement file. `check` also runs the checks of what documents need
    (identifiers, addresses, the host's account); the figures do not depend on them."""
    from osuus.services.allocation import allocate_file

    with problems_exit("agreement"):
        allocation = allocate_file(path, documents=documents)
    for warning in allocation.warnings:
        stderr(t("cli.note", text=str(warning)))
    return allocation


@app.command(help=t("cli.help.check"))
def check(agreement: Path = typer.Argument(..., help=t("cli.arg.agreement"))) -> None:
    allocation = _allocation(agreement, documents=True)
    a = allocation.agreement
    print(t("cli.check.ok", file=agreement, id=a.id, year=a.year, municipalities=len(a.municipalities),
            components=len(a.components), tables=len(a.tables)))


@app.command(help=t("cli.help.allocate"))
def allocate(
    agreement: Path = typer.Argument(..., help=t("cli.arg.agreement")),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help=t("cli.option.format")),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help=t("cli.option.output_file")),
    force: bool = typer.Option(False, "--force", help=t("cli.option.force")),
) -> None:
    if format is OutputFormat.xlsx and output is None:
        refuse("--format xlsx needs --output FILE.xlsx", "--output")
    if output is not None:  # a taken name or a missing folder costs no computing
        from osuus.cli.files import file_problems

        problems = file_problems(output, force=force)
        if problems:
            fail(problems, "output")
    allocation = _allocation(agreement)
    if format is OutputFormat.json:
        from osuus.render.json_out import allocation_to_json

        _write(json.dumps(allocation_to_json(allocation), ensure_ascii=False, indent=2) + "\n", output, force)
    elif format is OutputFormat.csv:
        from osuus.render.csv_out import allocation_to_csv

        _write(allocation_to_csv(allocation), output, force)
    elif format is OutputFormat.xlsx:
        from osuus.render.xlsx import workbook_bytes

        _write(workbook_bytes(allocation, lang()), output, force)
        stderr(t("cli.written", path=output))
    else:
        from osuus.render.terminal import allocation_text

        _write(allocation_text(allocation, lang(), None if output else width()), output, force)


def _write(content: str | bytes, output: Optional[Path], force: bool) -> None:
    """To stdout, or to the file `output` (edge.write_text: a fresh temporary file renamed into
    place; an existing file only with --force; a link never written through)."""
    write_text(content, output, force=force)


@app.command(help=t("cli.help.explain"))
def explain(
    what: str = typer.Argument(..., help=t("cli.arg.explain_what")),
    which: Optional[str] = typer.Argument(None, help=t("cli.arg.explain_which")),
    municipality: Optional[str] = typer.Option(None, "--municipality", "-m", help=t("cli.option.municipality")),
    line: Optional[int] = typer.Option(None, "--line", help=t("cli.option.line")),
    format: ExplainFormat = typer.Option(ExplainFormat.text, "--format", "-f", help=t("cli.option.format")),
    db: Optional[str] = DB_OPTION,
) -> None:
    if what in ("invoice", "settlement", "estimate"):
        if which is None:
            refuse(f"name the {'invoice number' if what == 'invoice' else 'year'}: osuus explain {what} …", what)
        _explain_ledger(what, which, municipality, line, format, db)
        return
    allocation = _allocation(Path(what))
    if municipality is None:
        refuse("name the municipality: --municipality NAME or code", "--municipality")
    found = allocation.agreement.find_municipality(municipality)
    if found is None:
        names = ", ".join(m.name for m in allocation.agreement.municipalities)
        refuse(f"unknown municipality '{municipality}'; expected one of: {names}", "--municipality")
    if format is ExplainFormat.json:
        from osuus.render.explain import explanation_json

        print(json.dumps(explanation_json(allocation, found.code, lang()), ensure_ascii=False, indent=2))
        return
    from osuus.render.explain import explanation_text

    write_text(explanation_text(allocation, found.code, lang()), None)


def _year(text: str) -> int:
    try:
        return parse_year(text)
    except typer.BadParameter as exc:
        refuse(str(exc), "YEAR")


def _explain_ledger(what: str, which: str, municipality: Optional[str], line: Optional[int],
                    format: ExplainFormat, db: Optional[str]) -> None:
    from osuus.render import explain_ledger as render
    from osuus.services import explain as service
    from osuus.services.invoicing import municipality_code

    with ledger(db, readonly=True) as opened:
        if what == "invoice":
            result = service.explain_invoice(opened, which, line)
        else:
            year = _year(which)
            if municipality is None:
                refuse("name the municipality: --municipality NAME or code", "--municipality")
            code = municipality_code(opened, municipality, year)
            result = (service.explain_settlement(opened, year, code) if what == "settlement"
                      else service.explain_estimate(opened, year, code))
    if format is ExplainFormat.json:
        print(json.dumps(render.to_json(result, lang()), ensure_ascii=False, indent=2))
    else:
        write_text(render.to_text(result, lang()), None)


__all__ = ["List", "allocate", "check", "explain", "fail"]
