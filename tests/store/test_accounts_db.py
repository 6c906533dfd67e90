"""Accounts in the ledger, on SQLite and PostgreSQL: users and their roles per area, signing in
(refusals alike and logged, the rate limit per name and per address, sessions ended by
disabling and signing out, expired ones), API keys (scopes, expiry, revoked, a wrong secret,
another area, the last use written once a minute), and no password, token or key secret in
the database or the audit log in clear.

Passwords are hashed with cheap argon2id parameters here (the real ones take a tenth of a
second each); tests/test_accounts.py shows the real ones are argon2-cffi's defaults.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, inspect, select, text

from osuus.access import Role
from osuus.problems import ProblemsError
from osuus.services import accounts
from osuus.services.accounts import (
    LoginRefused,
    add_user,
    create_api_key,
    disable_user,
    grant_role,
    list_api_keys,
    list_users,
    login,
    logout,
    now,
    principal_for_api_key,
    principal_for_token,
    revoke_api_key,
    revoke_role,
    set_password,
)
from osuus.services.ledger import Ledger
from osuus.store.tables import ApiKey, Area, AuditRecord, LoginAttempt, User, UserSession
from tests.conftest import SHIPPED_AGREEMENT

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "oikea hevonen patteri niitti"
HETU = "131052A308T"


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch):
    monkeypatch.setattr(accounts, "_HASHER", CHEAP)


@pytest.fixture
def ledger(migrated_url):
    opened = Ledger(migrated_url, actor="pääkäyttäjä")
    yield opened
    opened.close()


def refusal(call, *args, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(ProblemsError) as caught:
        call(*args, **kwargs)
    return [(p.code, p.key) for p in caught.value.problems]


def count(url: str, table) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(text("count(*)")).select_from(table)).scalar_one()
    finally:
        engine.dispose()


def execute(url: str, sql: str, **params) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


def everything_stored(url: str) -> str:
    """Every row of every table, as text (the superuser of the tests sees every area)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return "\n".join(repr(tuple(row)) for name in inspect(connection).get_table_names()
                             for row in connection.execute(text(f'SELECT * FROM "{name}"')))
    finally:
        engine.dispose()


def actions(ledger: Ledger) -> list[tuple[str, str]]:
    with ledger.read() as session:
        return [(r.action, r.subject) for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]


def second_area(url: str, code: str = "toinen") -> None:
    execute(url, "INSERT INTO areas (code, name, created_at) VALUES (:code, 'Toinen alue', :at)", code=code, at=now())


# --- users and roles --------------------------------------------------------------------------

def test_users_are_added_with_their_roles_and_every_change_is_audited(ledger):
    anna = add_user(ledger, "anna", display_name="Anna Virtanen", password=PASSWORD, language="sv")
    assert (anna.name, anna.display_name, anna.language, anna.has_password, anna.roles) == (
        "anna", "Anna Virtanen", "sv", True, ())
    add_user(ledger, "bertta", password=None)
    grant_role(ledger, "anna", "admin")
    grant_role(ledger, "bertta", Role.MEMBER, "837")
    users = list_users(ledger)
    assert [(u.name, u.has_password, [(r.role, r.municipality, r.granted_by) for r in u.roles]) for u in users] == [
        ("anna", True, [(Role.ADMIN, None, "pääkäyttäjä")]),
        ("bertta", False, [(Role.MEMBER, "837", "pääkäyttäjä")]),
    ]
    assert actions(ledger) == [("user.add", "anna"), ("user.add", "bertta"), ("user.role.grant", "anna"),
                               ("user.role.grant", "bertta")]
    with ledger.read() as session:
        first = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).first()
        assert (first.actor, {k: v for k, v in first.details.items() if k != "content"}) == (
            "pääkäyttäjä", {"display_name": "Anna Virtanen", "language": "sv", "password": True})


def test_a_taken_name_in_any_case_and_a_personal_code_are_refused(ledger, migrated_url):
    add_user(ledger, "anna.virtanen", password=PASSWORD)
    assert refusal(add_user, ledger, "Anna.Virtanen", password=PASSWORD) == [("user.exists", "name")]
    assert refusal(add_user, ledger, f"x{HETU}", password=PASSWORD) == [("privacy.personal-code", "name")]
    assert refusal(add_user, ledger, "bertta", display_name=f"Bertta {HETU}", password=PASSWORD) == [
        ("privacy.personal-code", "display_name")]
    assert refusal(add_user, ledger, "bertta", password="lyhyt", language="de") == [
        ("user.language", "language"), ("password.short", "password")]
    assert count(migrated_url, User.__table__) == 1


