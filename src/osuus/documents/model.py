"""What leaves the house, as plain immutable records.

The e-invoice writers (osuus.einvoice) and the PDF renderer (osuus.render.pdf)
both read these records and nothing else: the ledger and the agreement are
turned into a document once (osuus.services.documents), so the XML and the PDF
of an invoice cannot disagree. Money is Decimal, rounded to cents by the ledger.
The records hold no words but names and addresses: renderers write the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from osuus.agreement.model import Agreement, Text
from osuus.billing.estimate import Basis
from osuus.billing.kinds import DocumentKind
from osuus.billing.lines import Line
from osuus.calendar import Period
from osuus.billing.report import AnnualReport


@dataclass(frozen=True, slots=True)
class PostalAddress:
    street: str
    postcode: str
    city: str
    country: str = "FI"


@dataclass(frozen=True, slots=True)
class PartyDocument:
    """A municipality as a sender or receiver of documents."""

    name: str  # Finnish name of the year, as in the agreement
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
    legal_name: str = ""  # the registered name, "Tampereen kaupunki"; empty: not given
    accounting_cost: str = ""  # the buyer's accounting reference (Peppol BT-19 and BT-133)

    def display_name(self, lang: str = "fi") -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name

    @property
    def registered_name(self) -> str:
        """The name the party is registered under (its legal name), else its name in tables."""
        return self.legal_name or self.name


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
    exemption_text: Text = Text("")  # the legal basis, in words (the agreement's, in its languages)
    reference: str = ""  # the agreement's clause


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An invoice or a credit note, complete enough for Finvoice, Peppol and PDF.

    Its lines are structure (osuus.billing.lines.Line); their words are made by
    the renderer in the reader's language, with the labels of `agreement`, the
    agreement the invoice was made under."""

    kind: DocumentKind
    number: str
    issue_date: dt.date
    due_date: dt.date
    period: Period  # the billing period
    seller: PartyDocument
    account: BankAccount
    buyer: PartyDocument
    reference: str  # national reference number (viitenumero), digits only
    reference_rf: str  # the same in ISO 11649 form, RF..
    use_rf: bool  # which of the two is the payment reference
    lines: tuple[Line, ...]
    total: Decimal  # sum of lines; negative on a credit note
    vat: VatTreatment
    agreement: Agreement
    currency: str = "EUR"
    credited_number: str = ""  # on a credit note: the invoice it credits
    credited_issue_date: dt.date | None = None
    reason: str = ""  # on a credit note: why

    @property
    def payment_reference(self) -> str:
        return self.reference_rf if self.use_rf else self.reference

    @property
    def is_credit(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE

    @property
    def credit_settled_by(self) -> str:
        """How a credit note's credit reaches the member: `offset` against its next payment, or
        `refund` to its account (the agreement's [billing.credits])."""
        billing = self.agreement.billing
        return billing.credits.settled_by if billing is not None else "offset"

    @property
    def agreement_id(self) -> str:
        return self.agreement.id

    @property
    def billing_period(self) -> tuple[dt.date, dt.date]:
        """From the first day to the last of the periods its lines were delivered in
        (months, quarters, or whole years for settlements); else the billing period's."""
        if not self.lines:
            return self.period.start, self.period.end
        return min(line.period.start for line in self.lines), max(line.period.end for line in self.lines)


@dataclass(frozen=True, slots=True)
class EstimateLetter:
    """The August letter: a member's estimated payment for next year's budget."""

    year: int  # the year estimated
    date: dt.date
    seller: PartyDocument
    buyer: PartyDocument
    amount: Decimal
    parts: tuple[tuple[str, Decimal], ...]  # (table or component id, amount)
    basis: tuple[Basis, ...]  # what the estimate rests on
    agreement: Agreement  # the agreement it was made from (its labels)
    revision: int = 1
    issued_basis: str | None = None  # an estimate made before bases were structure: its words
    instalments: int = 12  # how the advance share is invoiced
    instalment: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class AnnualReportDocument:
    """A member's year as the council reads it, with the year before for the chart."""

    date: dt.date
    seller: PartyDocument
    buyer: PartyDocument
    report: AnnualReport
    agreement: Agreement  # of the report's year (its labels)
    previous: AnnualReport | None = None
    previous_agreement: Agreement | None = None

    @property
    def year(self) -> int:
        return self.report.year
