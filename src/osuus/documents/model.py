"""What leaves the house, as plain immutable records.

The e-invoice writers (osuus.einvoice) and the PDF renderer (osuus.render.pdf)
both read these records and nothing else: the ledger and the agreement are
turned into a document once (osuus.documents.build), so the XML and the PDF of
an invoice cannot disagree. Money is Decimal, rounded to cents by the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PostalAddress:
    street: str
    postcode: str
    city: str
    country: str = "FI"


@dataclass(frozen=True, slots=True)
class PartyDocument:
    """A municipality as a sender or receiver of documents."""

    name: str  # Finnish name, as in the agreement
    name_sv: str
    code: str  # official municipality code
    business_id: str  # Y-tunnus, 1234567-8
    address: PostalAddress
    einvoice_address: str = ""  # OVT: 0037 + business ID digits + optional suffix
    operator: str = ""  # the e-invoice operator's id (intermediator)
    vat_number: str = ""  # FI12345678 when the party is VAT-registered; usually empty
    contact: str = ""  # a unit or person to address letters to
    email: str = ""
    buyer_reference: str = ""  # what the buyer asks to be quoted (cost centre); Peppol BT-10

    def display_name(self, lang: str = "fi") -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name


@dataclass(frozen=True, slots=True)
class BankAccount:
    iban: str  # electronic form, no spaces
    bic: str
    bank: str = ""


@dataclass(frozen=True, slots=True)
class VatTreatment:
    """How VAT applies. The default for statutory cost sharing: category O, not subject to VAT."""

    category: str = "O"  # UNCL5305: O (not subject), E (exempt)
    rate: Decimal = Decimal("0")
    exemption_code: str = "VATEX-EU-O"  # CEF VATEX code
    exemption_text: str = ""  # the legal basis, in words
    reference: str = ""  # the agreement's clause


@dataclass(frozen=True, slots=True)
class DocumentLine:
    position: int
    kind: str  # advance | event | travel | interpretation | adjustment | settlement
    component: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal  # cents; negative on credit notes and for refunds
    events_period: str = ""  # "2021-03": the month the services were delivered
    reference: str = ""  # the clause the price comes from


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An invoice or a credit note, complete enough for Finvoice, Peppol and PDF."""

    kind: str  # "invoice" | "credit_note"
    number: str
    issue_date: dt.date
    due_date: dt.date
    period: str  # billing period code, "2021-03"
    seller: PartyDocument
    account: BankAccount
    buyer: PartyDocument
    reference: str  # national reference number (viitenumero), digits only
    reference_rf: str  # the same in ISO 11649 form, RF..
    use_rf: bool  # which of the two is the payment reference
    lines: tuple[DocumentLine, ...]
    total: Decimal  # sum of lines; negative on a credit note
    vat: VatTreatment
    currency: str = "EUR"
    agreement_id: str = ""
    agreement_title: str = ""
    credited_number: str = ""  # on a credit note: the invoice it credits
    credited_issue_date: dt.date | None = None
    reason: str = ""  # on a credit note: why
    notes: tuple[str, ...] = ()

    @property
    def payment_reference(self) -> str:
        return self.reference_rf if self.use_rf else self.reference

    @property
    def is_credit(self) -> bool:
        return self.kind == "credit_note"

    @property
    def billing_period(self) -> tuple[dt.date, dt.date] | None:
        """From the first day to the last of the periods its lines were delivered in
        (months, quarters, or whole years for settlements); else the billing period's."""
        from osuus.billing.periods import period_dates

        ranges = [r for r in map(period_dates, (line.events_period for line in self.lines)) if r]
        if not ranges:
            return period_dates(self.period)
        return min(r[0] for r in ranges), max(r[1] for r in ranges)


@dataclass(frozen=True, slots=True)
class EstimatePart:
    id: str
    label: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class EstimateLetter:
    """The August letter: a member's estimated payment for next year's budget."""

    year: int  # the year estimated
    date: dt.date
    seller: PartyDocument
    buyer: PartyDocument
    amount: Decimal
    parts: tuple[EstimatePart, ...]
    basis: str  # how the estimate was made (agreement and counts used)
    revision: int = 1
    agreement_title: str = ""
    instalments: int = 12  # how the advance share is invoiced
    instalment: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class ChartBar:
    label: str
    values: tuple[Decimal, ...]  # one per year in `AnnualReportDocument.chart_years`


@dataclass(frozen=True, slots=True)
class AnnualReportDocument:
    """A member's year as the council reads it; counts under 5 already masked."""

    year: int
    date: dt.date
    seller: PartyDocument
    buyer: PartyDocument
    customers: str  # masked: "<5" below five
    services: tuple[tuple[str, str, int | str, Decimal, str], ...]  # label, unit, events, quantity, customers
    money: tuple[tuple[str, Decimal | None, Decimal, Decimal | None], ...]  # label, estimate, billed, actual
    travel_and_interpretation: Decimal
    estimate: Decimal | None
    billed: Decimal
    actual: Decimal | None
    settlement: Decimal | None
    settlement_invoice: str | None
    chart_years: tuple[int, ...] = ()
    chart: tuple[ChartBar, ...] = field(default_factory=tuple)
