"""Problems are values: collected, never raised one at a time (as Beancount does).

One shape for every kind of problem osuus reports: an agreement file's
(file, line, key path), an import's (file, row, column and the cell's value),
a refusal of the ledger (the option or invoice it concerns) and a validator's
finding (rule id, location). Each has a message, a stable `code` that programs
can match, and a severity. Loaders and checks return every problem of an input
at once; only the edges (CLI, web) decide how to show them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Severity(str, enum.Enum):
    FATAL = "fatal"  # the input cannot be used at all (a validator's rejection)
    ERROR = "error"  # the input is refused
    WARNING = "warning"  # worth knowing; nothing is refused

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, and where.

    The place is either a text file's `line` and `key` path (an agreement), or a
    table's `row` and `column` (an import; the header is row 1), or just a `key`
    (a command-line option, an invoice number, a validator's XPath). `value` is
    what was found there, when showing it helps (already masked and cut).
    """

    message: str
    file: str = ""
    line: int | None = None
    key: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    code: str = ""
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))

    @property
    def is_error(self) -> bool:
        return self.severity is not Severity.WARNING

    @property
    def where(self) -> str:
        """`file:line`, `file:row` or `file`; empty when nothing is known."""
        place = self.line if self.line is not None else self.row
        if self.file:
            return f"{self.file}:{place}" if place is not None else self.file
        return f"row {self.row}" if self.row is not None else ""

    def __str__(self) -> str:
        """`file:line: [key] message`, or `file:row: [column='value'] message`; unknown parts left out."""
        parts = []
        if self.where:
            parts.append(self.where + ":")
        if self.column:
            parts.append(f"[{self.column}={self.value!r}]" if self.value else f"[{self.column}]")
        elif self.key:
            parts.append(f"[{self.key}]")
        elif self.value:
            parts.append(f"[{self.value!r}]")
        parts.append(self.message)
        return " ".join(parts)


class ProblemsError(Exception):
    """Raised at a boundary when an input has problems; carries all of them."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def refuse(message: str, *, key: str = "", code: str = "", file: str = "") -> ProblemsError:
    """One problem as an exception to raise: `raise refuse("no invoice numbered …", key="invoice")`."""
    return ProblemsError([Problem(message, file=file, key=key, code=code)])


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
