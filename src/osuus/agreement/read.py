"""Read an agreement file (TOML) into an `Agreement`: the structure, nothing more.

`read_agreement(source, file)` returns `(agreement, problems)`: the model, or
None with every structural problem at once (TOML syntax, a key defined twice,
a field of the wrong type or unknown, a missing field the model needs, a name
that refers to nothing, a personal identity code anywhere). Each problem names
the file, the line and the key path, and says what was expected.

What reading does not do is judge: whether identifiers are valid, rates sensible,
shares complete, the VAT treatment acceptable. Those are the named checks of
`osuus.agreement.checks`, run after reading. Keeping them apart means that an
agreement stored once can always be read again: a check added in a later
release (or a bank registry that changed) never makes a closed year unreadable.
The format is documented in docs/agreement-format.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from decimal import Decimal
from typing import Any, Callable

from osuus.agreement.model import (
    ADVANCES_WITHOUT_AGREEMENT,
    CREDIT_SETTLEMENT,
    UNITS,
    Agreement,
    Billing,
    Component,
    CreditSettlement,
    CountKey,
    DerivedKey,
    EventPricing,
    FixedKey,
    Key,
    MixKey,
    Municipality,
    Overhead,
    Parameter,
    Party,
    PoolComponent,
    Reduction,
    Sourced,
    Table,
    Text,
    Travel,
    UnitComponent,
    Vat,
    WithoutAgreement,
    frozen_map,
)
from osuus.agreement.toml_lines import SourceLines
from osuus.money import ROUNDING_MODES, D, Rounding, parse_rate
from osuus.problems import Problem

KEY_KINDS = ("count", "derived", "mix", "fixed")
COMPONENT_KINDS = ("pool", "unit")
COUNT_ROUNDINGS = ("none", "ceil", "floor", "half_up", "half_even")
#: The Finnish words an agreement may use for a unit, and the unit each one means.
UNIT_WORDS = {
    "tunti": "hour", "h": "hour", "käynti": "visit", "kartoitus": "assessment", "asiakas": "customer",
    "asiakas/vuosi": "customer_year", "ryhmä": "group", "kpl": "piece", "pv": "day", "päivä": "day",
    "vrk": "day", "km": "km", "kk": "month", "kuukausi": "month", "vuosi": "year", "erä": "lot",
}
_PARTY_TEXT = ("street", "postcode", "city", "country", "einvoice_address", "operator", "vat_number", "contact",
               "email", "buyer_reference", "legal_name", "accounting_cost", "iban", "bic", "bank", "source")


class _Reader:
    """Walks the parsed TOML and turns type mistakes into problems with lines."""

    def __init__(self, file: str, index: SourceLines):
        self.file = file
        self.index = index
        self.problems: list[Problem] = []

    def line(self, path: tuple) -> int | None:
        return self.index.line_of(path)

    def problem(self, path: tuple, message: str, code: str = "agreement.structure") -> None:
        self.problems.append(Problem(message, self.file, self.line(path), ".".join(str(p) for p in path), code=code))

    def table(self, data: Any, path: tuple, *, required: bool = True) -> dict:
        if data is None:
            if required:
                self.problem(path, f"missing table [{'.'.join(map(str, path))}]", "agreement.missing")
            return {}
        if not isinstance(data, dict):
            self.problem(path, f"expected a table, found {_kind(data)}", "agreement.type")
            return {}
        return data

    def fields(self, data: dict, path: tuple, allowed: set[str]) -> None:
        for name in data:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problem(path + (name,), f"unknown field '{name}'{hint}; expected one of: "
                             f"{', '.join(sorted(allowed))}", "agreement.unknown-field")

    def text(self, data: dict, path: tuple, name: str, *, required: bool = False, default: str = "") -> str:
        value = data.get(name)
        if value is None:
            if required:
                self.problem(path + (name,), f"missing field '{name}' (text)", "agreement.missing")
            return default
        if not isinstance(value, str):
            self.problem(path + (name,), f"expected text, found {_kind(value)}", "agreement.type")
            return default
        return value

    def label(self, data: dict, path: tuple, name: str, default: str) -> Text:
        """`label` with its optional `label_sv` and `label_en`."""
        return Text(self.text(data, path, name, default=default), self.text(data, path, f"{name}_sv"),
                    self.text(data, path, f"{name}_en"))

    def number(self, value: Any, path: tuple, *, what: str = "a number", allow_negative: bool = False,
               parse: Callable[[Any], Decimal] = D) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            self.problem(path, f"expected {what}, found {_kind(value)}", "agreement.type")
            return None
        try:
            result = parse(value)
        except (ValueError, TypeError, ArithmeticError):
            self.problem(path, f"expected {what}, found {value!r}", "agreement.type")
            return None
        if not result.is_finite():
            self.problem(path, f"expected {what}, found {value!r}", "agreement.type")
            return None
        if result < 0 and not allow_negative:
            self.problem(path, f"expected {what} that is not negative, found {value}", "agreement.type")
            return None
        return result

    def rate(self, value: Any, path: tuple) -> Decimal | None:
        return self.number(value, path, what='a rate ("17 %" or 0.17)', parse=parse_rate)

    def sourced(self, data: dict, path: tuple, name: str, *, required: bool = True,
                default_reference: str = "") -> Sourced | None:
        """A number written bare (`cost = 100`) or with its source (`{ value, reference }`)."""
        raw = data.get(name)
        if raw is None:
            if required:
                self.problem(path + (name,), f"missing field '{name}' (a number)", "agreement.missing")
            return None
        reference = default_reference
        vpath = path + (name,)
        if isinstance(raw, dict):
            self.fields(raw, vpath, {"value", "reference", "note"})
            reference = self.text(raw, vpath, "reference", default=default_reference)
            if "value" not in raw:
                self.problem(vpath, "missing 'value' (a number)", "agreement.missing")
                return None
            raw = raw["value"]
            vpath = vpath + ("value",)
        value = self.number(raw, vpath, what="an amount in euros")
        if value is None:
            return None
        return Sourced(value, reference, ".".join(map(str, path + (name,))), self.line(vpath))

    def name_list(self, data: dict, path: tuple, name: str) -> tuple[str, ...]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(path + (name,), "expected a list of names, e.g. [\"a\", \"b\"]", "agreement.type")
            return ()
        return tuple(value)

    def unknown(self, path: tuple, what: str, name: str, known) -> None:
        self.problem(path, f"unknown {what} '{name}'; expected one of: {', '.join(sorted(known)) or '(none)'}",
                     "agreement.reference")


def _kind(value: Any) -> str:
    return {
        bool: "true/false", int: "an integer", Decimal: "a number", str: "text", list: "a list",
        dict: "a table", dt.date: "a date", dt.datetime: "a date and time",
    }.get(type(value), type(value).__name__)


class _Municipalities:
    """The agreement's municipalities, found by the name the file writes or by code."""

    def __init__(self, items: list[Municipality]):
        self.items = items
        self.by_name = {m.name: m.code for m in items}
        self.codes = {m.code for m in items}

    def code(self, text: str) -> str | None:
        if text in self.by_name:
            return self.by_name[text]
        return text if text in self.codes else None

    def names(self) -> list[str]:
        return sorted(self.by_name)


