"""Who may do what: roles, resources and the principal who asks (pure values, no I/O).

A principal is a signed-in user or an API key, acting in one area. Its roles in that
area say what it may do (`ALLOWED`); an API key may do only what its role allows *and*
its scopes grant. A `member` acts for one municipality and sees only that
municipality's documents; the store and the web edges apply that filter, this module
only says that it applies (`Principal.municipality`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    ADMIN = "admin"  # users and API keys, agreements
    PREPARER = "preparer"  # imports, draft invoice runs and credit notes, estimates, closing the year
    APPROVER = "approver"  # approves or rejects drafts
    AUDITOR = "auditor"  # reads everything, the audit log included; changes nothing
    MEMBER = "member"  # one municipality: its own documents and the agreement's published tables


class Resource(str, Enum):
    AGREEMENTS = "agreements"
    IMPORTS = "imports"
    RUNS = "runs"  # invoice runs and credit-note drafts
    INVOICES = "invoices"
    ESTIMATES = "estimates"
    CLOSINGS = "closings"
    REPORTS = "reports"
    AUDIT = "audit"
    USERS = "users"  # users, roles and API keys


class Action(str, Enum):
    READ = "read"
    WRITE = "write"
    APPROVE = "approve"


R, W, A = Action.READ, Action.WRITE, Action.APPROVE
_STAFF_READ = {res: {R} for res in Resource if res not in (Resource.AUDIT, Resource.USERS)}

#: What each role may do, by resource. A member's reads are of its own municipality.
ALLOWED: dict[Role, dict[Resource, frozenset[Action]]] = {
    Role.ADMIN: {**_STAFF_READ, Resource.AGREEMENTS: {R, W}, Resource.USERS: {R, W}, Resource.AUDIT: {R}},
    Role.PREPARER: {**_STAFF_READ, Resource.IMPORTS: {R, W}, Resource.RUNS: {R, W}, Resource.INVOICES: {R},
                    Resource.ESTIMATES: {R, W}, Resource.CLOSINGS: {R, W}},
    Role.APPROVER: {**_STAFF_READ, Resource.RUNS: {R, A}},
    Role.AUDITOR: {**_STAFF_READ, Resource.AUDIT: {R}},
    Role.MEMBER: {Resource.AGREEMENTS: {R}, Resource.INVOICES: {R}, Resource.ESTIMATES: {R},
                  Resource.REPORTS: {R}},
}
ALLOWED = {role: {res: frozenset(acts) for res, acts in table.items()} for role, table in ALLOWED.items()}

#: Every scope an API key may hold: `resource:read`, `resource:write` (write includes approve).
SCOPES = tuple(f"{res.value}:{act}" for res in Resource for act in ("read", "write"))


def scope_for(resource: Resource, action: Action) -> str:
    return f"{resource.value}:{'read' if action is Action.READ else 'write'}"


def unknown_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]


@dataclass(frozen=True)
class Principal:
    """Who asks, in which area: a user (`kind` "user") or an API key (`kind` "key").

    `name` is what the audit log records (the user's name, or `key:<prefix>`);
    `scopes` is None for a user (its roles decide alone)."""

    kind: str
    name: str
    area_id: int
    area_code: str
    roles: frozenset[Role]
    municipality: str | None = None  # a member's municipality
    scopes: frozenset[str] | None = None
    user_id: int | None = None
    language: str = "fi"
    extra: dict = field(default_factory=dict, compare=False)

    def may(self, resource: Resource, action: Action) -> bool:
        if not any(action in ALLOWED[role].get(resource, ()) for role in self.roles):
            return False
        return self.scopes is None or scope_for(resource, action) in self.scopes

    @property
    def is_member_only(self) -> bool:
        """A member and nothing else: every document it sees is of its own municipality."""
        return self.roles == frozenset({Role.MEMBER})

    def sees_municipality(self, code: str) -> bool:
        return not self.is_member_only or code == self.municipality