def test_role_rules(ledger):
    add_user(ledger, "anna", password=PASSWORD)
    assert refusal(grant_role, ledger, "anna", "member") == [("role.municipality", "municipality")]
    assert refusal(grant_role, ledger, "anna", "admin", "837") == [("role.municipality", "municipality")]
    assert refusal(grant_role, ledger, "anna", "owner") == [("role.unknown", "role")]
    assert refusal(grant_role, ledger, "nobody", "admin") == [("user.unknown", "name")]
    grant_role(ledger, "anna", "member", "837")
    assert refusal(grant_role, ledger, "anna", "member", "837") == [("role.held", "role")]
    assert refusal(grant_role, ledger, "anna", "member", "020") == [("role.one-municipality", "municipality")]
    assert refusal(revoke_role, ledger, "anna", "approver") == [("role.not-held", "role")]
    after = revoke_role(ledger, "anna", "member")
    assert after.roles == ()
    assert [(r.role, r.municipality) for r in grant_role(ledger, "anna", "member", "020").roles] == [
        (Role.MEMBER, "020")]
    disable_user(ledger, "anna")
    assert refusal(grant_role, ledger, "anna", "auditor") == [("user.disabled", "name")]
    assert refusal(disable_user, ledger, "anna") == [("user.disabled", "name")]


def test_a_member_is_of_a_municipality_of_the_areas_agreements(ledger):
    from osuus.services.agreements import add_agreement

    add_agreement(ledger, SHIPPED_AGREEMENT)  # Pirkanmaa 2021: Tampere (837) and its neighbours
    add_user(ledger, "anna", password=PASSWORD)
    assert refusal(grant_role, ledger, "anna", "member", "091") == [("role.municipality-unknown", "municipality")]
    grant_role(ledger, "anna", "member", "536")  # Nokia


# --- signing in -------------------------------------------------------------------------------

def test_sign_in_gives_a_token_whose_principal_has_the_areas_roles(ledger, migrated_url):
    add_user(ledger, "anna", password=PASSWORD, language="en")
    grant_role(ledger, "anna", "preparer")
    grant_role(ledger, "anna", "member", "837")
    before = now()
    result = login(ledger, "anna", PASSWORD, "192.0.2.1")
    assert before + accounts.SESSION_LIFETIME <= result.expires_at <= now() + accounts.SESSION_LIFETIME
    assert [r.role for r in result.user.roles] == [Role.MEMBER, Role.PREPARER]
    principal = principal_for_token(ledger, result.token)
    assert (principal.kind, principal.name, principal.area_code, principal.roles, principal.municipality,
            principal.scopes, principal.language) == (
        "user", "anna", "default", frozenset({Role.PREPARER, Role.MEMBER}), "837", None, "en")
    with ledger.read() as session:
        stored = session.scalars(select(UserSession)).one()
        assert stored.token_hash == hashlib.sha256(result.token.encode()).hexdigest()
        assert [(a.name, a.address, a.succeeded) for a in session.scalars(select(LoginAttempt))] == [
            ("anna", "192.0.2.1", True)]
    assert principal_for_token(ledger, result.token + "x") is None
    assert principal_for_token(ledger, "") is None
    assert logout(ledger, result.token) is True
    assert principal_for_token(ledger, result.token) is None
    assert logout(ledger, result.token) is False
    assert actions(ledger)[-1][0] == "user.role.grant"  # signing in and out is not a change of the ledger


def test_refusals_are_alike_recorded_and_logged_without_the_password(ledger, caplog):
    add_user(ledger, "anna", password=PASSWORD)
    add_user(ledger, "bertta", password=None)
    add_user(ledger, "cecilia", password=PASSWORD)
    disable_user(ledger, "cecilia")
    caplog.set_level(logging.WARNING, logger="osuus.access")
    tries = [("anna", "väärä salasana on tämä"), ("nobody", PASSWORD), ("bertta", PASSWORD), ("cecilia", PASSWORD),
             (f"x{HETU}", PASSWORD)]
    refusals = []
    for name, password in tries:
        with pytest.raises(LoginRefused) as caught:
            login(ledger, name, password, "192.0.2.7")
        refusals.append((caught.value.code, str(caught.value), caught.value.retry_after))
    assert len(set(refusals)) == 1 and refusals[0][0] == "login.refused" and refusals[0][2] is None
    records = [r for r in caplog.records if r.name == "osuus.access"]
    assert [tuple(r.fields[k] for k in ("event", "user", "address", "reason")) for r in records] == [
        ("login.refused", "anna", "192.0.2.7", "wrong-password"),
        ("login.refused", "nobody", "192.0.2.7", "unknown-user"),
        ("login.refused", "bertta", "192.0.2.7", "no-password"),
        ("login.refused", "cecilia", "192.0.2.7", "disabled"),
        ("login.refused", "x131052A***T", "192.0.2.7", "unknown-user"),  # a personal code is not logged
    ]
    for record in records:
        logged = repr(record.__dict__) + record.getMessage()
        assert PASSWORD not in logged and "väärä salasana" not in logged
    with ledger.read() as session:
        assert [(a.name, a.succeeded) for a in session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))] == [
            ("anna", False), ("nobody", False), ("bertta", False), ("cecilia", False), ("x131052A***T", False)]