#: How deep arrays, tables and dotted keys may nest (an agreement needs five levels); deeper is
#: refused before anything recurses into it.
NESTING_LIMIT = 32


class _TooBig(Exception):
    """Text tomllib cannot parse without a traceback: nested too deep, or an integer too long."""


def _loads(source: str) -> dict:
    try:
        return tomllib.loads(source, parse_float=Decimal)
    except tomllib.TOMLDecodeError:
        raise
    except (ValueError, RecursionError):  # an integer of more digits than Python converts; nesting
        raise _TooBig() from None


def read_agreement(source: str, file: str = "<agreement>", *,
                   partial: bool = False) -> tuple[Agreement | None, list[Problem]]:
    """The model of an agreement file's text, or None and every structural problem.

    With `partial`, a file with problems still gives the model of what could be read
    (`complete` False), so that the checks can report their problems in the same run."""
    index = SourceLines(source)
    duplicates: list[Problem] = []
    try:
        data = _loads(source)
    except _TooBig:
        return None, [_too_big(source, file)]
    except tomllib.TOMLDecodeError as exc:  # a key defined twice is one such error: find them all
        duplicates = [
            Problem(f"'{path[-1]}' is defined twice (first at line {first}); each name may appear once",
                    file, line, ".".join(map(str, path)), code="agreement.duplicate")
            for path, line, first in index.duplicates
        ]
        problems = list(duplicates)
        data = None
        if duplicates:  # tomllib stops at the first repeated key: parse again without them
            try:
                data = _without_duplicates(source, index)
            except _TooBig:
                problems.append(_too_big(source, file))
            except tomllib.TOMLDecodeError as again:
                problems.append(_syntax_problem(again, file))
        else:
            problems.append(_syntax_problem(exc, file))
        if data is None:
            return None, sorted(problems, key=lambda p: p.line or 0)
    deepest = _deepest(data)
    if len(deepest) > NESTING_LIMIT:
        return None, sorted(duplicates + [_too_big(source, file, index.line_of(deepest))], key=lambda p: p.line or 0)
    reader = _Reader(file, index)
    reader.problems.extend(duplicates)
    _refuse_personal_codes(data, source, reader)
    agreement = _build(data, reader, file)
    if reader.problems:
        return agreement if partial else None, sorted(reader.problems, key=lambda p: p.line or 0)
    return agreement, []


