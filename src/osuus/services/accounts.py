"""Accounts: users, their roles in an area, signing in, sessions and API keys.

A user is of no area (`users`); its roles are (`role_grants`, one area each). A
`member` acts for one municipality of the area, every other role for the whole
area. An API key is of one area, with one role, the scopes it may use
(`resource:read|write`, osuus.access.SCOPES) and an expiry of at most a year.

Secrets are never stored or logged. A password is kept as its argon2id hash
(argon2-cffi's `PasswordHasher`, re-hashed when its parameters change); a
session's bearer token and an API key's secret as their SHA-256 (they are 256
random bits: see `_secret_hash`). The audit log records what was done to an
account, never a password, token or secret.

Signing in is rate-limited from the recorded attempts (`login_attempts`): at
most `LOGIN_FAILURES_PER_NAME` failed attempts per name and
`LOGIN_FAILURES_PER_ADDRESS` per address within `LOGIN_WINDOW`. Every attempt is
recorded, every refusal logged on the `osuus.access` logger, and a refusal says
the same whether the name is unknown, the password wrong or the user disabled
(a password is verified against a dummy hash when there is no user, so the time
taken does not tell either).

Each write is one transaction with one audit record (`tx.audit`), except the
sign-in's own bookkeeping (attempts, sessions, an API key's last use), which is
not a change of the ledger and would otherwise let anyone grow the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from osuus.access import ALLOWED, SCOPES, Action, Principal, Resource, Role
from osuus.privacy import mask_personal_codes, masked, personal_codes_in
from osuus.problems import Problem, ProblemsError
from osuus.services.ledger import Ledger, now
from osuus.store.tables import ApiKey, LoginAttempt, RoleGrant, User, UserSession

__all__ = [
    "ApiKeyView", "LoginRefused", "LoginResult", "RoleView", "UserView",
    "add_user", "set_password", "grant_role", "revoke_role", "disable_user", "list_users",
    "login", "logout", "principal_for_token", "session_user",
    "create_api_key", "revoke_api_key", "list_api_keys", "principal_for_api_key",
]

log = logging.getLogger("osuus.access")

#: A user name: 1–NAME_MAX letters (of any script), digits 0–9 and these marks.
NAME_MAX = 100
NAME_MARKS = "._@-"
#: A password: at least PASSWORD_MIN characters, and not the user's name. The upper bound
#: keeps a megabyte sent as a password from being hashed.
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
LANGUAGES = ("fi", "sv", "en")
#: A member's municipality: the official three-digit code.
MUNICIPALITY_DIGITS = 3

LOGIN_WINDOW = dt.timedelta(minutes=15)
"""The rate limit of signing in looks back this far: within it at most
LOGIN_FAILURES_PER_NAME failed attempts for one name (against guessing one user's
password) and LOGIN_FAILURES_PER_ADDRESS from one address (against trying many
names). An attempt refused by the limit counts as failed, so the limit holds for as
long as the guessing goes on; the refusal says after how many seconds to try again."""
LOGIN_FAILURES_PER_NAME = 5
LOGIN_FAILURES_PER_ADDRESS = 20
#: A session (the bearer token of a signed-in user) lasts this long.
SESSION_LIFETIME = dt.timedelta(hours=12)
#: An API key expires at most this far ahead (a year, leap day included).
KEY_MAX_LIFETIME = dt.timedelta(days=366)
#: An API key's last use is written at most this often (not a write per request).
KEY_TOUCH_INTERVAL = dt.timedelta(minutes=1)
#: An API key is `osuus_<prefix>_<secret>`: the prefix (KEY_PREFIX_HEX hex digits) finds it.
KEY_START = "osuus_"
KEY_PREFIX_HEX = 12

_NAME_COLUMN = User.__table__.c.name.type.length
_ADDRESS_COLUMN = LoginAttempt.__table__.c.address.type.length

# The hasher: argon2id with argon2-cffi's defaults (RFC 9106's second recommendation).
# A module attribute so that tests can use cheap parameters.
_HASHER = PasswordHasher()
_DUMMY_HASHES: dict[str, str] = {}


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleView:
    role: Role
    municipality: str | None
    granted_at: dt.datetime
    granted_by: str


@dataclass(frozen=True)
class UserView:
    """A user as shown: never the password hash, only whether there is one."""

    name: str
    display_name: str
    language: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    has_password: bool
    roles: tuple[RoleView, ...] = ()  # in the ledger's area

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True)
class LoginResult:
    token: str  # the bearer token: given once, only its SHA-256 is kept
    expires_at: dt.datetime
    user: UserView


@dataclass(frozen=True)
class ApiKeyView:
    """An API key as shown: its prefix (the key's public part), never its secret."""

    prefix: str
    name: str
    role: Role
    municipality: str | None
    scopes: tuple[str, ...]
    created_at: dt.datetime
    created_by: str
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def state(self, at: dt.datetime | None = None) -> str:
        """`revoked`, `expired` or `active` at `at` (now)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (at or now()) else "active"


class LoginRefused(ProblemsError):
    """A sign-in refused: `code` is `login.refused` or `login.rate-limited`; for the latter,
    `retry_after` is the number of seconds after which an attempt is taken again."""

    def __init__(self, code: str, message: str, retry_after: int | None = None):
        self.code = code
        self.retry_after = retry_after
        super().__init__([Problem(message, key="login", code=code,
                                  value="" if retry_after is None else str(retry_after))])


REFUSED = "the name or the password is wrong, or the account cannot sign in"


# --------------------------------------------------------------------------
# the rules, as pure functions (each returns every problem it finds)
# --------------------------------------------------------------------------

def name_problems(name: str, key: str = "name") -> list[Problem]:
    """A user name: 1–100 letters, digits 0–9 and `._@-`, holding no personal identity code."""
    if not 1 <= len(name) <= NAME_MAX:
        return [Problem(f"expected a user name of 1–{NAME_MAX} characters, found {len(name)}", key=key,
                        code="user.name")]
    bad = sorted({c for c in name if not (c in NAME_MARKS or c in "0123456789" or unicodedata.category(c)[0] == "L")})
    if bad:
        return [Problem(f"expected a user name of letters, digits 0–9 and {' '.join(NAME_MARKS)}, found "
                        f"{' '.join(repr(c) for c in bad)}", key=key, code="user.name")]
    codes = personal_codes_in(name)
    if codes:
        return [Problem(f"a user name is recorded in the change log for ever; it holds a personal identity code "
                        f"({masked(codes[0])})", key=key, code="privacy.personal-code")]
    return []


def label_problems(text: str, key: str, limit: int) -> list[Problem]:
    """A label a person reads (a display name, an API key's name): at most `limit` printable
    characters, no personal identity code."""
    if len(text) > limit:
        return [Problem(f"expected at most {limit} characters, found {len(text)}", key=key, code="label.length")]
    if any(unicodedata.category(c)[0] == "C" for c in text):
        return [Problem("expected printable text, found a control character", key=key, code="label.control")]
    codes = personal_codes_in(text)
    if codes:
        return [Problem(f"holds a personal identity code ({masked(codes[0])})", key=key,
                        code="privacy.personal-code")]
    return []


def password_problems(name: str, password: str) -> list[Problem]:
    """The password policy: PASSWORD_MIN–PASSWORD_MAX characters, and not the user's name.
    The problems never repeat the password."""
    problems = []
    if len(password) < PASSWORD_MIN:
        problems.append(Problem(f"expected a password of at least {PASSWORD_MIN} characters, found "
                                f"{len(password)}", key="password", code="password.short"))
    elif len(password) > PASSWORD_MAX:
        problems.append(Problem(f"expected a password of at most {PASSWORD_MAX} characters, found "
                                f"{len(password)}", key="password", code="password.long"))
    if password.strip().casefold() == name.strip().casefold():
        problems.append(Problem("the password is the user's name", key="password", code="password.name"))
    return problems


def role_of(role: str | Role, key: str = "role") -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ProblemsError([Problem(f"expected one of {', '.join(r.value for r in Role)}, found {role!r}",
                                     key=key, code="role.unknown")]) from None


def role_problems(role: Role, municipality: str | None, key: str = "municipality") -> list[Problem]:
    """A member is of one municipality (its three-digit code); no other role is."""
    if role is Role.MEMBER:
        if municipality is None or not (len(municipality) == MUNICIPALITY_DIGITS and municipality.isascii()
                                        and municipality.isdigit()):
            found = "none" if municipality is None else repr(municipality)
            return [Problem(f"a member acts for one municipality: expected its three-digit code (such as 837), "
                            f"found {found}", key=key, code="role.municipality")]
    elif municipality is not None:
        return [Problem(f"only a member acts for one municipality; the role {role.value} is of the whole area "
                        f"(found {municipality!r})", key=key, code="role.municipality")]
    return []


def scope_problems(role: Role, scopes: list[str] | tuple[str, ...]) -> list[Problem]:
    """Scopes an API key may hold: at least one, each of osuus.access.SCOPES, and each of what
    its role may do (`write` covers writing and approving)."""
    if not scopes:
        return [Problem(f"expected at least one scope, one of {', '.join(SCOPES)}", key="scope", code="scope.none")]
    problems = []
    for scope in scopes:
        if scope not in SCOPES:
            problems.append(Problem(f"expected one of {', '.join(SCOPES)}, found {scope!r}", key="scope",
                                    code="scope.unknown"))
            continue
        resource, kind = scope.split(":")
        wanted = {Action.READ} if kind == "read" else {Action.WRITE, Action.APPROVE}
        if not wanted & ALLOWED[role].get(Resource(resource), frozenset()):
            problems.append(Problem(f"the role {role.value} may not {kind} {resource}, so a key of it cannot "
                                    f"hold the scope {scope}", key="scope", code="scope.role"))
    return problems


def expiry_problems(expires: dt.datetime, at: dt.datetime) -> list[Problem]:
    """An API key's expiry: after `at`, at most KEY_MAX_LIFETIME ahead."""
    if expires <= at:
        return [Problem(f"expected an expiry in the future, found {expires.isoformat()}", key="expires",
                        code="apikey.expired")]
    if expires > at + KEY_MAX_LIFETIME:
        return [Problem(f"an API key expires within a year: expected {(at + KEY_MAX_LIFETIME).date()} or "
                        f"earlier, found {expires.date()}", key="expires", code="apikey.expiry")]
    return []


def retry_after(failures: list[dt.datetime], limit: int, at: dt.datetime,
                window: dt.timedelta = LOGIN_WINDOW) -> int | None:
    """Seconds to wait before trying again, or None when the attempt at `at` is allowed.

    `failures` are the failed attempts within the window before `at`. At `limit` of them
    the attempt is refused, and counts as failed too; attempts are taken again once fewer
    than `limit` of all these remain within the window."""
    recent = sorted(f for f in failures if at - window < f <= at)
    if len(recent) < limit:
        return None
    counted = recent + [at]
    leaves = counted[len(counted) - limit] + window
    return max(1, math.ceil((leaves - at).total_seconds()))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# An API key's secret is kept as its SHA-256, not as an argon2 hash. A slow hash protects
# a secret a person chose (guessable) from being found from its hash; this secret is 256
# random bits (secrets.token_urlsafe(32)), which no guessing finds, fast hash or slow. And
# a key is checked on every request: argon2 would cost each request ~0.1 s and 64 MiB.
_secret_hash = token_hash


def parse_key(key_text: str) -> tuple[str, str] | None:
    """`osuus_<prefix>_<secret>` as (prefix, secret); None when it is not of that shape.
    (The secret may hold `_` itself: the prefix has a fixed length.)"""
    if not key_text.startswith(KEY_START):
        return None
    rest = key_text[len(KEY_START):]
    prefix, sep, secret = rest[:KEY_PREFIX_HEX], rest[KEY_PREFIX_HEX:KEY_PREFIX_HEX + 1], rest[KEY_PREFIX_HEX + 1:]
    if sep != "_" or not secret or len(secret) > 200 or not all(c in "0123456789abcdef" for c in prefix):
        return None
    return prefix, secret


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _dummy_hash() -> str:
    """A hash of no one's password, with the hasher's parameters (made once per parameters)."""
    key = repr((_HASHER.time_cost, _HASHER.memory_cost, _HASHER.parallelism, _HASHER.hash_len, _HASHER.salt_len))
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = _HASHER.hash(secrets.token_urlsafe(32))
    return _DUMMY_HASHES[key]


def _verify(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` is the hash of; with no hash, the same work
    against a dummy hash, and False."""
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives times back naive (they are stored in UTC)."""
    return at.replace(tzinfo=dt.timezone.utc) if at is not None and at.tzinfo is None else at


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else at.astimezone(dt.timezone.utc)


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ProblemsError(problems)


# --------------------------------------------------------------------------
# users and roles
# --------------------------------------------------------------------------

def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise ProblemsError([Problem(f"no user is named {name!r}", key="name", code="user.unknown")])
    return user


def active_grants(session: Session, area_id: int, user_ids: list[int] | None = None) -> list[RoleGrant]:
    query = select(RoleGrant).where(RoleGrant.area_id == area_id, RoleGrant.revoked_at.is_(None))
    if user_ids is not None:
        query = query.where(RoleGrant.user_id.in_(user_ids))
    return list(session.scalars(query.order_by(RoleGrant.role, RoleGrant.municipality, RoleGrant.id)))


def _role_view(grant: RoleGrant) -> RoleView:
    return RoleView(Role(grant.role), grant.municipality, _aware(grant.granted_at), grant.granted_by)


def user_view(user: User, grants: list[RoleGrant] = ()) -> UserView:
    return UserView(user.name, user.display_name or "", user.language, _aware(user.created_at),
                    _aware(user.disabled_at), user.password_hash is not None,
                    tuple(_role_view(g) for g in grants if g.user_id == user.id))


def _revoke_sessions(session: Session, user_id: int, at: dt.datetime) -> int:
    return session.execute(update(UserSession)
                           .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
                           .values(revoked_at=at)).rowcount or 0


def add_user(ledger: Ledger, name: str, *, display_name: str = "", password: str | None,
             language: str = "fi", reason: str = "") -> UserView:
    """A new user, with no role yet. `password` None: one who cannot sign in (yet)."""
    name = unicodedata.normalize("NFC", name)
    problems = name_problems(name) + label_problems(display_name, "display_name", 200)
    if language not in LANGUAGES:
        problems.append(Problem(f"expected one of {', '.join(LANGUAGES)}, found {language!r}", key="language",
                                code="user.language"))
    if password is not None:
        problems += password_problems(name, password)
    _raise(problems)
    password_hash = hash_password(password) if password is not None else None  # before the write lock
    at = now()
    with ledger.write() as tx:
        taken = next((n for n in tx.session.scalars(select(User.name)) if n.casefold() == name.casefold()), None)
        if taken is not None:
            raise ProblemsError([Problem(f"a user named {taken!r} exists already", key="name",
                                         code="user.exists")])
        user = User(name=name, display_name=display_name, password_hash=password_hash, language=language,
                    created_at=at)
        tx.session.add(user)
        tx.session.flush()
        tx.audit("user.add", name, {"display_name": display_name, "language": language,
                                    "password": password is not None}, reason)
        return user_view(user)


def set_password(ledger: Ledger, name: str, password: str, *, reason: str = "") -> None:
    """A user's new password; the user's sessions end (signed in with the old one)."""
    _raise(password_problems(name, password))
    password_hash = hash_password(password)
    with ledger.write() as tx:
        user = _user(tx.session, name)
        user.password_hash = password_hash
        ended = _revoke_sessions(tx.session, user.id, now())
        tx.audit("user.password", name, {"sessions_ended": ended}, reason)


def check_municipality(session: Session, code: str) -> None:
    """A member's municipality is one of the area's agreements (when any is stored)."""
    from osuus.services.agreements import Agreements

    agreements = Agreements(session)
    years = agreements.years()
    if years and not any((a := agreements.of_year(y)) is not None and a.by_code(code) for y in years):
        raise ProblemsError([Problem(f"no municipality coded {code} is a party to this area's agreements "
                                     f"({years[0]}–{years[-1]})", key="municipality",
                                     code="role.municipality-unknown")])


def grant_role(ledger: Ledger, name: str, role: str | Role, municipality: str | None = None, *,
               reason: str = "") -> UserView:
    """Give a user a role in the ledger's area (a member: for one municipality)."""
    role = role_of(role)
    _raise(role_problems(role, municipality))
    with ledger.write() as tx:
        user = _user(tx.session, name)
        if user.disabled_at is not None:
            raise ProblemsError([Problem(f"the user {name!r} is disabled", key="name", code="user.disabled")])
        held = [g for g in active_grants(tx.session, ledger.area_id, [user.id])]
        if any(g.role == role.value and g.municipality == municipality for g in held):
            raise ProblemsError([Problem(f"the user {name!r} has the role {role.value} already"
                                         + (f" for {municipality}" if municipality else ""), key="role",
                                         code="role.held")])
        if role is Role.MEMBER:
            other = next((g.municipality for g in held if g.role == Role.MEMBER.value), None)
            if other is not None:
                raise ProblemsError([Problem(f"the user {name!r} is a member for {other} already; a member acts "
                                             "for one municipality (revoke that first)", key="municipality",
                                             code="role.one-municipality")])
            check_municipality(tx.session, municipality)
        tx.session.add(RoleGrant(user_id=user.id, role=role.value, municipality=municipality, granted_at=now(),
                                 granted_by=ledger.actor))
        tx.session.flush()
        tx.audit("user.role.grant", name, {"role": role.value, "municipality": municipality}, reason)
        return user_view(user, active_grants(tx.session, ledger.area_id, [user.id]))


def revoke_role(ledger: Ledger, name: str, role: str | Role, municipality: str | None = None, *,
                reason: str = "") -> UserView:
    """Take a role away in the ledger's area (a member's: of `municipality`, or whichever it is)."""
    role = role_of(role)
    if municipality is not None:
        _raise(role_problems(role, municipality))
    with ledger.write() as tx:
        return _revoke(tx, ledger.area_id, _user(tx.session, name), role, municipality, reason)


def _revoke(tx, area_id: int, user: User, role: Role, municipality: str | None, reason: str) -> UserView:
    held = [g for g in active_grants(tx.session, area_id, [user.id])
            if g.role == role.value and (municipality is None or g.municipality == municipality)]
    if not held:
        raise ProblemsError([Problem(f"the user {user.name!r} has no role {role.value}"
                                     + (f" for {municipality}" if municipality else "") + " in this area",
                                     key="role", code="role.not-held")])
    at = now()
    for grant in held:
        grant.revoked_at = at
    tx.session.flush()
    tx.audit("user.role.revoke", user.name, {"role": role.value, "municipality": held[0].municipality}, reason)
    return user_view(user, active_grants(tx.session, area_id, [user.id]))


def disable_user(ledger: Ledger, name: str, *, reason: str = "") -> UserView:
    """A user who can no longer sign in; their sessions end at once. (Their API keys are the
    area's, not theirs: revoke those apart.)"""
    with ledger.write() as tx:
        user = _user(tx.session, name)
        if user.disabled_at is not None:
            raise ProblemsError([Problem(f"the user {name!r} is disabled already", key="name",
                                         code="user.disabled")])
        at = now()
        user.disabled_at = at
        ended = _revoke_sessions(tx.session, user.id, at)
        tx.session.flush()
        tx.audit("user.disable", name, {"sessions_ended": ended}, reason)
        return user_view(user, active_grants(tx.session, ledger.area_id, [user.id]))


def list_users(ledger: Ledger, *, area_only: bool = False) -> list[UserView]:
    """The users, by name, each with their roles in the ledger's area. `area_only`: only the
    users of the area, those who have or had a role in it (what an area's admin may see of a
    database that serves several)."""
    with ledger.read() as session:
        grants = active_grants(session, ledger.area_id)
        users = list(session.scalars(select(User).order_by(User.name)))
        if area_only:
            ever = set(session.scalars(select(RoleGrant.user_id).where(RoleGrant.area_id == ledger.area_id)))
            users = [u for u in users if u.id in ever]
        return [user_view(u, grants) for u in users]


# --------------------------------------------------------------------------
# an area's admin: only the users of the area (the web app's users page)
# --------------------------------------------------------------------------
#
# Users are of no area and names are unique in the database, but an area's admin acts on the
# users of their own area alone: those who have or had a role in it. A user of another area is
# answered exactly as a name no one has (`user.unknown`, the same words), so that no admin learns
# the names of another area's people, nor locks them out. Disabling a user in an area takes away
# their roles there; the account itself is disabled only when no other area gives them a role.
# (The installation's own commands, `osuus users`, act on any user: grant_role, revoke_role,
# disable_user above.)

def _unknown(name: str) -> ProblemsError:
    return ProblemsError([Problem(f"no user is named {name!r}", key="name", code="user.unknown")])


def _area_user(session: Session, area_id: int, name: str) -> User:
    """The user `name` of the area (who has or had a role in it); refused as unknown otherwise,
    in the words of a name no one has."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None or session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == user.id,
                                                                 RoleGrant.area_id == area_id).limit(1)) is None:
        raise _unknown(name)
    return user


def _other_admins(session: Session, area_id: int, user_id: int) -> int:
    """How many users other than `user_id`, not disabled, are admins of the area. The area's admin
    grants are locked first (on PostgreSQL; SQLite writes one at a time), so that two admins taking
    each other's role at once cannot leave the area with none: the second waits, then counts again."""
    session.execute(select(RoleGrant.id).where(RoleGrant.area_id == area_id, RoleGrant.role == Role.ADMIN.value,
                                               RoleGrant.revoked_at.is_(None))
                    .order_by(RoleGrant.id).with_for_update())
    return len(set(session.scalars(
        select(RoleGrant.user_id).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.area_id == area_id, RoleGrant.revoked_at.is_(None), RoleGrant.role == Role.ADMIN.value,
               RoleGrant.user_id != user_id, User.disabled_at.is_(None)))))


def _last_admin(name: str) -> ProblemsError:
    return ProblemsError([Problem(f"{name!r} is the area's last admin: grant the role to another user first",
                                  key="role", code="role.last-admin")])


def _roles_elsewhere(ledger: Ledger, name: str) -> bool:
    """Whether the user `name` holds a role in an area other than the ledger's. Each area is read
    in its own right (on PostgreSQL row-level security shows a transaction one area's grants)."""
    from osuus.store.areas import areas, begin_in_area

    with ledger.outside_areas() as session:
        user_id = session.scalar(select(User.id).where(User.name == name))
        if user_id is None:
            return False
        for area in areas(session):
            if area.id == ledger.area_id:
                continue
            begin_in_area(session, area.id)
            if session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == user_id, RoleGrant.area_id == area.id,
                                                         RoleGrant.revoked_at.is_(None)).limit(1)) is not None:
                return True
    return False


def add_area_user(ledger: Ledger, name: str, role: str | Role, municipality: str | None = None, *,
                  display_name: str = "", password: str | None, language: str = "fi", reason: str = "") -> UserView:
    """A new user with a role in the ledger's area, in one transaction (so a user an area's admin
    adds is at once a user of the area, never one of no area's)."""
    name = unicodedata.normalize("NFC", name)
    problems = name_problems(name) + label_problems(display_name, "display_name", 200)
    if language not in LANGUAGES:
        problems.append(Problem(f"expected one of {', '.join(LANGUAGES)}, found {language!r}", key="language",
                                code="user.language"))
    if password is not None:
        problems += password_problems(name, password)
    role = role_of(role)
    problems += role_problems(role, municipality)
    _raise(problems)
    password_hash = hash_password(password) if password is not None else None  # before the write lock
    at = now()
    with ledger.write() as tx:
        taken = next((n for n in tx.session.scalars(select(User.name)) if n.casefold() == name.casefold()), None)
        if taken is not None:
            raise ProblemsError([Problem(f"a user named {taken!r} exists already", key="name",
                                         code="user.exists")])
        if role is Role.MEMBER:
            check_municipality(tx.session, municipality)
        user = User(name=name, display_name=display_name, password_hash=password_hash, language=language,
                    created_at=at)
        tx.session.add(user)
        tx.session.flush()
        tx.session.add(RoleGrant(user_id=user.id, role=role.value, municipality=municipality, granted_at=at,
                                 granted_by=ledger.actor))
        tx.session.flush()
        tx.audit("user.add", name, {"display_name": display_name, "language": language,
                                    "password": password is not None,
                                    "granted": [{"role": role.value, "municipality": municipality}]}, reason)
        return user_view(user, active_grants(tx.session, ledger.area_id, [user.id]))


def grant_area_role(ledger: Ledger, name: str, role: str | Role, municipality: str | None = None, *,
                    reason: str = "") -> UserView:
    """`grant_role` by an area's admin: to a user of the area only (anyone else is unknown)."""
    role = role_of(role)
    _raise(role_problems(role, municipality))
    with ledger.read() as session:
        _area_user(session, ledger.area_id, name)
    return grant_role(ledger, name, role, municipality, reason=reason)


def revoke_area_role(ledger: Ledger, name: str, role: str | Role, municipality: str | None = None, *,
                     reason: str = "") -> UserView:
    """`revoke_role` by an area's admin: of a user of the area only; never their own admin role,
    nor the area's last admin's (an area is never left with no one to manage its users)."""
    role = role_of(role)
    if municipality is not None:
        _raise(role_problems(role, municipality))
    with ledger.write() as tx:
        user = _area_user(tx.session, ledger.area_id, name)
        if role is Role.ADMIN:
            if name == ledger.actor:
                raise ProblemsError([Problem("an admin cannot take their own admin role away: another admin does",
                                             key="role", code="role.own-admin")])
            held = active_grants(tx.session, ledger.area_id, [user.id])
            if any(g.role == Role.ADMIN.value for g in held) and not _other_admins(tx.session, ledger.area_id,
                                                                                   user.id):
                raise _last_admin(name)
        return _revoke(tx, ledger.area_id, user, role, municipality, reason)


@dataclass(frozen=True)
class AreaRemoval:
    """A user taken out of an area: the roles taken away, and whether the account itself was
    disabled (it is when no other area gives the user a role)."""

    user: UserView
    revoked: tuple[RoleView, ...]
    disabled: bool


def disable_area_user(ledger: Ledger, name: str, *, reason: str = "") -> AreaRemoval:
    """Disable a user in the ledger's area (an area's admin): every role of theirs in the area is
    taken away, and the account is disabled (its sessions ended) when no other area gives them a
    role; a user of another area is unknown. Never oneself, nor the area's last admin."""
    if name == ledger.actor:
        raise ProblemsError([Problem("a user cannot disable themself", key="name", code="user.self")])
    with ledger.read() as session:
        _area_user(session, ledger.area_id, name)  # before looking into the other areas
    elsewhere = _roles_elsewhere(ledger, name)
    with ledger.write() as tx:
        user = _area_user(tx.session, ledger.area_id, name)
        held = active_grants(tx.session, ledger.area_id, [user.id])
        if any(g.role == Role.ADMIN.value for g in held) and not _other_admins(tx.session, ledger.area_id, user.id):
            raise _last_admin(name)
        disable = not elsewhere and user.disabled_at is None
        if not held and not disable:
            if user.disabled_at is not None:
                raise ProblemsError([Problem(f"the user {name!r} is disabled already", key="name",
                                             code="user.disabled")])
            raise ProblemsError([Problem(f"the user {name!r} has no role in this area", key="name",
                                         code="user.no-role")])
        at = now()
        for grant in held:
            grant.revoked_at = at
        revoked = [{"role": g.role, "municipality": g.municipality} for g in held]
        if disable:
            user.disabled_at = at
            ended = _revoke_sessions(tx.session, user.id, at)
            tx.session.flush()
            tx.audit("user.disable", name, {"revoked": revoked, "sessions_ended": ended}, reason)
        else:
            tx.session.flush()
            tx.audit("user.role.revoke", name, {"revoked": revoked}, reason)
        return AreaRemoval(user_view(user, active_grants(tx.session, ledger.area_id, [user.id])),
                           tuple(_role_view(g) for g in held), disable)


# --------------------------------------------------------------------------
# signing in
# --------------------------------------------------------------------------

def _tried_name(name: str) -> str:
    """The name as recorded and logged: cut to its column, any personal identity code masked
    (a person may type theirs as a name)."""
    return mask_personal_codes(name[:_NAME_COLUMN])[:_NAME_COLUMN]


def _wait(session: Session, name: str, address: str, at: dt.datetime) -> int | None:
    since = at - LOGIN_WINDOW
    failed = select(LoginAttempt.at).where(LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
    by_name = [_aware(a) for a in session.scalars(failed.where(LoginAttempt.name == name))]
    by_address = [_aware(a) for a in session.scalars(failed.where(LoginAttempt.address == address))]
    waits = [w for w in (retry_after(by_name, LOGIN_FAILURES_PER_NAME, at),
                         retry_after(by_address, LOGIN_FAILURES_PER_ADDRESS, at)) if w is not None]
    return max(waits) if waits else None


def _refuse_login(name: str, address: str, reason: str, wait: int | None = None):
    log.warning("sign-in refused", extra={"fields": {
        "event": "login.refused", "user": name, "address": address, "reason": reason,
        **({"retry_after": wait} if wait else {})}})
    if wait is not None:
        return LoginRefused("login.rate-limited", f"too many failed sign-ins: try again in {wait} seconds", wait)
    return LoginRefused("login.refused", REFUSED)


def login(ledger: Ledger, name: str, password: str, address: str, *, at: dt.datetime | None = None) -> LoginResult:
    """Sign a user in: a bearer token for SESSION_LIFETIME. Refused (LoginRefused) alike for
    an unknown name, a wrong password, a user disabled or without a password; or for the
    rate limit, with the seconds to wait. `address` is the client's (for the rate limit)."""
    at = _utc(at) if at is not None else now()
    # one spelling of a name (NFC, as names are stored) for the lookup and the rate limit alike:
    # the same name in another Unicode form is not a fresh set of guesses
    name = unicodedata.normalize("NFC", name)
    tried = _tried_name(name)
    address = (address or "unknown")[:_ADDRESS_COLUMN]
    with ledger.read() as session:
        wait = _wait(session, tried, address, at)
        lookup = name[:NAME_MAX + 1]
        user = session.scalar(select(User).where(User.name == lookup)) if wait is None else None
        found = (user.id, user.password_hash, user.disabled_at is not None) if user is not None else None
    if wait is not None:
        with ledger.write() as tx:
            tx.session.add(LoginAttempt(name=tried, address=address, at=at, succeeded=False))
        raise _refuse_login(tried, address, "rate-limited", wait)
    # the password is verified outside any transaction: it takes a tenth of a second
    stored = found[1] if found is not None else None
    too_long = len(password) > PASSWORD_MAX  # no password is; and hashing a megabyte is not done
    matches = _verify(stored, "" if too_long else password) and not too_long
    reason = ("unknown-user" if found is None else "no-password" if stored is None
              else "wrong-password" if not matches else "disabled" if found[2] else "")
    new_hash = hash_password(password) if not reason and _HASHER.check_needs_rehash(stored) else None
    token = secrets.token_urlsafe(32)
    expires = at + SESSION_LIFETIME
    with ledger.write() as tx:
        # the limit again, under the write lock: attempts made while this one was verified count too
        wait = _wait(tx.session, tried, address, at)
        user = tx.session.get(User, found[0]) if found is not None and not reason and wait is None else None
        if user is not None and (user.disabled_at is not None or user.password_hash != stored):
            reason, user = "disabled" if user.disabled_at is not None else "password-changed", None
        ok = user is not None
        tx.session.add(LoginAttempt(name=tried, address=address, at=at, succeeded=ok))
        if ok:
            if new_hash is not None:
                user.password_hash = new_hash
            tx.session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=at,
                                       expires_at=expires))
            tx.session.flush()
            view = user_view(user, active_grants(tx.session, ledger.area_id, [user.id]))
    if wait is not None:
        raise _refuse_login(tried, address, "rate-limited", wait)
    if not ok:
        raise _refuse_login(tried, address, reason)
    return LoginResult(token, expires, view)


def logout(ledger: Ledger, token: str) -> bool:
    """End the session of `token`; False when there was none to end."""
    with ledger.write() as tx:
        return bool(tx.session.execute(update(UserSession).where(UserSession.token_hash == token_hash(token),
                                                                 UserSession.revoked_at.is_(None))
                                       .values(revoked_at=now())).rowcount)


def _session_user(session: Session, token: str) -> User | None:
    """The user of a live session: None when the token is unknown, expired or ended, or the
    user disabled. The session is found by the token's SHA-256: the time an index lookup
    takes can tell nothing of a token from its hash."""
    if not token or len(token) > 200:
        return None
    row = session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                          .where(UserSession.token_hash == token_hash(token))).first()
    if row is None:
        return None
    found, user = row
    if found.revoked_at is not None or _aware(found.expires_at) <= now() or user.disabled_at is not None:
        return None
    return user


def session_user(ledger: Ledger, token: str) -> UserView | None:
    """The user signed in with the bearer token `token`, whatever their roles (those in the
    ledger's area shown, none for a ledger of no area); None when the token is unknown,
    expired or ended, or the user disabled."""
    with ledger.read() as session:
        user = _session_user(session, token)
        if user is None:
            return None
        return user_view(user, active_grants(session, ledger.area_id, [user.id]) if ledger.area_id is not None else [])


def principal_for_token(ledger: Ledger, token: str) -> Principal | None:
    """The signed-in user of a bearer token, acting in the ledger's area; None when the token
    is unknown, expired or ended, the user disabled, or without a role in the area."""
    with ledger.read() as session:
        user = _session_user(session, token)
        if user is None:
            return None
        grants = active_grants(session, ledger.area_id, [user.id])
        if not grants:
            return None
        return Principal(kind="user", name=user.name, area_id=ledger.area_id, area_code=ledger.area_code,
                         roles=frozenset(Role(g.role) for g in grants),
                         municipality=next((g.municipality for g in grants if g.role == Role.MEMBER.value), None),
                         user_id=user.id, language=user.language)


# --------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------

def _key_view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView(key.prefix, key.name, Role(key.role), key.municipality, tuple(key.scopes or ()),
                      _aware(key.created_at), key.created_by, _aware(key.expires_at), _aware(key.last_used_at),
                      _aware(key.revoked_at))


def create_api_key(ledger: Ledger, name: str, role: str | Role, scopes: list[str], expires: dt.datetime,
                   municipality: str | None = None, *, reason: str = "") -> tuple[ApiKeyView, str]:
    """A new API key of the ledger's area: its view and the key itself (`osuus_<prefix>_<secret>`),
    which is shown this once and never kept."""
    role = role_of(role)
    at = now()
    expires = _utc(expires)
    scopes = sorted(set(scopes))
    problems = ([Problem("expected a name for the key", key="name", code="apikey.name")] if not name.strip() else [])
    problems += label_problems(name, "name", ApiKey.__table__.c.name.type.length)
    problems += role_problems(role, municipality) + scope_problems(role, scopes) + expiry_problems(expires, at)
    _raise(problems)
    secret = secrets.token_urlsafe(32)
    with ledger.write() as tx:
        if role is Role.MEMBER:
            check_municipality(tx.session, municipality)
        prefix = secrets.token_hex(KEY_PREFIX_HEX // 2)  # 48 bits: two keys with one prefix, all but never
        key = ApiKey(prefix=prefix, secret_hash=_secret_hash(secret), name=name, role=role.value,
                     municipality=municipality, scopes=scopes, created_at=at, created_by=ledger.actor,
                     expires_at=expires)
        tx.session.add(key)
        tx.session.flush()
        tx.audit("apikey.create", f"key:{prefix}", {"name": name, "role": role.value, "municipality": municipality,
                                                    "scopes": scopes, "expires_at": expires.isoformat()}, reason)
        return _key_view(key), f"{KEY_START}{prefix}_{secret}"


def revoke_api_key(ledger: Ledger, prefix: str, *, reason: str = "") -> ApiKeyView:
    """Revoke a key of the ledger's area, found by its prefix (or the whole key)."""
    parsed = parse_key(prefix)
    prefix = parsed[0] if parsed is not None else prefix.strip()
    with ledger.write() as tx:
        key = tx.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.area_id == ledger.area_id))
        if key is None:
            raise ProblemsError([Problem(f"no API key of this area has the prefix {prefix!r}", key="prefix",
                                         code="apikey.unknown")])
        if key.revoked_at is not None:
            raise ProblemsError([Problem(f"the API key {prefix} is revoked already", key="prefix",
                                         code="apikey.revoked")])
        key.revoked_at = now()
        tx.session.flush()
        tx.audit("apikey.revoke", f"key:{prefix}", {"name": key.name}, reason)
        return _key_view(key)


def list_api_keys(ledger: Ledger) -> list[ApiKeyView]:
    """The area's API keys, oldest first, revoked and expired ones included (never a secret)."""
    with ledger.read() as session:
        return [_key_view(k) for k in session.scalars(select(ApiKey).where(ApiKey.area_id == ledger.area_id)
                                                      .order_by(ApiKey.created_at, ApiKey.id))]


def principal_for_api_key(ledger: Ledger, key_text: str) -> Principal | None:
    """The principal of an API key of the ledger's area; None when the key is not one, or is
    of another area, revoked or expired. Its last use is written at most once a minute, in a
    short transaction of its own."""
    parsed = parse_key(key_text or "")
    if parsed is None:
        return None
    prefix, secret = parsed
    at = now()
    with ledger.read() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.area_id == ledger.area_id))
        if key is None:
            _secret_hash(secret)  # the same work as for a key that is there
            return None
        if not hmac.compare_digest(_secret_hash(secret), key.secret_hash):
            return None
        if key.revoked_at is not None or _aware(key.expires_at) <= at:
            return None
        key_id, last_used = key.id, _aware(key.last_used_at)
        principal = Principal(kind="key", name=f"key:{prefix}", area_id=ledger.area_id, area_code=ledger.area_code,
                              roles=frozenset({Role(key.role)}), municipality=key.municipality,
                              scopes=frozenset(key.scopes or ()))
    if last_used is None or at - last_used >= KEY_TOUCH_INTERVAL:
        with ledger.write() as tx:
            tx.session.execute(update(ApiKey).where(ApiKey.id == key_id, or_(
                ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= at - KEY_TOUCH_INTERVAL))
                .values(last_used_at=at))
    return principal


# --------------------------------------------------------------------------
# the web app: a user's language, signing out everywhere, a session's expiry
# --------------------------------------------------------------------------

def set_language(ledger: Ledger, name: str, lang: str) -> UserView:
    """The language a user reads osuus in (fi, sv or en): the web app's switch keeps it. A
    reader's preference, not a change of the ledger, so it has no audit record (as a sign-in
    has none): a user switching back and forth does not grow the change log."""
    if lang not in LANGUAGES:
        raise ProblemsError([Problem(f"expected one of {', '.join(LANGUAGES)}, found {lang!r}", key="language",
                                     code="user.language")])
    with ledger.write() as tx:
        user = _user(tx.session, name)
        user.language = lang
        tx.session.flush()
        return user_view(user, active_grants(tx.session, ledger.area_id, [user.id]) if ledger.area_id is not None else [])


def logout_everywhere(ledger: Ledger, token: str) -> int:
    """End every live session of the user signed in with `token` (this one included), on every
    device: how many were ended; 0 when the token is no live session. Sign-in bookkeeping, so
    no audit record, as `logout` (disabling a user or a new password end sessions with one)."""
    with ledger.write() as tx:
        user = _session_user(tx.session, token)
        if user is None:
            return 0
        at = now()
        return tx.session.execute(update(UserSession).where(
            UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > at)
            .values(revoked_at=at)).rowcount or 0


def session_expiry(ledger: Ledger, token: str) -> dt.datetime | None:
    """When the live session of `token` expires (UTC); None when it is unknown, expired or
    ended, or its user disabled."""
    with ledger.read() as session:
        if _session_user(session, token) is None:
            return None
        return _aware(session.scalar(select(UserSession.expires_at)
                                     .where(UserSession.token_hash == token_hash(token))))


__all__ += ["logout_everywhere", "session_expiry", "set_language",
            "active_grants", "check_municipality", "user_view",
            "AreaRemoval", "add_area_user", "grant_area_role", "revoke_area_role", "disable_area_user"]
