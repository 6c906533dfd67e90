"""JSON-stat 2.0 datasets, read with every number a Decimal.

The text is parsed with `parse_float=Decimal` (integers stay integers and
become Decimal exactly), so no figure ever passes through a binary float;
`NaN` and `Infinity` are refused. A dataset's `value` is a flat list in
row-major order over `id`/`size` (the last dimension varies fastest), or an
object of index → value for a sparse one. A `null` value is a cell without a
figure: `status` (an object of index → symbol, a list, or one string for
every cell) says why (missing, secret, not applicable). Such a cell is never
read as zero: `cell()` gives (None, symbol).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Mapping


class JsonStatError(ValueError):
    """The text is not a JSON-stat 2.0 dataset osuus can read."""


def _refuse_constant(name: str) -> Any:
    raise JsonStatError(f"{name} is not a number a statistics service publishes")


def loads(data: bytes | str) -> Any:
    """JSON with every non-integer number as Decimal; NaN and Infinity refused."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    elif data.startswith("\ufeff"):
        data = data[1:]
    try:
        return json.loads(data, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise JsonStatError(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


@dataclass(frozen=True, slots=True)
class Dimension:
    id: str
    label: str
    codes: tuple[str, ...]  # category codes in index order
    labels: Mapping[str, str]  # code → label

    def label_of(self, code: str) -> str:
        return self.labels.get(code, code)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A JSON-stat 2.0 dataset, its numbers Decimal (or None for a cell without one)."""

    dimensions: tuple[Dimension, ...]
    values: Mapping[int, Decimal | None]  # flat index → value (absent: not in the response)
    status: Mapping[int, str]
    roles: Mapping[str, tuple[str, ...]]  # "time", "geo", "metric" → dimension ids
    label: str = ""
    source: str = ""
    updated: str = ""
    table_id: str = ""  # extension.px.tableid, when the service gives it

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    def dimension(self, dim_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dim_id:
                return d
        raise KeyError(dim_id)

    def index_of(self, coords: Mapping[str, str]) -> int:
        """The flat index of the cell at `coords` (a code for every dimension)."""
        index = 0
        for d in self.dimensions:
            position = d.codes.index(coords[d.id])  # ValueError: not a code of the dimension
            index = index * len(d.codes) + position
        return index

    def cell(self, coords: Mapping[str, str]) -> tuple[Decimal | None, str] | None:
        """(value, status symbol) of a cell; value None when published without a figure;
        None when the response does not hold the cell at all."""
        try:
            index = self.index_of(coords)
        except (KeyError, ValueError):
            return None
        if index not in self.values:
            return None
        return self.values[index], self.status.get(index, "")


def _codes(dim_id: str, category: Any) -> tuple[tuple[str, ...], dict[str, str]]:
    if not isinstance(category, dict):
        raise JsonStatError(f"dimension {dim_id!r} has no category")
    labels = category.get("label") or {}
    if not isinstance(labels, dict):
        raise JsonStatError(f"dimension {dim_id!r}: category.label is not an object")
    index = category.get("index")
    if index is None:
        if len(labels) != 1:
            raise JsonStatError(f"dimension {dim_id!r} has no category.index")
        codes = tuple(labels)
    elif isinstance(index, list):
        codes = tuple(str(c) for c in index)
    elif isinstance(index, dict):
        ordered = sorted(index.items(), key=lambda item: int(item[1]))
        if [int(i) for _, i in ordered] != list(range(len(ordered))):
            raise JsonStatError(f"dimension {dim_id!r}: category.index is not 0…n-1")
        codes = tuple(str(c) for c, _ in ordered)
    else:
        raise JsonStatError(f"dimension {dim_id!r}: category.index is neither a list nor an object")
    return codes, {str(k): str(v) for k, v in labels.items()}


def _number(value: Any, index: int) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise JsonStatError(f"value #{index} is not a number: {value!r}")
    return Decimal(value)


def parse_dataset(data: Any) -> Dataset:
    """A JSON-stat 2.0 dataset from parsed JSON (`loads`). Raises JsonStatError."""
    if not isinstance(data, dict):
        raise JsonStatError("not a JSON-stat dataset: the top level is not an object")
    if data.get("class", "dataset") != "dataset":
        raise JsonStatError(f"not a JSON-stat dataset: class is {data.get('class')!r}")
    ids, sizes, dims = data.get("id"), data.get("size"), data.get("dimension")
    if not isinstance(ids, list) or not isinstance(sizes, list) or not isinstance(dims, dict):
        raise JsonStatError("not a JSON-stat 2.0 dataset: id, size or dimension missing")
    if len(ids) != len(sizes):
        raise JsonStatError("id and size have different lengths")
    dimensions = []
    for dim_id, size in zip(ids, sizes):
        dim = dims.get(dim_id)
        if not isinstance(dim, dict):
            raise JsonStatError(f"dimension {dim_id!r} is listed in id but not described")
        codes, labels = _codes(dim_id, dim.get("category"))
        if len(codes) != int(size):
            raise JsonStatError(f"dimension {dim_id!r} has {len(codes)} categories, size says {size}")
        dimensions.append(Dimension(str(dim_id), str(dim.get("label", dim_id)), codes, MappingProxyType(labels)))
    cells = math.prod(int(s) for s in sizes)
    raw = data.get("value")
    values: dict[int, Decimal | None] = {}
    if isinstance(raw, list):
        if len(raw) != cells:
            raise JsonStatError(f"value has {len(raw)} entries, the dimensions make {cells} cells")
        for i, v in enumerate(raw):
            values[i] = _number(v, i)
    elif isinstance(raw, dict):
        for k, v in raw.items():
            i = int(k)
            if not 0 <= i < cells:
                raise JsonStatError(f"value index {k} is outside the {cells} cells")
            values[i] = _number(v, i)
    else:
        raise JsonStatError("value is missing")
    status_raw = data.get("status")
    status: dict[int, str] = {}
    if isinstance(status_raw, str):
        status = {i: status_raw for i in values}
    elif isinstance(status_raw, list):
        status = {i: str(s) for i, s in enumerate(status_raw) if s not in (None, "")}
    elif isinstance(status_raw, dict):
        status = {int(k): str(s) for k, s in status_raw.items() if s not in (None, "")}
    roles_raw = data.get("role") or {}
    roles = {str(r): tuple(str(d) for d in ds) for r, ds in roles_raw.items() if isinstance(ds, list)}
    px = ((data.get("extension") or {}).get("px") or {}) if isinstance(data.get("extension"), dict) else {}
    return Dataset(
        dimensions=tuple(dimensions), values=MappingProxyType(values), status=MappingProxyType(status),
        roles=MappingProxyType(roles), label=str(data.get("label", "")), source=str(data.get("source", "")),
        updated=str(data.get("updated", "")), table_id=str(px.get("tableid", "")) if isinstance(px, dict) else "",
    )
