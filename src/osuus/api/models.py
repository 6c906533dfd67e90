"""The API's contract as pydantic models: what each route answers (and the OpenAPI schemas).

The shapes are those of the command line's `--format json` (osuus.render.ledger_json,
osuus.render.explain_ledger, osuus.render.json_out): money as decimal strings, periods
as codes, documents by number, municipalities by code with the year's name beside it.
Fields are only ever added, never renamed or removed; every model lets fields it does
not name through, so that a field added to the JSON reaches the client before its
model here names it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

#: Money: a decimal string with two decimals ("1186.68", "-25.00").
Money = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["1186.68"])]
#: A decimal string of any precision (a quantity, a unit price, a figure's full value).
Decimal = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["1.5"])]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Page(Model, Generic[T]):
    """One page of a list: `items`, how many there are in all, and the cursor of the next page
    (also in the `Link` header, rel="next"); null on the last page."""

    items: list[T]
    total: int
    limit: int
    next_cursor: str | None = None


# --- the server -------------------------------------------------------------------------------

class Health(Model):
    status: str = Field(examples=["ok"], description="ok, or unavailable (then the answer is 503)")
    version: str
    backend: str | None = None
    revision: str | None = Field(None, description="the database's migration revision")
    head: str | None = Field(None, description="the revision this program needs")
    migrated: bool = False
    detail: str = ""


class LoginRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    area: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
                             description="the area whose roles the answer lists (default: the server's)")


class RoleHeld(Model):
    role: str
    municipality: str | None = None


class LoginAnswer(Model):
    token: str = Field(description="send as `Authorization: Bearer <token>`; shown once")
    token_type: str = "bearer"
    expires_at: dt.datetime
    user: str
    language: str
    area: str | None = None
    roles: list[RoleHeld] = Field([], description="the user's roles in `area`")


class Me(Model):
    name: str
    kind: str = Field(description="user or key")
    area: str
    roles: list[str]
    municipality: str | None = None
    scopes: list[str] | None = None
    language: str


# --- agreements --------------------------------------------------------------------------------

class Agreement(Model):
    agreement_id: str
    year: int
    revision: int
    file_name: str
    sha256: str
    added_at: dt.datetime
    added_by: str
    checks: list[str] = []


class AgreementYear(Agreement):
    """A year's agreement in force (its newest revision), with every revision of the year."""

    revisions: list[Agreement]


class AgreementAdded(Model):
    agreement: Agreement
    created: bool
    previous_revision: int | None = None


class AllocationRow(Model):
    municipality: str
    code: str
    amounts: dict[str, Money]
    total: Money
    reduction: Money
    absorbed: Money
    payment: Money
    invoiced: Money


class AllocationTotals(Model):
    amounts: dict[str, Money]
    total: Money
    reduction: Money
    absorbed: Money
    payment: Money
    invoiced: Money


class AllocationTable(Model):
    id: str
    title: str
    caption: str
    reference: str
    components: list[str]
    rows: list[AllocationRow]
    totals: AllocationTotals


class Tables(Model):
    """The allocation JSON contract (`osuus allocate --format json`, README "The JSON contract")."""

    contract: int
    agreement: dict[str, Any]
    tables: list[AllocationTable]
    components: dict[str, dict[str, Any]]
    warnings: list[str]


class Figure(Model):
    """A figure of an explanation: its full-precision value, label, formula, clause and inputs."""

    name: str
    label: str
    value: Decimal
    unit: str = ""
    formula: str = ""
    reference: str = ""
    rule: str | None = None
    params: dict[str, str] | None = None
    inputs: list["Figure"] = []


class AllocationExplanation(Model):
    agreement: dict[str, Any]
    municipality: str
    code: str
    language: str
    tables: list[dict[str, Any]]


# --- imports ---------------------------------------------------------------------------------

class ImportResult(Model):
    kind: str = Field(examples=["events"])
    file: str
    rows: int
    added: int
    created: bool = Field(description="false: the same file was imported before (nothing added)")


# --- invoices ---------------------------------------------------------------------------------

