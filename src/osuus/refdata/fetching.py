"""Fetch reference figures for an agreement's members from StatFin.

`fetch(client, spec, members, periods)` does, in order:

1. read the service's limits (`?config`);
2. GET the table's metadata (the short id first, `vaerak/11ra.px`; on a 404
   the id from before 8 June 2026, `vaerak/statfin_vaerak_pxt_11ra.px`) and
   find its area, time and content variables (`tables.resolve`);
3. check that every period asked for is published;
4. map the members to the table's areas, through mergers (`areas.plan_areas`);
5. POST the queries for `json-stat2`, as few as the limits allow: each asks
   for at most `maxCells` cells and `maxValues` values. A query the service
   refuses as too many cells (403) is split in two and asked again (a
   warning says so); one that cannot be split any further is an error;
6. decode the answers into Decimal and make each member's value, with the
   provenance of the answer it came from.

Every problem comes back in the `RefResult`, none is raised.
`fetch_population` and `fetch_jobseekers` are `fetch` with the two tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from osuus.calendar import Period
from osuus.problems import Problem, ProblemsError, Severity
from osuus.refdata.areas import AreaPlan, Merger, plan_areas
from osuus.refdata.client import Limits, PxWebClient, Reply, TableNotFound, TooManyCells
from osuus.refdata.collect import (Cell, Members, assemble, default_members_as_of, member_names, period_codes,
                                   unique_sources)
from osuus.refdata.jsonstat import JsonStatError, parse_dataset
from osuus.refdata.records import Provenance, RefResult
from osuus.refdata.tables import JOBSEEKERS, POPULATION, Resolved, TableSpec, resolve, variables_of_metadata


def fetch_population(client: PxWebClient, members: Members, year: int, **options: Any) -> RefResult:
    """Population on 31.12.`year` of every member (table vaerak/11ra)."""
    return fetch(client, POPULATION, members, year, **options)


def fetch_jobseekers(client: PxWebClient, members: Members, months: Iterable[Period] | Period | int,
                     **options: Any) -> RefResult:
    """Unemployed jobseekers at the end of each month (table tyonv/12r5); an int is every month of
    that year. `convert.year_end` and `convert.average` make a key's figure of them."""
    return fetch(client, JOBSEEKERS, members, months, **options)


def _metadata(client: PxWebClient, spec: TableSpec) -> tuple[str, Reply]:
    try:
        return spec.table, client.metadata(spec.table)
    except TableNotFound:
        if not spec.legacy_table:
            raise
    return spec.legacy_table, client.metadata(spec.legacy_table)


def _query(resolved: Resolved, variables: Sequence[str], areas: Sequence[str], periods: Sequence[str]) -> dict:
    """The query body, the variables in the table's own order."""
    selections = {resolved.area.code: list(areas), resolved.time.code: list(periods),
                  resolved.content.code: [resolved.content_code], **{c: [v] for c, v in resolved.fixed}}
    return {"query": [{"code": code, "selection": {"filter": "item", "values": selections[code]}}
                      for code in variables if code in selections],
            "response": {"format": "json-stat2"}}


