"""Pagination of lists: `?limit=&cursor=`, the same on every list.

A list answers one page: `{"items": [...], "total": N, "limit": L, "next_cursor": "…"}`,
and the headers `X-Total-Count: N` and `Link: <…?cursor=…&limit=L>; rel="next"` (none
on the last page). The cursor is opaque to the client: it is only ever taken from an
answer, never made. A cursor that is not one is refused (422, naming `cursor`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Sequence

from fastapi import Query, Request, Response

from osuus.problems import Problem, ProblemsError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageAsk:
    limit: int
    offset: int


def encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text[:1] == "o" and text[1:].isdigit():
            return int(text[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise ProblemsError([Problem("expected a cursor from an earlier answer (next_cursor)", key="cursor",
                                 value=cursor[:60], code="request.cursor")])


def page_ask(limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page"),
             cursor: str | None = Query(None, max_length=100, description="next_cursor of the page before")) -> PageAsk:
    return PageAsk(limit, decode(cursor) if cursor else 0)


def page(request: Request, response: Response, items: Sequence, total: int, ask: PageAsk) -> dict:
    """The page's answer (and its headers), for `items` (the page's items) out of `total`."""
    after = ask.offset + len(items)
    next_cursor = encode(after) if after < total else None
    response.headers["X-Total-Count"] = str(total)
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor, limit=ask.limit)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    return {"items": list(items), "total": total, "limit": ask.limit, "next_cursor": next_cursor}
