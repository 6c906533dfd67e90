"""An agreement file allocated: read, checked and computed, or refused with every problem."""

from __future__ import annotations

from pathlib import Path

from osuus.agreement import Agreement, load_agreement
from osuus.engine import Allocation, allocate
from osuus.problems import ProblemsError


def load(path: Path, *, documents: bool = True) -> Agreement:
    agreement, problems = load_agreement(path, documents=documents)
    if agreement is None:
        raise ProblemsError(problems)
    return agreement


def allocate_file(path: Path, *, documents: bool = True) -> Allocation:
    """The allocation of an agreement file; raises ProblemsError with every problem of the file.
    Without `documents`, the checks that need outside data (a bank documents) are left out."""
    allocation = allocate(load(path, documents=documents))
    if allocation.problems:
        raise ProblemsError(allocation.problems)
    return allocation