def _deepest(data: Any) -> tuple:
    """The path of the most deeply nested value of parsed data (found without recursion; the
    first one deeper than NESTING_LIMIT will do)."""
    deepest: tuple = ()
    todo: list[tuple[tuple, Any]] = [((), data)]
    while todo:
        path, value = todo.pop()
        if len(path) > len(deepest):
            deepest = path
            if len(path) > NESTING_LIMIT:
                break
        if isinstance(value, dict):
            todo.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((path + (i,), v) for i, v in enumerate(value))
    return deepest


def _too_big(source: str, file: str, line: int | None = None) -> Problem:
    import sys

    from osuus.agreement.toml_lines import beyond_limits

    digits = sys.get_int_max_str_digits() or 4300
    found = beyond_limits(source, NESTING_LIMIT, digits)
    line, what = found if found is not None else (line, "depth")
    message = {
        "depth": f"arrays or tables nested more than {NESTING_LIMIT} deep: osuus reads at most {NESTING_LIMIT} levels "
                 "(an agreement needs a few)",
        "dots": f"a dotted key of more than {NESTING_LIMIT} parts: osuus reads at most {NESTING_LIMIT} "
                "(an agreement needs a few)",
        "digits": f"a number of more than {digits} digits: expected an amount or a count (amounts are below "
                  "1 000 000 000 000 €, counts below 1 000 000 000)",
    }[what]
    return Problem(message, file, line, code="agreement.too-big")


def _syntax_problem(exc: tomllib.TOMLDecodeError, file: str) -> Problem:
    message = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    text = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
    if match:
        text += f" (column {match.group(2)})"
    return Problem(f"TOML syntax error: {text}", file, int(match.group(1)) if match else None, code="agreement.syntax")


def _without_duplicates(source: str, index: SourceLines) -> dict:
    """Parse again with the repeated key lines commented out (line numbers stay)."""
    lines = source.splitlines()
    for path, line, _first in index.duplicates:
        if not lines[line - 1].lstrip().startswith("["):
            lines[line - 1] = "# " + lines[line - 1]
    return _loads("\n".join(lines))


def _refuse_personal_codes(data: Any, source: str, r: _Reader) -> None:
    """No text of an agreement may hold a personal identity code: not a value, not a key, not a
    comment (the file is stored whole). The lines of the text are searched as written, the
    parsed values too (a string may write a code with escapes)."""
    from osuus.privacy import masked, personal_codes_in

    def refuse(code: str, line: int | None, key: str) -> None:
        if (line, code) not in seen:
            seen.add((line, code))
            r.problems.append(Problem(f"a Finnish personal identity code ({masked(code)}) is not allowed: osuus "
                                      "keeps no personal data; use a pseudonymous id or remove it", r.file, line, key,
                                      code="privacy.personal-code"))

    seen: set[tuple[int | None, str]] = set()
    in_text: set[str] = set()
    for number, text in enumerate(source.splitlines(), start=1):
        for code in personal_codes_in(text):
            in_text.add(code)
            refuse(code, number, ".".join(map(str, r.index.index.path_at(number))))
    todo: list[tuple[tuple, Any]] = [((), data)]
    while todo:
        path, value = todo.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for name, item in items:
            here = path + (name,)
            for text in (name, item):
                if isinstance(text, str):
                    for code in personal_codes_in(text):
                        if code not in in_text:
                            refuse(code, r.line(here), ".".join(map(str, here)))
            if isinstance(item, (dict, list)):
                todo.append((here, item))


# --------------------------------------------------------------------------
# Building the model, section by section
# --------------------------------------------------------------------------

def _build(data: dict, r: _Reader, file: str) -> Agreement:
    r.fields(data, (), {"agreement", "rounding", "parameters", "municipalities", "keys", "components",
                        "reductions", "tables", "billing", "parties"})
    head = r.table(data.get("agreement"), ("agreement",))
    r.fields(head, ("agreement",), {"id", "year", "title", "title_sv", "title_en", "host", "currency", "source",
                                    "reference"})
    agreement_id = r.text(head, ("agreement",), "id", required=True)
    year = head.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        r.problem(("agreement", "year"), f"expected a year such as 2021, found {_kind(year)}" if year is not None
                  else "missing field 'year'", "agreement.type" if year is not None else "agreement.missing")
        year = 0
    host_text = r.text(head, ("agreement",), "host", required=True)
    currency = r.text(head, ("agreement",), "currency", default="EUR")

    shown, invoiced = _rounding(data.get("rounding"), r)
    parameters = _parameters(data.get("parameters", {}), r)
    municipalities = _Municipalities(_municipalities(data.get("municipalities"), r))
    host = municipalities.code(host_text) if host_text else None
    if host_text and municipalities.items and host is None:
        r.problem(("agreement", "host"), f"the host '{host_text}' is not one of the municipalities of the agreement "
                  f"(expected one of: {', '.join(municipalities.names())})", "agreement.reference")
    keys = _keys(data.get("keys"), r, municipalities)
    components = _components(data.get("components"), r, keys, parameters, municipalities, host or "")
    # cross references are checked against every declared id, so that one bad
    # entry is reported once and not again wherever it is named
    declared = _declared(data.get("components"))
    reductions = _reductions(data.get("reductions", []), r, municipalities, declared)
    tables = _tables(data.get("tables"), r, declared, _declared(data.get("keys")), parameters)
    billing = _billing(data.get("billing"), r, components, declared, tables)
    parties = _parties(data.get("parties"), r, municipalities)
    return Agreement(
        id=agreement_id, year=year, title=r.label(head, ("agreement",), "title", agreement_id),
        host=host or "", municipalities=tuple(municipalities.items), keys=frozen_map(keys),
        components=frozen_map(components), tables=tuple(tables), reductions=tuple(reductions),
        parameters=frozen_map(parameters), shown=shown, invoiced=invoiced, currency=currency,
        source=r.text(head, ("agreement",), "source"), reference=r.text(head, ("agreement",), "reference"),
        file=file, billing=billing, parties=frozen_map(parties), lines=r.index,
        complete=not r.problems,
    )


