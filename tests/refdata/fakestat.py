"""A fake StatFin (PxWeb API v1) for the tests: a real HTTP server on 127.0.0.1 in a thread.

It serves two tables, population 31.12. (vaerak/11ra) and unemployed
jobseekers at month end (tyonv/12r5), in either shape:

- `shape="post"` — StatFin since 8 June 2026: short table ids
  (`vaerak/11ra.px`), variable codes (`alue_23_20260101` with `map`,
  `timeperiod_y` / `timeperiod_m`, `contentscode`; 12r5 keeps `Alue`), the
  content code `vaerak-vaesto` prefixed, `extension.px.tableid` "11ra", the
  `geo` role in the answers;
- `shape="pre"` — before it: long ids (`vaerak/statfin_vaerak_pxt_11ra.px`,
  a 404 at the short one), the variables identified by their names (`Alue`,
  `Vuosi`, `Kuukausi`, `Tiedot`), the content code `vaesto`, no `geo` role.

What the shapes are modelled on (no network was used to write them):
PxWeb API v1's documented behaviour (metadata by GET, data by POST of
`{"query": [...], "response": {"format": "json-stat2"}}`, the `?config`
answer `{"maxValues", "maxCells", "maxCalls", "timeWindow", "CORS"}`, 403 for
too many cells, which StatFin answers with an IIS HTML page, 429 for too many
calls); Statistics Finland's notice of the 8 June 2026 change (shortened
table ids, variable codes, prefixed content codes); and public code that
queries these tables before and after the change (`Alue`/`Vuosi`/`Tiedot`
with `vaesto` and `KU020`; `alue_23_20260101`/`timeperiod_y`/`contentscode`
with `vaerak-vaesto`; `Alue`/`timeperiod_m`/`contentscode` with
`TYOTTOMATLOPUSSA` for 12r5). The post-June 12r5 here uses bare area codes
(`020`) and the others `KU020`, so that both forms are exercised; check the
real forms with the live test. **The figures are invented**, not
Statistics Finland's.

A scenario can refuse queries over `refuse_over` cells (403), answer the next
`rate_limit` POSTs with 429 and `Retry-After`, and publish a cell as secret
(`null` with the status `..`: Kihniö's jobseekers of July 2023).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NAMES = {"020": "Akaa", "108": "Hämeenkyrö", "214": "Kankaanpää", "250": "Kihniö", "604": "Pirkkala",
         "837": "Tampere"}
REGIONS = {"MK06": "Pirkanmaa", "SK064": "Tampereen seutukunta"}

#: Invented populations on 31.12.
POPULATION = {
    "020": {"2022": 16_552, "2023": 16_439, "2024": 16_387},
    "108": {"2022": 10_371, "2023": 10_326, "2024": 10_309},
    "214": {"2022": 12_989, "2023": 12_860, "2024": 12_799},
    "250": {"2022": 1_773, "2023": 1_747, "2024": 1_721},
    "604": {"2022": 20_035, "2023": 20_312, "2024": 20_587},
    "837": {"2022": 249_009, "2023": 255_050, "2024": 260_358},
}
MONTHS = [f"2023M{m:02d}" for m in range(1, 13)] + ["2024M01", "2024M02"]


def _jobseekers() -> dict[str, dict[str, int | None]]:
    base = {"020": 800, "108": 420, "214": 700, "250": 60, "604": 900, "837": 19_000}
    data: dict[str, dict[str, int | None]] = {}
    for code, start in base.items():
        data[code] = {month: start + 7 * i + (i % 3) for i, month in enumerate(MONTHS)}
    data["250"]["2023M07"] = None  # secret: published without a figure
    return data


JOBSEEKERS = _jobseekers()
SECRET = ("250", "2023M07")

CONTENTS_11RA_POST = {"vaerak-vaesto": "Väestö 31.12.", "vaesto_keski_ika": "Keski-ikä, molemmat sukupuolet",
                      "vaerak-miehet": "Miehet"}
CONTENTS_11RA_PRE = {"vaesto": "Väestö 31.12.", "vaesto_keski_ika": "Keski-ikä, molemmat sukupuolet",
                     "miehet": "Miehet"}
CONTENTS_12R5 = {"TYOTTOMATLOPUSSA": "Työttömät työnhakijat laskentapäivänä (lkm.)",
                 "TYOTOSUUS": "Työttömien osuus työvoimasta (%)", "AVPAIKATLOPUSSA": "Avoimet työpaikat (lkm.)"}


@dataclass
class Table:
    path: str
    table_id: str
    title: str
    label: str
    updated: str
    variables: list[dict[str, Any]]
    area: str
    time: str
    content: str
    data: dict[str, dict[str, int | None]]  # municipality code → period → figure
    wanted: str  # the content code the data is for
    role_geo: bool


def _area_values(prefix: bool) -> tuple[list[str], list[str]]:
    values = ["SSS"] + [f"KU{c}" if prefix else c for c in NAMES] + list(REGIONS)
    texts = ["KOKO MAA"] + list(NAMES.values()) + list(REGIONS.values())
    return values, texts


def tables(shape: str) -> dict[str, Table]:
    years = ["2022", "2023", "2024"]
    post = shape == "post"
    area_11ra = {"code": "alue_23_20260101" if post else "Alue", "text": "Alue"}
    values, texts = _area_values(True)
    area_11ra.update(values=values, valueTexts=texts)
    if post:
        area_11ra["map"] = "Alue 2026"
    contents = CONTENTS_11RA_POST if post else CONTENTS_11RA_PRE
    ra = Table(
        path="vaerak/11ra.px" if post else "vaerak/statfin_vaerak_pxt_11ra.px",
        table_id="11ra" if post else "statfin_vaerak_pxt_11ra",
        title="11ra -- Tunnuslukuja väestöstä alueittain, 1990-2024",
        label="Tunnuslukuja väestöstä alueittain muuttujina Alue, Tiedot ja Vuosi",
        updated="2026-04-30T05:00:00Z" if post else "2025-04-25T05:00:00Z",
        variables=[area_11ra,
                   {"code": "contentscode" if post else "Tiedot", "text": "Tiedot", "values": list(contents),
                    "valueTexts": list(contents.values())},
                   {"code": "timeperiod_y" if post else "Vuosi", "text": "Vuosi", "values": years,
                    "valueTexts": years, "time": True}],
        area=area_11ra["code"], time="timeperiod_y" if post else "Vuosi", content="contentscode" if post else "Tiedot",
        data={c: dict(v) for c, v in POPULATION.items()}, wanted="vaerak-vaesto" if post else "vaesto",
        role_geo=post,
    )
    values, texts = _area_values(not post)
    r5 = Table(
        path="tyonv/12r5.px" if post else "tyonv/statfin_tyonv_pxt_12r5.px",
        table_id="12r5" if post else "statfin_tyonv_pxt_12r5",
        title="12r5 -- Työnhakijat ja avoimet työpaikat kunnittain, 2006M01-2024M02",
        label="Työnhakijat ja avoimet työpaikat kunnittain muuttujina Alue, Kuukausi ja Tiedot",
        updated="2026-03-24T06:00:00Z" if post else "2024-03-26T06:00:00Z",
        variables=[{"code": "Alue", "text": "Alue", "values": values, "valueTexts": texts},
                   {"code": "timeperiod_m" if post else "Kuukausi", "text": "Kuukausi", "values": MONTHS,
                    "valueTexts": MONTHS, "time": True},
                   {"code": "contentscode" if post else "Tiedot", "text": "Tiedot", "values": list(CONTENTS_12R5),
                    "valueTexts": list(CONTENTS_12R5.values())}],
        area="Alue", time="timeperiod_m" if post else "Kuukausi", content="contentscode" if post else "Tiedot",
        data={c: dict(v) for c, v in JOBSEEKERS.items()}, wanted="TYOTTOMATLOPUSSA", role_geo=post,
    )
    return {t.path: t for t in (ra, r5)}


def municipality_of(area_value: str) -> str | None:
    code = area_value[2:] if area_value.startswith("KU") else area_value
    return code if code in NAMES else None


def figure(table: Table, area: str, period: str, content: str) -> int | None:
    """The cell's figure; the content not asked about and regions get figures of their own."""
    code = municipality_of(area)
    if content != table.wanted:
        return 42
    if code is None:
        return sum(v[period] or 0 for v in table.data.values())
    return table.data[code].get(period)


