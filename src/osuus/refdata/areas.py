"""Municipality codes in a table's areas, and municipal mergers between two divisions.

A table's areas follow one municipal division: StatFin recomputes a table's
whole history in the division of its area classification
(`alue_23_20260101`: the municipalities of 1 January 2026). An agreement's
members are the municipalities of *its* time. When municipalities merged in
between, a member's figure has to be found through the merger:

- **the table is older than the members' division** (a member was formed by
  merging municipalities after the table's division): the member's figure is
  the exact sum of the figures of the municipalities it was formed from, all
  of which the table has (a merger's `new` code that the table's division
  does not have is a code the merger created; when only a saved file's areas
  are known, a warning says that this was assumed);
- **the table is newer** (a member merged into another after the members'
  division, or others merged into a member): the table has only the merged
  municipality's figure, which cannot be split, so the member is not found and
  the problem says which merger it was.

Mergers are given explicitly as `Merger(old, new, effective)`: the code that
ended, the code it joined, and the day the merger took effect (usually 1
January). The area values of a table look like `KU020` or `020` depending on
the table; both are read as municipality `020`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from osuus.problems import Problem, Severity

_AREA = re.compile(r"^(?:KU)?(\d{3})$", re.I)
_CODE = re.compile(r"^\d{3}$")


def municipality_code(value: str) -> str | None:
    """The municipality code of an area value: "KU020" or "020" → "020"; other areas
    (the whole country SSS, regions MK01, sub-regions SK…) → None."""
    m = _AREA.match(value.strip())
    return m.group(1) if m else None


def is_code(text: str) -> bool:
    return bool(_CODE.match(text))


class Merger(NamedTuple):
    """Municipality `old` joined `new` on `effective` (its code ended that day)."""

    old: str
    new: str
    effective: dt.date
    note: str = ""

    @classmethod
    def parse(cls, text: str) -> Merger:
        """'099:214:2021-01-01' (old:new:effective). Raises ValueError."""
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3 or not is_code(parts[0]) or not is_code(parts[1]) or parts[0] == parts[1]:
            raise ValueError(f"expected OLD:NEW:YYYY-MM-DD with three-digit codes, e.g. 099:214:2021-01-01, "
                             f"found {text!r}")
        try:
            effective = dt.date.fromisoformat(parts[2])
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD after the codes, found {parts[2]!r}") from None
        return cls(parts[0], parts[1], effective)

    def describe(self) -> str:
        return f"{self.old} joined {self.new} on {self.effective.isoformat()}"


class AreaPlan(NamedTuple):
    """How a member's figure is made of the table's areas: one, or the sum of several."""

    member: str
    areas: tuple[str, ...]  # municipality codes of the table (their sum is the member's figure)
    values: tuple[str, ...]  # the table's area values for them ("KU020")
    mergers: tuple[Merger, ...] = ()  # the mergers that made a sum necessary


def _between(mergers: Iterable[Merger], after: dt.date, until: dt.date) -> list[Merger]:
    return [m for m in mergers if after < m.effective <= until]


def _successor(code: str, mergers: list[Merger]) -> tuple[str, list[Merger]]:
    """Where `code` ended up through `mergers` (followed in order of their dates)."""
    chain: list[Merger] = []
    seen = {code}
    for m in sorted(mergers, key=lambda m: m.effective):
        if m.old == code:
            chain.append(m)
            code = m.new
            if code in seen:  # a cycle in the given mergers: stop
                break
            seen.add(code)
    return code, chain


def plan_areas(members: Mapping[str, str], areas: Mapping[str, str], *, mergers: Iterable[Merger] = (),
               classification: dt.date | None = None, members_as_of: dt.date | None = None, table: str = "",
               file: str = "", complete: bool = True) -> tuple[list[AreaPlan], list[Problem], list[str]]:
    """For every member: the table's areas whose sum is its figure; problems; members not found.

    `members` are code → name (a name may be ""); `areas` municipality code →
    the table's area value; `classification` the date of the table's
    division; `members_as_of` the date of the division the member codes
    follow. When either date is unknown the two divisions are taken to be the
    same, and a member the table lacks is reported (with the merger that
    explains it, if one is given). `complete` says that `areas` are all the
    areas of the table's division (its metadata), not just those of a saved
    file: only then is a merger's `new` code missing from them surely a code
    the merger created; otherwise a warning says it was taken to be one.
    """
    mergers = list(mergers)
    plans: list[AreaPlan] = []
    problems: list[Problem] = []
    not_found: list[str] = []
    same = classification is None or members_as_of is None or classification == members_as_of

    def named(code: str) -> str:
        name = members.get(code, "")
        return f"{name} ({code})" if name else code

    def refuse(code: str, message: str, kind: str) -> None:
        problems.append(Problem(message, file=file, key=code, code=kind))
        not_found.append(code)

    division = f"its areas are those of {classification.isoformat()}" if classification else "its areas"
    for code in members:
        if same:
            if code in areas:
                plans.append(AreaPlan(code, (code,), (areas[code],)))
                continue
            new, chain = _successor(code, mergers)
            if chain:
                refuse(code, f"{named(code)} is not in table {table}: {'; '.join(m.describe() for m in chain)}, "
                             f"and {division} (give the date of the members' municipal division to map it)",
                       "refdata.merged")
            else:
                refuse(code, f"{named(code)} is not in table {table} ({division})", "refdata.member_not_found")
            continue
        assert classification is not None and members_as_of is not None
        if classification > members_as_of:
            window = _between(mergers, members_as_of, classification)
            new, chain = _successor(code, window)
            if chain:
                refuse(code, f"{named(code)} cannot be read from table {table}: "
                             f"{'; '.join(m.describe() for m in chain)}, and {division}, so the table has only "
                             f"the figure of the merged municipality {new}, which cannot be split", "refdata.merged")
                continue
            grown = [m for m in window if _successor(m.old, window)[0] == code]
            if grown:
                refuse(code, f"{named(code)} cannot be read from table {table}: "
                             f"{'; '.join(m.describe() for m in grown)}, and {division}, so the table's figure "
                             f"for {code} also counts the municipalities that joined it", "refdata.merged")
                continue
            if code in areas:
                plans.append(AreaPlan(code, (code,), (areas[code],)))
            else:
                refuse(code, f"{named(code)} is not in table {table} ({division})", "refdata.member_not_found")
            continue
        # the table is older than the members' division: a member formed by a merger is the sum of its parts
        window = _between(mergers, classification, members_as_of)
        joined = [m for m in window if _successor(m.old, window)[0] == code]
        candidates = {m.old for m in joined} | {code}
        created = {m.new for m in window}  # codes that did not exist yet in the table's division
        parts = sorted(p for p in candidates if p in areas)
        missing = sorted(p for p in candidates if p not in areas and p not in created)
        if not parts:
            new, chain = _successor(code, [m for m in mergers if m.effective <= classification])
            hint = f": {'; '.join(m.describe() for m in chain)}" if chain else ""
            refuse(code, f"{named(code)} is not in table {table} ({division}){hint}", "refdata.member_not_found")
        elif missing:
            whole = ", ".join(sorted([*parts, *missing]))
            refuse(code, f"{named(code)} is the sum of {whole} in table {table} ({division}), but the table has no "
                         f"{', '.join(missing)}", "refdata.member_not_found")
        else:
            assumed = sorted(p for p in candidates if p not in areas and p in created)
            if assumed and not complete:
                problems.append(Problem(
                    f"{named(code)}: {', '.join(assumed)} {'is' if len(assumed) == 1 else 'are'} not in the file's "
                    f"areas of table {table} ({division}): taken to be created by the merger, with no figure of "
                    f"{'its' if len(assumed) == 1 else 'their'} own before it", file=file, key=code,
                    code="refdata.merger_assumed", severity=Severity.WARNING))
            plans.append(AreaPlan(code, tuple(parts), tuple(areas[p] for p in parts), tuple(joined)))
    return plans, problems, not_found