def _declared(section: Any) -> dict[str, None]:
    return dict.fromkeys(section) if isinstance(section, dict) else {}


def _rounding(raw: Any, r: _Reader) -> tuple[Rounding, Rounding]:
    section = r.table(raw, ("rounding",), required=False)
    r.fields(section, ("rounding",), {"shown", "invoiced"})
    defaults = {"shown": Rounding(D(1), "half_up"), "invoiced": Rounding(D("0.01"), "half_up")}
    out = []
    for name in ("shown", "invoiced"):
        path = ("rounding", name)
        item = section.get(name)
        if item is None:
            out.append(defaults[name])
            continue
        item = r.table(item, path)
        r.fields(item, path, {"unit", "mode", "reference"})
        unit = r.number(item.get("unit", defaults[name].unit), path + ("unit",),
                        what='a rounding unit such as "1" or "0.01"')
        mode = item.get("mode", "half_up")
        if mode not in ROUNDING_MODES:
            r.problem(path + ("mode",), f"expected one of {', '.join(ROUNDING_MODES)}, found {mode!r}", "agreement.type")
            mode = "half_up"
        if unit is not None and unit <= 0:
            r.problem(path + ("unit",), "expected a positive rounding unit such as \"1\" or \"0.01\"", "agreement.type")
            unit = None
        out.append(Rounding(unit or defaults[name].unit, mode, r.text(item, path, "reference")))
    return out[0], out[1]


def _parameters(raw: Any, r: _Reader) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for name, item in r.table(raw, ("parameters",), required=False).items():
        path = ("parameters", name)
        item = r.table(item, path)
        r.fields(item, path, {"label", "label_sv", "label_en", "value", "unit", "reference", "note"})
        unit = r.text(item, path, "unit", default="ratio")
        if "value" not in item:
            r.problem(path, "missing field 'value'", "agreement.missing")
            continue
        value = r.rate(item["value"], path + ("value",)) if unit == "ratio" else r.number(item["value"], path + ("value",))
        if value is not None:
            out[name] = Parameter(name, value, r.label(item, path, "label", name), unit,
                                  r.text(item, path, "reference"), r.text(item, path, "note"), r.line(path))
    return out


def _municipalities(raw: Any, r: _Reader) -> list[Municipality]:
    section = r.table(raw, ("municipalities",))
    out: list[Municipality] = []
    codes: dict[str, str] = {}
    for name, item in section.items():
        path = ("municipalities", name)
        item = r.table(item, path)
        r.fields(item, path, {"code", "name_sv", "business_id"})
        if not name.strip():
            r.problem(path, "a municipality needs a name", "agreement.missing")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code.strip():
            r.problem(path + ("code",), f"expected the official three-digit municipality code as text, e.g. \"020\", "
                      f"found {code!r}", "agreement.missing" if code is None else "agreement.type")
            continue
        if code in codes:
            r.problem(path + ("code",), f"duplicated municipality: code {code} is already used by {codes[code]}",
                      "agreement.duplicate")
            continue
        codes[code] = name
        business_id = r.text(item, path, "business_id").strip()  # judged by a check, normalised for documents
        out.append(Municipality(code, name, r.text(item, path, "name_sv"), business_id, r.line(path)))
    if not out and isinstance(raw, dict) and not r.problems:
        r.problem(("municipalities",), "expected at least one municipality", "agreement.missing")
    return out


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_id(r: _Reader, path: tuple, name: str, what: str) -> None:
    if not _ID.match(name):
        r.problem(path, f"expected a {what} id of lower-case letters, digits and '_' (e.g. 'ict'), found {name!r}",
                  "agreement.id")


