"""`Idempotency-Key` on every POST of an area: a request retried with the same key gets the
answer the first one got, and creates nothing twice.

The key is optional (a POST without one simply runs) and honoured when given: 1–200
printable ASCII characters, chosen by the client (a UUID is usual), and kept per area
and principal (`IdempotencyKey`):

1. Before the work, the key is claimed in a transaction of its own, committed at once:
   a row with no answer yet. A second request with the key finds the row:
   - another method, path, query or body: 422 (`idempotency-key-reused`);
   - the first is still running: it waits up to `WAIT` seconds for the answer, then
     gives 409 (`idempotency-in-progress`, `Retry-After: 1`);
   - the first is answered: its answer again (status, body, `Location`/`ETag`), with
     `Idempotent-Replayed: true`.
2. After the work, a success (2xx) is stored with the key; a refusal or an error
   releases the key (the row is removed), so that a corrected or retried request runs
   again — the work itself was all or nothing, so nothing of it is left.

A key claimed by a server that stopped before answering is released after `STALE`.
The request's fingerprint is the SHA-256 of its method, path, query and body; a
multipart body counts by its fields and the files' names and contents (a client's
random boundary does not make a retry another request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from osuus.api.problems import ApiProblem

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
WAIT = 2.0  # seconds a duplicate waits for the first request's answer
STALE = dt.timedelta(hours=1)  # longer than any request runs (a year's import takes minutes)
KEPT_HEADERS = ("content-type", "location", "etag")

PARAMETER = {
    "name": HEADER, "in": "header", "required": False,
    "description": "A key of the client's choosing (1–200 printable ASCII characters, a UUID is usual): a POST "
                   "retried with the same key gets the first answer again and creates nothing twice.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
}


class Replay(Exception):
    """The stored answer of an earlier request with the same key."""

    def __init__(self, status: int, body: str, headers: dict):
        self.status, self.body, self.headers = status, body, headers
        super().__init__(status)


@dataclass
class Claim:
    row_id: int
    ledger: object


def _valid(key: str) -> bool:
    return 1 <= len(key) <= 200 and all(33 <= ord(c) <= 126 for c in key)


async def fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.url.path}\n{request.url.query}\n".encode())
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()  # parsed already for the route: the same object
        for name, value in form.multi_items():
            digest.update(b"\x00" + name.encode() + b"\x00")
            if isinstance(value, UploadFile):
                content = hashlib.sha256()
                await value.seek(0)
                while chunk := await value.read(1 << 20):
                    content.update(chunk)
                await value.seek(0)
                digest.update(f"file:{value.filename}:{content.hexdigest()}".encode())
            else:
                digest.update(str(value).encode())
    else:
        digest.update(await request.body())
    return digest.hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _find(ledger, principal: str, key: str):
    from sqlalchemy import select

    from osuus.store.tables import IdempotencyKey

    with ledger.read() as session:
        return session.scalars(select(IdempotencyKey).where(IdempotencyKey.principal == principal,
                                                            IdempotencyKey.key == key)).one_or_none()


def _insert(ledger, principal: str, key: str, method: str, path: str, digest: str) -> int:
    from osuus.store.tables import IdempotencyKey

    with ledger.write() as tx:
        row = IdempotencyKey(key=key, principal=principal, method=method, path=path[:500], request_hash=digest,
                             status=None, response=None, headers={}, created_at=_now())
        tx.session.add(row)
        tx.session.flush()
        return row.id


def _delete(ledger, row_id: int) -> None:
    from sqlalchemy import delete

    from osuus.store.tables import IdempotencyKey

    with ledger.write() as tx:
        tx.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))


def _started(row) -> dt.datetime:
    """When the key was claimed (SQLite gives the stored UTC time back naive)."""
    at = row.created_at
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.timezone.utc)


def _claim(ctx, key: str, digest: str) -> Claim:
    from sqlalchemy.exc import IntegrityError

    ledger, principal = ctx.ledger, ctx.principal.name
    method, path = ctx.request.method, ctx.request.url.path
    deadline = time.monotonic() + WAIT
    vanished = 0
    while True:
        try:
            return Claim(_insert(ledger, principal, key, method, path, digest), ledger)
        except IntegrityError:
            row = _find(ctx.reader, principal, key)
            if row is None:  # released meanwhile: claim it again (a refusal that is no duplicate: raised)
                vanished += 1
                if vanished > 3:
                    raise
                continue
        if row.request_hash != digest:
            raise ApiProblem(422, f"the {HEADER} {key!r} was used for another request (another method, path, query "
                             "or body): use a new key for a new request", name="idempotency-key-reused",
                             title="Idempotency key reused", log_reason="idempotency-key-reused")
        if row.status is not None:
            raise Replay(row.status, row.response or "", dict(row.headers or {}))
        if _now() - _started(row) > STALE:
            _delete(ledger, row.id)
            continue
        if time.monotonic() >= deadline:
            raise ApiProblem(409, f"a request with the {HEADER} {key!r} is still being answered: retry shortly",
                             name="idempotency-in-progress", title="In progress", headers={"Retry-After": "1"},
                             log_reason="idempotency-in-progress")
        time.sleep(0.05)


async def begin(request: Request, ctx) -> None:
    """Claim the request's key (none: nothing to do); a replay or a refusal is raised."""
    key = request.headers.get(HEADER)
    if key is None:
        return
    if not _valid(key):
        raise ApiProblem(422, f"expected an {HEADER} of 1–200 printable ASCII characters", name="invalid-input",
                         log_reason="idempotency-key-invalid")
    digest = await fingerprint(request)
    claim = await run_in_threadpool(_claim, ctx, key, digest)
    request.scope.setdefault("state", {})["idempotency"] = claim


def _store(claim: Claim, response: Response) -> None:
    from osuus.store.tables import IdempotencyKey

    headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
    with claim.ledger.write() as tx:
        row = tx.session.get(IdempotencyKey, claim.row_id)
        if row is not None:
            row.status = response.status_code
            row.response = bytes(response.body).decode("utf-8")
            row.headers = headers


async def finish(request: Request, response: Response) -> None:
    claim = request.scope.get("state", {}).pop("idempotency", None)
    if claim is None:
        return
    if 200 <= response.status_code < 300 and hasattr(response, "body"):
        await run_in_threadpool(_store, claim, response)
    else:
        await run_in_threadpool(_delete, claim.ledger, claim.row_id)


async def release(request: Request) -> None:
    claim = request.scope.get("state", {}).pop("idempotency", None)
    if claim is not None:
        await run_in_threadpool(_delete, claim.ledger, claim.row_id)


async def on_replay(request: Request, exc: Replay) -> Response:
    headers = {k: v for k, v in exc.headers.items() if k in KEPT_HEADERS and k != "content-type"}
    headers[REPLAYED] = "true"
    return Response(exc.body.encode("utf-8"), status_code=exc.status, headers=headers,
                    media_type=exc.headers.get("content-type", "application/json"))