class InvoiceLine(Model):
    position: int
    kind: str
    component: str | None = None
    description: str
    quantity: Decimal
    unit: str | None = None
    unit_price: Decimal
    amount: Money
    period: str
    reference: str = ""
    details: dict[str, Any] | None = None


class InvoiceSummary(Model):
    """An invoice or credit note in a list: its lines are at its own address."""

    number: str = Field(examples=["2021-00016"])
    kind: str = Field(examples=["invoice"], description="invoice or credit_note")
    municipality: str = Field(examples=["790"])
    municipality_name: str
    period: str = Field(examples=["2021-01"])
    issue_date: dt.date
    due_date: dt.date
    reference: str
    total: Money
    credited_invoice: str | None = None
    credited_by: str | None = None
    reason: str = ""


class Invoice(InvoiceSummary):
    """An invoice or credit note with its lines."""

    lines: list[InvoiceLine]


class InvoiceExplanation(Model):
    invoice: str
    kind: str
    municipality: str
    total: Money
    language: str
    lines: list[dict[str, Any]]


class CreditRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, examples=["Väärä laskutusosoite"])
    date: dt.date | None = Field(None, description="the credit note's date (default: today)")


# --- drafts (invoice runs and credit notes waiting for approval) -------------------------------

class RunRequest(BaseModel):
    period: str = Field(examples=["2021-03"], description="a month (2021-03) or a quarter (2021-Q1)")
    date: dt.date | None = Field(None, description="the invoice date (default: today)")
    allow_gap: bool = False


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class DraftDocument(Model):
    """A document of a draft: an invoice or credit note as it would be issued, without its
    number and payment reference (null until approval)."""

    number: None = None
    reference: None = None
    kind: str
    municipality: str
    municipality_name: str
    period: str
    total: Money
    lines: list[InvoiceLine]


class Draft(Model):
    draft: int = Field(description="the draft's id")
    kind: str = Field(description="invoice_run or credit_note")
    subject: str = Field(description="the period (2021-03), or the number of the invoice credited")
    status: str = Field(description="draft or approved")
    period: str
    issue_date: dt.date
    total: Money
    events: int = 0
    allowed_gap: list[str] = []
    credited_invoice: str | None = None
    reason: str | None = None
    content_hash: str = Field(description="the SHA-256 of the documents reviewed (also the answer's ETag)")
    prepared_by: str
    prepared_at: dt.datetime | None = None
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    self_approved: bool = False
    changed: bool | None = Field(None, description="recompute: whether the documents changed")
    documents: list[DraftDocument]


class Run(Model):
    period: str
    created: bool
    events_billed: int = 0
    invoices: list[Invoice]
    checkpoint: dict[str, Any] | None = None


class Approved(Model):
    draft: Draft
    run: Run | None = None
    credit_note: Invoice | None = None


class Rejected(Model):
    draft: int
    kind: str
    subject: str
    prepared_by: str
    rejected_by: str
    reason: str


# --- the cycle ---------------------------------------------------------------------------------

class Estimate(Model):
    year: int
    revision: int
    created: bool
    basis: str
    basis_items: list[dict[str, Any]] = []
    members: list[dict[str, Any]]


class Closing(Model):
    year: int
    created: bool
    settlements: list[dict[str, Any]]
    prices: list[dict[str, Any]] = []


class Report(Model):
    year: int
    municipality: str
    code: str
    billed: Money
    money: list[dict[str, Any]]
    services: list[dict[str, Any]]


class FigureExplanation(Model):
    """A settlement's or an estimate's explanation (`osuus explain settlement|estimate --format json`)."""

    year: int
    municipality: str
    language: str


# --- the audit log ------------------------------------------------------------------------------

class AuditEntry(Model):
    sequence: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    reason: str
    hash: str


class Finding(Model):
    kind: str
    text: str = Field(description="what `osuus audit verify` prints for it, in the reader's language")
    record: int | None = None
    table: str | None = None
    key: int | None = None


class Verification(Model):
    ok: bool
    records: int
    rows: int
    not_covered: int
    findings: list[Finding]
    text: str
    checkpoint: dict[str, Any]
