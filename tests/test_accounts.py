"""Accounts: the rules of names, passwords, roles, scopes, expiries, the sign-in rate limit and
the shape of keys (pure, milliseconds each); and the `osuus user` / `osuus apikey` commands on
a SQLite ledger (in-process, through `invoke_cli`).

The database use cases themselves (add, grant, sign in, rate limit, API keys, nothing secret
stored in clear) are tested on SQLite and PostgreSQL in tests/store/test_accounts_db.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from argon2 import PasswordHasher

from osuus.access import Role
from osuus.services import accounts
from osuus.services.accounts import (
    LoginRefused,
    expiry_problems,
    label_problems,
    name_problems,
    parse_key,
    password_problems,
    retry_after,
    role_of,
    role_problems,
    scope_problems,
    token_hash,
)
from osuus.problems import ProblemsError

HETU = "131052-308T"  # the register's checksum example
T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


@pytest.fixture
def cheap_hasher(monkeypatch):
    monkeypatch.setattr(accounts, "_HASHER", CHEAP)
    return CHEAP


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["anna", "anna.virtanen@tampere.fi", "Päivi-2", "x", "a" * 100, "Åsa.B", "anna_b"])
def test_a_good_name(name):
    assert name_problems(name) == []


@pytest.mark.parametrize("name, found", [
    ("", "found 0"), ("a" * 101, "found 101"), ("anna virtanen", "' '"), ("anna!", "'!'"),
    ("anna#b", "'#'"), ("anna\n", "'\\n'"), ("a²", "'²'"),
])
def test_a_bad_name_says_what_was_found(name, found):
    problems = name_problems(name)
    assert codes(problems) == ["user.name"] and found in problems[0].message and problems[0].key == "name"


@pytest.mark.parametrize("name", [HETU.replace("-", "A"), "hetu" + HETU.replace("-", "A")])
def test_a_name_with_a_personal_code_is_refused_without_repeating_it(name):
    problems = name_problems(name)
    assert codes(problems) == ["privacy.personal-code"]
    assert "131052A308T" not in problems[0].message and "131052A***T" in problems[0].message


def test_a_label_is_printable_short_and_without_a_personal_code():
    assert label_problems("Talousjärjestelmä (Raindance)", "name", 100) == []
    assert codes(label_problems("x" * 101, "name", 100)) == ["label.length"]
    assert codes(label_problems("a\tb", "name", 100)) == ["label.control"]
    assert codes(label_problems(f"asiakas {HETU}", "display_name", 200)) == ["privacy.personal-code"]


# --- passwords --------------------------------------------------------------------------------

def test_password_length():
    assert password_problems("anna", "x" * 12) == []
    assert codes(password_problems("anna", "x" * 11)) == ["password.short"]
    assert "found 11" in password_problems("anna", "x" * 11)[0].message
    assert codes(password_problems("anna", "x" * 1025)) == ["password.long"]


def test_a_password_equal_to_the_name_is_refused_in_any_case():
    assert codes(password_problems("anna.virtanen", "Anna.Virtanen")) == ["password.name"]
    assert codes(password_problems("anna.virtanen", " anna.virtanen ")) == ["password.name"]
    assert password_problems("anna.virtanen", "anna.virtanen1") == []


def test_no_problem_repeats_the_password():
    secret = "kissa"
    for problem in password_problems("kissa", secret):
        assert secret not in problem.message


def test_passwords_are_hashed_with_argon2id_and_verified():
    hashed = accounts.hash_password("oikea hevonen patteri")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts._verify(hashed, "oikea hevonen patteri")
    assert not accounts._verify(hashed, "oikea hevonen patteri ")


def test_without_a_hash_a_password_is_checked_against_a_dummy_and_refused(cheap_hasher, monkeypatch):
    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: calls.append(h) or original(self, h, p))
    assert not accounts._verify(None, "whatever password")
    assert not accounts._verify("not a hash", "whatever password")
    assert calls[0].startswith("$argon2id$v=19$m=8,t=1,p=1$")  # the work of a real check was done


# --- roles and scopes --------------------------------------------------------------------------

def test_a_role_is_one_of_five():
    assert role_of("member") is Role.MEMBER
    with pytest.raises(ProblemsError) as caught:
        role_of("owner")
    assert caught.value.problems[0].code == "role.unknown"
    assert "admin, preparer, approver, auditor, member" in caught.value.problems[0].message


@pytest.mark.parametrize("role, municipality, expected", [
    (Role.MEMBER, "837", []), (Role.MEMBER, None, ["role.municipality"]), (Role.MEMBER, "8370", ["role.municipality"]),
    (Role.MEMBER, "83", ["role.municipality"]), (Role.MEMBER, "８３７", ["role.municipality"]),
    (Role.ADMIN, None, []), (Role.ADMIN, "837", ["role.municipality"]), (Role.AUDITOR, "020", ["role.municipality"]),
])
def test_a_member_and_only_a_member_is_of_a_municipality(role, municipality, expected):
    assert codes(role_problems(role, municipality)) == expected


@pytest.mark.parametrize("role, scopes, expected", [
    (Role.MEMBER, ["invoices:read", "agreements:read"], []),
    (Role.MEMBER, ["invoices:write"], ["scope.role"]),
    (Role.MEMBER, ["audit:read"], ["scope.role"]),
    (Role.APPROVER, ["runs:write"], []),  # write covers approving
    (Role.AUDITOR, ["audit:read", "runs:write"], ["scope.role"]),
    (Role.ADMIN, ["users:write", "invoices:read"], []),
    (Role.ADMIN, ["invoices:pay", "nothing"], ["scope.unknown", "scope.unknown"]),
    (Role.ADMIN, [], ["scope.none"]),
])
def test_scopes_are_known_and_within_the_role(role, scopes, expected):
    assert codes(scope_problems(role, scopes)) == expected


def test_an_expiry_is_in_the_future_and_within_a_year():
    assert expiry_problems(T0 + dt.timedelta(days=366), T0) == []
    assert expiry_problems(T0 + dt.timedelta(seconds=1), T0) == []
    assert codes(expiry_problems(T0, T0)) == ["apikey.expired"]
    assert codes(expiry_problems(T0 + dt.timedelta(days=366, seconds=1), T0)) == ["apikey.expiry"]
    assert "2027-03-03" in expiry_problems(T0 + dt.timedelta(days=400), T0)[0].message


# --- the sign-in rate limit ---------------------------------------------------------------------

def minutes_before(*minutes):
    return [T0 - dt.timedelta(minutes=m) for m in minutes]


def test_four_failures_leave_the_fifth_attempt_free():
    assert retry_after(minutes_before(10, 9, 8, 7), 5, T0) is None


def test_at_five_failures_the_wait_is_until_the_second_oldest_leaves_the_window():
    # the refused attempt counts: of the six, fewer than five remain once the one of 9 min ago is
    # 15 min old, 6 min from now
    assert retry_after(minutes_before(10, 9, 8, 7, 6), 5, T0) == 360


def test_failures_older_than_the_window_do_not_count():
    assert retry_after(minutes_before(15, 20, 9, 8, 7, 6), 5, T0) is None  # exactly 15 min ago: out
    assert retry_after(minutes_before(14, 13, 8, 7, 6), 5, T0) == 2 * 60  # the one of 13 min ago leaves first


def test_the_wait_is_at_least_a_second():
    failures = [T0 - dt.timedelta(minutes=15) + dt.timedelta(milliseconds=1)] * 6
    assert retry_after(failures, 5, T0) == 1


def test_the_limits_are_those_of_the_policy():
    assert (accounts.LOGIN_FAILURES_PER_NAME, accounts.LOGIN_FAILURES_PER_ADDRESS) == (5, 20)
    assert accounts.LOGIN_WINDOW == dt.timedelta(minutes=15)
    assert accounts.SESSION_LIFETIME == dt.timedelta(hours=12)


def test_a_refusal_carries_its_code_and_wait():
    refused = LoginRefused("login.rate-limited", "too many", 360)
    assert isinstance(refused, ProblemsError)
    assert (refused.code, refused.retry_after, refused.problems[0].code, refused.problems[0].value) == (
        "login.rate-limited", 360, "login.rate-limited", "360")


# --- tokens and keys ----------------------------------------------------------------------------

def test_tokens_are_kept_as_their_sha256():
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("text, expected", [
    ("osuus_0123456789ab_secret", ("0123456789ab", "secret")),
    ("osuus_0123456789ab_se_cr-et_", ("0123456789ab", "se_cr-et_")),  # a secret may hold _
    ("osuus_0123456789ab_", None), ("osuus_0123456789AB_secret", None), ("osuus_0123456789a_secret", None),
    ("osuus_0123456789abXsecret", None), ("OSUUS_0123456789ab_secret", None), ("", None),
    ("Bearer osuus_0123456789ab_secret", None), ("osuus_0123456789ab_" + "x" * 201, None),
])
def test_the_shape_of_a_key(text, expected):
    assert parse_key(text) == expected


def test_a_keys_secret_hash_is_sha256():
    assert accounts._secret_hash("s") == hashlib.sha256(b"s").hexdigest()


# --- the commands -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory):
    from osuus.store.db import upgrade

    path = tmp_path_factory.mktemp("accounts") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db(migrated_file, tmp_path, cheap_hasher, monkeypatch) -> str:
    """A migrated SQLite ledger of its own for each test (a copy of one migrated once)."""
    import shutil

    monkeypatch.setenv("OSUUS_USER", "pääkäyttäjä")
    monkeypatch.delenv("OSUUS_AREA", raising=False)
    path = tmp_path / "osuus.db"
    shutil.copy(migrated_file, path)
    return str(path)


def typed(*args, input: str | None = None):
    """The command with `input` as its standard input (invoke_cli gives it none)."""
    from typer.testing import CliRunner

    from osuus.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    return result.exit_code, result.stdout, result.stderr, result.exception


def test_user_add_reads_the_password_from_stdin_or_asks_twice(db):
    code, out, err, _ = typed("user", "add", "anna", "--display-name", "Anna V", "--password-stdin", "--db", db,
                              input=PASSWORD_LINE)
    assert (code, err) == (0, "") and out.startswith("Käyttäjä anna lisätty.")
    code, out, err, _ = typed("user", "add", "bertta", "--db", db, input="pitkä salasana 12\npitkä salasana 12\n")
    assert code == 0 and "Käyttäjä bertta lisätty." in out
    assert "pitkä salasana" not in out + err  # the prompt hides what is typed
    code, out, err, _ = typed("user", "add", "cecilia", "--db", db, input="pitkä salasana 12\npitkä salasana 13\n")
    assert code == 2 and "salasanat eivät ole samat" in err
    code, out, err, _ = typed("--language", "en", "user", "add", "cecilia", "--password-stdin", "--db", db,
                              input="lyhyt\n")
    assert code == 2 and "[password] expected a password of at least 12 characters, found 5" in err
    code, out, err, _ = typed("--language", "en", "user", "add", "cecilia", "--password-stdin", "--db", db,
                              input="pitkä salasana 12\ntoinen rivi\n")
    assert code == 2 and "expected the password on one line, found 2 lines" in err
    code, out, err, _ = typed("user", "add", "Anna", "--password-stdin", "--db", db, input=PASSWORD_LINE)
    assert code == 2 and "[name] a user named 'anna' exists already" in err


PASSWORD_LINE = "oikea hevonen patteri niitti\n"


def test_user_role_list_and_disable(db, invoke_cli):
    typed("user", "add", "anna", "--password-stdin", "--language", "sv", "--db", db, input=PASSWORD_LINE)
    typed("user", "add", "bertta", "--password-stdin", "--db", db, input=PASSWORD_LINE)
    code, out, err, _ = invoke_cli("user", "role", "anna", "admin", "--db", db)
    assert (code, out) == (0, "Käyttäjälle anna annettu rooli admin alueella default.\n")
    code, out, err, _ = invoke_cli("user", "role", "bertta", "member", "--db", db)
    assert code == 2 and "[municipality] a member acts for one municipality" in err
    assert invoke_cli("user", "role", "bertta", "member", "--municipality", "837", "--db", db)[0] == 0
    assert invoke_cli("user", "role", "bertta", "approver", "--db", db)[0] == 0
    code, out, err, _ = invoke_cli("user", "role", "bertta", "approver", "--revoke", "--db", db)
    assert (code, out) == (0, "Käyttäjältä bertta poistettu rooli approver alueella default.\n")
    assert invoke_cli("user", "disable", "anna", "--reason", "lähti talosta", "--db", db)[:2] == (
        0, "Käyttäjä anna estetty: hän ei voi kirjautua, ja hänen istuntonsa päätettiin.\n")
    from osuus.services.audit import newest
    from osuus.services.ledger import Ledger

    with Ledger(db) as opened:
        assert [(r.actor, r.action, r.subject, r.reason) for r in newest(opened, 1)] == [
            ("pääkäyttäjä", "user.disable", "anna", "lähti talosta")]
    code, out, err, _ = invoke_cli("--language", "en", "user", "list", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Users and roles in the area default"
    assert lines[1].split() == ["User", "name", "Name", "Language", "Roles", "State"]
    assert lines[3].split() == ["anna", "sv", "admin", "disabled"]
    assert lines[4].split() == ["bertta", "fi", "member", "(837)", "active"]


def test_apikey_create_prints_the_key_once_and_list_never_shows_it(db, invoke_cli):
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    code, out, err, _ = invoke_cli("--language", "en", "apikey", "create", "Raindance", "--role", "auditor",
                                   "--scope", "audit:read", "--scope", "invoices:read", "--expires", expires,
                                   "--db", db)
    assert code == 0
    key = out.strip()
    prefix = key.split("_")[1]
    assert out == key + "\n" and parse_key(key) is not None
    assert f"API key {prefix} created: role auditor, scopes audit:read, invoices:read" in err
    assert "shown this once only" in err
    code, out, err, _ = invoke_cli("--language", "en", "apikey", "list", "--db", db)
    assert code == 0 and prefix in out and "Raindance" in out and "active" in out
    assert key.split("_", 2)[2] not in out
    code, out, err, _ = invoke_cli("--language", "en", "apikey", "revoke", prefix, "--db", db)
    assert (code, out) == (0, f"API key {prefix} revoked.\n")
    assert "revoked" in invoke_cli("--language", "en", "apikey", "list", "--db", db)[1]


@pytest.mark.parametrize("args, expected", [
    (["--expires", "2020-01-01"], "[expires] expected an expiry in the future"),
    (["--expires", "31.12.2026"], "[--expires] expected a date such as 2021-02-01"),
    (["--expires", "+400"], "[--expires] expected a date such as 2021-02-01"),
    (["--scope", "invoices:pay"], "[scope] expected one of agreements:read"),
    (["--role", "owner"], "[role] expected one of admin, preparer, approver, auditor, member, found 'owner'"),
])
def test_apikey_create_refuses_bad_input(db, invoke_cli, args, expected):
    base = {"--role": "auditor", "--scope": "audit:read",
            "--expires": (dt.date.today() + dt.timedelta(days=30)).isoformat()}
    base.update(dict(zip(args[::2], args[1::2])))
    code, out, err, exc = invoke_cli("--language", "en", "apikey", "create", "x", *sum(map(list, base.items()), []),
                                     "--db", db)
    assert (code, out) == (2, "") and expected in err, (err, exc)


def test_an_apikey_expires_at_most_a_year_ahead(db, invoke_cli):
    too_far = (dt.date.today() + dt.timedelta(days=370)).isoformat()
    code, out, err, _ = invoke_cli("--language", "en", "apikey", "create", "x", "--role", "auditor", "--scope",
                                   "audit:read", "--expires", too_far, "--db", db)
    assert code == 2 and "[expires] an API key expires within a year" in err
