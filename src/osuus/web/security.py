"""Security headers on every answer, and a Content-Security-Policy that allows no inline script.

The pages load their one style sheet and their scripts (htmx, and osuus.js for the drop zone
and the progress bar) from this server alone; no inline script or style attribute is needed,
so none is allowed. Pages are not kept by caches (they show money and are per reader) and may
not be framed by another site.
"""

from __future__ import annotations

import re

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; object-src 'none'")

HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP answer; `Cache-Control: no-store` on
    pages (HTML) that set none; HSTS over HTTPS."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in HEADERS if h[0] not in names)
                if https:
                    headers.append(HSTS)
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html") and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: The most a request's body may hold: an import's file, and anything else (a form, a JSON body).
UPLOAD_LIMIT = 1024 * 2**20
BODY_LIMIT = 2**20
_UPLOAD_PATH = re.compile(r"^(/api/v1)?/areas/[^/]+/imports(/|$)")


def body_limit(path: str) -> int:
    return UPLOAD_LIMIT if _UPLOAD_PATH.match(path) else BODY_LIMIT


class BodyLimit:
    """ASGI middleware: a body beyond its limit (`body_limit`) is answered 413 before the app
    reads it all — by its Content-Length at once, or, sent in chunks, as soon as it passes the
    limit — so that no one fills the server's memory or disk through a public form."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        length = next((v for n, v in scope["headers"] if n == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send)
            return
        seen, refused = 0, False

        async def counted():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit and not refused:
                    refused = True
                    await _too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded_send)


async def _too_large(send) -> None:
    body = b"The request is too large."
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
