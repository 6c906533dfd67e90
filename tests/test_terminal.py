"""`osuus allocate` on a terminal of 80 and 120 columns: every line fits, and the bottom line (the
payment column, "Maksuosuudet") stands beside each municipality's name, never dropped or pushed
off. Figures transcribed from the appendix (Taulukko 1: Sastamala pays 14 240, Tampere 178 169;
Taulukko 2: Pirkkala 47 242)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SHIPPED_AGREEMENT, run_cli_process

SEED = {"Sastamala": "14 240", "Tampere": "178 169", "Akaa": "12 080"}


@pytest.mark.parametrize("columns", [80, 120])
def test_the_tables_fit_the_terminal_and_keep_the_payment(columns):
    code, out, err = run_cli_process_with(columns, "allocate", SHIPPED_AGREEMENT)
    assert code == 0, err
    too_long = [line for line in out.splitlines() if len(line) > columns]
    assert too_long == [], too_long[:3]
    headers = [line for line in out.splitlines() if line.rstrip().endswith("Maksuosuudet")]
    assert len(headers) == 2  # Taulukko 1 and Taulukko 2
    for name, payment in SEED.items():
        row = next(line for line in out.splitlines() if line.startswith(name + " ") and re.search(r"\d", line))
        assert row.rstrip().endswith(payment), (columns, row)


def run_cli_process_with(columns: int, *args):
    """The real program in a subprocess, on a terminal `columns` wide (COLUMNS, as a shell sets it)."""
    import subprocess
    import sys

    from tests.conftest import ROOT, _env

    env = _env()
    env["COLUMNS"] = str(columns)
    proc = subprocess.run([sys.executable, "-m", "osuus", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, env=env, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_without_a_terminal_the_whole_table_is_one_panel():
    code, out, _ = run_cli_process("allocate", SHIPPED_AGREEMENT)
    assert code == 0
    sastamala = next(line for line in out.splitlines() if line.startswith("Sastamala ") and "6 706" in line)
    # every column of Taulukko 1 on one line: population, share, four services, total, reduction, payment
    assert re.search(r"24 277 +4,7 % +6 706 +3 885 +3 774 +3 436 +17 800 +20 % +3 560 +14 240$", sastamala)


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_a_table_of_text_never_loses_a_column(width):
    from osuus.render.terminal import TextTable

    header = ["Kunta", *(f"Palvelu numero {i}" for i in range(12)), "Maksuosuudet"]
    rows = [["Mänttä-Vilppula", *(f"{i * 1000:,}".replace(",", " ") for i in range(12)), "99 999"]]
    table = TextTable("", header, rows, detail_columns=frozenset(range(1, 13)))
    text = table.render(width)
    assert all(len(line) <= width for line in text.splitlines())
    for i in range(12):
        assert f"{i * 1000:,}".replace(",", " ") in text
    first_panel = text.split("\n\n")[0]
    assert "Maksuosuudet" in first_panel and "99 999" in first_panel