def _chunks(plans: Sequence[AreaPlan], periods: Sequence[str], extra: int,
            limits: Limits) -> list[tuple[list[AreaPlan], list[str]]]:
    """Split the queries so that each keeps within the cell and value limits. A member's areas
    stay in one query."""
    widest = max((len(p.values) for p in plans), default=1)
    per_query = max(1, min(limits.max_cells // widest, limits.max_values - widest - extra))
    period_groups = [list(periods[i:i + per_query]) for i in range(0, len(periods), per_query)]
    chunks: list[tuple[list[AreaPlan], list[str]]] = []
    for group in period_groups:
        current: list[AreaPlan] = []
        width = 0
        for plan in plans:
            n = len(plan.values)
            if current and ((width + n) * len(group) > limits.max_cells
                            or width + n + len(group) + extra > limits.max_values):
                chunks.append((current, group))
                current, width = [], 0
            current.append(plan)
            width += n
        if current:
            chunks.append((current, group))
    return chunks


def fetch(client: PxWebClient, spec: TableSpec, members: Members, periods: Iterable[Period] | Period | int, *,
          key: str | None = None, mergers: Iterable[Merger] = (), members_as_of: dt.date | None = None,
          classification: dt.date | None = None, content: str | None = None,
          save_to: str | Path | None = None) -> RefResult:
    """Every member's figure of `spec` for every period asked, with provenance and problems.

    `members`: an `Agreement` (all its municipalities, the host included), a
    mapping code → name, or codes. `key`: the agreement key the values are
    for (default `spec.key`). `mergers`, `members_as_of` (the date of the
    members' municipal division; default 1 January of an agreement's year) and
    `classification` (the table's division, when its metadata does not say)
    map members through mergers. `content` overrides the content code.
    `save_to`: a folder where every answer is also written as it came
    (`11ra-001.json`, …), for `saved.import_files` on a host without network
    access; its SHA-256 is the one in the values' provenance.
    """
    key = key or spec.key
    names, problems = member_names(members)
    members_as_of = members_as_of or default_members_as_of(members)
    everyone = tuple(names)
    try:
        codes = period_codes(spec, periods)
    except ValueError as exc:
        return RefResult(problems=(*problems, Problem(str(exc), key=spec.table_id, code="refdata.period")),
                         not_found=everyone)
    try:
        limits = client.limits()
        problems.extend(client.warnings)
        client.warnings.clear()
        table_path, meta = _metadata(client, spec)
    except ProblemsError as exc:
        return RefResult(problems=(*problems, *exc.problems), not_found=everyone)
    url = meta.url
    try:
        variables, _title = variables_of_metadata(meta.data)
    except ValueError as exc:
        return RefResult(problems=(*problems, Problem(f"table {spec.table_id}: {exc}", file=url,
                                                      code="refdata.bad_response")), not_found=everyone)
    resolved, found = resolve(variables, spec, content=content, file=url)
    problems.extend(found)
    if resolved is None:
        return RefResult(problems=tuple(problems), not_found=everyone)
    if classification is not None:
        resolved = dataclasses.replace(resolved, classification=classification)
    published = set(resolved.time.values)
    for code in codes:
        if code not in published:
            latest = resolved.time.values[-1] if resolved.time.values else "none"
            problems.append(Problem(f"table {spec.table_id} has no figures for {code} yet (the latest is {latest})",
                                    file=url, key=code, code="refdata.period_missing"))
    codes = [c for c in codes if c in published]
    plans, found, not_found = plan_areas(names, resolved.areas, mergers=mergers,
                                         classification=resolved.classification, members_as_of=members_as_of,
                                         table=spec.table_id, file=url)
    problems.extend(found)
    if not codes or not plans:
        return RefResult(problems=tuple(problems), not_found=tuple(not_found))

    order = [v.code for v in variables]
    cells: dict[tuple[str, str], Cell] = {}
    unanswered: set[str] = set()

    def ask(chunk: list[AreaPlan], group: list[str]) -> None:
        areas = [v for plan in chunk for v in plan.values]
        body = _query(resolved, order, areas, group)
        try:
            reply = client.query(table_path, body)
        except TooManyCells as exc:
            size = len(areas) * len(group)
            if len(chunk) > 1 or len(group) > 1:
                problems.append(Problem(f"the service refused a query of {size} cells as too many (HTTP 403; its "
                                        f"limit is {limits.max_cells}); asking again in two halves",
                                        file=exc.problems[0].file, key=spec.table_id, code="refdata.too_many_cells",
                                        severity=Severity.WARNING))
                if len(chunk) > 1:
                    half = len(chunk) // 2
                    ask(chunk[:half], group)
                    ask(chunk[half:], group)
                else:
                    half = len(group) // 2
                    ask(chunk, group[:half])
                    ask(chunk, group[half:])
                return
            problems.append(Problem(f"the service refuses even a query of {size} cells as too many (HTTP 403)",
                                    file=exc.problems[0].file, key=spec.table_id, code="refdata.too_many_cells"))
            unanswered.update(areas)
            return
        except ProblemsError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
            unanswered.update(areas)
            return
        if save_to is not None:
            save(reply)
        read(reply, areas, group)

    def save(reply: Reply) -> None:
        folder = Path(save_to)  # type: ignore[arg-type]
        stem = table_path.rsplit("/", 1)[-1]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            n = 1
            while (folder / f"{stem}-{n:03d}.json").exists():
                n += 1
            (folder / f"{stem}-{n:03d}.json").write_bytes(reply.body)
        except OSError as exc:
            problems.append(Problem(f"cannot save the answer in {folder}: {exc.strerror or exc}", file=str(folder),
                                    code="refdata.save_failed"))

    def read(reply: Reply, areas: list[str], group: list[str]) -> None:
        try:
            dataset = parse_dataset(reply.data)
        except JsonStatError as exc:
            problems.append(Problem(f"table {spec.table_id}: the answer is not a JSON-stat 2.0 dataset: {exc}",
                                    file=reply.url, code="refdata.bad_response"))
            unanswered.update(areas)
            return
        wanted = [resolved.area.code, resolved.time.code, resolved.content.code, *(c for c, _ in resolved.fixed)]
        lacking = [c for c in wanted if c not in dataset.ids]
        if lacking:
            problems.append(Problem(f"table {spec.table_id}: the answer has no variable {', '.join(lacking)} "
                                    f"(it has {', '.join(dataset.ids)})", file=reply.url, code="refdata.bad_response"))
            unanswered.update(areas)
            return
        source = Provenance(
            table=dataset.table_id or table_path.rsplit("/", 1)[-1], updated=dataset.updated, fetched=reply.fetched,
            query=reply.request, url=reply.url, publisher=dataset.source, label=dataset.label,
            content=resolved.content_code, content_label=resolved.content_label,
            area_variable=resolved.area.code, classification=resolved.classification, sha256=reply.sha256)
        fixed = dict(resolved.fixed)
        for area in areas:
            for period in group:
                coords = {resolved.area.code: area, resolved.time.code: period,
                          resolved.content.code: resolved.content_code, **fixed}
                cell = dataset.cell(coords)
                if cell is not None:
                    cells[(area, period)] = Cell(cell[0], cell[1], source)

    for chunk, group in _chunks(plans, codes, 1 + len(resolved.fixed), limits):
        ask(chunk, group)
    problems.extend(w for w in client.warnings if w not in problems)
    client.warnings.clear()
    values, found = assemble(spec, key, names, plans, codes, cells, unanswered=unanswered, file=url)
    problems.extend(found)
    return RefResult(values=tuple(values), problems=tuple(problems), not_found=tuple(not_found),
                     sources=unique_sources(values))
