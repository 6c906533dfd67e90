"""Read an agreement file (TOML) into an `Agreement`, with every problem at once.

`load_agreement(path)` returns `(agreement, problems)`. When there is any
problem the agreement is `None`: a half-checked agreement is never computed.
Each problem names the file, the line and the key path, and says what was
expected. The format is documented in docs/agreement-format.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from decimal import Decimal
from pathlib import Path as FsPath
from typing import Any, Callable

from osuus.agreement.model import (
    Agreement,
    Billing,
    Party,
    Vat,
    EventPricing,
    Travel,
    Component,
    CountKey,
    DerivedKey,
    FixedKey,
    Key,
    MixKey,
    Municipality,
    Overhead,
    Parameter,
    PoolComponent,
    Reduction,
    Sourced,
    Table,
    UnitComponent,
    frozen_map,
)
from osuus.agreement.toml_lines import LineIndex, index_lines
from osuus.money import ROUNDING_MODES, D, Rounding, parse_rate
from osuus.problems import Problem

KEY_KINDS = ("count", "derived", "mix", "fixed")
COMPONENT_KINDS = ("pool", "unit")
COUNT_ROUNDINGS = ("none", "ceil", "floor", "half_up", "half_even")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TOLERANCE = Decimal("1e-9")


class _Reader:
    """Walks the parsed TOML and turns type mistakes into problems with lines."""

    def __init__(self, file: str, index: LineIndex):
        self.file = file
        self.index = index
        self.problems: list[Problem] = []

    def line(self, path: tuple) -> int | None:
        return self.index.line_of(path)

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(Problem(message, self.file, self.line(path), ".".join(str(p) for p in path)))

    def table(self, data: Any, path: tuple, *, required: bool = True) -> dict:
        if data is None:
            if required:
                self.problem(path, f"missing table [{'.'.join(map(str, path))}]")
            return {}
        if not isinstance(data, dict):
            self.problem(path, f"expected a table, found {_kind(data)}")
            return {}
        return data

    def fields(self, data: dict, path: tuple, allowed: set[str]) -> None:
        for name in data:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problem(path + (name,), f"unknown field '{name}'{hint}; expected one of: {', '.join(sorted(allowed))}")

    def text(self, data: dict, path: tuple, name: str, *, required: bool = False, default: str = "") -> str:
        value = data.get(name)
        if value is None:
            if required:
                self.problem(path + (name,), f"missing field '{name}' (text)")
            return default
        if not isinstance(value, str):
            self.problem(path + (name,), f"expected text, found {_kind(value)}")
            return default
        return value

    def number(self, value: Any, path: tuple, *, what: str = "a number", allow_negative: bool = False,
               parse: Callable[[Any], Decimal] = D) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            self.problem(path, f"expected {what}, found {_kind(value)}")
            return None
        try:
            result = parse(value)
        except (ValueError, TypeError, ArithmeticError):
            self.problem(path, f"expected {what}, found {value!r}")
            return None
        if not result.is_finite():
            self.problem(path, f"expected {what}, found {value!r}")
            return None
        if result < 0 and not allow_negative:
            self.problem(path, f"expected {what} that is not negative, found {value}")
            return None
        return result

    def rate(self, value: Any, path: tuple, *, maximum: Decimal | None = None) -> Decimal | None:
        result = self.number(value, path, what='a rate ("17 %" or 0.17)', parse=parse_rate)
        if result is not None and maximum is not None and result > maximum:
            self.problem(path, f"expected a rate of at most {maximum * 100:f} %, found {value}")
            return None
        return result

    def sourced(self, data: dict, path: tuple, name: str, *, required: bool = True,
                default_reference: str = "") -> Sourced | None:
        """A number written bare (`cost = 100`) or with its source (`{ value, reference }`)."""
        raw = data.get(name)
        if raw is None:
            if required:
                self.problem(path + (name,), f"missing field '{name}' (a number)")
            return None
        reference = default_reference
        vpath = path + (name,)
        if isinstance(raw, dict):
            self.fields(raw, vpath, {"value", "reference", "note"})
            reference = self.text(raw, vpath, "reference", default=default_reference)
            if "value" not in raw:
                self.problem(vpath, "missing 'value' (a number)")
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
            self.problem(path + (name,), "expected a list of names, e.g. [\"a\", \"b\"]")
            return ()
        return tuple(value)


def _kind(value: Any) -> str:
    return {
        bool: "true/false", int: "an integer", Decimal: "a number", str: "text", list: "a list",
        dict: "a table", dt.date: "a date", dt.datetime: "a date and time",
    }.get(type(value), type(value).__name__)


def load_agreement(path: str | FsPath) -> tuple[Agreement | None, list[Problem]]:
    """Read and check an agreement file; return it with every problem found."""
    file = str(path)
    try:
        raw = FsPath(path).read_bytes()
    except FileNotFoundError:
        return None, [Problem("file not found", file)]
    except IsADirectoryError:
        return None, [Problem("expected a file, found a folder", file)]
    except OSError as exc:
        return None, [Problem(f"cannot read the file: {exc.strerror}", file)]
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(f"the file is not UTF-8 text: byte {raw[exc.start]:#04x} here is not UTF-8 (save the file as UTF-8)",
                              file, line)]
    return parse_agreement(source, file)


def parse_agreement(source: str, file: str = "<agreement>") -> tuple[Agreement | None, list[Problem]]:
    index = index_lines(source)
    duplicates = [
        Problem(f"'{path[-1]}' is defined twice (first at line {first}); each name may appear once",
                file, line, ".".join(map(str, path)))
        for path, line, first in index.duplicates
    ]
    try:
        data = tomllib.loads(source, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        problems = list(duplicates)
        data = None
        if duplicates:  # tomllib stops at the first repeated key: parse again without them
            try:
                data = _without_duplicates(source, index)
            except tomllib.TOMLDecodeError as again:
                problems.append(_syntax_problem(again, file))
        else:
            problems.append(_syntax_problem(exc, file))
        if data is None:
            return None, sorted(problems, key=lambda p: p.line or 0)
    reader = _Reader(file, index)
    reader.problems.extend(duplicates)
    _refuse_personal_codes(data, (), reader)
    agreement = _build(data, reader, file)
    if reader.problems:
        return None, sorted(reader.problems, key=lambda p: p.line or 0)
    return agreement, []


def _syntax_problem(exc: tomllib.TOMLDecodeError, file: str) -> Problem:
    message = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    text = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
    if match:
        text += f" (column {match.group(2)})"
    return Problem(f"TOML syntax error: {text}", file, int(match.group(1)) if match else None)


def _without_duplicates(source: str, index: LineIndex) -> dict:
    """Parse again with the repeated key lines commented out (line numbers stay)."""
    lines = source.splitlines()
    for path, line, _first in index.duplicates:
        if not lines[line - 1].lstrip().startswith("["):
            lines[line - 1] = "# " + lines[line - 1]
    return tomllib.loads("\n".join(lines), parse_float=Decimal)


def _refuse_personal_codes(data: Any, path: tuple, r: _Reader) -> None:
    """No text of an agreement may hold a personal identity code."""
    from osuus.privacy import masked, personal_codes_in

    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for name, value in items:
        here = path + (name,)
        for text in (name, value):
            if isinstance(text, str):
                for code in personal_codes_in(text):
                    r.problem(here, f"a Finnish personal identity code ({masked(code)}) is not allowed: osuus keeps "
                              "no personal data; use a pseudonymous id or remove it")
        if isinstance(value, (dict, list)):
            _refuse_personal_codes(value, here, r)


# --------------------------------------------------------------------------
# Building the model, section by section
# --------------------------------------------------------------------------

def _build(data: dict, r: _Reader, file: str) -> Agreement | None:
    r.fields(data, (), {"agreement", "rounding", "parameters", "municipalities", "keys", "components",
                        "reductions", "tables", "billing", "parties"})
    head = r.table(data.get("agreement"), ("agreement",))
    r.fields(head, ("agreement",), {"id", "year", "title", "host", "currency", "source", "reference"})
    agreement_id = r.text(head, ("agreement",), "id", required=True)
    if agreement_id and not re.fullmatch(r"[A-Za-z0-9._-]+", agreement_id):
        r.problem(("agreement", "id"), "expected an id of letters, digits, '-', '_' or '.'")
    year = head.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        r.problem(("agreement", "year"), f"expected a year such as 2021, found {year!r}" if year is not None
                  else "missing field 'year'")
        year = 0
    host = r.text(head, ("agreement",), "host", required=True)
    currency = r.text(head, ("agreement",), "currency", default="EUR")
    if currency != "EUR":
        r.problem(("agreement", "currency"), f"expected EUR, found {currency!r}")

    shown, invoiced = _rounding(data.get("rounding"), r)
    parameters = _parameters(data.get("parameters", {}), r)
    municipalities = _municipalities(data.get("municipalities"), r)
    names = {m.name for m in municipalities}
    if host and names and host not in names:
        r.problem(("agreement", "host"), f"the host '{host}' is not one of the municipalities of the agreement "
                  f"(expected one of: {', '.join(sorted(names))})")
    keys = _keys(data.get("keys"), r, names)
    components = _components(data.get("components"), r, keys, parameters, names, host)
    # cross references are checked against every declared id, so that one bad
    # entry is reported once and not again wherever it is named
    declared = _declared(data.get("components"))
    reductions = _reductions(data.get("reductions", []), r, names, declared, host)
    tables = _tables(data.get("tables"), r, declared, _declared(data.get("keys")), parameters)
    billing = _billing(data.get("billing"), r, components, declared, tables)
    parties = _parties(data.get("parties"), r, municipalities, host)
    if billing is not None and billing.vat.category == "O":
        for name, party in parties.items():
            if party.vat_number:
                r.problem(("parties", name, "vat_number"),
                          f"{name} has a VAT number, but the agreement's VAT category is O (not subject to VAT): "
                          "EN 16931 accepts neither the seller's nor the buyer's VAT number with category O "
                          "(BR-O-02, BR-O-03); remove the VAT number or change billing.vat")
    if r.problems:
        return None
    return Agreement(
        id=agreement_id, year=year, title=r.text(head, ("agreement",), "title", default=agreement_id),
        host=host, municipalities=tuple(municipalities), keys=frozen_map(keys),
        components=frozen_map(components), tables=tuple(tables), reductions=tuple(reductions),
        parameters=frozen_map(parameters), shown=shown, invoiced=invoiced, currency=currency,
        source=r.text(head, ("agreement",), "source"), reference=r.text(head, ("agreement",), "reference"),
        file=file, billing=billing, parties=frozen_map(parties),
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
        unit = r.number(item.get("unit", defaults[name].unit), path + ("unit",), what='a rounding unit such as "1" or "0.01"')
        mode = item.get("mode", "half_up")
        if mode not in ROUNDING_MODES:
            r.problem(path + ("mode",), f"expected one of {', '.join(ROUNDING_MODES)}, found {mode!r}")
            mode = "half_up"
        if unit is not None and unit <= 0:
            r.problem(path + ("unit",), "expected a positive rounding unit such as \"1\" or \"0.01\"")
            unit = None
        out.append(Rounding(unit or defaults[name].unit, mode, r.text(item, path, "reference")))
    return out[0], out[1]


def _parameters(raw: Any, r: _Reader) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for name, item in r.table(raw, ("parameters",), required=False).items():
        path = ("parameters", name)
        item = r.table(item, path)
        r.fields(item, path, {"label", "value", "unit", "reference", "note"})
        unit = r.text(item, path, "unit", default="ratio")
        if "value" not in item:
            r.problem(path, "missing field 'value'")
            continue
        value = r.rate(item["value"], path + ("value",)) if unit == "ratio" else r.number(item["value"], path + ("value",))
        if not r.text(item, path, "reference"):
            r.problem(path, "missing field 'reference': every parameter names the clause it comes from")
        if value is not None:
            out[name] = Parameter(name, value, r.text(item, path, "label", default=name), unit,
                                  r.text(item, path, "reference"), r.text(item, path, "note"), r.line(path))
    return out


def _municipalities(raw: Any, r: _Reader) -> list[Municipality]:
    from stdnum.fi import ytunnus  # a small module; only loaded when an agreement is read

    section = r.table(raw, ("municipalities",))
    out: list[Municipality] = []
    codes: dict[str, str] = {}
    business_ids: dict[str, str] = {}
    for name, item in section.items():
        path = ("municipalities", name)
        item = r.table(item, path)
        r.fields(item, path, {"code", "name_sv", "business_id"})
        if not name.strip():
            r.problem(path, "a municipality needs a name")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not re.fullmatch(r"\d{3}", code):
            r.problem(path + ("code",), f"expected the official three-digit municipality code as text, e.g. \"020\", found {code!r}")
            code = ""
        elif code in codes:
            r.problem(path + ("code",), f"duplicated municipality: code {code} is already used by {codes[code]}")
        else:
            codes[code] = name
        business_id = r.text(item, path, "business_id")
        if business_id:
            if not ytunnus.is_valid(business_id):
                r.problem(path + ("business_id",), f"expected a valid Finnish business ID (Y-tunnus, e.g. 0211675-2), found {business_id!r}")
            else:
                business_id = ytunnus.format(business_id)
                if business_id in business_ids:
                    r.problem(path + ("business_id",), f"duplicated municipality: business ID {business_id} is already used by {business_ids[business_id]}")
                business_ids[business_id] = name
        out.append(Municipality(name, code, r.text(item, path, "name_sv"), business_id, r.line(path)))
    if not out and isinstance(raw, dict):
        r.problem(("municipalities",), "expected at least one municipality")
    return out


def _check_id(r: _Reader, path: tuple, name: str, what: str) -> None:
    if not _ID.match(name):
        r.problem(path, f"expected a {what} id of lower-case letters, digits and '_' (e.g. 'ict'), found {name!r}")


def _keys(raw: Any, r: _Reader, names: set[str]) -> dict[str, Key]:
    section = r.table(raw, ("keys",))
    out: dict[str, Key] = {}
    for name, item in section.items():
        path = ("keys", name)
        _check_id(r, path, name, "key")
        item = r.table(item, path)
        kind = item.get("kind", "count")
        label = r.text(item, path, "label", default=name)
        reference = r.text(item, path, "reference")
        if not reference:
            r.problem(path, "missing field 'reference': every key names the clause or table it comes from")
        if kind == "count":
            r.fields(item, path, {"kind", "label", "date", "source", "reference", "note", "values"})
            values = _municipality_numbers(item.get("values"), path + ("values",), r, names, what="a count")
            missing = sorted(names - set(item.get("values") or {}))
            if isinstance(item.get("values"), dict) and missing:
                r.problem(path + ("values",), f"missing value for {', '.join(missing)} in '{label}': every municipality needs one")
            date = item.get("date")
            if date is not None and not isinstance(date, dt.date):
                r.problem(path + ("date",), f"expected a date such as 2019-12-31, found {_kind(date)}")
                date = None
            out[name] = CountKey(name, label, frozen_map(values), date, r.text(item, path, "source"), reference,
                                 r.text(item, path, "note"))
        elif kind == "derived":
            r.fields(item, path, {"kind", "label", "from", "rate", "rounding", "reference"})
            source_key = r.text(item, path, "from", required=True)
            rate = r.rate(item.get("rate", 1), path + ("rate",))
            rounding = item.get("rounding", "none")
            if rounding not in COUNT_ROUNDINGS:
                r.problem(path + ("rounding",), f"expected one of {', '.join(COUNT_ROUNDINGS)}, found {rounding!r}")
            out[name] = DerivedKey(name, label, source_key, rate or D(0), rounding, reference)
        elif kind == "mix":
            r.fields(item, path, {"kind", "label", "weights", "reference"})
            weights_raw = r.table(item.get("weights"), path + ("weights",))
            weights = []
            for key_name, weight in weights_raw.items():
                w = r.rate(weight, path + ("weights", key_name), maximum=D(1))
                if w is not None:
                    weights.append((key_name, w))
            total = sum((w for _, w in weights), D(0))
            if weights and len(weights) == len(weights_raw) and abs(total - 1) > _TOLERANCE:
                r.problem(path + ("weights",), f"the weights of a mixed key must add up to 1 (100 %), they add up to {total * 100:f} %")
            out[name] = MixKey(name, label, tuple(weights), reference)
        elif kind == "fixed":
            r.fields(item, path, {"kind", "label", "shares", "reference"})
            shares = _municipality_numbers(item.get("shares"), path + ("shares",), r, names, what="a share", rate=True)
            total = sum(shares.values(), D(0))
            if shares and abs(total - 1) > _TOLERANCE:
                r.problem(path + ("shares",), f"fixed shares must add up to 100 %, they add up to {total * 100:f} %")
            missing = sorted(names - set(item.get("shares") or {}))
            if isinstance(item.get("shares"), dict) and missing:
                r.problem(path + ("shares",), f"missing share for {', '.join(missing)} (write 0 for none)")
            out[name] = FixedKey(name, label, frozen_map(shares), reference)
        else:
            r.problem(path + ("kind",), f"expected kind one of {', '.join(KEY_KINDS)}, found {kind!r}")
    # references between keys
    for name, key in out.items():
        if isinstance(key, DerivedKey) and key.source_key:
            src = out.get(key.source_key)
            if src is None:
                r.problem(("keys", name, "from"), f"unknown key '{key.source_key}'; expected one of: {', '.join(sorted(out))}")
            elif not isinstance(src, (CountKey, DerivedKey)):
                r.problem(("keys", name, "from"), f"a derived key needs a count key to start from; '{key.source_key}' is a {src.kind} key")
        if isinstance(key, MixKey):
            for part, _ in key.weights:
                if part not in out:
                    r.problem(("keys", name, "weights", part), f"unknown key '{part}'; expected one of: {', '.join(sorted(out))}")
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
                r.problem(("keys", start), f"key '{start}' depends on itself")
                break
            if k in keys and k not in seen:
                seen.add(k)
                todo.extend(deps(keys[k]))


def _municipality_numbers(raw: Any, path: tuple, r: _Reader, names: set[str], *, what: str,
                          rate: bool = False) -> dict[str, Decimal]:
    section = r.table(raw, path)
    out: dict[str, Decimal] = {}
    for name, value in section.items():
        if names and name not in names:
            r.problem(path + (name,), f"unknown municipality '{name}'; expected one of the [municipalities]: "
                      f"{', '.join(sorted(names))}")
            continue
        number = r.rate(value, path + (name,)) if rate else r.number(value, path + (name,), what=what)
        if number is not None:
            out[name] = number
    return out


def _components(raw: Any, r: _Reader, keys: dict[str, Key], parameters: dict[str, Parameter],
                names: set[str], host: str) -> dict[str, Component]:
    section = r.table(raw, ("components",))
    out: dict[str, Component] = {}
    for cid, item in section.items():
        path = ("components", cid)
        _check_id(r, path, cid, "component")
        item = r.table(item, path)
        kind = item.get("kind")
        label = r.text(item, path, "label", default=cid)
        reference = r.text(item, path, "reference")
        if not reference:
            r.problem(path, "missing field 'reference': every component names the clause it comes from")
        if kind == "pool":
            r.fields(item, path, {"kind", "label", "cost", "overhead", "key", "reference"})
            cost = r.sourced(item, path, "cost", default_reference=reference)
            key = r.text(item, path, "key", required=True)
            if key and key not in keys:
                r.problem(path + ("key",), f"unknown key '{key}'; expected one of: {', '.join(sorted(keys))}")
            overhead = _overhead(item.get("overhead"), path + ("overhead",), r, parameters)
            if cost is not None:
                out[cid] = PoolComponent(cid, label, cost, key, overhead, reference)
        elif kind == "unit":
            comp = _unit(cid, item, path, r, keys, names, host, label, reference)
            if comp is not None:
                out[cid] = comp
        else:
            r.problem(path + ("kind",), f"expected kind one of {', '.join(COMPONENT_KINDS)}, found {kind!r}")
    if not out and isinstance(raw, dict) and not section:
        r.problem(("components",), "expected at least one component")
    return out


def _overhead(raw: Any, path: tuple, r: _Reader, parameters: dict[str, Parameter]) -> Overhead | None:
    if raw is None:
        return None
    if isinstance(raw, str) and not raw.strip().endswith("%") and not re.fullmatch(r"[\d.]+", raw.strip()):
        param = parameters.get(raw)
        if param is None:
            r.problem(path, f"unknown parameter '{raw}'; expected one of: {', '.join(sorted(parameters)) or '(none)'}"
                      " or a rate such as \"17 %\"")
            return None
        return Overhead(param.value, param.name, param.label, param.reference)
    rate = r.rate(raw, path)
    return Overhead(rate, "", "yleiskustannuslisä", "") if rate is not None else None


def _unit(cid: str, item: dict, path: tuple, r: _Reader, keys: dict[str, Key], names: set[str], host: str,
          label: str, reference: str) -> UnitComponent | None:
    r.fields(item, path, {"kind", "label", "price", "tiers", "tiers_reference", "tier", "tier_reference",
                          "quantity", "total_cost", "remainder", "reference"})
    price = r.sourced(item, path, "price", required=False, default_reference=reference)
    tiers: dict[int, Decimal] = {}
    raw_tiers = item.get("tiers")
    if raw_tiers is not None:
        for t, value in r.table(raw_tiers, path + ("tiers",)).items():
            if not t.isdigit():
                r.problem(path + ("tiers", t), f"expected a tier number (integration year 1, 2, 3 ...), found '{t}'")
                continue
            number = r.number(value, path + ("tiers", t), what="a unit price in euros")
            if number is not None:
                tiers[int(t)] = number
    tier = item.get("tier")
    if tier is not None and (not isinstance(tier, int) or isinstance(tier, bool) or tier not in tiers):
        r.problem(path + ("tier",), f"expected one of the tiers {sorted(tiers)}, found {tier!r}")
        tier = None
    quantity_raw = item.get("quantity")
    quantity: str | dict[int, str]
    if isinstance(quantity_raw, str):
        quantity = quantity_raw
        _unit_key(quantity, path + ("quantity",), r, keys)
        if "price" not in item and tier is None and "tier" not in item:
            r.problem(path, "a unit service needs a 'price', or 'tiers' with the 'tier' that prices everyone")
    elif isinstance(quantity_raw, dict):
        quantity = {}
        for t, key in quantity_raw.items():
            if not t.isdigit() or int(t) not in tiers:
                r.problem(path + ("quantity", t), f"expected one of the tiers {sorted(tiers)}, found '{t}'")
                continue
            if not isinstance(key, str):
                r.problem(path + ("quantity", t), f"expected a key name, found {_kind(key)}")
                continue
            _unit_key(key, path + ("quantity", t), r, keys)
            quantity[int(t)] = key
    else:
        r.problem(path + ("quantity",), "missing field 'quantity': a key name, or a table of key names by tier")
        return None
    if price is not None and tiers:
        r.problem(path, "give either 'price' or 'tiers', not both")
    total_cost = r.sourced(item, path, "total_cost", required=False, default_reference=reference)
    remainder = item.get("remainder")
    if remainder is not None:
        if remainder == "host":
            remainder = host
        elif remainder not in names:
            r.problem(path + ("remainder",), f"expected 'host' or a municipality of the agreement, found {remainder!r}")
        if total_cost is None:
            r.problem(path + ("remainder",), "a remainder needs the service's 'total_cost'")
    return UnitComponent(cid, label, quantity, price, frozen_map(tiers), r.text(item, path, "tiers_reference"),
                         tier, r.text(item, path, "tier_reference"), total_cost, remainder, reference)


def _unit_key(key: str, path: tuple, r: _Reader, keys: dict[str, Key]) -> None:
    if key not in keys:
        r.problem(path, f"unknown key '{key}'; expected one of: {', '.join(sorted(keys))}")
    elif not isinstance(keys[key], (CountKey, DerivedKey)):
        r.problem(path, f"a unit service counts with a count or derived key; '{key}' is a {keys[key].kind} key")


def _reductions(raw: Any, r: _Reader, names: set[str], components: dict, host: str) -> list[Reduction]:
    if not isinstance(raw, list):
        r.problem(("reductions",), "expected [[reductions]] entries")
        return []
    out: list[Reduction] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(raw):
        path = ("reductions", i)
        item = r.table(item, path)
        r.fields(item, path, {"municipality", "rate", "components", "absorbed_by", "reason", "reference"})
        who = r.text(item, path, "municipality", required=True)
        if who and who not in names:
            r.problem(path + ("municipality",), f"unknown municipality '{who}'; expected one of: {', '.join(sorted(names))}")
        if who and who == host:
            r.problem(path + ("municipality",), "the host cannot have a reduction: it bears the remainder")
        rate = None
        if "rate" not in item:
            r.problem(path, "missing field 'rate' (e.g. \"20 %\")")
        else:
            rate = r.rate(item["rate"], path + ("rate",), maximum=D(1))
        comps = r.name_list(item, path, "components")
        if not comps:
            r.problem(path + ("components",), "expected the list of components the reduction applies to")
        for c in comps:
            if c not in components:
                r.problem(path + ("components",), f"unknown component '{c}'; expected one of: {', '.join(sorted(components))}")
            elif (who, c) in seen:
                r.problem(path + ("components",), f"{who} already has a reduction on '{c}'")
            seen.add((who, c))
        absorbed_by = item.get("absorbed_by", "host")
        if absorbed_by not in ("host", "others"):
            r.problem(path + ("absorbed_by",), f"expected 'host' or 'others', found {absorbed_by!r}")
        if not r.text(item, path, "reference"):
            r.problem(path, "missing field 'reference': a reduction names the clause that grants it")
        if rate is not None:
            out.append(Reduction(who, rate, comps, absorbed_by, r.text(item, path, "reason"),
                                 r.text(item, path, "reference"), r.line(path)))
    return out


def _tables(raw: Any, r: _Reader, components: dict, keys: dict, parameters: dict[str, Parameter]) -> list[Table]:
    section = r.table(raw, ("tables",))
    out: list[Table] = []
    used: dict[str, str] = {}
    for tid, item in section.items():
        path = ("tables", tid)
        _check_id(r, path, tid, "table")
        item = r.table(item, path)
        r.fields(item, path, {"title", "caption", "components", "show_keys", "share_of", "members_share",
                              "host_row", "reference"})
        comps = r.name_list(item, path, "components")
        if not comps:
            r.problem(path + ("components",), "expected the list of components shown in this table")
        for c in comps:
            if c not in components:
                r.problem(path + ("components",), f"unknown component '{c}'; expected one of: {', '.join(sorted(components))}")
            elif c in used:
                r.problem(path + ("components",), f"component '{c}' is already in table '{used[c]}'")
            else:
                used[c] = tid
        show_keys = r.name_list(item, path, "show_keys")
        for k in show_keys:
            if k not in keys:
                r.problem(path + ("show_keys",), f"unknown key '{k}'; expected one of: {', '.join(sorted(keys))}")
        share_of = item.get("share_of")
        if share_of is not None and share_of not in keys:
            r.problem(path + ("share_of",), f"unknown key '{share_of}'; expected one of: {', '.join(sorted(keys))}")
        members_share = item.get("members_share")
        if members_share is not None and members_share not in parameters:
            r.problem(path + ("members_share",), f"unknown parameter '{members_share}'")
        host_row = item.get("host_row", "inline")
        if host_row not in ("inline", "separate"):
            r.problem(path + ("host_row",), f"expected 'inline' or 'separate', found {host_row!r}")
        out.append(Table(tid, r.text(item, path, "title", default=tid), comps, r.text(item, path, "caption"),
                         show_keys, share_of, members_share, host_row, r.text(item, path, "reference")))
    for cid in components:
        if cid not in used and section:
            r.problem(("components", cid), f"component '{cid}' is in no table; add it to one of [tables]")
    return out


def _billing(raw: Any, r: _Reader, components: dict[str, Component], declared: dict, tables: list[Table]) -> Billing | None:
    """The [billing] section: periods, payment terms, what is billed how, travel rates."""
    if raw is None:
        return None
    path = ("billing",)
    section = r.table(raw, path)
    r.fields(section, path, {"period", "payment_terms_days", "advance", "events", "travel",
                             "interpretation_reference", "reference", "vat", "reference_form"})
    period = section.get("period", "month")
    if period not in ("month", "quarter"):
        r.problem(path + ("period",), f"expected 'month' or 'quarter', found {period!r}")
        period = "month"
    terms = section.get("payment_terms_days", 21)
    if not isinstance(terms, int) or isinstance(terms, bool) or not 0 <= terms <= 365:
        r.problem(path + ("payment_terms_days",), f"expected a number of days (0–365), found {terms!r}")
        terms = 21
    table_ids = {t.id: t for t in tables}
    advance = r.name_list(section, path, "advance")
    for t in advance:
        if t not in table_ids:
            r.problem(path + ("advance",), f"unknown table '{t}'; expected one of: {', '.join(table_ids)}")
    advanced_components = {c for t in advance if t in table_ids for c in table_ids[t].components}
    events: dict[str, EventPricing] = {}
    for cid, item in r.table(section.get("events", {}), path + ("events",), required=False).items():
        epath = path + ("events", cid)
        item = r.table(item, epath)
        r.fields(item, epath, {"unit", "price"})
        if cid not in declared:
            r.problem(epath, f"unknown component '{cid}'; expected one of: {', '.join(declared)}")
            continue
        if cid in advanced_components:
            r.problem(epath, f"'{cid}' is already invoiced in advance (billing.advance); billing it per event too "
                      "would bill it twice")
        price = r.sourced(item, epath, "price", required=False)
        comp = components.get(cid)
        if isinstance(comp, PoolComponent) and price is None:
            r.problem(epath, f"'{cid}' is a pool: billing it per event needs a 'price' per unit")
        if isinstance(comp, UnitComponent) and comp.tiers and price is None and comp.tier is None:
            pass  # priced by the event's integration year
        events[cid] = EventPricing(cid, r.text(item, epath, "unit", default="kpl"), price)
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
        r.problem(path + ("reference_form",), f"expected 'national' (viitenumero) or 'rf' (ISO 11649), found {reference_form!r}")
        reference_form = "national"
    return Billing(period, terms, advance, frozen_map(events), travel,
                   r.text(section, path, "interpretation_reference"), r.text(section, path, "reference"),
                   _vat(section.get("vat"), r), reference_form)


# The zero-VAT treatments osuus invoices, with the exemption codes EN 16931 expects (CEF VATEX list).
_VAT_CATEGORIES = {"O": ("VATEX-EU-O",), "E": ("VATEX-EU-132", "VATEX-EU-143", "VATEX-EU-309", "VATEX-EU-148",
                                               "VATEX-EU-151", "VATEX-EU-79-C")}


def _vat(raw: Any, r: _Reader) -> Vat:
    """[billing.vat]: one zero-VAT treatment for everything the agreement invoices."""
    if raw is None:
        return Vat()
    path = ("billing", "vat")
    item = r.table(raw, path)
    r.fields(item, path, {"category", "exemption_code", "exemption_text", "reference"})
    category = r.text(item, path, "category", default="O")
    if category not in _VAT_CATEGORIES:
        hint = (f" Category {category} is not supported: the ledger bills net amounts, without VAT."
                if category in ("S", "Z", "AE", "K", "G", "L", "M") else "")
        r.problem(path + ("category",), f"expected a VAT category without VAT: O (not subject to VAT) or E (exempt), "
                  f"found {category!r}.{hint}")
        return Vat()
    default_code = _VAT_CATEGORIES[category][0]
    code = r.text(item, path, "exemption_code", default=default_code)
    if code not in _VAT_CATEGORIES[category]:
        r.problem(path + ("exemption_code",), f"expected an exemption code for category {category}: "
                  f"{', '.join(_VAT_CATEGORIES[category])}; found {code!r}")
    text = r.text(item, path, "exemption_text", required=True)
    return Vat(category, code, text, r.text(item, path, "reference"))


_PARTY_FIELDS = {"street", "postcode", "city", "country", "einvoice_address", "operator", "vat_number", "contact",
                 "email", "buyer_reference", "iban", "bic", "bank", "source"}


def _parties(raw: Any, r: _Reader, municipalities: list[Municipality], host: str) -> dict[str, Party]:
    """[parties.<name>]: addresses for documents. Optional here; a document that
    needs a missing field says so when it is made (osuus.documents)."""
    if raw is None:
        return {}
    from osuus.ids import ovt

    section = r.table(raw, ("parties",))
    by_name = {m.name: m for m in municipalities}
    out: dict[str, Party] = {}
    for name, item in section.items():
        path = ("parties", name)
        item = r.table(item, path)
        r.fields(item, path, _PARTY_FIELDS | ({"iban", "bic", "bank"} if name == host else set()))
        if name not in by_name:
            close = difflib.get_close_matches(name, by_name, n=1)
            r.problem(path, f"'{name}' is not a municipality of the agreement"
                      + (f" (did you mean '{close[0]}'?)" if close else ""))
            continue
        fields = {f: r.text(item, path, f).strip() for f in _PARTY_FIELDS}
        if name != host and host in by_name:  # an unknown host is reported once, not here again
            for f in ("iban", "bic", "bank"):
                if fields[f]:
                    r.problem(path + (f,), f"'{f}' belongs to the host ({host}), who is paid; members are not")
        postcode = fields["postcode"]
        if postcode and (fields["country"] or "FI") == "FI" and not re.fullmatch(r"\d{5}", postcode):
            r.problem(path + ("postcode",), f"expected a Finnish postcode of five digits, found {postcode!r}")
        business_id = by_name[name].business_id
        if fields["einvoice_address"]:
            try:
                fields["einvoice_address"] = ovt.validate(fields["einvoice_address"], business_id or None)
            except ValueError as exc:
                r.problem(path + ("einvoice_address",), f"expected an OVT e-invoice address (0037 + the business "
                          f"ID's 8 digits + optional suffix) of {name}: {_reason(exc)}; found {fields['einvoice_address']!r}")
        if fields["operator"]:
            try:
                fields["operator"] = ovt.validate_operator(fields["operator"])
            except ValueError as exc:
                r.problem(path + ("operator",), f"expected an e-invoice operator id (an OVT code such as 003721291126 "
                          f"or a BIC such as BAWCFI22): {_reason(exc)}; found {fields['operator']!r}")
        if fields["vat_number"]:
            from stdnum.fi import alv

            if not alv.is_valid(fields["vat_number"]):
                r.problem(path + ("vat_number",), f"expected a Finnish VAT number (FI12345678), found {fields['vat_number']!r}")
            else:
                fields["vat_number"] = "FI" + alv.compact(fields["vat_number"])
        if name == host and (fields["iban"] or fields["bic"]):
            fields["iban"], fields["bic"] = _account(fields["iban"], fields["bic"], path, r)
        out[name] = Party(name=name, **{**fields, "country": fields["country"] or "FI"}, line=r.line(path))
    return out


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc).rstrip(".")


def _account(iban: str, bic: str, path: tuple, r: _Reader) -> tuple[str, str]:
    """The host's account: IBAN with its Finnish national check digit, and a BIC of the same bank."""
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    if not iban or not bic:
        r.problem(path + ("iban" if not iban else "bic",), "an account needs both 'iban' and 'bic'")
        return iban, bic
    try:
        account = IBAN(iban, validate_bban=True)
    except SchwiftyException as exc:
        r.problem(path + ("iban",), f"expected a valid IBAN (check digits and the national check digit): {exc}; found {iban!r}")
        return iban, bic
    try:
        code = BIC(bic)
    except SchwiftyException as exc:
        r.problem(path + ("bic",), f"expected a valid BIC: {exc}; found {bic!r}")
        return str(account.compact), bic
    expected = account.bic
    if expected is not None and str(expected)[:6] != str(code)[:6]:
        r.problem(path + ("bic",), f"the BIC {code} is not the bank of IBAN {account.formatted} (expected {expected})")
    return str(account.compact), str(code)
