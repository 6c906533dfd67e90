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

A ledger works in one area (`area`, a code; else $OSUUS_AREA; else the only area
of the database): every transaction begins in it (osuus.store.areas), so a use
case sees and writes that area's rows only. `acting(actor, area)` is the same
database seen by another actor or in another area (the API makes one per request).
`self_approval` ($OSUUS_SELF_APPROVAL=1) lets a one-person test installation approve
its own drafts; such approvals are recorded as self-approved.
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
from osuus.store import areas as area_filters
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
    reason: str = ""  # the reason the caller gave (an API request's), where the use case has none
    context: dict | None = None  # where the write came from (an API request: its id, route, principal)

    def audit(self, action: str, subject: str, details: dict | None = None, reason: str = "") -> None:
        if self.said is not None:
            raise RuntimeError(f"a use case writes one audit record; {action} would be the second")
        refuse_personal_codes(self.actor, subject, reason or self.reason)
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
        reason = reason or self.reason
        if self.context:
            details = {**(details or {}), "via": self.context}
        self.records.append(audit.append(self.session, actor=self.actor, action=action, subject=subject,
                                         reason=reason, details=details,
                                         content=content if content is not None else audit.empty_content()))


ENV_AREA = "OSUUS_AREA"
ENV_SELF_APPROVAL = "OSUUS_SELF_APPROVAL"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _choose_area(session: Session, code: str | None) -> tuple[int, str]:
    """The area named (an unknown one refused, naming those there are), or the only one."""
    known = area_filters.areas(session)
    if code:
        for area in known:
            if area.code == code:
                return area.id, area.code
        raise ProblemsError([Problem(
            f"expected an area of this database ({', '.join(a.code for a in known) or 'none'}), found {code!r}",
            key="--area", code="area.unknown")])
    if len(known) == 1:
        return known[0].id, known[0].code
    raise ProblemsError([Problem(
        f"this database holds {len(known)} areas ({', '.join(a.code for a in known)}): name one with --area "
        f"or {ENV_AREA}", key="--area", code="area.ambiguous")])


class Ledger:
    def __init__(self, url: str | None = None, actor: str = "", *, area: str | None = None,
                 readonly: bool = False, migrated: bool = True, self_approval: bool | None = None,
                 choose_area: bool = True, pool_size: int | None = None):
        self.url = resolve_url(url)
        self.actor = actor or audit.current_actor()
        self.self_approval = _flag(ENV_SELF_APPROVAL) if self_approval is None else self_approval
        self.engine = make_engine(self.url, readonly=readonly, pool_size=pool_size)
        self._sessions = session_factory(self.engine)
        self.area_id: int | None = None
        self.area_code: str | None = None
        self.reason, self.context = "", None
        self._known_areas: dict[str, tuple[int, str]] = {}
        self._owner = True
        if migrated:
            try:
                require_migrated(self.engine)
                if not choose_area:  # the commands about areas themselves
                    return
                with self._sessions() as session, session.begin():
                    self.area_id, self.area_code = _choose_area(
                        session, area if area is not None else (os.environ.get(ENV_AREA, "").strip() or None))
            except BaseException:
                self.engine.dispose()
                raise

    def acting(self, actor: str, area: str | None = None, *, reason: str = "",
               context: dict | None = None) -> "Ledger":
        """This database seen by `actor` in `area` (default: this ledger's): it shares the
        engine, and closing it closes nothing. `reason` and `context` (where the request came
        from) go into the audit record of each write made through it."""
        view = object.__new__(Ledger)
        view.__dict__.update(self.__dict__)
        view.actor, view._owner, view.reason, view.context = actor, False, reason, context
        if area is not None and area != self.area_code:
            known = self._known_areas.get(area)
            if known is None:  # areas are only ever added: a code once found stays
                with self._sessions() as session, session.begin():
                    known = self._known_areas[area] = _choose_area(session, area)
            view.area_id, view.area_code = known
        return view

    def _begin(self, session: Session) -> None:
        if self.area_id is not None:
            area_filters.begin_in_area(session, self.area_id)

    @contextlib.contextmanager
    def write(self) -> Iterator[Tx]:
        refuse_personal_codes(self.actor)
        with self._sessions() as session, session.begin():
            self._begin(session)
            tracker = audit.ContentTracker(session)
            try:
                tx = Tx(session, self.actor, tracker, reason=self.reason, context=self.context)
                yield tx
                tx.finish()
            finally:
                tracker.close()

    @contextlib.contextmanager
    def outside_areas(self) -> Iterator[Session]:
        """A transaction in no area, for what is above the areas (the areas themselves). Nothing
        filters or fills in an area here: read and write only tables of no area (on PostgreSQL
        the area tables show no row without an area; on SQLite that rests on the caller)."""
        with self._sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            self._begin(session)
            yield session

    def close(self) -> None:
        if self._owner:
            self.engine.dispose()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
