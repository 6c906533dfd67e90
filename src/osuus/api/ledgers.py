"""The server's ledgers: one database, two engines, a view per request.

Requests share two `Ledger`s of the database (osuus.services.ledger), made on first
use: a reader, whose transactions on SQLite begin DEFERRED (in WAL mode they neither
take nor wait for the write lock, so reads go on while an invoice run writes), and a
writer, whose transactions take the write lock at once (BEGIN IMMEDIATE). Each
request works on `ledger.acting(principal, area)`: a view of one of them that acts as
the principal (whom the audit log records) in the request's area (every transaction
begins in it; on PostgreSQL, row-level security holds it there too). A view per
area is kept, so an area's code is looked up once.

Whether the database is migrated is checked on the first use, and again on every
call until it is: a server started before `osuus db upgrade` answers 503 until then.
"""

from __future__ import annotations

import threading

from osuus.services.ledger import Ledger
from osuus.store.db import current_revision, head_revision, require_migrated, resolve_url

SERVER_ACTOR = "osuus-api"
#: Connections each of the two engines keeps (as many again at a peak): requests run in up to
#: 40 worker threads, which should not wait for a connection.
POOL_SIZE = 10


class Ledgers:
    def __init__(self, database_url: str | None = None, *, self_approval: bool = False):
        self.url = resolve_url(database_url)
        self.self_approval = self_approval
        self._lock = threading.Lock()
        self._bases: dict[bool, Ledger] = {}
        self._areas: dict[tuple[bool, str], Ledger] = {}
        self._migrated = False

    def base(self, readonly: bool = False) -> Ledger:
        """The reader or the writer (the database must be migrated: NotMigrated otherwise)."""
        with self._lock:
            ledger = self._bases.get(readonly)
            if ledger is None:
                ledger = self._bases[readonly] = Ledger(self.url, SERVER_ACTOR, readonly=readonly, migrated=False,
                                                        self_approval=self.self_approval, pool_size=POOL_SIZE)
        if not self._migrated:
            require_migrated(ledger.engine)
            self._migrated = True
        return ledger

    def area(self, code: str, readonly: bool = False) -> Ledger:
        """The server's ledger in the area `code` (ProblemsError `area.unknown` for an area the
        database does not have)."""
        key = (readonly, code)
        ledger = self._areas.get(key)
        if ledger is None:
            ledger = self.base(readonly).acting(SERVER_ACTOR, code)
            with self._lock:
                self._areas[key] = ledger
        return ledger

    def acting(self, actor: str, area: str, *, readonly: bool = False, reason: str = "",
               context: dict | None = None) -> Ledger:
        """The server's ledger in `area` acting as `actor`; a write's audit record gets `reason`
        (where its use case has none) and `context` (the request it came from)."""
        return self.area(area, readonly).acting(actor, reason=reason, context=context)

    def health(self) -> dict:
        """Whether the database answers, and whether it is at the revision this program needs."""
        head = head_revision()
        with self._lock:
            ledger = self._bases.get(True) or self._bases.get(False)
            if ledger is None:
                ledger = self._bases[True] = Ledger(self.url, SERVER_ACTOR, readonly=True, migrated=False,
                                                    self_approval=self.self_approval)
        revision = current_revision(ledger.engine)
        return {"backend": ledger.engine.dialect.name, "revision": revision,
                "head": head, "migrated": revision == head}

    def close(self) -> None:
        with self._lock:
            for ledger in self._bases.values():
                ledger.close()
            self._bases.clear()
            self._areas.clear()