def test_a_password_longer_than_any_is_refused_without_hashing_it(ledger, monkeypatch):
    add_user(ledger, "anna", password=PASSWORD)
    verified = []
    original = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: verified.append(len(p)) or original(self, h, p))
    with pytest.raises(LoginRefused) as caught:
        login(ledger, "anna", PASSWORD * 100, "192.0.2.1")
    assert caught.value.code == "login.refused" and verified == [0]


def test_five_failures_for_a_name_stop_its_sign_in_until_they_age(ledger):
    add_user(ledger, "anna", password=PASSWORD)
    grant_role(ledger, "anna", "auditor")
    base = now() - dt.timedelta(hours=1)
    for second in range(5):
        with pytest.raises(LoginRefused) as caught:
            login(ledger, "anna", f"arvaus numero {second}", "192.0.2.1", at=base + dt.timedelta(seconds=second))
        assert caught.value.code == "login.refused"
    with pytest.raises(LoginRefused) as caught:  # the right password, but the sixth attempt
        login(ledger, "anna", PASSWORD, "192.0.2.2", at=base + dt.timedelta(seconds=5))
    # six failures now (0–5 s); fewer than five remain once the one at 1 s is 15 min old
    assert (caught.value.code, caught.value.retry_after) == ("login.rate-limited", 896)
    assert caught.value.problems[0].value == "896"
    with pytest.raises(LoginRefused):
        login(ledger, "anna", PASSWORD, "192.0.2.2", at=base + dt.timedelta(seconds=900))
    # another name from the same address is not held up by anna's limit
    add_user(ledger, "bertta", password=PASSWORD)
    login(ledger, "bertta", PASSWORD, "192.0.2.1", at=base + dt.timedelta(seconds=6))
    # at 1 s + 15 min the attempt of 900 s is counted too: 2, 3, 4, 5 s and 900 s are five
    with pytest.raises(LoginRefused) as caught:
        login(ledger, "anna", PASSWORD, "192.0.2.2", at=base + dt.timedelta(seconds=901))
    assert caught.value.code == "login.rate-limited"
    result = login(ledger, "anna", PASSWORD, "192.0.2.2", at=base + dt.timedelta(seconds=1800))
    assert principal_for_token(ledger, result.token).roles == frozenset({Role.AUDITOR})


def test_twenty_failures_from_an_address_stop_it_for_every_name(ledger):
    add_user(ledger, "anna", password=PASSWORD)
    base = now() - dt.timedelta(minutes=30)
    for i in range(20):
        with pytest.raises(LoginRefused):
            login(ledger, f"kokeilu{i}", PASSWORD, "198.51.100.9", at=base + dt.timedelta(seconds=i))
    with pytest.raises(LoginRefused) as caught:
        login(ledger, "anna", PASSWORD, "198.51.100.9", at=base + dt.timedelta(seconds=20))
    assert (caught.value.code, caught.value.retry_after) == ("login.rate-limited", 900 + 1 - 20)
    login(ledger, "anna", PASSWORD, "198.51.100.10", at=base + dt.timedelta(seconds=21))


def test_disabling_a_user_or_changing_the_password_ends_the_sessions(ledger):
    for name in ("anna", "bertta"):
        add_user(ledger, name, password=PASSWORD)
        grant_role(ledger, name, "approver")
    anna = login(ledger, "anna", PASSWORD, "192.0.2.1").token
    bertta = login(ledger, "bertta", PASSWORD, "192.0.2.1").token
    disable_user(ledger, "anna")
    assert principal_for_token(ledger, anna) is None
    with pytest.raises(LoginRefused):
        login(ledger, "anna", PASSWORD, "192.0.2.1")
    assert refusal(set_password, ledger, "bertta", "bertta") == [("password.short", "password"),
                                                                ("password.name", "password")]
    set_password(ledger, "bertta", "toinen hyvä salasana")
    assert principal_for_token(ledger, bertta) is None
    with pytest.raises(LoginRefused):
        login(ledger, "bertta", PASSWORD, "192.0.2.1")
    assert principal_for_token(ledger, login(ledger, "bertta", "toinen hyvä salasana", "192.0.2.1").token)


