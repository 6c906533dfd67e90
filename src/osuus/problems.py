"""Problems are values: collected, never raised one at a time (as Beancount does).

A `Problem` says where (file, line, key path), what was expected, and what was
found. Loaders and checks return every problem of an input at once; only the
edges (CLI, web) decide how to show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    file: str = ""
    line: int | None = None
    key: str = ""

    def __str__(self) -> str:
        """`file:line: [key] message`; parts that are unknown are left out."""
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}:" if self.line is not None else f"{self.file}:")
        if self.key:
            parts.append(f"[{self.key}]")
        parts.append(self.message)
        return " ".join(parts)


class ProblemsError(Exception):
    """Raised at a boundary when an input has problems; carries all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def gather(make: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`[make(x) for x in items]`, except that one item's ProblemsError does not stop the
    others: every item is tried, then all the problems are raised together (each once)."""
    results: list[R] = []
    problems: list[Problem] = []
    for item in items:
        try:
            results.append(make(item))
        except ProblemsError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    if problems:
        raise ProblemsError(problems)
    return results
