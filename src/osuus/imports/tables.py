"""Read a CSV or XLSX file row by row, and check its cells.

`read_rows` streams a file as `(row number, {column: text})`: the header row
gives the column names (stripped, lower case), every cell is text (stripped),
and the row number is the file's own line (CSV) or row (XLSX) number, the
header being row 1. Fully empty rows are skipped. What makes the file
unreadable (not UTF-8, an unknown extension, a damaged workbook, a missing
required column) is reported as a problem, never raised.

CSV: UTF-8 with or without a byte order mark; the delimiter is `;`, `,` or a
tab, whichever the header line uses most (outside quotes); fields may be quoted
("…") and then hold delimiters, quotes ("") and line breaks. A record that
spans lines is numbered by its first line.

XLSX: the first worksheet, read with openpyxl in read-only mode and with the
cached values of formulas (`data_only`). Cells become text without passing
through a float where it can be helped: integers as `str(int)`, dates as ISO
`YYYY-MM-DD`. A cell Excel stores as a non-integer number reaches us as a
Python float (the file itself holds only the shortest decimal text of a
binary double); `Decimal(repr(value))` recovers exactly that shortest text
(`0.1`, not `0.1000000000000000055…`), which is the number the user typed.
This is the one place a float is touched, and it never takes part in arithmetic.

`RowCheck` is the parsers' toolkit for one row: text, decimal, integer and date
cells, each check reporting a `Problem` and marking the row bad.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from osuus.agreement.checks import COUNT_LIMIT, FIRST_YEAR, LAST_YEAR
from osuus.imports import problem_total, row_problem
from osuus.problems import Problem
from osuus.privacy import masked, personal_codes_in

#: (row number in the file, {column name: cell text})
RowData = tuple[int, dict[str, str]]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (";", ",", "\t")

def file_label(path: str | Path) -> str:
    """How problems name a file: its name, without the directories."""
    return Path(path).name


def file_name_problem(path: str | Path, file: str | None = None) -> Problem | None:
    """A file whose name holds a personal identity code is not read: the ledger records the
    names of the files it imports (and its audit log, which cannot be cleaned afterwards)."""
    codes = personal_codes_in(Path(path).name)
    if not codes:
        return None
    return row_problem(file if file is not None else file_label(path), None, "", "",
                       f"the file name holds a personal identity code ({masked(codes[0])}): rename the file; osuus "
                       "keeps no personal data, and the ledger records the names of the files it imports",
                       "privacy.personal-code")


def read_rows(path: str | Path, problems: list[Problem], *, required: Iterable[str] = (),
              optional: Iterable[str] = (), file: str | None = None) -> Iterator[RowData]:
    """Stream the data rows of a CSV or XLSX file; report unreadable input to `problems`.

    `required` columns must all be in the header (else every missing one is
    reported and no row is read). When `required` or `optional` is given, a
    header column outside both is reported as unknown (a misspelt optional
    column must not silently lose data), and so is a duplicated column name.
    Cells in columns without a header name appear as `#N` (N = column number)
    when they are not empty; `RowCheck.screen` refuses them.
    """
    label = file if file is not None else file_label(path)
    named = file_name_problem(path, label)
    if named is not None:
        problems.append(named)
        return
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        raw = _csv_rows(Path(path), label, problems)
    elif suffix in XLSX_SUFFIXES:
        raw = _xlsx_rows(Path(path), label, problems)
    elif suffix == ".xls":
        problems.append(row_problem(label, None, "", "",
                                   "the old Excel format (.xls) is not read: save the file as .xlsx or CSV UTF-8"))
        return
    else:
        problems.append(row_problem(label, None, "", "",
                                   f"unknown file type {suffix or '(none)'!r}: expected .csv or .xlsx"))
        return
    before = problem_total(problems)
    try:
        yield from _with_header(raw, label, problems, tuple(required), tuple(optional), before)
    finally:
        raw.close()  # a workbook is closed even when the reader stops early


def _with_header(raw: Iterator[tuple[int, list[str]]], label: str, problems: list[Problem],
                 required: tuple[str, ...], optional: tuple[str, ...], before: int) -> Iterator[RowData]:
    header: list[str] | None = None
    for number, cells in raw:
        cells = list(map(str.strip, cells))
        if header is None:
            if not any(cells):
                continue  # blank lines before the header
            header = [c.lower() for c in cells]
            if header[0].startswith("\ufeff"):
                header[0] = header[0].lstrip("\ufeff")
            if not _header_ok(header, number, label, problems, required, optional):
                return
            width, all_named = len(header), all(header)
            continue
        if not any(cells):
            continue
        if width == len(cells) and all_named:  # the usual row: one zip
            yield number, dict(zip(header, cells))
            continue
        row: dict[str, str] = {}
        for index, name in enumerate(header):
            if name:
                row[name] = cells[index] if index < len(cells) else ""
        for index in range(len(header), len(cells)):
            if cells[index]:
                row[f"#{index + 1}"] = cells[index]
        for index, name in enumerate(header):
            if not name and index < len(cells) and cells[index]:
                row[f"#{index + 1}"] = cells[index]
        yield number, row
    if header is None and problem_total(problems) == before:  # empty, not unreadable
        problems.append(row_problem(label, None, "", "", "the file is empty: expected a header row and data rows"))


def _header_ok(header: list[str], number: int, label: str, problems: list[Problem],
               required: tuple[str, ...], optional: tuple[str, ...]) -> bool:
    ok = True
    known = set(required) | set(optional)
    seen: set[str] = set()
    for name in header:
        if not name:
            continue
        if name in seen:
            problems.append(row_problem(label, number, name, "", "the column appears twice in the header"))
            ok = False
        seen.add(name)
        if known and name not in known:
            problems.append(row_problem(label, number, name, "",
                                       f"unknown column: expected {', '.join(required + optional)}"))
    missing = [name for name in required if name not in seen]
    for name in missing:
        problems.append(row_problem(label, number, name, "", "required column missing from the header"))
    return ok and not missing


# --- CSV -----------------------------------------------------------------------------------------

def sniff_delimiter(line: str) -> str:
    """The delimiter the header line uses most, outside quotes (`;` wins a tie, then tab)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals
    return best if counts[best] else ","