def test_an_expired_session_and_one_without_a_role_in_the_area_give_no_principal(ledger, migrated_url):
    add_user(ledger, "anna", password=PASSWORD)
    token = login(ledger, "anna", PASSWORD, "192.0.2.1").token
    assert principal_for_token(ledger, token) is None  # no role yet
    grant_role(ledger, "anna", "admin")
    assert principal_for_token(ledger, token).roles == frozenset({Role.ADMIN})
    old = login(ledger, "anna", PASSWORD, "192.0.2.1", at=now() - accounts.SESSION_LIFETIME).token
    assert principal_for_token(ledger, old) is None
    # the same token in another area: only the roles there count
    second_area(migrated_url)
    with Ledger(migrated_url, actor="pääkäyttäjä", area="toinen") as other:
        assert principal_for_token(other, token) is None
        grant_role(other, "anna", "member", "020")
        assert principal_for_token(other, token).roles == frozenset({Role.MEMBER})
        assert [u.roles[0].role for u in list_users(other)] == [Role.MEMBER]
        assert actions(other) == [("user.role.grant", "anna")]
    assert principal_for_token(ledger, token).roles == frozenset({Role.ADMIN})


def test_a_hash_of_old_parameters_is_renewed_at_sign_in(ledger, monkeypatch):
    add_user(ledger, "anna", password=PASSWORD)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", stronger)
    login(ledger, "anna", PASSWORD, "192.0.2.1")
    with ledger.read() as session:
        renewed = session.scalars(select(User.password_hash)).one()
    assert renewed.startswith("$argon2id$v=19$m=16,t=2,p=1$") and stronger.verify(renewed, PASSWORD)
    login(ledger, "anna", PASSWORD, "192.0.2.1")


# --- API keys ---------------------------------------------------------------------------------

def in_days(days: float) -> dt.datetime:
    return now() + dt.timedelta(days=days)


def test_an_api_key_is_shown_once_and_finds_its_principal(ledger):
    view, key = create_api_key(ledger, "Raindance", "member", ["invoices:read", "agreements:read", "invoices:read"],
                               in_days(90), "837")
    assert key.startswith(f"osuus_{view.prefix}_") and len(view.prefix) == 12 and len(key) == 6 + 12 + 1 + 43
    assert (view.name, view.role, view.municipality, view.scopes, view.created_by, view.last_used_at) == (
        "Raindance", Role.MEMBER, "837", ("agreements:read", "invoices:read"), "pääkäyttäjä", None)
    principal = principal_for_api_key(ledger, key)
    assert (principal.kind, principal.name, principal.roles, principal.municipality, principal.scopes) == (
        "key", f"key:{view.prefix}", frozenset({Role.MEMBER}), "837", frozenset({"invoices:read", "agreements:read"}))
    from osuus.access import Action, Resource

    assert principal.may(Resource.INVOICES, Action.READ) and not principal.may(Resource.ESTIMATES, Action.READ)
    listed = list_api_keys(ledger)
    assert [(k.prefix, k.state()) for k in listed] == [(view.prefix, "active")]
    assert listed[0].last_used_at is not None
    assert actions(ledger) == [("apikey.create", f"key:{view.prefix}")]