def dataset(table: Table, selected: dict[str, list[str]], shape: str) -> dict[str, Any]:
    """A JSON-stat 2.0 answer as StatFin writes it, the variables in the table's order."""
    ids = [v["code"] for v in table.variables]
    dims = {}
    for v in table.variables:
        codes = selected[v["code"]]
        texts = dict(zip(v["values"], v["valueTexts"]))
        dims[v["code"]] = {"label": v["text"],
                           "category": {"index": {c: i for i, c in enumerate(codes)},
                                        "label": {c: texts[c] for c in codes}},
                           "extension": {"show": "value"}}
    values: list[int | None] = []
    status: dict[str, str] = {}
    coords = [selected[i] for i in ids]

    def walk(depth: int, chosen: dict[str, str]) -> None:
        if depth == len(ids):
            value = figure(table, chosen[table.area], chosen[table.time], chosen[table.content])
            if value is None:
                status[str(len(values))] = ".."
            values.append(value)
            return
        for code in coords[depth]:
            walk(depth + 1, {**chosen, ids[depth]: code})

    walk(0, {})
    role = {"time": [table.time], "metric": [table.content]}
    if table.role_geo:
        role["geo"] = [table.area]
    answer: dict[str, Any] = {
        "version": "2.0", "class": "dataset", "label": table.label, "source": "Tilastokeskus",
        "updated": table.updated, "id": ids, "size": [len(c) for c in coords], "dimension": dims,
        "value": values, "role": role,
        "extension": {"px": {"infofile": "None", "tableid": table.table_id, "decimals": 0,
                             "official-statistics": True, "aggregallowed": False, "language": "fi",
                             "contents": table.label.split(" muuttujina")[0], "descriptiondefault": False}},
    }
    if status:
        answer["status"] = status
    return answer


