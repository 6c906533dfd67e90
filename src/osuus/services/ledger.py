"""The ledger as the use cases see it: a database, who acts, and one transaction per use case.

`Ledger(url, actor)` opens a migrated database (or raises `NotMigrated`, with
what to run). A use case that writes runs in `ledger.write()`: one transaction,
in which it may append one audit record (`tx.audit(...)`), committed whole or
rolled back whole (a `ProblemsError` raised inside rolls everything back). A use
case that only reads runs in `ledger.read()`, which on SQLite neither takes nor
waits for the write lock, so a long export does not hold up an invoice run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy.orm import Session

from osuus.store import audit
from osuus.store.db import NotMigrated, make_engine, require_migrated, resolve_url, session_factory

__all__ = ["Ledger", "NotMigrated", "Tx", "fault_point", "now"]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def fault_point(name: str) -> None:
    """A place where tests stop the process on purpose (OSUUS_FAULT_POINT=name): it
    announces itself on stderr and waits, so that a test can kill it mid-transaction."""
    if os.environ.get("OSUUS_FAULT_POINT") == name:
        print(f"fault point {name} reached", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("OSUUS_FAULT_SLEEP", "60")))


@dataclass
class Tx:
    """One use case's transaction: its session, who acts, and its one audit record."""

    session: Session
    actor: str
    records: list = field(default_factory=list)

    def audit(self, action: str, subject: str, details: dict | None = None, reason: str = "") -> None:
        if self.records:
            raise RuntimeError(f"a use case writes one audit record; {action} would be the second")
        self.records.append(audit.append(self.session, actor=self.actor, action=action, subject=subject,
                                         reason=reason, details=details))


class Ledger:
    def __init__(self, url: str | None = None, actor: str = "", *, readonly: bool = False, migrated: bool = True):
        self.url = resolve_url(url)
        self.actor = actor or audit.current_actor()
        self.engine = make_engine(self.url, readonly=readonly)
        self._sessions = session_factory(self.engine)
        if migrated:
            try:
                require_migrated(self.engine)
            except NotMigrated:
                self.engine.dispose()
                raise

    @contextlib.contextmanager
    def write(self) -> Iterator[Tx]:
        with self._sessions() as session, session.begin():
            yield Tx(session, self.actor)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
