"""Feedback on accessibility: what is sent through the accessibility statement's form
(laki digitaalisten palvelujen tarjoamisesta 306/2019, 15 §), and reading it back.

A message is of no area when sent from outside one (the statement is public), else of the
area it was sent from, to be read by that area's admins. Nothing about the sender is
required, and only what they typed is kept, a personal identity code in it masked. Not a
change of any area's ledger, so no audit record (as a sign-in attempt has none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from osuus.privacy import mask_personal_codes
from osuus.services.ledger import Ledger, now
from osuus.store.tables import AccessibilityFeedback


@dataclass(frozen=True)
class Feedback:
    id: int
    at: dt.datetime
    area: str  # "" when sent from outside any area
    message: str
    contact: str  # "" when none was given
    language: str  # of the statement it was sent from


def save_feedback(ledger: Ledger, message: str, contact: str, area: str, language: str) -> int:
    """Store a feedback message (`area` "": from outside any area); its id. A personal identity
    code typed into it is masked (no personal data is asked for, and none such is kept)."""
    with ledger.outside_areas() as session:
        row = AccessibilityFeedback(at=now(), area_code=area or None, message=mask_personal_codes(message),
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


__all__ = ["Feedback", "list_feedback", "save_feedback"]