IIS_403 = (b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
           b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n<html><head><title>403 - Forbidden: Access is '
           b'denied.</title></head><body><h2>403 - Forbidden: Access is denied.</h2></body></html>')


@dataclass
class Scenario:
    shape: str = "post"
    max_cells: int = 120_000  # what ?config says
    max_values: int = 120_000
    max_calls: int = 40
    time_window: int = 60
    refuse_over: int | None = None  # cells over which a query is refused with 403 (the real limit)
    rate_limit: int = 0  # answer the next this many POSTs with 429
    retry_after: str | None = "7"
    config: bool = True  # False: ?config answers 404
    garbage: bool = False  # True: a query is answered 200 with an HTML page


@dataclass
class Request:
    method: str
    path: str
    body: Any = None


@dataclass
class FakeStatFin:
    scenario: Scenario = field(default_factory=Scenario)
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/PxWeb/api/v1"

    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def start(self) -> FakeStatFin:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, data: Any) -> None:
                self._send(200, json.dumps(data, ensure_ascii=False).encode("utf-8"))

            def _table(self) -> Table | None:
                prefix = "/PxWeb/api/v1/fi/StatFin/"
                if not self.path.startswith(prefix):
                    return None
                return tables(fake.scenario.shape).get(self.path[len(prefix):])

            def do_GET(self) -> None:
                fake.requests.append(Request("GET", self.path))
                s = fake.scenario
                if self.path in ("/PxWeb/api/v1/fi/?config", "/PxWeb/api/v1/fi?config"):
                    if not s.config:
                        return self._send(404, b"Not Found", "text/plain")
                    return self._json({"maxValues": s.max_values, "maxCells": s.max_cells, "maxCalls": s.max_calls,
                                       "timeWindow": s.time_window, "CORS": True})
                table = self._table()
                if table is None:
                    return self._send(404, b"<html><body>404 - File or directory not found.</body></html>",
                                      "text/html")
                return self._json({"title": table.title, "variables": table.variables})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                fake.requests.append(Request("POST", self.path, body))
                s = fake.scenario
                if s.rate_limit > 0:
                    s.rate_limit -= 1
                    headers = {"Retry-After": s.retry_after} if s.retry_after is not None else {}
                    return self._send(429, b"Too Many Requests", "text/plain", headers)
                table = self._table()
                if table is None:
                    return self._send(404, b"<html><body>404</body></html>", "text/html")
                if not isinstance(body, dict) or not isinstance(body.get("query"), list):
                    return self._send(400, b"Bad Request", "text/plain")
                by_code = {v["code"]: v for v in table.variables}
                selected = {code: list(v["values"]) for code, v in by_code.items()}
                for q in body["query"]:
                    v = by_code.get(q.get("code"))
                    sel = q.get("selection") or {}
                    if v is None or sel.get("filter") != "item" or any(x not in v["values"] for x in sel["values"]):
                        return self._send(400, b"Bad Request", "text/plain")
                    selected[v["code"]] = list(sel["values"])
                if (body.get("response") or {}).get("format") != "json-stat2":
                    return self._send(400, b"Bad Request", "text/plain")
                cells = math.prod(len(x) for x in selected.values())
                if s.refuse_over is not None and cells > s.refuse_over:
                    return self._send(403, IIS_403, "text/html")
                if s.garbage:
                    return self._send(200, b"<html><body>Service unavailable</body></html>", "text/html")
                return self._json(dataset(table, selected, s.shape))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class FakeTime:
    """A clock that moves only when the client sleeps: no test waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