def _keys(raw: Any, r: _Reader, places: _Municipalities) -> dict[str, Key]:
    section = r.table(raw, ("keys",))
    out: dict[str, Key] = {}
    for name, item in section.items():
        path = ("keys", name)
        _check_id(r, path, name, "key")
        item = r.table(item, path)
        kind = item.get("kind", "count")
        label = r.label(item, path, "label", name)
        reference = r.text(item, path, "reference")
        labels = {"label", "label_sv", "label_en"}
        if kind == "count":
            r.fields(item, path, {"kind", "date", "source", "reference", "note", "values"} | labels)
            values = _municipality_numbers(item.get("values"), path + ("values",), r, places, what="a count")
            missing = sorted(m.name for m in places.items if m.code not in values)
            if isinstance(item.get("values"), dict) and missing and len(values) + len(missing) == len(places.items):
                r.problem(path + ("values",), f"missing value for {', '.join(missing)} in '{label}': every "
                          "municipality needs one", "agreement.missing")
            date = item.get("date")
            if date is not None and not isinstance(date, dt.date):
                r.problem(path + ("date",), f"expected a date such as 2019-12-31, found {_kind(date)}", "agreement.type")
                date = None
            out[name] = CountKey(name, label, frozen_map(values), date, r.text(item, path, "source"), reference,
                                 r.text(item, path, "note"))
        elif kind == "derived":
            r.fields(item, path, {"kind", "from", "rate", "rounding", "reference"} | labels)
            source_key = r.text(item, path, "from", required=True)
            rate = r.rate(item.get("rate", 1), path + ("rate",))
            rounding = item.get("rounding", "none")
            if rounding not in COUNT_ROUNDINGS:
                r.problem(path + ("rounding",), f"expected one of {', '.join(COUNT_ROUNDINGS)}, found {rounding!r}",
                          "agreement.type")
            out[name] = DerivedKey(name, label, source_key, rate or D(0), rounding, reference)
        elif kind == "mix":
            r.fields(item, path, {"kind", "weights", "reference"} | labels)
            weights = []
            for key_name, weight in r.table(item.get("weights"), path + ("weights",)).items():
                w = r.rate(weight, path + ("weights", key_name))
                if w is not None:
                    weights.append((key_name, w))
            out[name] = MixKey(name, label, tuple(weights), reference)
        elif kind == "fixed":
            r.fields(item, path, {"kind", "shares", "reference"} | labels)
            shares = _municipality_numbers(item.get("shares"), path + ("shares",), r, places, what="a share",
                                           rate=True)
            missing = sorted(m.name for m in places.items if m.code not in shares)
            if isinstance(item.get("shares"), dict) and missing and len(shares) + len(missing) == len(places.items):
                r.problem(path + ("shares",), f"missing share for {', '.join(missing)} (write 0 for none)",
                          "agreement.missing")
            out[name] = FixedKey(name, label, frozen_map(shares), reference)
        else:
            r.problem(path + ("kind",), f"expected kind one of {', '.join(KEY_KINDS)}, found {kind!r}", "agreement.type")
    # references between keys
    for name, key in out.items():
        if isinstance(key, DerivedKey) and key.source_key:
            src = out.get(key.source_key)
            if src is None:
                r.unknown(("keys", name, "from"), "key", key.source_key, out)
            elif not isinstance(src, (CountKey, DerivedKey)):
                r.problem(("keys", name, "from"), f"a derived key needs a count key to start from; "
                          f"'{key.source_key}' is a {src.kind} key", "agreement.reference")
        if isinstance(key, MixKey):
            for part, _ in key.weights:
                if part not in out:
                    r.unknown(("keys", name, "weights", part), "key", part, out)
    _check_cycles(out, r)
    return out


def _check_cycles(keys: dict[str, Key], r: _Reader) -> None:
    def deps(key: Key) -> list[str]:
        if isinstance(key, DerivedKey):
            return [key.source_key]
        if isinstance(key, MixKey):
            return [k for k, _ in key.weights]
        return []

    for start in keys:
        seen, todo = set(), list(deps(keys[start]))
        while todo:
            k = todo.pop()
            if k == start:
                r.problem(("keys", start), f"key '{start}' depends on itself", "agreement.reference")
                break
            if k in keys and k not in seen:
                seen.add(k)
                todo.extend(deps(keys[k]))


def _municipality_numbers(raw: Any, path: tuple, r: _Reader, places: _Municipalities, *, what: str,
                          rate: bool = False) -> dict[str, Decimal]:
    """A table of numbers by municipality (name as in [municipalities], or code), keyed by code."""
    section = r.table(raw, path)
    out: dict[str, Decimal] = {}
    for name, value in section.items():
        code = places.code(name)
        if code is None:
            if places.items:
                r.problem(path + (name,), f"unknown municipality '{name}'; expected one of the [municipalities]: "
                          f"{', '.join(places.names())}", "agreement.reference")
            continue
        number = r.rate(value, path + (name,)) if rate else r.number(value, path + (name,), what=what)
        if number is not None:
            out[code] = number
    return out


