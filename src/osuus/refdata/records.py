"""The records reference data comes in: a value with its source, and a result with its problems.

Everything here is immutable: `Provenance` and `RefResult` are frozen
dataclasses, `RefValue` a named tuple. A `RefValue` is one figure of one
municipality on one date (population on 31.12.2023, unemployed jobseekers at
the end of July 2023, or the average of a year's month-ends) and carries its
`source`: which table of which service, the dataset's own `updated` time, when
it was fetched (or which file it was imported from) and the query that asked
for it, as JSON. `to_dict` gives all of it as JSON-safe data, so that a ledger
can keep the full provenance next to the count.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from osuus.problems import Problem

#: Where a figure may say it comes from in a `CountRecord.source_note` (the count import's limit)
NOTE_LIMIT = 300


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _datetime(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a set of figures came from: one response of the service, or one imported file.

    `query` is the query exactly as it was posted (JSON text, "" when a file was
    imported without one); `updated` is the dataset's own `updated` time as the
    service wrote it; `fetched` when osuus received it (UTC), or None for an
    import, which has `file`, `imported` and the file's `sha256` instead.
    `classification` is the date of the municipal division the table's areas
    follow (`alue_23_20260101` → 2026-01-01), when it is known.
    """

    table: str  # the table id as the service named it: "11ra" (or "statfin_vaerak_pxt_11ra" before June 2026)
    updated: str = ""
    fetched: dt.datetime | None = None
    query: str = ""
    url: str = ""
    publisher: str = ""  # the dataset's `source`: "Tilastokeskus"
    label: str = ""  # the dataset's label (title)
    content: str = ""  # the content code the figures are ("vaerak-vaesto")
    content_label: str = ""
    area_variable: str = ""  # "alue_23_20260101" or "Alue"
    classification: dt.date | None = None
    format: str = "json-stat2"  # or "csv"
    file: str = ""
    imported: dt.datetime | None = None
    sha256: str = ""  # of the response body or the imported file

    @property
    def query_data(self) -> Any:
        """The query as data (None when there is none)."""
        return json.loads(self.query) if self.query else None

    def note(self) -> str:
        """One short line: table, content, updated, fetched or imported."""
        parts = [f"{self.publisher or 'StatFin'} {self.table}"]
        if self.content:
            parts[0] += f" ({self.content})"
        if self.updated:
            parts.append(f"updated {self.updated}")
        if self.fetched is not None:
            parts.append(f"fetched {self.fetched.isoformat(timespec='seconds')}")
        if self.file:
            parts.append(f"imported from {self.file.replace(chr(92), '/').rsplit('/', 1)[-1]}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table, "updated": self.updated, "fetched": _iso(self.fetched),
            "query": self.query_data, "url": self.url, "publisher": self.publisher, "label": self.label,
            "content": self.content, "content_label": self.content_label, "area_variable": self.area_variable,
            "classification": _iso(self.classification), "format": self.format, "file": self.file,
            "imported": _iso(self.imported), "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        query = data.get("query")
        return cls(
            table=data.get("table", ""), updated=data.get("updated", ""), fetched=_datetime(data.get("fetched")),
            query=json.dumps(query, ensure_ascii=False) if query is not None else "", url=data.get("url", ""),
            publisher=data.get("publisher", ""), label=data.get("label", ""), content=data.get("content", ""),
            content_label=data.get("content_label", ""), area_variable=data.get("area_variable", ""),
            classification=_date(data.get("classification")), format=data.get("format", "json-stat2"),
            file=data.get("file", ""), imported=_datetime(data.get("imported")), sha256=data.get("sha256", ""),
        )


class RefValue(NamedTuple):
    """One municipality's figure on a date, with where it came from.

    `period` is the table's own period code ("2023", "2023M07"); `method` says
    what the figure is: "year-end" (31.12.), "month-end", or "average" of the
    month-end values in `parts` (then `date` is the last month's end and
    `period` spans the months: "2023M01-2023M12"). `areas` are the table's
    area codes whose values make the figure: one, or several when the
    municipality was formed by a merger after the table's municipal division
    (the figure is then their exact sum). `status` is a marker the service
    published with the value, if any.
    """

    key: str
    municipality_code: str
    date: dt.date
    value: Decimal
    source: Provenance
    period: str = ""
    method: str = "year-end"
    areas: tuple[str, ...] = ()
    parts: tuple[RefValue, ...] = ()
    status: str = ""

    def note(self) -> str:
        """A short provenance text for `CountRecord.source_note` (at most `NOTE_LIMIT` characters)."""
        what = self.period
        if self.method == "average":
            what = f"average of {len(self.parts)} month-ends {self.period}"
        if len(self.areas) > 1:
            what += " (sum of areas " + "+".join(self.areas) + ")"
        text = f"{self.source.note()}; {what}" if what else self.source.note()
        return text if len(text) <= NOTE_LIMIT else text[:NOTE_LIMIT - 1] + "…"

    def to_dict(self) -> dict[str, Any]:
        """Everything about the value as JSON-safe data (numbers as decimal strings)."""
        return {
            "key": self.key, "municipality": self.municipality_code, "date": self.date.isoformat(),
            "value": str(self.value), "period": self.period, "method": self.method, "areas": list(self.areas),
            "status": self.status, "source": self.source.to_dict(), "parts": [p.to_dict() for p in self.parts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefValue:
        return cls(
            key=data["key"], municipality_code=data["municipality"], date=dt.date.fromisoformat(data["date"]),
            value=Decimal(data["value"]), source=Provenance.from_dict(data["source"]),
            period=data.get("period", ""), method=data.get("method", "year-end"),
            areas=tuple(data.get("areas", ())), parts=tuple(cls.from_dict(p) for p in data.get("parts", ())),
            status=data.get("status", ""),
        )


@dataclass(frozen=True, slots=True)
class RefResult:
    """What a fetch or an import gives: the values found, every problem, the members not found.

    Problems are values, all of them at once: a missing or secret value, a
    member the table does not have, a refused query. `ok` is False when any of
    them is an error; the values that could be read are there all the same,
    for showing, but a caller should not store an incomplete set.
    """

    values: tuple[RefValue, ...] = ()
    problems: tuple[Problem, ...] = ()
    not_found: tuple[str, ...] = ()  # member codes the table has no figure for
    sources: tuple[Provenance, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    def value_of(self, code: str, period: str | None = None) -> RefValue | None:
        """The value of a municipality (of `period`, when the result has several)."""
        for v in self.values:
            if v.municipality_code == code and (period is None or v.period == period):
                return v
        return None

    def by_municipality(self) -> dict[str, tuple[RefValue, ...]]:
        found: dict[str, list[RefValue]] = {}
        for v in self.values:
            found.setdefault(v.municipality_code, []).append(v)
        return {code: tuple(vs) for code, vs in found.items()}

    def to_json(self) -> str:
        """The values with their full provenance, as JSON text (for a ledger to keep)."""
        return json.dumps([v.to_dict() for v in self.values], ensure_ascii=False, indent=1)
