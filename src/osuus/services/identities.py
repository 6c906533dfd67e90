"""Users who sign in through an identity provider the server trusts (OpenID Connect).

The web app verifies the provider's answer (osuus.web.oidc); this use case takes over
from there. A person of a provider is one user of osuus, found by the provider and
the person's subject (`sub`): `oidc-<provider>-<24 hex digits of the SHA-256 of the
issuer and the subject>`. Neither the subject nor any other identifier of the person
is stored, and a personal identity code in the display name is masked
(osuus.privacy), so none is ever kept.

The provider's mapping says which roles a person of it has in the area (a member
municipality's own provider: member of that municipality). The roles the mapping gives
are granted, recorded as granted by `oidc:<provider>` (the actor of the ledger the web
app passes); a role that this provider granted before and the mapping no longer gives
is revoked. Roles an admin granted by hand are left as they are. A disabled user is
refused, as a password sign-in is.

The session is the one `accounts.login` makes (a `UserSession` row, the token's
SHA-256 kept, SESSION_LIFETIME). Like a password sign-in, a sign-in that changes
nothing writes no audit record; a new user, a role granted or revoked, or a new
display name is one record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from osuus.access import Role
from osuus.privacy import mask_personal_codes
from osuus.problems import Problem, ProblemsError
from osuus.services.accounts import (LANGUAGES, SESSION_LIFETIME, REFUSED, LoginRefused, UserView,
                                     active_grants, check_municipality, name_problems, role_problems, token_hash,
                                     user_view)
from osuus.services.ledger import Ledger, now
from osuus.store.tables import RoleGrant, User, UserSession

__all__ = ["ExternalIdentity", "ExternalSignIn", "sign_in_external", "user_name", "PROVIDER_NAME"]

#: A provider's name: it goes into addresses (/login/oidc/<name>) and user names.
PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")
#: How many hex digits of the hash of (issuer, subject) name a user: 96 bits.
DIGEST_HEX = 24
DISPLAY_NAME_MAX = User.__table__.c.display_name.type.length


@dataclass(frozen=True)
class ExternalIdentity:
    """A person as a provider vouched for them, and the roles its mapping gives in the area."""

    provider: str  # the provider's name in the server's configuration
    issuer: str
    subject: str  # the provider's `sub`: hashed into the user's name, never stored
    roles: tuple[tuple[Role, str | None], ...]  # (role, municipality of a member)
    display_name: str = ""
    language: str | None = None


@dataclass(frozen=True)
class ExternalSignIn:
    token: str  # the bearer token: given once, only its SHA-256 is kept
    expires_at: dt.datetime
    user: UserView  # with the roles in the ledger's area
    created: bool
    granted: tuple[tuple[Role, str | None], ...]
    revoked: tuple[tuple[Role, str | None], ...]


def user_name(provider: str, issuer: str, subject: str) -> str:
    """The user of osuus that a provider's subject is (the same at every sign-in)."""
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode("utf-8")).hexdigest()[:DIGEST_HEX]
    return f"oidc-{provider}-{digest}"


def display_name_of(text: str) -> str:
    """A name as a person reads it: printable, at most the column's length, any personal
    identity code masked."""
    text = "".join(c for c in unicodedata.normalize("NFC", text or "") if unicodedata.category(c)[0] != "C")
    return mask_personal_codes(" ".join(text.split()))[:DISPLAY_NAME_MAX]


def _identity_problems(identity: ExternalIdentity) -> list[Problem]:
    problems = []
    if not PROVIDER_NAME.match(identity.provider):
        problems.append(Problem(f"expected a provider name of 1–30 lowercase letters, digits and -, found "
                                f"{identity.provider!r}", key="provider", code="identity.provider"))
    if not identity.subject or not identity.issuer:
        problems.append(Problem("expected the provider's issuer and the person's subject", key="subject",
                                code="identity.subject"))
    if not identity.roles:
        problems.append(Problem(f"the provider {identity.provider!r} gives this person no role in the area",
                                key="roles", code="identity.no-role"))
    for role, municipality in identity.roles:
        problems += role_problems(Role(role), municipality, key="roles")
    members = sorted({m for r, m in identity.roles if Role(r) is Role.MEMBER})
    if len(members) > 1:
        problems.append(Problem(f"the provider's mapping makes this person a member of {len(members)} "
                                f"municipalities ({', '.join(members)}); a member acts for one",
                                key="roles", code="role.one-municipality"))
    return problems


def sign_in_external(ledger: Ledger, identity: ExternalIdentity, *, at: dt.datetime | None = None) -> ExternalSignIn:
    """Sign in a person an identity provider vouched for: their user (made at the first
    sign-in), the roles of the provider's mapping in the ledger's area, and a session.
    `ledger` acts as the provider (`oidc:<provider>`), in the area of its mapping."""
    problems = _identity_problems(identity)
    if problems:
        raise ProblemsError(problems)
    at = at or now()
    name = user_name(identity.provider, identity.issuer, identity.subject)
    problems = name_problems(name)
    if problems:  # cannot happen (hex digits); checked all the same, as every name is
        raise ProblemsError(problems)
    display_name = display_name_of(identity.display_name)
    language = identity.language if identity.language in LANGUAGES else "fi"
    wanted = tuple(dict.fromkeys((Role(r), m) for r, m in identity.roles))
    token = secrets.token_urlsafe(32)
    expires = at + SESSION_LIFETIME
    with ledger.write() as tx:
        session = tx.session
        user = session.scalar(select(User).where(User.name == name))
        created = user is None
        details: dict = {"provider": identity.provider}
        if created:
            user = User(name=name, display_name=display_name, password_hash=None, language=language, created_at=at)
            session.add(user)
            session.flush()
            details.update(display_name=display_name, language=language, password=False)
        elif user.disabled_at is not None:
            raise LoginRefused("login.refused", REFUSED)
        elif display_name and user.display_name != display_name:
            user.display_name = display_name
            details["display_name"] = display_name
        held = active_grants(session, ledger.area_id, [user.id])
        revoked = []
        for grant in held:  # what this provider granted and its mapping no longer gives
            if grant.granted_by == ledger.actor and (Role(grant.role), grant.municipality) not in wanted:
                grant.revoked_at = at
                revoked.append((Role(grant.role), grant.municipality))
        live = [g for g in held if g.revoked_at is None]
        granted = []
        for role, municipality in wanted:
            if any(g.role == role.value and g.municipality == municipality for g in live):
                continue
            if role is Role.MEMBER:
                other = next((g.municipality for g in live if g.role == Role.MEMBER.value), None)
                if other is not None:
                    raise ProblemsError([Problem(
                        f"the user {name!r} is a member for {other} already (granted by hand); the provider "
                        f"{identity.provider!r} would make them a member for {municipality}", key="roles",
                        code="role.one-municipality")])
                check_municipality(session, municipality)
            session.add(RoleGrant(user_id=user.id, role=role.value, municipality=municipality, granted_at=at,
                                  granted_by=ledger.actor))
            granted.append((role, municipality))
        session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=at, expires_at=expires))
        session.flush()
        if granted:
            details["granted"] = [{"role": r.value, "municipality": m} for r, m in granted]
        if revoked:
            details["revoked"] = [{"role": r.value, "municipality": m} for r, m in revoked]
        if created or len(details) > 1:
            tx.audit("user.add" if created else "user.external", name, details)
        view = user_view(user, active_grants(session, ledger.area_id, [user.id]))
    return ExternalSignIn(token, expires, view, created, tuple(granted), tuple(revoked))
