"""Imports: read the files the host's systems export and return records and problems.

Pure: nothing here touches a database. Each parser reads one CSV or XLSX file
(see `tables.read_rows`) and returns the records of its valid rows together
with a problem for every bad row, all at once, so that a clerk can fix a file
in one go. A file with any problem is meant to be refused whole by the caller;
the records of its good rows are returned only so that a preview can show them.

- `events.parse_events` / `events.iter_events`: service events (billed afterwards);
  `iter_events` streams, for files of a million rows.
- `counts.parse_counts`: reference counts (population, customers) per municipality.
- `costs.parse_costs`: a year's actual costs and external funding per component.

The file formats are described in `docs/import-formats.md`.

Problems are `Problem` values with a file, row, column and value (`row_problem`). A parser
keeps at most `ProblemList.limit` of them but counts every one (`.total`).
A personal identity code is never repeated whole in a problem: `row_problem`
masks any it finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from osuus.agreement.model import Agreement
from osuus.privacy import mask_personal_codes
from osuus.problems import Problem

#: How much of a cell a problem shows; the rest is cut with an ellipsis.
SHOWN_VALUE_CHARS = 60


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What an import is checked against.

    `agreements` by year: an event or cost of a year without an agreement is
    refused. `year`, when given, is the one year the file may hold (events and
    costs; counts may be dated earlier, e.g. population on 31.12. of the year before).
    """

    agreements: Mapping[int, Agreement]
    year: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "agreements", MappingProxyType(dict(self.agreements)))

    @classmethod
    def of(cls, *agreements: Agreement, year: int | None = None) -> ImportContext:
        """A context of the given agreements, keyed by their year."""
        return cls({a.year: a for a in agreements}, year)

    def agreement_for(self, year: int | None) -> Agreement | None:
        """The agreement rows of `year` are checked against, or a fallback when `year` is unknown.

        Without a usable year the context's own year is tried, then the only
        agreement if there is just one; otherwise None (no check is possible).
        """
        if year is not None and year in self.agreements:
            return self.agreements[year]
        if self.year is not None and self.year in self.agreements:
            return self.agreements[self.year]
        if len(self.agreements) == 1:
            return next(iter(self.agreements.values()))
        return None

    def years_text(self) -> str:
        return ", ".join(str(y) for y in sorted(self.agreements)) or "none"


def _shown(text: str) -> str:
    text = mask_personal_codes(text)
    if len(text) > SHOWN_VALUE_CHARS:
        text = text[: SHOWN_VALUE_CHARS - 1] + "…"
    return text


def row_problem(file: str, row: int | None, column: str, value: str, reason: str, code: str = "import") -> Problem:
    """One thing wrong with a file, a row or a cell, as the one `Problem` shape.

    `row` is the file's own line (CSV) or row (XLSX) number, the header being 1;
    None for a problem with the whole file. `column` is the lower-case column
    name ("" for the whole row or file). `value` is the cell as read. Whatever a
    caller passes, a problem never carries a personal identity code whole: the
    file name, the column and the value are masked (and long text cut).
    """
    return Problem(reason, file=mask_personal_codes(file), row=row, column=_shown(column), value=_shown(value), code=code)


class ProblemList(list):
    """A list of problems that keeps the first `limit` and counts them all.

    `append` past the limit only counts; `total` is every problem reported,
    `truncated` whether some were not kept. A plain list works wherever a
    ProblemList is expected (it then keeps everything).
    """

    limit: int = 1000

    def __init__(self, items: Iterable[Problem] = (), *, limit: int | None = None):
        super().__init__()
        if limit is not None:
            self.limit = limit
        self._total = 0
        self.extend(items)

    def append(self, problem: Problem) -> None:  # type: ignore[override]
        self._total += 1
        if len(self) < self.limit:
            super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:  # type: ignore[override]
        for problem in problems:
            self.append(problem)

    @property
    def total(self) -> int:
        return self._total

    @property
    def truncated(self) -> bool:
        return self._total > len(self)


def problem_total(problems: list[Problem]) -> int:
    """How many problems were reported, counting those a ProblemList did not keep."""
    return problems.total if isinstance(problems, ProblemList) else len(problems)


__all__ = ["ImportContext", "ProblemList", "problem_total", "row_problem"]

