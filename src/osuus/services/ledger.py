"""The ledger as the use cases see it: a database, who acts, and one transaction per use case.

`Ledger(url, actor)` opens a migrated database (or raises `NotMigrated`, with
what to run). A use case that writes runs in `ledger.write()`: one transaction,
committed whole or rolled back whole (a `ProblemsError` raised inside rolls
everything back), which says what it did with one `tx.audit(...)`. The audit
record is appended when the use case's block ends, just before the commit, with
the content hashes of every row the transaction wrote (osuus.store.audit
`ContentTracker`), so it covers all of it wherever in the block `tx.audit` was
called. A transaction that writes rows the log covers without calling
`tx.audit` is a programming error, and is rolled back.

Who acts (`$OSUUS_USER`, else the login name) is written into the audit log,
which cannot be cleaned afterwards without breaking its chain: an actor that
holds a personal identity code is refused before anything is written.

A use case that only reads runs in `ledger.read()`, which on SQLite neither
takes nor waits for the write lock, so a long export does not hold up an invoice run.
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

from osuus.privacy import masked, personal_codes_in
from osuus.problems import Problem, ProblemsError
from osuus.store import audit
from osuus.store.tables import AuditRecord
from osuus.store.db import NotMigrated, make_engine, require_migrated, resolve_url, session_factory

__all__ = ["Ledger", "NotMigrated", "Tx", "fault_point", "now", "refuse_personal_codes"]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def fault_point(name: str) -> None:
    """A place where tests stop the process on purpose (OSUUS_FAULT_POINT=name): it
    announces itself on stderr and waits, so that a test can kill it mid-transaction."""
    if os.environ.get("OSUUS_FAULT_POINT") == name:
        print(f"fault point {name} reached", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("OSUUS_FAULT_SLEEP", "60")))


def refuse_personal_codes(actor: str, subject: str = "", reason: str = "") -> None:
    """Nothing that holds a personal identity code goes into the audit log; nor an actor longer
    than its column (PostgreSQL would refuse it at the first write, SQLite would take it)."""
    limit = AuditRecord.__table__.c.actor.type.length
    if len(actor) > limit:
        raise ProblemsError([Problem(
            f"expected a user name of at most {limit} characters (the change log records who acted), found "
            f"{len(actor)}: set {audit.ENV_USER} to a shorter one", key=audit.ENV_USER, code="actor.too-long")])
    codes = personal_codes_in(actor)
    if codes:
        raise ProblemsError([Problem(
            f"the user osuus would record as acting ({audit.ENV_USER}, else the login name) holds a personal "
            f"identity code ({masked(codes[0])}); the change log keeps who acted for ever, so set "
            f"{audit.ENV_USER} to a name or an id without one", key=audit.ENV_USER, code="privacy.actor")])
    for what, value in (("subject", subject), ("reason", reason)):
        codes = personal_codes_in(value)
        if codes:
            raise ProblemsError([Problem(
                f"the change log's {what} would hold a personal identity code ({masked(codes[0])}); nothing "
                "was written", key=what, code="privacy.personal-code")])


@dataclass
class Tx:
    """One use case's transaction: its session, who acts, and its one audit record.

    `audit(...)` says what the use case did; the record is appended by `finish`,
    when the use case's block ends, with the content of everything it wrote."""

    session: Session
    actor: str
    tracker: audit.ContentTracker | None = None
    records: list = field(default_factory=list)
    said: tuple | None = None

    def audit(self, action: str, subject: str, details: dict | None = None, reason: str = "") -> None:
        if self.said is not None:
            raise RuntimeError(f"a use case writes one audit record; {action} would be the second")
        refuse_personal_codes(self.actor, subject, reason)
        self.said = (action, subject, details, reason)

    def finish(self) -> None:
        """Append the audit record, with the content hashes of what the transaction wrote."""
        self.session.flush()
        content = self.tracker.content() if self.tracker is not None else None
        if self.said is None:
            if content is not None:
                raise RuntimeError("a use case wrote to the ledger without saying what it did (tx.audit): "
                                   f"{sorted(content['tables'])}")
            return
        action, subject, details, reason = self.said
        self.records.append(audit.append(self.session, actor=self.actor, action=action, subject=subject,
                                         reason=reason, details=details,
                                         content=content if content is not None else audit.empty_content()))


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
        refuse_personal_codes(self.actor)
        with self._sessions() as session, session.begin():
            tracker = audit.ContentTracker(session)
            try:
                tx = Tx(session, self.actor, tracker)
                yield tx
                tx.finish()
            finally:
                tracker.close()

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
