"""ETags of documents: a document's tag is known before it is made, so that a client that
has it gets 304 Not Modified without the PDF or the XML being rendered again.

An issued document never changes, but what it is made from may (the newest revision of
its agreement's master data: an address, an e-invoice address), and so may the program
that makes it. The tag is the SHA-256 of everything the bytes are made of: the
invoice's own content (its view, lines included), the agreement revision's hash, the
format, the language and the version of osuus. A Finvoice message is a new send each
time it is made (a fresh message identifier and time stamp), so its bytes differ while
its content does not: its tag is weak (`W/"…"`).
"""

from __future__ import annotations

import hashlib
import json

from fastapi import Request
from fastapi.responses import Response

from osuus import __version__


def tag(*parts, weak: bool = False) -> str:
    digest = hashlib.sha256(json.dumps([__version__, *parts], default=str, sort_keys=True).encode()).hexdigest()
    return f'{"W/" if weak else ""}"{digest[:40]}"'


def _opaque(value: str) -> str:
    value = value.strip()
    return value[2:] if value.startswith("W/") else value


def matches(request: Request, etag: str) -> bool:
    """Whether If-None-Match names `etag` (weak comparison, as RFC 9110 asks for GET)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return _opaque(etag) in {_opaque(part) for part in header.split(",")}


def not_modified(etag: str, cache_control: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


#: Documents are of one area and one principal's rights: cached by the client only, and revalidated.
PRIVATE = "private, no-cache"


class DocumentCache:
    """The bytes of documents already made, by their strong ETag (and area): an issued document
    is made again only when something it is made of changes, which changes its tag. Bounded by
    `max_bytes`, the least recently used go first. Weak tags (Finvoice: a new send each time)
    are never cached."""

    def __init__(self, max_bytes: int = 64 * 2**20):
        import threading
        from collections import OrderedDict

        self.max_bytes, self.size = max_bytes, 0
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, area: str, etag: str, make) -> bytes:
        if etag.startswith("W/"):
            return make()
        key = (area, etag)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = make()  # outside the lock: two requests may make the same document once each
        with self._lock:
            if key not in self._items and len(made) <= self.max_bytes:
                self._items[key] = made
                self.size += len(made)
                while self.size > self.max_bytes:
                    _, dropped = self._items.popitem(last=False)
                    self.size -= len(dropped)
        return made
