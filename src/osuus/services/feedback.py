"""Feedback on accessibility: what is sent through the accessibility statement's form
(laki digitaalisten palvelujen tarjoamisesta 306/2019, 15 §), and reading it back.

A message is of no area when sent from outside one (the statement is public), else of the
area it was sent from, to be read by that area's admins. Nothing about the sender is
required, and only what they typed is kept, a personal identity code in it masked. Not a
change of any area's ledger, so no audit record (as a sign-in attempt has none).

The form is public, so it is rate-limited per client address: at most FEEDBACK_PER_ADDRESS
messages within FEEDBACK_WINDOW (a person with something to say sends one or two; a script is
held to about one a minute). The count is kept in the server process's memory (`FeedbackLimit`,
one per app), by a keyed hash of the address (the key is random per process and never stored:
no address, nor anything it could be found from, is kept anywhere). A server of N worker
processes so takes at most N times the limit; a count kept in the database would need a column
of the feedback table for the address's hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import threading
from collections import deque
from dataclasses import dataclass

from sqlalchemy import or_, select

from osuus.privacy import mask_personal_codes
from osuus.problems import Problem, ProblemsError
from osuus.services.ledger import Ledger, now
from osuus.store.tables import AccessibilityFeedback

FEEDBACK_WINDOW = dt.timedelta(minutes=10)
FEEDBACK_PER_ADDRESS = 10
#: At most this many addresses are remembered at once (the oldest are forgotten first), so that a
#: flood from many addresses cannot grow the process without bound.
REMEMBERED = 20_000


class FeedbackLimit:
    """The messages sent per address within the window, by a keyed hash of the address."""

    def __init__(self, limit: int = FEEDBACK_PER_ADDRESS, window: dt.timedelta = FEEDBACK_WINDOW,
                 remembered: int = REMEMBERED):
        self.limit, self.window, self.remembered = limit, window, remembered
        self._key = secrets.token_bytes(32)
        self._sent: dict[str, deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def _hash(self, address: str) -> str:
        return hmac.new(self._key, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()

    def take(self, address: str, at: dt.datetime) -> int | None:
        """Count a message from `address` at `at`: None when it is taken, else the seconds after
        which one is taken again (a refused message is not counted)."""
        key = self._hash(address or "unknown")
        with self._lock:
            sent = self._sent.get(key)
            if sent is not None:
                while sent and sent[0] <= at - self.window:
                    sent.popleft()
                if len(sent) >= self.limit:
                    return max(1, math.ceil((sent[0] + self.window - at).total_seconds()))
            else:
                if len(self._sent) >= self.remembered:
                    self._forget(at)
                sent = self._sent[key] = deque()
            sent.append(at)
            return None

    def _forget(self, at: dt.datetime) -> None:
        """Drop the addresses with nothing in the window; if that is not enough, the oldest half."""
        for key in [k for k, sent in self._sent.items() if not sent or sent[-1] <= at - self.window]:
            del self._sent[key]
        if len(self._sent) >= self.remembered:
            for key in sorted(self._sent, key=lambda k: self._sent[k][-1])[:len(self._sent) // 2]:
                del self._sent[key]


class FeedbackRefused(ProblemsError):
    """Too many messages from one address: `retry_after` seconds until one is taken again."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__([Problem(f"too many messages from this address: try again in {retry_after} seconds",
                                  key="message", code="feedback.rate-limited", value=str(retry_after))])


@dataclass(frozen=True)
class Feedback:
    id: int
    at: dt.datetime
    area: str  # "" when sent from outside any area
    message: str
    contact: str  # "" when none was given
    language: str  # of the statement it was sent from


def save_feedback(ledger: Ledger, message: str, contact: str, area: str, language: str, *,
                  address: str | None = None, limit: FeedbackLimit | None = None) -> int:
    """Store a feedback message (`area` "": from outside any area); its id. A personal identity
    code typed into it is masked (no personal data is asked for, and none such is kept). With the
    sender's `address` and the process's `limit`, refused (FeedbackRefused) beyond it."""
    at = now()
    if address is not None and limit is not None:
        wait = limit.take(address, at)
        if wait is not None:
            raise FeedbackRefused(wait)
    with ledger.outside_areas() as session:
        row = AccessibilityFeedback(at=at, area_code=area or None, message=mask_personal_codes(message),
                                    contact=mask_personal_codes(contact) or None, language=language)
        session.add(row)
        session.flush()
        return row.id


def list_feedback(ledger: Ledger, area: str, *, limit: int = 200) -> list[Feedback]:
    """The feedback sent from inside `area` and that sent from outside any area, newest first."""
    f = AccessibilityFeedback
    with ledger.read() as session:
        rows = session.scalars(select(f).where(or_(f.area_code == area, f.area_code.is_(None)))
                               .order_by(f.id.desc()).limit(limit))
        return [Feedback(r.id, _aware(r.at), r.area_code or "", r.message, r.contact or "", r.language)
                for r in rows]


def _aware(at: dt.datetime) -> dt.datetime:
    """SQLite hands stored UTC times back naive."""
    return at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else at


__all__ = ["FEEDBACK_PER_ADDRESS", "FEEDBACK_WINDOW", "Feedback", "FeedbackLimit", "FeedbackRefused", "list_feedback",
           "save_feedback"]
