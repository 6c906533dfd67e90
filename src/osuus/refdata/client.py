"""A small client of a PxWeb API v1 service (StatFin), on httpx.

The API: `GET {api}/{lang}/?config` gives the service's limits
(`{"maxValues", "maxCells", "maxCalls", "timeWindow", "CORS"}`: at most
`maxCells` cells and `maxValues` selected values per query, at most
`maxCalls` calls in `timeWindow` seconds). `GET {api}/{lang}/{db}/{path}.px`
gives a table's metadata (its variables), and `POST` to the same address a
query (`{"query": [...], "response": {"format": "json-stat2"}}`) gives the
data.

The client keeps to the limits: it counts its own calls in a sliding window
and waits before a call that would exceed `maxCalls`. A `429 Too Many
Requests` is retried after the time its `Retry-After` header asks (seconds or
an HTTP date; the window's length when there is none), at most `retries`
times and never longer than `max_wait` seconds. A `403` to a query means too
many cells (StatFin answers it with an IIS error page, not JSON): it is raised
as `TooManyCells`, for the caller to split the query. A timeout, a network
error or a `5xx` is retried with a growing pause; what still fails becomes a
`Problem`, raised in a `ProblemsError` (`code` "refdata.network",
"refdata.http", "refdata.rate_limited", "refdata.bad_response";
`TableNotFound` for a 404).

`sleep`, `clock` and `now` can be given (tests pass ones that do not wait).
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from osuus.problems import Problem, ProblemsError, Severity
from osuus.refdata.jsonstat import JsonStatError, loads

DEFAULT_API = "https://pxdata.stat.fi/PxWeb/api/v1"
USER_AGENT = "osuus-refdata/0.1 (cost sharing between Finnish municipalities)"


@dataclass(frozen=True, slots=True)
class Limits:
    """The service's limits, from `?config` (or, when it cannot be read, careful defaults)."""

    max_cells: int = 100_000
    max_values: int = 100_000
    max_calls: int = 30
    time_window: float = 10.0
    from_service: bool = False

    @classmethod
    def from_config(cls, data: Any) -> Limits:
        """From a `?config` answer. `maxCells` may be missing: then `maxValues` is taken for both."""
        if not isinstance(data, dict):
            raise ValueError("the ?config answer is not an object")

        def number(name: str) -> int | None:
            value = data.get(name)
            if value is None:
                return None
            if isinstance(value, bool) or int(value) <= 0:
                raise ValueError(f"?config: {name} is not a positive number: {value!r}")
            return int(value)

        cells, values = number("maxCells"), number("maxValues")
        calls, window = number("maxCalls"), number("timeWindow")
        default = cls()
        return cls(
            max_cells=cells or values or default.max_cells, max_values=values or cells or default.max_values,
            max_calls=calls or default.max_calls, time_window=float(window or default.time_window),
            from_service=True,
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: its JSON (Decimal numbers), its bytes' hash, when it came."""

    url: str
    body: bytes
    data: Any
    fetched: dt.datetime
    sha256: str
    request: str = ""  # the JSON text posted, "" for a GET


class TableNotFound(ProblemsError):
    """The service has no table at the address (HTTP 404)."""


class TooManyCells(ProblemsError):
    """The service refused a query as too large (HTTP 403)."""


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds a `Retry-After` header asks to wait: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class PxWebClient:
    """GET a table's metadata, POST a query, read the limits; within the limits, with retries."""

    def __init__(self, api_url: str = DEFAULT_API, lang: str = "fi", database: str = "StatFin", *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 30.0, retries: int = 3,
                 max_wait: float = 300.0, limits: Limits | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], dt.datetime] = _utc_now,
                 user_agent: str = USER_AGENT):
        self.api_url = api_url.rstrip("/")
        self.lang = lang
        self.database = database
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait
        self._limits = limits
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._calls: collections.deque[float] = collections.deque()
        self._skew = 0.0  # time a pause took but the clock did not show (a sleep that does not wait)
        self._http = httpx.Client(transport=transport, timeout=httpx.Timeout(timeout),
                                  headers={"User-Agent": user_agent, "Accept": "application/json"},
                                  follow_redirects=True)
        self.warnings: list[Problem] = []  # what went wrong but did not stop anything (e.g. no ?config)
        self.calls_made = 0
        self.waited: list[float] = []  # every pause the client made, in seconds

    # addresses ------------------------------------------------------------------

    @property
    def config_url(self) -> str:
        return f"{self.api_url}/{self.lang}/?config"

    def table_url(self, table: str) -> str:
        path = table.strip("/")
        return f"{self.api_url}/{self.lang}/{self.database}/{path if path.endswith('.px') else path + '.px'}"

    # the three calls ----------------------------------------------------------------

    def limits(self) -> Limits:
        """The service's limits (`?config`), read once. When the service answers but not with
        its limits, careful defaults are used and a warning is kept in `warnings`; when it
        cannot be reached at all, the ProblemsError is raised."""
        if self._limits is None:
            try:
                reply = self._request("GET", self.config_url, key="config")
                self._limits = Limits.from_config(reply.data)
            except ProblemsError as exc:
                if any(p.code == "refdata.network" for p in exc.problems):
                    raise
                reason = "; ".join(p.message for p in exc.problems)
                self._default_limits(reason)
            except (ValueError, TypeError) as exc:
                self._default_limits(str(exc))
        assert self._limits is not None
        return self._limits

    def _default_limits(self, reason: str) -> None:
        self._limits = Limits()
        self.warnings.append(Problem(
            f"the service's limits could not be read ({reason}); using {self._limits.max_cells} cells per "
            f"query and {self._limits.max_calls} calls per {self._limits.time_window:g} s",
            file=self.config_url, key="config", code="refdata.config", severity=Severity.WARNING))

    def metadata(self, table: str) -> Reply:
        """A table's metadata: `{"title", "variables": [{"code", "text", "values", "valueTexts", …}]}`."""
        return self._request("GET", self.table_url(table), key=table)

    def query(self, table: str, body: dict[str, Any]) -> Reply:
        """POST a query; the answer's JSON with Decimal numbers. Raises TooManyCells on a 403."""
        return self._request("POST", self.table_url(table), key=table, body=body)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PxWebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the machinery -------------------------------------------------------------------

    def _time(self) -> float:
        return self._clock() + self._skew

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self.waited.append(seconds)
            before = self._clock()
            self._sleep(seconds)
            slept = self._clock() - before
            if slept < seconds:
                self._skew += seconds - slept

    def _throttle(self) -> None:
        """Wait until one more call keeps within `maxCalls` per `timeWindow`."""
        limits = self._limits or Limits()
        window = limits.time_window
        while True:
            now = self._time()
            while self._calls and now - self._calls[0] >= window - 1e-9:
                self._calls.popleft()
            if len(self._calls) < limits.max_calls:
                self._calls.append(now)
                return
            self._pause(self._calls[0] + window - now)

    def _request(self, method: str, url: str, *, key: str, body: dict[str, Any] | None = None) -> Reply:
        request = json.dumps(body, ensure_ascii=False) if body is not None else ""
        content = request.encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        failures = 0
        rate_limited = 0

        def problem(message: str, code: str) -> Problem:
            return Problem(message, file=url, key=key, code=code)

        while True:
            self._throttle()
            self.calls_made += 1
            try:
                response = self._http.request(method, url, content=content, headers=headers)
            except httpx.TimeoutException:
                reason = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                status = response.status_code
                if status == 200:
                    try:
                        data = loads(response.content)
                    except (JsonStatError, UnicodeDecodeError) as exc:
                        start = response.content[:60].decode("utf-8", "replace")
                        raise ProblemsError([problem(f"the service answered, but not with JSON ({exc}); it "
                                                     f"begins {start!r}", "refdata.bad_response")]) from None
                    return Reply(url=url, body=response.content, data=data, fetched=self._now(),
                                 sha256=hashlib.sha256(response.content).hexdigest(), request=request)
                if status == 429:
                    rate_limited += 1
                    limits = self._limits or Limits()
                    wait = retry_after(response.headers.get("Retry-After"), self._now())
                    wait = limits.time_window if wait is None else wait
                    if rate_limited > self.retries:
                        raise ProblemsError([problem(f"the service still refuses calls as too many (HTTP 429) "
                                                     f"after {self.retries} waits; try again later",
                                                     "refdata.rate_limited")])
                    if wait > self.max_wait:
                        raise ProblemsError([problem(f"the service refuses calls as too many (HTTP 429) and asks "
                                                     f"to wait {wait:g} s, more than {self.max_wait:g} s; try again "
                                                     f"later", "refdata.rate_limited")])
                    self._pause(wait)
                    continue
                if status == 403 and method == "POST":
                    raise TooManyCells([problem("the service refused the query as too large (HTTP 403: too many "
                                                "cells)", "refdata.too_many_cells")])
                if status == 404:
                    raise TableNotFound([problem(f"the service has no table {key} (HTTP 404)",
                                                 "refdata.table_not_found")])
                text = response.content[:200].decode("utf-8", "replace").strip()
                if status < 500:
                    raise ProblemsError([problem(f"the service refused the request (HTTP {status}): {text!r}",
                                                 "refdata.http")])
                reason = f"HTTP {status}: {text[:80]!r}"
            failures += 1
            if failures > self.retries:
                raise ProblemsError([problem(f"the service could not be reached: {reason} (tried "
                                             f"{failures} times)", "refdata.network")])
            self._pause(min(2.0 ** (failures - 1), 30.0))
