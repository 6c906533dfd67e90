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
    CheckConstraint,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column

from osuus.billing.kinds import DocumentKind, LineKind, SettlementKind
from osuus.calendar import Period, PeriodKind
from osuus.store.types import KindOf, Money, Price, Quantity


def _one_of(column: str, kinds) -> CheckConstraint:
    """A CHECK that `column` holds one of an enum's values (named `<column>_kind`)."""
    values = ", ".join(f"'{k.value}'" for k in kinds)
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


class AgreementVersion(Base):
    """A stored agreement file. Revisions of a year are kept; the newest is in force."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("year", "revision"), UniqueConstraint("year", "content_hash"))

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


class ImportBatch(Base):
    """One imported file. The same content imported again adds nothing."""

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("kind", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # events | counts | costs
    file_name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    added_rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(100))


class ServiceEvent(Base):
    """A service delivered to a member's resident, billed afterwards at the agreed price.

    Events are written once and never updated. Whether an event is billed follows
    from the invoice runs: the first run whose `max_event_id` reaches the event's id
    and whose `period_end` reaches its date billed it (see ledger.unbilled)."""

    __tablename__ = "service_events"
    __table_args__ = (
        Index("ix_service_events_date", "date"),
        Index("ix_service_events_year_municipality", "year", "municipality", "component"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(100), unique=True)  # the event id of the source system
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


class ReferenceCount(Base):
    """A key's figure for a municipality on a date (population, customers)."""

    __tablename__ = "reference_counts"
    __table_args__ = (UniqueConstraint("key", "municipality", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    municipality: Mapped[str] = mapped_column(String(3))
    date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Quantity)
    source: Mapped[str] = mapped_column(String(300))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class ActualCost(Base):
    """A year's actual cost of a component, or the external funding it received."""

    __tablename__ = "actual_costs"
    __table_args__ = (UniqueConstraint("year", "component", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    component: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))  # cost | funding
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(String(300))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class InvoiceCounter(Base):
    """The next invoice number of a host and year: numbers run without gaps."""

    __tablename__ = "invoice_counters"

    host: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer)


class InvoiceRun(Base):
    """One billing period invoiced. A period is invoiced once.

    A run bills every event not billed before whose date is at most `period_end`
    and that was stored when the run was made (id at most `max_event_id`): the
    events table itself is never rewritten."""

    __tablename__ = "invoice_runs"
    __table_args__ = (UniqueConstraint("period_year", "period_kind", "period_index"), _period_check("period"))

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


class Invoice(Base):
    """An invoice or a credit note. Never edited once written."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("host", "year", "sequence"), _one_of("kind", DocumentKind),
                      _period_check("period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
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


class InvoiceLine(Base):
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


class Estimate(Base):
    """The August estimate of a member's costs for next year's budget.

    `basis` and `details` are structure (what it rests on, its parts and their
    explanation); an estimate made before they were keeps its words in `issued_basis`."""

    __tablename__ = "estimates"
    __table_args__ = (UniqueConstraint("year", "revision", "municipality"),)

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


class YearClosing(Base):
    """A closed year: actual costs, confirmed prices and every member's settlement."""

    __tablename__ = "year_closings"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    details: Mapped[dict] = mapped_column(JSON)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(100))


class Settlement(Base):
    """What a member still owes (> 0) or is owed (< 0) for a closed year.

    `year_end` rows are written by close-year (actual − billed), with the
    explanation of that difference. Crediting an invoice of a closed year adds a
    `credit` row that carries the credited amount back (naming the credit note
    and the invoice it credited), so that billed + settlements = actual share
    stays true for ever."""

    __tablename__ = "settlements"
    __table_args__ = (Index("ix_settlements_year_municipality", "year", "municipality"),
                      _one_of("kind", SettlementKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("year_closings.year"))
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


class AuditRecord(Base):
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
