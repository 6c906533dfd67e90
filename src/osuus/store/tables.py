"""The ledger's tables (SQLAlchemy 2, typed). Migrations in store/migrations.

One table per noun of the billing cycle: agreement versions, import batches,
service events, reference counts, actual costs, invoice runs, invoices and
their lines, estimates, year closings with their settlements, and the audit
log. Money is `Money` (exact), never Float. Rows that documents were made of
are never updated in place: corrections are new rows (credit notes, revisions).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, declared_attr, mapped_column

from osuus.billing.kinds import DocumentKind, LineKind, SettlementKind
from osuus.calendar import Period, PeriodKind
from osuus.store.types import KindOf, Money, Price, Quantity


def _one_of(column: str, kinds) -> CheckConstraint:
    """A CHECK that `column` holds one of an enum's values (named `<column>_kind`)."""
    values = ", ".join(f"'{getattr(k, 'value', k)}'" for k in kinds)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_kind")


def _period_check(prefix: str) -> CheckConstraint:
    """A period's parts are consistent: months 1–12, quarters 1–4, a year is 1."""
    return CheckConstraint(
        f"({prefix}_kind = 'month' AND {prefix}_index BETWEEN 1 AND 12) OR "
        f"({prefix}_kind = 'quarter' AND {prefix}_index BETWEEN 1 AND 4) OR "
        f"({prefix}_kind = 'year' AND {prefix}_index = 1)", name=f"{prefix}_parts")


class Base(DeclarativeBase):
    # named constraints, so that later migrations can alter them on SQLite too
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Area(Base):
    """An employment area: a host and its members under one series of agreements (a tenant).

    Every ledger row belongs to one area (`AreaScoped`); on PostgreSQL row-level
    security keeps each area's rows from every other (revision 0004)."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # in URLs and --area: lower-case letters, digits, -
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AreaScoped:
    """A table whose rows belong to an area. The store fills `area_id` in and filters by it
    (osuus.store.areas); PostgreSQL enforces it with a row-level security policy."""

    @declared_attr
    def area_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("areas.id"), index=True)


class AgreementVersion(AreaScoped, Base):
    """A stored agreement file. Revisions of a year are kept; the newest is in force."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("area_id", "year", "revision"),
                      UniqueConstraint("area_id", "year", "content_hash"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer, index=True)
    revision: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(500))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(100))
    # the checks (name@version) the content passed when it was added; it is read back with these
    checks: Mapped[list] = mapped_column(JSON, default=list)


class ImportBatch(AreaScoped, Base):
    """One imported file. The same content imported again adds nothing."""

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("area_id", "kind", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # events | counts | costs
    file_name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    added_rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(100))