def _components(raw: Any, r: _Reader, keys: dict[str, Key], parameters: dict[str, Parameter],
                places: _Municipalities, host: str) -> dict[str, Component]:
    section = r.table(raw, ("components",))
    out: dict[str, Component] = {}
    for cid, item in section.items():
        path = ("components", cid)
        _check_id(r, path, cid, "component")
        item = r.table(item, path)
        kind = item.get("kind")
        label = r.label(item, path, "label", cid)
        reference = r.text(item, path, "reference")
        labels = {"label", "label_sv", "label_en"}
        if kind == "pool":
            r.fields(item, path, {"kind", "cost", "overhead", "key", "reference"} | labels)
            cost = r.sourced(item, path, "cost", default_reference=reference)
            key = r.text(item, path, "key", required=True)
            if key and key not in keys:
                r.unknown(path + ("key",), "key", key, keys)
            overhead = _overhead(item.get("overhead"), path + ("overhead",), r, parameters)
            if cost is not None:
                out[cid] = PoolComponent(cid, label, cost, key, overhead, reference)
        elif kind == "unit":
            comp = _unit(cid, item, path, r, keys, places, host, label, reference)
            if comp is not None:
                out[cid] = comp
        else:
            r.problem(path + ("kind",), f"expected kind one of {', '.join(COMPONENT_KINDS)}, found {kind!r}",
                      "agreement.type")
    if not out and isinstance(raw, dict) and not section:
        r.problem(("components",), "expected at least one component", "agreement.missing")
    return out


def _overhead(raw: Any, path: tuple, r: _Reader, parameters: dict[str, Parameter]) -> Overhead | None:
    if raw is None:
        return None
    if isinstance(raw, str) and not raw.strip().endswith("%") and not re.fullmatch(r"[\d.]+", raw.strip()):
        param = parameters.get(raw)
        if param is None:
            r.problem(path, f"unknown parameter '{raw}'; expected one of: {', '.join(sorted(parameters)) or '(none)'}"
                      " or a rate such as \"17 %\"", "agreement.reference")
            return None
        return Overhead(param.value, param.name, param.label, param.reference)
    rate = r.rate(raw, path)
    return Overhead(rate, "", Text(""), "") if rate is not None else None


def _unit(cid: str, item: dict, path: tuple, r: _Reader, keys: dict[str, Key], places: _Municipalities, host: str,
          label: Text, reference: str) -> UnitComponent | None:
    r.fields(item, path, {"kind", "label", "label_sv", "label_en", "price", "tiers", "tiers_reference", "tier",
                          "tier_reference", "quantity", "total_cost", "remainder", "reference"})
    price = r.sourced(item, path, "price", required=False, default_reference=reference)
    tiers: dict[int, Decimal] = {}
    raw_tiers = item.get("tiers")
    if raw_tiers is not None:
        for t, value in r.table(raw_tiers, path + ("tiers",)).items():
            if not t.isdigit() or len(t) > 3:
                r.problem(path + ("tiers", t), f"expected a tier number (integration year 1, 2, 3 ...), found '{t}'",
                          "agreement.type")
                continue
            number = r.number(value, path + ("tiers", t), what="a unit price in euros")
            if number is not None:
                tiers[int(t)] = number
    tier = item.get("tier")
    if tier is not None and (not isinstance(tier, int) or isinstance(tier, bool) or tier not in tiers):
        r.problem(path + ("tier",), f"expected one of the tiers {sorted(tiers)}, found {tier!r}", "agreement.reference")
        tier = None
    quantity_raw = item.get("quantity")
    quantity: str | dict[int, str]
    if isinstance(quantity_raw, str):
        quantity = quantity_raw
        _unit_key(quantity, path + ("quantity",), r, keys)
        if price is None and tier is None and "tier" not in item and "price" not in item:
            r.problem(path, "a unit service needs a 'price', or 'tiers' with the 'tier' that prices everyone",
                      "agreement.missing")
    elif isinstance(quantity_raw, dict):
        quantity = {}
        for t, key in quantity_raw.items():
            if not t.isdigit() or int(t) not in tiers:
                r.problem(path + ("quantity", t), f"expected one of the tiers {sorted(tiers)}, found '{t}'",
                          "agreement.reference")
                continue
            if not isinstance(key, str):
                r.problem(path + ("quantity", t), f"expected a key name, found {_kind(key)}", "agreement.type")
                continue
            _unit_key(key, path + ("quantity", t), r, keys)
            quantity[int(t)] = key
    else:
        r.problem(path + ("quantity",), "missing field 'quantity': a key name, or a table of key names by tier",
                  "agreement.missing")
        return None
    total_cost = r.sourced(item, path, "total_cost", required=False, default_reference=reference)
    remainder_text = item.get("remainder")
    remainder = None
    if remainder_text is not None:
        remainder = host if remainder_text == "host" else places.code(str(remainder_text))
        if remainder is None:
            r.problem(path + ("remainder",), f"expected 'host' or a municipality of the agreement, found "
                      f"{remainder_text!r}", "agreement.reference")
        if total_cost is None:
            r.problem(path + ("remainder",), "a remainder needs the service's 'total_cost'", "agreement.missing")
    return UnitComponent(cid, label, quantity, price, frozen_map(tiers), r.text(item, path, "tiers_reference"),
                         tier, r.text(item, path, "tier_reference"), total_cost, remainder, reference)


