"""The layers of osuus hold (docs/architecture.md): the import-linter contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_are_kept():
    tool = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    proc = subprocess.run([tool, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_the_core_imports_no_edge_library_when_loaded():
    """Loading the whole core (agreement, engine, billing, documents) brings in no database,
    terminal, formatting or document library: the contracts, checked at run time too."""
    code = ("import sys; import osuus.agreement, osuus.engine, osuus.billing.invoices, osuus.billing.credit_notes, "
            "osuus.billing.settlement, osuus.billing.estimate, osuus.documents.model; "
            "print(' '.join(sorted(m for m in ('sqlalchemy', 'typer', 'rich', 'lxml', 'typst', 'babel', 'openpyxl', "
            "'httpx') if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
