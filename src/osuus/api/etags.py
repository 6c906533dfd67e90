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