class _NotUtf8(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def _utf8_lines(handle: Iterable[bytes]) -> Iterator[str]:
    """Decode line by line, so that a bad byte is reported on its own line (a UTF-8 line ends at b"\\n")."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotUtf8(number) from None


def _csv_rows(path: Path, label: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    line_num = 0
    try:
        with path.open("rb") as handle:
            lines = _utf8_lines(handle)
            first = next(lines, None)
            if first is None:
                return
            reader = csv.reader(itertools.chain([first], lines), delimiter=sniff_delimiter(first),
                                quotechar='"', doublequote=True, strict=False)
            for cells in reader:
                start = line_num + 1
                line_num = reader.line_num
                yield start, cells
    except _NotUtf8 as exc:
        problems.append(row_problem(label, exc.line, "", "",
                                   "the file is not UTF-8 text: save it as 'CSV UTF-8' (Excel) or convert it to UTF-8"))
    except csv.Error as exc:
        problems.append(row_problem(label, line_num + 1, "", "", f"cannot read the CSV: {exc}"))
    except OSError as exc:
        problems.append(row_problem(label, None, "", "", f"cannot read the file: {exc.strerror or exc}"))


# --- XLSX ----------------------------------------------------------------------------------------

def cell_text(value: object) -> str:
    """An openpyxl cell value as text, without passing through a float where possible."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # The workbook stores the shortest decimal text of the double; repr gives exactly
        # that text back, so Decimal(repr(x)) is the number typed (see the module docstring).
        number = Decimal(repr(value))
        if not number.is_finite():
            return repr(value)
        if number == number.to_integral_value():
            return str(int(number))
        return format(number, "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _xlsx_rows(path: Path, label: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        problems.append(row_problem(label, None, "", "", f"cannot read the file: {exc.strerror or exc}"))
        return
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        problems.append(row_problem(label, None, "", "", f"cannot read as an Excel workbook (.xlsx): {exc}"))
        return
    number = 0
    try:
        if not workbook.worksheets:
            problems.append(row_problem(label, None, "", "", "the workbook has no worksheet"))
            return
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read every row there is
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(v) for v in values]
    except Exception as exc:
        problems.append(row_problem(label, number + 1, "", "", f"cannot read the worksheet: {exc}"))
    finally:
        workbook.close()


# --- cells ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"([+-]?)(\d*)(?:[.,](\d*))?")
_INTEGER = re.compile(r"[+-]?\d+")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FI_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")

DATE_HINT = "expected a date as YYYY-MM-DD or D.M.YYYY"


_PLAIN: dict[tuple[int, int], re.Pattern] = {}


def plain_number(places: int, digits: int) -> re.Pattern:
    """A plain non-negative number with at most `places` decimals and `digits` digits before the
    point: by far the most common cell, taken without the general checks below."""
    pattern = _PLAIN.get((places, digits))
    if pattern is None:
        whole = rf"[0-9]{{1,{digits}}}"
        pattern = _PLAIN[places, digits] = re.compile(rf"{whole}(?:\.[0-9]{{1,{places}}})?" if places else whole)
    return pattern


def digits_below(limit: Decimal) -> int:
    """How many digits a whole number below `limit` (a power of ten) has at most."""
    return limit.adjusted()


def shown_limit(limit: Decimal) -> str:
    return f"{int(limit):,}".replace(",", " ")


def parse_decimal(text: str) -> Decimal | None:
    """`1,5`, `1.5`, `1 234,50`, `-3`: a decimal, or None. No exponents, no thousands points."""
    cleaned = text.translate(_SPACES)
    match = _NUMBER.fullmatch(cleaned)
    if not match or not (match.group(2) or match.group(3)):
        return None
    sign, whole, fraction = match.group(1), match.group(2) or "0", match.group(3) or ""
    return Decimal(f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}")


def parse_date(text: str) -> dt.date | None:
    """`2021-03-04` or `4.3.2021`, or None."""
    match = ISO_DATE.fullmatch(text)
    try:
        if match:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        match = _FI_DATE.fullmatch(text)
        if match:
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None
    return None


def decimal_places(value: Decimal) -> int:
    """Decimals that matter: `1,50` has one (counted exactly, however many digits the number has)."""
    digits, exponent = value.as_tuple().digits, int(value.as_tuple().exponent)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(0, -exponent)


def integer_digits(value: Decimal) -> int:
    """Digits before the decimal point (without converting a huge number to an int)."""
    return value.adjusted() + 1 if value and abs(value) >= 1 else 0


class RowCheck:
    """The cells of one row, read with checks; `ok` stays True while no problem is found."""

    def __init__(self, file: str, row: int, cells: dict[str, str], problems: list[Problem]):
        self.file = file
        self.row = row
        self.cells = cells
        self.problems = problems
        self.ok = True
        self._screened: set[str] = set()

    @property
    def source(self) -> str:
        return f"{self.file}:{self.row}"

    def problem(self, column: str, reason: str, value: str | None = None) -> None:
        self.ok = False
        shown = self.cells.get(column, "") if value is None else value
        self.problems.append(row_problem(self.file, self.row, column, shown, reason))

    @staticmethod
    def looks_clean(cells: dict[str, str]) -> bool:
        """No personal identity code in any cell and no value under a nameless column:
        what `screen` would find nothing wrong with, tested in one look at the whole row."""
        return not personal_codes_in("\x1f".join(cells.values())) and \
            not (cells and next(reversed(cells)).startswith("#"))  # unnamed cells come last

    def screen(self) -> None:
        """Refuse personal identity codes in any cell, and values under no column name."""
        if self.looks_clean(self.cells):  # a row without a candidate needs no cell-by-cell check
            return
        for column, text in self.cells.items():
            if personal_codes_in(text):
                self._screened.add(column)
                self.problem(column, "holds a personal identity code (henkilötunnus): refused; "
                                     "osuus takes pseudonymous customer ids only")
            elif column.startswith("#"):
                self._screened.add(column)
                self.problem(column, f"a value in column {column[1:]}, which has no name in the header")

    def raw(self, column: str) -> str | None:
        """The cell's text, or None when it was refused by `screen` (not checked again)."""
        if column in self._screened:
            return None
        return self.cells.get(column, "")

    def present(self, column: str, *, required: bool, missing: str) -> str | None:
        """The cell's text if there is one to check; None (with a problem if `required`) if not."""
        text = self.raw(column)
        if not text:
            if text is not None and required:
                self.problem(column, missing)
            return None
        return text

    def text(self, column: str, *, required: bool = False, max_length: int | None = None,
             what: str = "a value") -> str | None:
        if self.raw(column) == "" and not required:
            return ""
        text = self.present(column, required=required, missing=f"missing: expected {what}")
        if text is None:
            return None
        if max_length is not None and len(text) > max_length:
            self.problem(column, f"too long: {len(text)} characters, at most {max_length} allowed")
            return None
        return text

    def decimal(self, column: str, *, what: str, places: int, required: bool = False,
                limit: Decimal = COUNT_LIMIT) -> Decimal | None:
        """A number that is not negative, below `limit` (a power of ten), with at most `places`
        decimals (None when empty or bad)."""
        text = self.present(column, required=required, missing=f"missing: expected {what}")
        if text is None:
            return None
        if plain_number(places, digits_below(limit)).fullmatch(text):
            return Decimal(text)
        value = parse_decimal(text)
        if value is None:
            self.problem(column, f"expected {what}: a number such as 12,5 or 12.5")
            return None
        if value < 0:
            self.problem(column, f"expected {what} that is not negative")
            return None
        if decimal_places(value) > places:
            self.problem(column, f"expected {what} with at most {places} decimals")
            return None
        if value >= limit:
            self.problem(column, f"expected {what} below {shown_limit(limit)} (what the ledger can bill and sum)")
            return None
        return value

    def integer(self, column: str, *, what: str, minimum: int, maximum: int,
                required: bool = False) -> int | None:
        text = self.present(column, required=required, missing=f"missing: expected {what}")
        if text is None:
            return None
        if not _INTEGER.fullmatch(text) or len(text) > 20 or not minimum <= int(text) <= maximum:
            self.problem(column, f"expected {what}: a whole number from {minimum} to {maximum}")
            return None
        return int(text)

    def date(self, column: str, *, required: bool = True) -> dt.date | None:
        text = self.present(column, required=required, missing=f"missing: {DATE_HINT}")
        if text is None:
            return None
        value = parse_date(text)
        if value is None:
            self.problem(column, DATE_HINT)
        elif not FIRST_YEAR <= value.year <= LAST_YEAR:
            self.problem(column, f"expected a date of the years {FIRST_YEAR}–{LAST_YEAR}")
            return None
        return value


def municipality_text(text: str) -> str:
    """A code as a spreadsheet may have shortened it (`20` for `020`) given back its zeros."""
    text = text.strip()
    return text.zfill(3) if text.isdigit() and len(text) < 3 else text
