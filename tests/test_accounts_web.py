"""What the web app asks of accounts, on SQLite and PostgreSQL: a user's language kept (only
fi, sv, en), signing out of every session of a user at once (only theirs, only live ones) and
when a session expires. None of them writes the change log (reader's bookkeeping, as signing in).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from osuus.problems import ProblemsError
from osuus.services import accounts
from osuus.services.accounts import (
    SESSION_LIFETIME,
    add_user,
    grant_role,
    login,
    logout,
    logout_everywhere,
    now,
    principal_for_token,
    session_expiry,
    session_user,
    set_language,
)
from osuus.services.ledger import Ledger
from osuus.store.db import upgrade
from osuus.store.tables import AuditRecord
from tests.api.conftest import backend_url  # noqa: F401  (a module-scoped empty database of each backend)

PASSWORD = "oikea hevonen patteri niitti"
ADDRESS = "192.0.2.7"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def ledger(backend_url):
    """One ledger per database for the module (each test has users of its own: `people`), with
    cheap argon2 parameters (tests/test_accounts.py sees the real ones)."""
    upgrade(backend_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with Ledger(backend_url, actor="pääkäyttäjä") as opened:
            yield opened


@pytest.fixture
def people(ledger) -> tuple[str, str]:
    """Two approvers of this test's own (language fi)."""
    names = tuple(f"{name}{next(_numbers)}" for name in ("anna", "bertta"))
    for name in names:
        add_user(ledger, name, password=PASSWORD)
        grant_role(ledger, name, "approver")
    return names


def audit_records(ledger: Ledger) -> int:
    with ledger.read() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord))


def test_a_users_language_is_kept_and_read_back(ledger, people):
    anna, bertta = people
    token = login(ledger, anna, PASSWORD, ADDRESS).token
    assert principal_for_token(ledger, token).language == "fi"
    before = audit_records(ledger)
    view = set_language(ledger, anna, "sv")
    assert (view.name, view.language, [r.role.value for r in view.roles]) == (anna, "sv", ["approver"])
    assert principal_for_token(ledger, token).language == "sv"
    assert session_user(ledger, token).language == "sv"
    assert set_language(ledger, anna, "en").language == "en"
    languages = {u.name: u.language for u in accounts.list_users(ledger)}
    assert (languages[anna], languages[bertta]) == ("en", "fi")
    assert audit_records(ledger) == before


def test_a_language_other_than_fi_sv_en_is_refused(ledger, people):
    anna, _ = people
    for lang in ("de", "FI", "", "fi-FI", "s", None):
        with pytest.raises(ProblemsError) as caught:
            set_language(ledger, anna, lang)
        assert [(p.code, p.key) for p in caught.value.problems] == [("user.language", "language")], lang
    assert session_user(ledger, login(ledger, anna, PASSWORD, ADDRESS).token).language == "fi"


def test_the_language_of_an_unknown_user_is_refused(ledger):
    with pytest.raises(ProblemsError) as caught:
        set_language(ledger, "cecilia", "sv")
    assert [p.code for p in caught.value.problems] == ["user.unknown"]


def test_logging_out_everywhere_ends_every_live_session_of_that_user_only(ledger, people):
    anna, bertta = people
    phone, laptop, tablet = (login(ledger, anna, PASSWORD, ADDRESS).token for _ in range(3))
    logout(ledger, tablet)  # ended already: not counted again
    login(ledger, anna, PASSWORD, ADDRESS, at=now() - SESSION_LIFETIME)  # expired: not counted
    other = login(ledger, bertta, PASSWORD, ADDRESS).token
    before = audit_records(ledger)
    assert logout_everywhere(ledger, laptop) == 2
    assert principal_for_token(ledger, phone) is None and principal_for_token(ledger, laptop) is None
    assert principal_for_token(ledger, other).name == bertta
    # the token is no live session any more; nor is an unknown one
    assert logout_everywhere(ledger, laptop) == 0
    assert logout_everywhere(ledger, "no-such-token") == 0
    assert logout_everywhere(ledger, "") == 0
    assert audit_records(ledger) == before
    # signing in again works
    assert principal_for_token(ledger, login(ledger, anna, PASSWORD, ADDRESS).token).name == anna


def test_a_sessions_expiry_is_told_while_it_lives(ledger, people):
    anna, bertta = people
    before = now()
    signed = login(ledger, anna, PASSWORD, ADDRESS)
    expires = session_expiry(ledger, signed.token)
    assert expires == signed.expires_at
    assert expires.tzinfo is not None and before + SESSION_LIFETIME <= expires <= now() + SESSION_LIFETIME
    early = login(ledger, anna, PASSWORD, ADDRESS, at=now() - SESSION_LIFETIME + dt.timedelta(minutes=1))
    assert dt.timedelta(0) < session_expiry(ledger, early.token) - now() <= dt.timedelta(minutes=1)
    expired = login(ledger, anna, PASSWORD, ADDRESS, at=now() - SESSION_LIFETIME)
    assert session_expiry(ledger, expired.token) is None
    logout(ledger, signed.token)
    assert session_expiry(ledger, signed.token) is None
    assert session_expiry(ledger, "no-such-token") is None
    assert session_expiry(ledger, "x" * 500) is None
    token = login(ledger, bertta, PASSWORD, ADDRESS).token
    accounts.disable_user(ledger, bertta)
    assert session_expiry(ledger, token) is None
