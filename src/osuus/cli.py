"""The `osuus` command. The only place (with the web app, later) that does I/O.

Exit status: 0 done; 2 the input has problems (every one is printed, nothing
is written); 1 an internal error. Heavy libraries (Rich tables, openpyxl) are
imported inside the commands that need them, so start-up stays quick.
"""

from __future__ import annotations

import enum
import json
import os
import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer

from osuus import __version__

app = typer.Typer(
    name="osuus",
    help="Kuntien kustannustenjako ja laskutus / Cost sharing between municipalities, exactly.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_PROBLEMS = 2


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class ExplainFormat(str, enum.Enum):
    text = "text"
    json = "json"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _fail(problems, what: str = "Tiedostossa") -> NoReturn:
    for p in problems:
        _stderr(str(p))
    count = len(problems)
    noun = "virhe" if count == 1 else "virhettä"
    _stderr(f"{what} on {count} {noun}; mitään ei kirjoitettu. ({count} problem{'s' if count != 1 else ''}; nothing was written.)")
    raise typer.Exit(EXIT_PROBLEMS)


def _load(path: Path):
    from osuus.agreement import load_agreement

    agreement, problems = load_agreement(path)
    if problems:
        _fail(problems, "Sopimustiedostossa")
    return agreement


def _allocate(path: Path):
    from osuus.engine import allocate

    allocation = allocate(_load(path))
    if allocation.problems:
        _fail(allocation.problems, "Laskennassa")
    for w in allocation.warnings:
        _stderr(f"Huomio: {w}")
    return allocation


def _write_text(text: str, output: Optional[Path]) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, output)


def _check_output(output: Optional[Path]) -> None:
    if output is not None and not output.parent.resolve().is_dir():
        from osuus.problems import Problem

        _fail([Problem(f"the folder {output.parent} does not exist", str(output))], "Tulostiedostossa")


def _console():
    from rich.console import Console

    # a terminal gets its own width; a pipe or file gets the whole table, unwrapped
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 400)


@app.command()
def check(agreement: Path = typer.Argument(..., help="Sopimustiedosto (TOML)")) -> None:
    """Tarkista sopimustiedosto: kaikki virheet kerralla, rivinumeroin."""
    from osuus.engine import allocate

    loaded = _load(agreement)
    allocation = allocate(loaded)
    if allocation.problems:
        _fail(allocation.problems, "Laskennassa")
    for w in allocation.warnings:
        _stderr(f"Huomio: {w}")
    print(f"{agreement}: kunnossa. Sopimus {loaded.id} ({loaded.year}): {len(loaded.municipalities)} kuntaa, "
          f"{len(loaded.components)} kustannuserää, {len(loaded.tables)} taulukkoa.")


@app.command()
def allocate(
    agreement: Path = typer.Argument(..., help="Sopimustiedosto (TOML)"),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text, json, csv tai xlsx"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Tulostiedosto (pakollinen xlsx-muodolle)"),
) -> None:
    """Laske kuntien maksuosuudet ja näytä ne liitteen taulukoina."""
    if format is OutputFormat.xlsx and output is None:
        from osuus.problems import Problem

        _fail([Problem("--format xlsx needs --output FILE.xlsx", "--output")], "Komennossa")
    _check_output(output)
    allocation = _allocate(agreement)
    if format is OutputFormat.json:
        from osuus.render.json_out import allocation_to_json

        _write_text(json.dumps(allocation_to_json(allocation), ensure_ascii=False, indent=2) + "\n", output)
    elif format is OutputFormat.csv:
        from osuus.render.csv_out import allocation_to_csv

        _write_text(allocation_to_csv(allocation), output)
    elif format is OutputFormat.xlsx:
        from osuus.render.xlsx import write_workbook

        write_workbook(allocation, output)
        _stderr(f"Kirjoitettu: {output}")
    else:
        from osuus.render.terminal import print_allocation

        if output is not None:
            from rich.console import Console

            with open(output, "w", encoding="utf-8") as fh:
                print_allocation(allocation, Console(file=fh, width=400, highlight=False))
        else:
            print_allocation(allocation, _console())


@app.command()
def explain(
    agreement: Path = typer.Argument(..., help="Sopimustiedosto (TOML)"),
    municipality: str = typer.Option(..., "--municipality", "-m", help="Kunnan nimi tai kuntanumero"),
    format: ExplainFormat = typer.Option(ExplainFormat.text, "--format", "-f", help="text tai json"),
) -> None:
    """Perustele kunnan jokainen luku: kaava luvuin, välitulokset ja sopimuksen kohta."""
    allocation = _allocate(agreement)
    found = allocation.agreement.find_municipality(municipality)
    if found is None:
        from osuus.problems import Problem

        names = ", ".join(allocation.agreement.names)
        _fail([Problem(f"unknown municipality '{municipality}'; expected one of: {names}", "--municipality")],
              "Komennossa")
    if format is ExplainFormat.json:
        from osuus.render.json_out import explanation_to_json

        print(json.dumps(explanation_to_json(allocation, found.name), ensure_ascii=False, indent=2))
        return
    from osuus.render.explain import explanation_text

    sys.stdout.write(explanation_text(allocation, found.name))


def _version(value: bool) -> None:
    if value:
        print(f"osuus {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Näytä versio")) -> None:
    """osuus: kuntien kustannustenjako."""




# The ledger commands register themselves on `app` (their heavy imports stay inside the commands).
import osuus.cli_ledger  # noqa: E402,F401
import osuus.cli_export  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
