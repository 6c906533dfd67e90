"""Import a saved answer of the service, for a host without network access.

`import_file(path, spec, members)` reads what someone saved on a machine that
has network access, and gives the same `RefResult` as a fetch, with the same
problems (a missing or secret value, a member the table lacks, a merger).
`import_files(paths, …)` reads several at once: the answers that
`fetch(…, save_to=folder)` wrote, one per query, or an export in parts.

- **JSON-stat 2.0** (`.json`): the answer of a query with
  `"response": {"format": "json-stat2"}`, saved as it came (e.g. with curl),
  or a table saved from StatFin's web service as "JSON-stat2". Its
  variables are found as a fetch finds them (the roles, then the names).
- **CSV** from PxWeb: an optional title line (`"11ra -- Tunnuslukuja
  väestöstä alueittain, 1990-2025"`) and empty lines, then a header row.
  Two layouts are read:
  *long*, one figure per row, with a column for the area, one for the period
  (`Vuosi`, `Kuukausi`, `timeperiod_y`, …), optionally one for the content
  (`Tiedot`, `contentscode`), and the figure last; and *wide*, the area in the
  first column and one column per period (and content), headed e.g.
  `2023 Väestö 31.12.` or `Väestö 31.12. 2023M07`. The area cells are
  `KU020 Akaa`, `020 Akaa`, `KU020`, `020` or a member's name. The delimiter
  is `,`, `;` or a tab; the text UTF-8 (with or without BOM) or, failing
  that, Windows-1252 (as older PxWeb exports are). A figure is digits, with
  `.` or `,` for decimals; anything else (`.`, `..`, `...`, `-`, an empty
  cell) is a missing or secret value and is never read as zero.

A saved file has no `fetched` time: its provenance has the file's name, its
SHA-256 and when it was imported; the table id, the `updated` time and the
query come from the file where it holds them (a JSON-stat answer's `updated`
and `extension.px.tableid`, a CSV title's table id), or from the arguments.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from osuus.calendar import Period
from osuus.problems import Problem, Severity
from osuus.refdata.areas import Merger, municipality_code, plan_areas
from osuus.refdata.collect import (Cell, Members, assemble, default_members_as_of, member_names, period_codes,
                                   unique_sources)
from osuus.refdata.jsonstat import JsonStatError, loads, parse_dataset
from osuus.refdata.records import Provenance, RefResult
from osuus.refdata.tables import (CONTENT_NAMES, TIME_NAMES, PERIOD, TableSpec, Variable, content_matches,
                                  division_date, resolve)

_TITLE_TABLE = re.compile(r"^\s*(\d[0-9a-z]{3}|statfin_\w+_pxt_\w+)\s*(--|:|–)", re.I)
_TABLE_ID = re.compile(r"^(?:\d[0-9a-z]{3}|statfin_\w+_pxt_\w+)$", re.I)
_HEAD_PERIOD = re.compile(r"(?<![\dA-Za-z])(\d{4}(?:M\d{2})?)(?![\dA-Za-z])")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def import_file(path: str | Path, spec: TableSpec, members: Members, **options) -> RefResult:
    """Read a saved JSON-stat2 answer or a PxWeb CSV export (see the module's notes)."""
    return import_files([path], spec, members, **options)


def import_files(paths: Iterable[str | Path], spec: TableSpec, members: Members, **options) -> RefResult:
    """Read several saved answers of one table together: the answers `fetch(save_to=…)` wrote
    (one per query), or exports of the same table in parts. A cell in two files must have the
    same figure in both."""
    files: list[tuple[str, bytes]] = []
    unreadable: list[Problem] = []
    for path in paths:
        path = Path(path)
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            unreadable.append(Problem(f"cannot read the file: {exc.strerror or exc}", file=str(path),
                                      code="refdata.bad_file"))
    return _import(files, spec, members, unreadable=unreadable, **options)


def import_bytes(data: bytes, name: str, spec: TableSpec, members: Members, **options) -> RefResult:
    """The same as `import_file`, from the file's bytes; `name` is how problems name the file."""
    return _import([(name, data)], spec, members, **options)


def _import(files: list[tuple[str, bytes]], spec: TableSpec, members: Members, *, unreadable: Iterable[Problem] = (),
            periods: Iterable[Period] | Period | int | None = None, key: str | None = None,
            mergers: Iterable[Merger] = (), members_as_of: dt.date | None = None,
            classification: dt.date | None = None, content: str | None = None, table: str | None = None,
            updated: str | None = None, imported: dt.datetime | None = None) -> RefResult:
    """`periods` limits the result to those periods (default: every one in the files); `table`
    and `updated` fill in the provenance where a file does not say; `content` is the wanted
    content's code or, for a CSV without codes, its label."""
    key = key or spec.key
    names, problems = member_names(members)
    problems.extend(unreadable)
    members_as_of = members_as_of or default_members_as_of(members)
    everyone = tuple(names)
    label = ", ".join(name for name, _ in files)
    wanted: list[str] | None = None
    if periods is not None:
        try:
            wanted = period_codes(spec, periods)
        except ValueError as exc:
            return RefResult(problems=(*problems, Problem(str(exc), file=label, code="refdata.period")),
                             not_found=everyone)
    areas: dict[str, str] = {}
    available: set[str] = set()
    cells: dict[tuple[str, str], Cell] = {}
    divisions: set[dt.date | None] = set()
    when = imported or _now()
    for name, data in files:
        source = Provenance(table=table or spec.table_id, updated=updated or "", file=name, imported=when,
                            sha256=hashlib.sha256(data).hexdigest(), format="json-stat2")
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if head in (b"{", b"["):
            read = _read_jsonstat(data, name, spec, source, content, classification, table, updated)
        else:
            read = _read_csv(data, name, spec, source, content, classification, names)
        if isinstance(read, list):
            problems.extend(read)
            continue
        file_areas, file_periods, file_cells, division, file_problems = read
        problems.extend(file_problems)
        areas.update(file_areas)
        available |= file_periods
        divisions.add(division)
        for where, cell in file_cells.items():
            earlier = cells.get(where)
            if earlier is None:
                cells[where] = cell
            elif (earlier.value, earlier.status) != (cell.value, cell.status):
                problems.append(Problem(f"{where[0]} {where[1]} is {_shown(earlier)} in {earlier.source.file} but "
                                        f"{_shown(cell)} in {name}",
                                        file=name, key=where[0], code="refdata.conflict"))
    if not divisions:
        return RefResult(problems=tuple(problems), not_found=everyone)
    if len(divisions) > 1:
        shown = ", ".join(d.isoformat() if d else "unknown" for d in sorted(divisions, key=lambda d: d or dt.date.min))
        return RefResult(problems=(*problems, Problem(f"the files follow different municipal divisions ({shown}): "
                                                      f"import them apart", file=label, code="refdata.conflict")),
                         not_found=everyone)
    division = divisions.pop()
    codes = sorted(available) if wanted is None else wanted
    for code in codes:
        if code not in available:
            latest = max(available) if available else "none"
            problems.append(Problem(f"no figures of {spec.table_id} for {code} (the latest is {latest})",
                                    file=label, key=code, code="refdata.period_missing"))
    codes = [c for c in codes if c in available]
    plans, found, not_found = plan_areas(names, areas, mergers=mergers, classification=division,
                                         members_as_of=members_as_of, table=spec.table_id, file=label,
                                         complete=False)
    problems.extend(found)
    values, found = assemble(spec, key, names, plans, codes, cells, file=label)
    problems.extend(found)
    return RefResult(values=tuple(values), problems=tuple(problems), not_found=tuple(not_found),
                     sources=unique_sources(values))


_Read = tuple[dict[str, str], set[str], dict[tuple[str, str], Cell], "dt.date | None", list[Problem]]


def _is_period_code(spec: TableSpec, code: str) -> bool:
    m = PERIOD.match(code)
    return bool(m) and ((m.group(2) is None) == (spec.frequency == "year"))


def _read_jsonstat(data: bytes, name: str, spec: TableSpec, source: Provenance, content: str | None,
                   classification: dt.date | None, table: str | None, updated: str | None) -> _Read | list[Problem]:
    try:
        dataset = parse_dataset(loads(data))
    except (JsonStatError, UnicodeDecodeError) as exc:
        return [Problem(f"not a JSON-stat 2.0 dataset: {exc}", file=name, code="refdata.bad_file")]
    variables = [Variable(code=d.id, text=d.label, values=d.codes, value_texts=tuple(d.label_of(c) for c in d.codes),
                          time=d.id in dataset.roles.get("time", ())) for d in dataset.dimensions]
    resolved, problems = resolve(variables, spec, roles=dataset.roles, content=content, file=name)
    if resolved is None:
        return problems
    division = classification or resolved.classification
    source = dataclasses.replace(
        source, table=table or dataset.table_id or source.table, updated=updated or dataset.updated,
        publisher=dataset.source, label=dataset.label, content=resolved.content_code,
        content_label=resolved.content_label, area_variable=resolved.area.code, classification=division)
    fixed = dict(resolved.fixed)
    cells: dict[tuple[str, str], Cell] = {}
    available = {c for c in resolved.time.values if _is_period_code(spec, c)}
    for value in resolved.areas.values():
        for period in available:
            cell = dataset.cell({resolved.area.code: value, resolved.time.code: period,
                                 resolved.content.code: resolved.content_code, **fixed})
            if cell is not None:
                cells[(value, period)] = Cell(cell[0], cell[1], source)
    return dict(resolved.areas), available, cells, division, []


def _shown(cell: Cell) -> str:
    return str(cell.value) if cell.value is not None else repr(cell.status)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _figure(text: str) -> Decimal | None:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if not _NUMBER.match(cleaned):
        return None
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        return None


def _area(text: str, names: Mapping[str, str]) -> str | None:
    """The municipality code of an area cell: 'KU020 Akaa', '020 Akaa', 'KU020', '020', or a member's name."""
    text = text.strip()
    first = text.split(maxsplit=1)[0] if text else ""
    code = municipality_code(first)
    if code is not None:
        return code
    folded = text.casefold()
    for c, n in names.items():
        if n and n.casefold() == folded:
            return c
    return None


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """The CSV rows with their line numbers, the delimiter the one the first lines use most."""
    sample = [ln for ln in text.splitlines() if ln.strip()][:20]
    delimiter = max((",", ";", "\t"), key=lambda d: sum(_unquoted_count(ln, d) for ln in sample))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append((reader.line_num, [c.strip() for c in row]))
    return rows


def _unquoted_count(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def _read_csv(data: bytes, name: str, spec: TableSpec, source: Provenance, content: str | None,
              classification: dt.date | None, names: Mapping[str, str]) -> _Read | list[Problem]:
    numbered = _rows(_decode(data))
    # the header: the first row with two or more filled cells; single-cell rows before it are titles
    title = ""
    header_at = None
    for index, (_line, row) in enumerate(numbered):
        filled = [c for c in row if c]
        if len(filled) >= 2:
            header_at = index
            break
        if filled and not title:
            title = filled[0]
    if header_at is None:
        return [Problem("not a PxWeb CSV export: no header row", file=name, code="refdata.bad_file")]
    header = numbered[header_at][1]
    body = [(line, row) for line, row in numbered[header_at + 1:] if any(row)]
    found_table = _TITLE_TABLE.match(title)
    if found_table and source.table == spec.table_id:
        source = dataclasses.replace(source, table=found_table.group(1))
    source = dataclasses.replace(source, format="csv", label=title)
    want = content or spec.content
    labels = {label.casefold() for label in spec.content_labels}
    if content is not None:
        labels.add(content.casefold())

    def content_ok(text: str) -> bool:
        t = text.strip()
        token = t.split(maxsplit=1)[0] if t else ""
        return (content_matches(token, want) or t.casefold() in labels
                or bool(re.search(r"\((?:[\w]+-)?" + re.escape(want.rsplit("-", 1)[-1]) + r"\)$", t, re.I)))

    problems: list[Problem] = []
    cells: dict[tuple[str, str], Cell] = {}
    areas: dict[str, str] = {}
    available: set[str] = set()

    def put(area_text: str, period: str, value_text: str, line: int) -> None:
        code = _area(area_text, names)
        if code is None or not _is_period_code(spec, period):
            return  # the whole country, regions, other periods: not asked
        if (code, period) in cells:
            problems.append(Problem(f"{code} {period} is in the file twice", file=name, row=line,
                                    code="refdata.bad_file"))
            return
        areas.setdefault(code, code)
        available.add(period)
        value = _figure(value_text)
        status = "" if value is not None else (value_text.strip() or "(empty)")
        cells[(code, period)] = Cell(value, status, source, where=f"row {line}")

    def assumed(label: str) -> None:
        if label and content is None and labels and not content_ok(label):
            problems.append(Problem(f"the file's content is {label!r}; it is read as {spec.content} "
                                    f"({spec.title})", file=name, code="refdata.content_assumed",
                                    severity=Severity.WARNING))

    time_col = next((i for i, h in enumerate(header) if TIME_NAMES.match(h)), None)
    area_col = 0
    if time_col is not None:  # long: area, period[, content], the figure last
        value_col = len(header) - 1
        content_col = next((i for i, h in enumerate(header) if i not in (time_col, value_col)
                            and CONTENT_NAMES.match(h)), None)
        others = [i for i in range(len(header)) if i not in (time_col, content_col, value_col)]
        if not others or value_col == time_col:
            return [Problem("not a PxWeb CSV export: no column for the area", file=name, code="refdata.bad_file")]
        area_col = others[0]
        named_table = _TABLE_ID.match(header[value_col])
        if named_table and not found_table and source.table == spec.table_id:
            source = dataclasses.replace(source, table=named_table.group(0))  # csv3 heads the figures by table id
        if content_col is None and not named_table:
            assumed(header[value_col])
        chosen = False
        for line, row in body:
            if len(row) < len(header):
                continue
            if content_col is not None:
                if not content_ok(row[content_col]):
                    continue
                chosen = True
            period = row[time_col].split(maxsplit=1)[0] if row[time_col] else ""
            put(row[area_col], period, row[value_col], line)
        if content_col is not None and not chosen:
            offered = sorted({row[content_col] for _, row in body if len(row) > content_col})
            return [Problem(f"the file has no content {want!r}: it has {'; '.join(offered[:10])}", file=name,
                            code="refdata.content_missing")]
    else:  # wide: the area first, then a column per period (and content): "2023 Väestö 31.12."
        columns: list[tuple[int, str, str]] = []
        for i, head in enumerate(header[1:], start=1):
            m = _HEAD_PERIOD.search(head)
            if m:
                label = " ".join(part for part in (head[:m.start()].strip(), head[m.end():].strip()) if part)
                columns.append((i, m.group(1), label))
        if not columns:
            return [Problem("not a PxWeb CSV export: no column for a period (such as 2023 or 2023M07)", file=name,
                            code="refdata.bad_file")]
        contents = {label for _, _, label in columns}
        if len(contents) > 1:
            keep = {c for c in contents if content_ok(c)}
            if len(keep) != 1:
                return [Problem(f"the file has several contents ({'; '.join(sorted(contents))}) and not one of "
                                f"them is {want!r}: give the content's label", file=name,
                                code="refdata.content_missing")]
            columns = [col for col in columns if col[2] in keep]
        else:
            assumed(next(iter(contents)))
        for line, row in body:
            for i, period, _label in columns:
                if i < len(row):
                    put(row[0], period, row[i], line)
    area_variable = header[area_col]
    division = classification or division_date(Variable(code=area_variable, text=area_variable, values=()))
    source = dataclasses.replace(source, area_variable=area_variable, classification=division, content=want)
    cells = {k: c._replace(source=source) for k, c in cells.items()}
    if not cells:
        problems.append(Problem("the file has no figure of a municipality", file=name, code="refdata.bad_file"))
    return areas, available, cells, division, problems