def _unit_key(key: str, path: tuple, r: _Reader, keys: dict[str, Key]) -> None:
    if key not in keys:
        r.unknown(path, "key", key, keys)
    elif not isinstance(keys[key], (CountKey, DerivedKey)):
        r.problem(path, f"a unit service counts with a count or derived key; '{key}' is a {keys[key].kind} key",
                  "agreement.reference")


def _reductions(raw: Any, r: _Reader, places: _Municipalities, components: dict) -> list[Reduction]:
    if not isinstance(raw, list):
        r.problem(("reductions",), "expected [[reductions]] entries", "agreement.type")
        return []
    out: list[Reduction] = []
    for i, item in enumerate(raw):
        path = ("reductions", i)
        item = r.table(item, path)
        r.fields(item, path, {"municipality", "rate", "components", "absorbed_by", "reason", "reference"})
        who = r.text(item, path, "municipality", required=True)
        code = places.code(who) if who else None
        if who and code is None:
            r.problem(path + ("municipality",), f"unknown municipality '{who}'; expected one of: "
                      f"{', '.join(places.names())}", "agreement.reference")
        rate = None
        if "rate" not in item:
            r.problem(path, "missing field 'rate' (e.g. \"20 %\")", "agreement.missing")
        else:
            rate = r.rate(item["rate"], path + ("rate",))
        comps = r.name_list(item, path, "components")
        if not comps:
            r.problem(path + ("components",), "expected the list of components the reduction applies to",
                      "agreement.missing")
        for c in comps:
            if c not in components:
                r.unknown(path + ("components",), "component", c, components)
        absorbed_by = item.get("absorbed_by", "host")
        if absorbed_by not in ("host", "others"):
            r.problem(path + ("absorbed_by",), f"expected 'host' or 'others', found {absorbed_by!r}", "agreement.type")
        if rate is not None and code is not None:
            out.append(Reduction(code, rate, comps, absorbed_by, r.text(item, path, "reason"),
                                 r.text(item, path, "reference"), r.line(path), i))
    return out


def _tables(raw: Any, r: _Reader, components: dict, keys: dict, parameters: dict[str, Parameter]) -> list[Table]:
    section = r.table(raw, ("tables",))
    out: list[Table] = []
    for tid, item in section.items():
        path = ("tables", tid)
        _check_id(r, path, tid, "table")
        item = r.table(item, path)
        r.fields(item, path, {"title", "title_sv", "title_en", "caption", "caption_sv", "caption_en", "components",
                              "show_keys", "share_of", "members_share", "host_row", "reference"})
        comps = r.name_list(item, path, "components")
        if not comps:
            r.problem(path + ("components",), "expected the list of components shown in this table",
                      "agreement.missing")
        for c in comps:
            if c not in components:
                r.unknown(path + ("components",), "component", c, components)
        show_keys = r.name_list(item, path, "show_keys")
        for k in show_keys:
            if k not in keys:
                r.unknown(path + ("show_keys",), "key", k, keys)
        share_of = item.get("share_of")
        if share_of is not None and share_of not in keys:
            r.unknown(path + ("share_of",), "key", str(share_of), keys)
        members_share = item.get("members_share")
        if members_share is not None and members_share not in parameters:
            r.unknown(path + ("members_share",), "parameter", str(members_share), parameters)
        host_row = item.get("host_row", "inline")
        if host_row not in ("inline", "separate"):
            r.problem(path + ("host_row",), f"expected 'inline' or 'separate', found {host_row!r}", "agreement.type")
        out.append(Table(tid, r.label(item, path, "title", tid), comps, r.label(item, path, "caption", ""),
                         show_keys, share_of, members_share, host_row, r.text(item, path, "reference")))
    return out


