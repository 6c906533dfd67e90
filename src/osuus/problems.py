"""Problems are values: collected, never raised one at a time (as Beancount does).

A `Problem` says where (file, line, key path), what was expected, and what was
found. Loaders and checks return every problem of an input at once; only the
edges (CLI, web) decide how to show them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    file: str = ""
    line: int | None = None
    key: str = ""

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        key = f" [{self.key}]" if self.key else ""
        return f"{where}:{key} {self.message}"


class ProblemsError(Exception):
    """Raised at a boundary when an input has problems; carries all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
