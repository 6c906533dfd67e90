"""Structured logs: one line per request, and every refusal at warning.

Each request is logged once, when its answer is sent, by `RequestLog` (a plain ASGI
middleware): method, path, status, duration in milliseconds, who asked (the principal's
name, once known), the area, and the request's id (the client's `X-Request-ID` when it is
a sane token, else a fresh one; sent back in the answer's `X-Request-ID`). A refusal
(401, 403, 404, 409, 412, 422, 428, 429) is logged at warning, a server error at error,
the rest at info. No body, no password, no token and no query string is ever logged
(a query may hold a municipality's name, never a secret, but a log is kept longer
than anyone reads it).

`OSUUS_LOG_FORMAT=json` (the default) writes one JSON object per line; `text` a line
for people.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import sys
import time

LOGGER = "osuus.api"
REQUEST_ID = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
REFUSALS = frozenset({401, 403, 404, 409, 412, 422, 428, 429})

log = logging.getLogger(LOGGER)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        data.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {}) or {}
        extra = " ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, ""))
        line = f"{record.levelname.lower():7} {record.getMessage()}" + (f"  {extra}" if extra else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(log_format: str = "json", stream=None) -> None:
    """Send the server's logs (and uvicorn's own) to `stream` (stderr) in `log_format`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for name in (LOGGER, "osuus.access", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # RequestLog writes the one line per request


def level_of(status: int) -> int:
    if status >= 500:
        return logging.ERROR
    if status in REFUSALS:
        return logging.WARNING
    return logging.INFO


def request_id(headers: dict[str, str]) -> str:
    given = headers.get("x-request-id", "")
    return given if _SANE_ID.match(given) else secrets.token_hex(8)


class RequestLog:
    """ASGI middleware: the request's id in `scope["state"]["request_id"]` and in the answer's
    header, and one log line when the answer has been sent."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        state = scope.setdefault("state", {})
        rid = state["request_id"] = request_id(headers)
        status = 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(REQUEST_ID.lower().encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            fields = {"method": scope.get("method"), "path": scope.get("path"), "status": status,
                      "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                      "principal": state.get("principal_name"), "area": state.get("area"), "request_id": rid}
            if state.get("refusal"):
                fields["reason"] = state["refusal"]
            log.log(level_of(status), "%s %s %s", scope.get("method"), scope.get("path"), status,
                    extra={"fields": fields})