def _billing(raw: Any, r: _Reader, components: dict[str, Component], declared: dict,
             tables: list[Table]) -> Billing | None:
    """The [billing] section: periods, payment terms, what is billed how, travel rates."""
    if raw is None:
        return None
    path = ("billing",)
    section = r.table(raw, path)
    r.fields(section, path, {"period", "payment_terms_days", "advance", "events", "travel",
                             "interpretation_reference", "reference", "vat", "reference_form",
                             "without_agreement", "settlement_minimum", "credits"})
    period = section.get("period", "month")
    if period not in ("month", "quarter"):
        r.problem(path + ("period",), f"expected 'month' or 'quarter', found {period!r}", "agreement.type")
        period = "month"
    terms = section.get("payment_terms_days", 21)
    if not isinstance(terms, int) or isinstance(terms, bool) or not 0 <= terms <= 365:
        r.problem(path + ("payment_terms_days",), f"expected a number of days (0–365), found {terms!r}",
                  "agreement.type")
        terms = 21
    table_ids = {t.id for t in tables}
    advance = r.name_list(section, path, "advance")
    for t in advance:
        if t not in table_ids:
            r.unknown(path + ("advance",), "table", t, table_ids)
    events: dict[str, EventPricing] = {}
    for cid, item in r.table(section.get("events", {}), path + ("events",), required=False).items():
        epath = path + ("events", cid)
        item = r.table(item, epath)
        r.fields(item, epath, {"unit", "price"})
        if cid not in declared:
            r.unknown(epath, "component", cid, declared)
            continue
        word = r.text(item, epath, "unit", default="piece").strip()
        events[cid] = EventPricing(cid, word if word in UNITS else UNIT_WORDS.get(word.casefold(), word),
                                   r.sourced(item, epath, "price", required=False))
    travel = None
    if "travel" in section:
        tpath = path + ("travel",)
        item = r.table(section["travel"], tpath)
        r.fields(item, tpath, {"per_diem", "km_rate", "reference"})
        reference = r.text(item, tpath, "reference")
        per_diem = r.sourced(item, tpath, "per_diem", default_reference=reference)
        km_rate = r.sourced(item, tpath, "km_rate", default_reference=reference)
        if per_diem is not None and km_rate is not None:
            travel = Travel(per_diem, km_rate, reference)
    reference_form = r.text(section, path, "reference_form", default="national")
    if reference_form not in ("national", "rf"):
        r.problem(path + ("reference_form",), f"expected 'national' (viitenumero) or 'rf' (ISO 11649), found "
                  f"{reference_form!r}", "agreement.type")
        reference_form = "national"
    minimum = r.sourced(section, path, "settlement_minimum", required=False)
    if minimum is not None and minimum.value < 0:
        r.problem(path + ("settlement_minimum",), f"expected an amount of euros, 0 or more, found {minimum.value}",
                  "agreement.type")
        minimum = None
    return Billing(period, terms, advance, frozen_map(events), travel,
                   r.text(section, path, "interpretation_reference"), r.text(section, path, "reference"),
                   _vat(section.get("vat"), r), reference_form,
                   WithoutAgreement(*_choice(section, r, "without_agreement", "advances", ADVANCES_WITHOUT_AGREEMENT)),
                   minimum,
                   CreditSettlement(*_choice(section, r, "credits", "settled_by", CREDIT_SETTLEMENT)))


def _choice(section: dict, r: _Reader, table: str, field: str, choices: tuple[str, ...]) -> tuple[str, str]:
    """`[billing.TABLE]` with `FIELD = one of choices` (the first is the default) and its clause."""
    if table not in section:
        return choices[0], ""
    path = ("billing", table)
    item = r.table(section[table], path)
    r.fields(item, path, {field, "reference"})
    value = r.text(item, path, field, default=choices[0])
    if value not in choices:
        r.problem(path + (field,), "expected " + ", ".join(f"'{c}'" for c in choices[:-1]) +
                  f" or '{choices[-1]}', found {value!r}", "agreement.type")
        value = choices[0]
    reference = r.text(item, path, "reference")
    if value != choices[0] and not reference:
        r.problem(path + ("reference",), f"missing field 'reference': the clause that says '{value}'",
                  "agreement.missing")
    return value, reference


def _vat(raw: Any, r: _Reader) -> Vat:
    """[billing.vat]: the VAT treatment as written (checks judge whether osuus can invoice it)."""
    if raw is None:
        return Vat()
    path = ("billing", "vat")
    item = r.table(raw, path)
    r.fields(item, path, {"category", "exemption_code", "exemption_text", "exemption_text_sv", "exemption_text_en",
                          "reference"})
    category = r.text(item, path, "category", default="O")
    code = r.text(item, path, "exemption_code", default="VATEX-EU-O" if category == "O" else "")
    r.text(item, path, "exemption_text", required=True)
    return Vat(category, code, r.label(item, path, "exemption_text", ""), r.text(item, path, "reference"))


def _parties(raw: Any, r: _Reader, places: _Municipalities) -> dict[str, Party]:
    """[parties.<name>]: addresses for documents, by municipality code. Optional here; a
    document that needs a missing field says so when it is made."""
    if raw is None:
        return {}
    section = r.table(raw, ("parties",))
    out: dict[str, Party] = {}
    for name, item in section.items():
        path = ("parties", name)
        item = r.table(item, path)
        r.fields(item, path, set(_PARTY_TEXT))
        code = places.code(name)
        if code is None:
            close = difflib.get_close_matches(name, places.by_name, n=1)
            r.problem(path, f"'{name}' is not a municipality of the agreement"
                      + (f" (did you mean '{close[0]}'?)" if close else ""), "agreement.reference")
            continue
        fields = {f: r.text(item, path, f).strip() for f in _PARTY_TEXT}
        fields["country"] = fields["country"] or "FI"
        # identifiers as written; the checks judge them, documents write their normal forms
        out[code] = Party(code=code, **fields, line=r.line(path), path=f"parties.{name}")
    return out