class ServiceEvent(AreaScoped, Base):
    """A service delivered to a member's resident, billed afterwards at the agreed price.

    Events are written once and never updated. Whether an event is billed follows
    from the invoice runs: the first run whose `max_event_id` reaches the event's id
    and whose `period_end` reaches its date billed it (see ledger.unbilled)."""

    __tablename__ = "service_events"
    __table_args__ = (
        Index("ix_service_events_date", "date"),
        # led by area_id, which the store adds to every query (revision 0006): counts of a year
        # and of its date ranges (the year at a glance, its unbilled events above an id) read this
        # index alone (SQLite keeps the id in every index; PostgreSQL is given it); a member's
        # year (the annual report) reads the other alone (customer, quantity)
        Index("ix_service_events_area_year_date", "area_id", "year", "date", postgresql_include=["id"]),
        Index("ix_service_events_area_year_municipality", "area_id", "year", "municipality", "component", "customer",
              "quantity"),
        UniqueConstraint("area_id", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(100))  # the event id of the source system
    date: Mapped[dt.date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    component: Mapped[str] = mapped_column(String(60))
    municipality: Mapped[str] = mapped_column(String(3))  # official code of the customer's home municipality
    customer: Mapped[str] = mapped_column(String(100))  # pseudonymous id
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    integration_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    travel_days: Mapped[Decimal] = mapped_column(Quantity)
    km: Mapped[Decimal] = mapped_column(Quantity)
    interpretation: Mapped[Decimal] = mapped_column(Money)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class ReferenceCount(AreaScoped, Base):
    """A key's figure for a municipality on a date (population, customers)."""

    __tablename__ = "reference_counts"
    __table_args__ = (UniqueConstraint("area_id", "key", "municipality", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    municipality: Mapped[str] = mapped_column(String(3))
    date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Quantity)
    source: Mapped[str] = mapped_column(String(300))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class ActualCost(AreaScoped, Base):
    """A year's actual cost of a component, or the external funding it received."""

    __tablename__ = "actual_costs"
    __table_args__ = (UniqueConstraint("area_id", "year", "component", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    component: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))  # cost | funding
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(String(300))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class InvoiceCounter(AreaScoped, Base):
    """The next invoice number of a host and year: numbers run without gaps."""

    __tablename__ = "invoice_counters"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    host: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer)


class InvoiceRun(AreaScoped, Base):
    """One billing period invoiced. A period is invoiced once.

    A run bills every event not billed before whose date is at most `period_end`
    and that was stored when the run was made (id at most `max_event_id`): the
    events table itself is never rewritten."""

    __tablename__ = "invoice_runs"
    __table_args__ = (UniqueConstraint("area_id", "period_year", "period_kind", "period_index"),
                      _period_check("period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    period_year: Mapped[int] = mapped_column(Integer)
    period_kind: Mapped[PeriodKind] = mapped_column(KindOf(PeriodKind))
    period_index: Mapped[int] = mapped_column(Integer)
    period: Mapped[Period] = composite(Period, "period_year", "period_kind", "period_index")
    period_end: Mapped[dt.date] = mapped_column(Date)
    max_event_id: Mapped[int] = mapped_column(Integer)
    agreement_version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"), nullable=True)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    run_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    run_by: Mapped[str] = mapped_column(String(100))


class Invoice(AreaScoped, Base):
    """An invoice or a credit note. Never edited once written."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("area_id", "host", "year", "sequence"), UniqueConstraint("area_id", "number"),
                      _one_of("kind", DocumentKind),
                      _period_check("period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30))
    host: Mapped[str] = mapped_column(String(3))
    year: Mapped[int] = mapped_column(Integer)  # of the issue date: numbers run within it
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[DocumentKind] = mapped_column(KindOf(DocumentKind, 12))
    municipality: Mapped[str] = mapped_column(String(3), index=True)
    period_year: Mapped[int] = mapped_column(Integer)
    period_kind: Mapped[PeriodKind] = mapped_column(KindOf(PeriodKind))
    period_index: Mapped[int] = mapped_column(Integer)
    period: Mapped[Period] = composite(Period, "period_year", "period_kind", "period_index")  # the billing period
    run_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_runs.id"), nullable=True)
    agreement_version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"), nullable=True)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(25))
    total: Mapped[Decimal] = mapped_column(Money)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InvoiceLine(AreaScoped, Base):
    """A line as structure: what, when, quantity × price = amount, the clause, and its
    explanation (a figure tree, in no language). Words are made when a document is
    rendered; a line issued before lines were structure keeps its words in `issued_text`."""

    __tablename__ = "invoice_lines"
    __table_args__ = (_one_of("kind", LineKind), _period_check("period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[LineKind] = mapped_column(KindOf(LineKind))
    component: Mapped[str] = mapped_column(String(60))  # an advance: the table
    period_year: Mapped[int] = mapped_column(Integer)
    period_kind: Mapped[PeriodKind] = mapped_column(KindOf(PeriodKind))
    period_index: Mapped[int] = mapped_column(Integer)
    period: Mapped[Period] = composite(Period, "period_year", "period_kind", "period_index")  # when delivered
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Price)
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str] = mapped_column(Text, default="")  # the clause the price comes from
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    explanation: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    issued_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class Estimate(AreaScoped, Base):
    """The August estimate of a member's costs for next year's budget.

    `basis` and `details` are structure (what it rests on, its parts and their
    explanation); an estimate made before they were keeps its words in `issued_basis`."""

    __tablename__ = "estimates"
    __table_args__ = (UniqueConstraint("area_id", "year", "revision", "municipality"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    municipality: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    basis: Mapped[list] = mapped_column(JSON, default=list)
    details: Mapped[dict] = mapped_column(JSON)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    issued_basis: Mapped[str | None] = mapped_column(Text, nullable=True)


class YearClosing(AreaScoped, Base):
    """A closed year: actual costs, confirmed prices and every member's settlement."""

    __tablename__ = "year_closings"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    details: Mapped[dict] = mapped_column(JSON)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(100))


class Settlement(AreaScoped, Base):
    """What a member still owes (> 0) or is owed (< 0) for a closed year.

    `year_end` rows are written by close-year (actual − billed), with the
    explanation of that difference. Crediting an invoice of a closed year adds a
    `credit` row that carries the credited amount back (naming the credit note
    and the invoice it credited), so that billed + settlements = actual share
    stays true for ever."""

    __tablename__ = "settlements"
    __table_args__ = (Index("ix_settlements_year_municipality", "year", "municipality"),
                      ForeignKeyConstraint(["area_id", "year"], ["year_closings.area_id", "year_closings.year"]),
                      _one_of("kind", SettlementKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    municipality: Mapped[str] = mapped_column(String(3))
    kind: Mapped[SettlementKind] = mapped_column(KindOf(SettlementKind, 10))
    actual: Mapped[Decimal] = mapped_column(Money)
    billed: Mapped[Decimal] = mapped_column(Money)
    difference: Mapped[Decimal] = mapped_column(Money)  # > 0 the member pays more
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    carried_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    explanation: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    issued_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # the words of a settlement made before


class AuditRecord(AreaScoped, Base):
    """Every write, chained: each record carries the hash of the one before."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --------------------------------------------------------------------------
# people: accounts, their roles per area, API keys (revision 0004)
# --------------------------------------------------------------------------

ROLES = ("admin", "preparer", "approver", "auditor", "member")


class User(Base):
    """A person who signs in. Users are not of one area: their roles are (`RoleGrant`).
    `name` is what the audit log records as the actor."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)  # argon2id; None: cannot sign in
    language: Mapped[str] = mapped_column(String(2), default="fi")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoleGrant(AreaScoped, Base):
    """A user's role in an area; a `member` is of one municipality. Revoked grants are kept."""

    __tablename__ = "role_grants"
    __table_args__ = (_one_of("role", ROLES),
                      CheckConstraint("(role = 'member') = (municipality IS NOT NULL)", name="member_municipality"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    municipality: Mapped[str | None] = mapped_column(String(3), nullable=True)
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiKey(AreaScoped, Base):
    """A key for a program, of one area, with a role (and a member's municipality), scopes
    (`resource:read|write`) and an expiry. Only the secret's hash is kept; the key is
    shown once, when made. `prefix` is the key's public part, which finds it."""

    __tablename__ = "api_keys"
    __table_args__ = (_one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    municipality: Mapped[str | None] = mapped_column(String(3), nullable=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginAttempt(Base):
    """A sign-in tried, for the rate limit and the record of refusals (no password kept)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_at", "name", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class UserSession(Base):
    """A signed-in user's bearer token (its SHA-256 kept, never the token), until it expires."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# --------------------------------------------------------------------------
# four eyes: drafts waiting for approval; idempotent requests
# --------------------------------------------------------------------------

DRAFT_KINDS = ("invoice_run", "credit_note")
DRAFT_STATES = ("draft", "approved")


class Draft(AreaScoped, Base):
    """An invoice run or a credit note prepared and waiting for an approver.

    A draft has no number and is never exported. `params` pins what it was computed
    from (period, issue date, the last event id, the agreement version; or the invoice
    credited and the reason), so that approval computes the same documents, and
    `content_hash` is the hash of the documents the approver reviewed. Approval issues
    them (numbered then); a rejected draft is removed, its audit record stays."""

    __tablename__ = "drafts"
    # removed drafts' ids are never given again (SQLite would reuse the highest)
    __table_args__ = (_one_of("kind", DRAFT_KINDS), _one_of("status", DRAFT_STATES), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(100))  # the period (2021-03) or the invoice credited
    params: Mapped[dict] = mapped_column(JSON)
    content: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    prepared_by: Mapped[str] = mapped_column(String(100))
    prepared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    self_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_runs.id"), nullable=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)


class IdempotencyKey(AreaScoped, Base):
    """A POST's `Idempotency-Key` and the answer it got: the same key again gets the same
    answer and creates nothing. `status` None: the first request is still running."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("area_id", "principal", "key"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    principal: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# --------------------------------------------------------------------------
# the accessibility statement's feedback (revision 0005)
# --------------------------------------------------------------------------

class AccessibilityFeedback(Base):
    """A message sent through the accessibility statement's form (laki digitaalisten palvelujen
    tarjoamisesta 306/2019). Of no area when sent from outside one (the statement is public),
    else of the area it was sent from (`area_code`, not `area_id`: not a ledger row of the area,
    which row-level security would hide from the statement's public form). Nothing about the
    sender is required: `contact` is what they chose to give for a reply."""

    __tablename__ = "accessibility_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    area_code: Mapped[str | None] = mapped_column(String(40), ForeignKey("areas.code"), nullable=True, index=True)
    message: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(200), nullable=True)
    language: Mapped[str] = mapped_column(String(2))