def test_a_wrong_secret_another_prefix_or_junk_finds_nothing(ledger):
    view, key = create_api_key(ledger, "ohjelma", "auditor", ["audit:read"], in_days(1))
    assert principal_for_api_key(ledger, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert principal_for_api_key(ledger, key.replace(view.prefix, "0" * 12)) is None
    for junk in ("", "osuus_", f"osuus_{view.prefix}", f"Bearer {key}", key.upper()):
        assert principal_for_api_key(ledger, junk) is None


def test_a_revoked_or_expired_key_finds_nothing(ledger, migrated_url):
    revoked, revoked_key = create_api_key(ledger, "vanha", "preparer", ["imports:write"], in_days(30))
    expired, expired_key = create_api_key(ledger, "lyhyt", "preparer", ["imports:write"], in_days(30))
    assert revoke_api_key(ledger, revoked.prefix).revoked_at is not None
    assert principal_for_api_key(ledger, revoked_key) is None
    assert refusal(revoke_api_key, ledger, revoked.prefix) == [("apikey.revoked", "prefix")]
    assert refusal(revoke_api_key, ledger, "0123456789ab") == [("apikey.unknown", "prefix")]
    assert principal_for_api_key(ledger, expired_key) is not None
    execute(migrated_url, "UPDATE api_keys SET expires_at = :at WHERE prefix = :prefix",
            at=now() - dt.timedelta(seconds=1), prefix=expired.prefix)
    assert principal_for_api_key(ledger, expired_key) is None
    assert {k.prefix: k.state() for k in list_api_keys(ledger)} == {revoked.prefix: "revoked",
                                                                    expired.prefix: "expired"}


def test_a_key_is_of_its_area(ledger, migrated_url):
    view, key = create_api_key(ledger, "ohjelma", "auditor", ["audit:read"], in_days(1))
    second_area(migrated_url)
    with Ledger(migrated_url, actor="pääkäyttäjä", area="toinen") as other:
        assert principal_for_api_key(other, key) is None
        assert list_api_keys(other) == []
        assert refusal(revoke_api_key, other, view.prefix) == [("apikey.unknown", "prefix")]
    assert principal_for_api_key(ledger, key).area_code == "default"


def test_api_key_rules(ledger):
    assert refusal(create_api_key, ledger, "x", "member", ["invoices:read"], in_days(1)) == [
        ("role.municipality", "municipality")]
    assert refusal(create_api_key, ledger, "x", "member", ["invoices:write", "foo:read"], in_days(1), "837") == [
        ("scope.unknown", "scope"), ("scope.role", "scope")]  # the scopes in order: foo:read, invoices:write
    assert refusal(create_api_key, ledger, "x", "admin", [], in_days(1)) == [("scope.none", "scope")]
    assert refusal(create_api_key, ledger, "x", "admin", ["users:read"], in_days(367)) == [
        ("apikey.expiry", "expires")]
    assert refusal(create_api_key, ledger, "x", "admin", ["users:read"], in_days(-1)) == [
        ("apikey.expired", "expires")]
    assert refusal(create_api_key, ledger, " ", "admin", ["users:read"], in_days(1)) == [("apikey.name", "name")]
    assert list_api_keys(ledger) == []


def test_the_last_use_is_written_at_most_once_a_minute(ledger, migrated_url):
    view, key = create_api_key(ledger, "ohjelma", "auditor", ["audit:read"], in_days(1))
    principal_for_api_key(ledger, key)
    first = list_api_keys(ledger)[0].last_used_at
    principal_for_api_key(ledger, key)
    assert list_api_keys(ledger)[0].last_used_at == first
    execute(migrated_url, "UPDATE api_keys SET last_used_at = :at", at=now() - dt.timedelta(minutes=2))
    principal_for_api_key(ledger, key)
    assert list_api_keys(ledger)[0].last_used_at > first
    assert [a for a, _ in actions(ledger)] == ["apikey.create"]  # using a key is not a change of the ledger


# --- nothing secret in clear ------------------------------------------------------------------

def test_no_password_token_or_secret_is_stored_or_audited_in_clear(ledger, migrated_url):
    add_user(ledger, "anna", password=PASSWORD)
    grant_role(ledger, "anna", "admin")
    set_password(ledger, "anna", PASSWORD + " 2")
    with pytest.raises(LoginRefused):
        login(ledger, "anna", PASSWORD, "192.0.2.1")
    token = login(ledger, "anna", PASSWORD + " 2", "192.0.2.1").token
    view, key = create_api_key(ledger, "ohjelma", "admin", ["users:write"], in_days(10))
    secret = key.split("_", 2)[2]
    principal_for_api_key(ledger, key)
    stored = everything_stored(migrated_url)
    for clear in (PASSWORD, token, secret, key):
        assert clear not in stored
    # what is kept instead is there (the dump does hold the tables)
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    assert "$argon2id$" in stored and view.prefix in stored
    assert count(migrated_url, AuditRecord.__table__) == 4
    assert count(migrated_url, ApiKey.__table__) == 1
    assert count(migrated_url, Area.__table__) == 1


def test_the_rate_limit_counts_a_name_in_every_unicode_form(ledger):
    """Five failures for "pääkäyttäjä" (composed) stop the same name written decomposed too: the
    limit is of the name, not of one spelling of it."""
    import unicodedata

    composed = unicodedata.normalize("NFC", "pääkäyttäjä")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    add_user(ledger, composed, password=PASSWORD)
    for n in range(5):
        with pytest.raises(LoginRefused) as caught:
            login(ledger, composed, f"väärä-salasana-{n}", "192.0.2.8")
        assert caught.value.code == "login.refused"
    with pytest.raises(LoginRefused) as caught:
        login(ledger, decomposed, PASSWORD, "192.0.2.9")
    assert caught.value.code == "login.rate-limited"
