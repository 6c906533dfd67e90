"""Where each key of a TOML file is: a map from key paths to line numbers.

`tomllib` parses exactly but forgets positions. Errors must name a line, so
this scanner walks the text once, tracking table headers and `key = value`
lines, and records the line of every key path it sees. It also notices keys
defined twice, which tomllib reports only as "Cannot overwrite a value".
Values that span lines (arrays, multi-line strings) are skipped over; keys
inside inline tables share their parent's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_BARE = re.compile(r"[A-Za-z0-9_-]+")

Path = tuple[str | int, ...]


@dataclass
class LineIndex:
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)  # (path, line, first line)

    def path_at(self, line: int) -> Path:
        """The longest key path written on `line`; () for a line without a key (a comment)."""
        found: Path = ()
        for path, at in self.lines.items():
            if at == line and len(path) > len(found):
                found = path
        return found

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def _parse_key(text: str, pos: int) -> tuple[list[str], int]:
    """Parse a possibly dotted key starting at `pos`; return parts and the end position."""
    parts: list[str] = []
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n:
            raise ValueError("key expected")
        ch = text[pos]
        if ch == '"':
            end = pos + 1
            buf = []
            while end < n and text[end] != '"':
                if text[end] == "\\" and end + 1 < n:
                    esc = text[end + 1]
                    buf.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(esc, esc))
                    end += 2
                    continue
                buf.append(text[end])
                end += 1
            if end >= n:
                raise ValueError("unterminated key")
            parts.append("".join(buf))
            pos = end + 1
        elif ch == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                raise ValueError("unterminated key")
            parts.append(text[pos + 1 : end])
            pos = end + 1
        else:
            m = _BARE.match(text, pos)
            if not m:
                raise ValueError("key expected")
            parts.append(m.group(0))
            pos = m.end()
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos < n and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


def _balance(text: str) -> int:
    """Net count of open brackets/braces in `text`, ignoring strings and comments."""
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            break
        if ch in "\"'":
            triple = text[i : i + 3] == ch * 3
            if triple:
                end = text.find(ch * 3, i + 3)
                if end < 0:
                    return depth + 1000  # multi-line string open
                i = end + 3
                continue
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if (ch == '"' and text[j] == "\\") else 1
            i = j + 1
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        i += 1
    return depth


def index_lines(source: str) -> LineIndex:
    index = LineIndex()
    table: Path = ()
    array_counts: dict[Path, int] = {}
    seen_tables: dict[Path, int] = {}
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        lineno = i + 1
        raw = lines[i]
        stripped = raw.strip()
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        try:
            if stripped.startswith("[["):
                parts, end = _parse_key(stripped, 2)
                base = tuple(parts)
                array_counts[base] = array_counts.get(base, -1) + 1
                table = base + (array_counts[base],)
                index.lines.setdefault(base, lineno)
                index.lines[table] = lineno
                continue
            if stripped.startswith("["):
                parts, end = _parse_key(stripped, 1)
                table = tuple(parts)
                if table in seen_tables:
                    index.duplicates.append((table, lineno, seen_tables[table]))
                seen_tables[table] = lineno
                index.lines.setdefault(table, lineno)
                continue
            parts, end = _parse_key(stripped, 0)
        except ValueError:
            continue
        if end >= len(stripped) or stripped[end] != "=":
            continue
        path = table + tuple(parts)
        if path in index.lines and path not in seen_tables:
            index.duplicates.append((path, lineno, index.lines[path]))
        else:
            index.lines[path] = lineno
        # skip continuation lines of a multi-line value
        depth = _balance(stripped[end + 1 :])
        while depth > 0 and i < len(lines):
            nxt = lines[i]
            i += 1
            if depth >= 1000:
                if '"""' in nxt or "'''" in nxt:
                    depth -= 1000
                continue
            depth += _balance(nxt)
    return index


class SourceLines:
    """The line index of a text, made when first asked for: a file read without a
    problem never needs one, and scanning it costs more than parsing it."""

    def __init__(self, source: str):
        self._source = source
        self._index: LineIndex | None = None

    @property
    def index(self) -> LineIndex:
        if self._index is None:
            self._index = index_lines(self._source)
        return self._index

    @property
    def duplicates(self) -> list[tuple[Path, int, int]]:
        return self.index.duplicates

    def line_of(self, path: Path) -> int | None:
        return self.index.line_of(path)


_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_- \t")


def beyond_limits(source: str, depth: int, digits: int) -> tuple[int, str] | None:
    """The first line where the text goes beyond what osuus reads, and how: `"depth"` (arrays
    and tables nested more than `depth` deep), `"dots"` (a dotted key of more than `depth`
    parts) or `"digits"` (a number of more than `digits` digits); None when it does not.

    One pass over the text, outside strings and comments. It runs only when parsing has
    failed or found data nested too deep (tomllib forgets where)."""
    line, nesting, dots, run = 1, 0, 0, 0
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\n":
            line += 1
            dots = run = 0
            i += 1
            continue
        if ch.isdigit():
            run += 1
            if run > digits:
                return line, "digits"
            i += 1
            continue
        if ch != "_":
            run = 0
        if ch == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "\"'":
            quote = source[i : i + 3] if source[i : i + 3] == ch * 3 else ch
            j = i + len(quote)
            while j < n and not source.startswith(quote, j):
                if source[j] == "\\" and ch == '"':
                    j += 1
                elif source[j] == "\n":
                    if len(quote) == 1:
                        break  # an unterminated string: tomllib says so
                    line += 1
                j += 1
            i = j + len(quote)
            continue  # a quoted key part keeps a dotted key going
        if ch in "[{":
            nesting += 1
            if nesting > depth:
                return line, "depth"
            dots = 0
        elif ch in "]}":
            nesting = max(0, nesting - 1)
            dots = 0
        elif ch == ".":
            dots += 1
            if dots >= depth:
                return line, "dots"
        elif ch not in _KEY_CHARS:
            dots = 0
        i += 1
    return None
