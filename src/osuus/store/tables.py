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
    MetaData,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from osuus.store.types import Money, Price, Quantity


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

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(10), unique=True)  # 2021-03 or 2021-Q1
    year: Mapped[int] = mapped_column(Integer)
    period_end: Mapped[dt.date] = mapped_column(Date)
    max_event_id: Mapped[int] = mapped_column(Integer)
    agreement_version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"), nullable=True)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    run_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    run_by: Mapped[str] = mapped_column(String(100))


class Invoice(Base):
    """An invoice or a credit note. Never edited once written."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("host", "year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    host: Mapped[str] = mapped_column(String(3))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # invoice | credit_note
    municipality: Mapped[str] = mapped_column(String(3), index=True)
    period: Mapped[str] = mapped_column(String(10))
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
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # advance | event | travel | interpretation | adjustment | settlement
    component: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Price)
    amount: Mapped[Decimal] = mapped_column(Money)
    events_period: Mapped[str] = mapped_column(String(10), default="")  # the month the events were delivered
    reference: Mapped[str] = mapped_column(Text, default="")  # the clause the price comes from


class Estimate(Base):
    """The August estimate of a member's costs for next year's budget."""

    __tablename__ = "estimates"
    __table_args__ = (UniqueConstraint("year", "revision", "municipality"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    municipality: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    basis: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


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

    `year_end` rows are written by close-year (actual − billed). Crediting an invoice
    of a closed year adds a `credit` row that carries the credited amount back, so
    that billed + settlements = actual share stays true for ever."""

    __tablename__ = "settlements"
    __table_args__ = (Index("ix_settlements_year_municipality", "year", "municipality"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("year_closings.year"))
    municipality: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(10))  # year_end | credit
    actual: Mapped[Decimal] = mapped_column(Money)
    billed: Mapped[Decimal] = mapped_column(Money)
    difference: Mapped[Decimal] = mapped_column(Money)  # > 0 the member pays more
    note: Mapped[str] = mapped_column(Text)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    carried_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)


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
