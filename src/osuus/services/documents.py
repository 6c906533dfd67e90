"""The ledger and the agreement's parties made into documents (osuus.documents.model).

This is the one place where an invoice becomes an `InvoiceDocument`: the Finvoice
and Peppol writers and the PDF renderer all start from its result. Master data
(addresses, e-invoice addresses, the host's account) comes from the newest
revision of the agreement the invoice was made under, so that a corrected
address reaches documents sent again; the money comes only from the ledger,
which is never edited. A party that lacks a field a document needs is named,
with the field, for every document at once, before anything is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from sqlalchemy.orm import Session

from osuus.agreement.model import Agreement, Party, Vat
from osuus.billing.kinds import DocumentKind
from osuus.billing.lines import instalment
from osuus.calendar import Period, periods_of_year
from osuus.documents.model import (
    AnnualReportDocument,
    BankAccount,
    EstimateLetter,
    InvoiceDocument,
    PartyDocument,
    PostalAddress,
    VatTreatment,
)
from osuus.ids import viitenumero
from osuus.money import ZERO
from osuus.problems import Problem, ProblemsError, gather, refuse
from osuus.services.agreements import Agreements
from osuus.services.estimates import estimates_in
from osuus.services.invoicing import views
from osuus.services.ledger import Ledger
from osuus.services.reports import report_in
from osuus.services.views import InvoiceView
from osuus.store import queries

# What each use of a party needs; a missing field is named in the error.
ADDRESS = ("street", "postcode", "city")
# An e-invoice is routed by the receiver's e-invoice address *and* its operator (Finvoice
# ToIdentifier and ToIntermediator): without the operator an operator cannot deliver it, and
# the address is no stand-in for it. The sender's own operator may be its bank (BIC).
EINVOICE = ("einvoice_address", "operator")
ACCOUNT = ("iban", "bic")

_FIELD_NAMES = {
    "street": "street (katuosoite)", "postcode": "postcode (postinumero)", "city": "city (postitoimipaikka)",
    "einvoice_address": "einvoice_address (verkkolaskuosoite, OVT)", "operator": "operator (välittäjätunnus)",
    "iban": "iban (tilinumero)", "bic": "bic", "business_id": "business_id (Y-tunnus)",
}


def party_document(agreement: Agreement, code: str, needs: tuple[str, ...] = ADDRESS) -> PartyDocument:
    """The party `code` as documents need it; every missing field is reported at once."""
    municipality = agreement.municipality(code)
    party = agreement.parties.get(code) or Party(code, path=f"parties.{municipality.name}")
    missing = [f for f in ("business_id", *needs)
               if not (municipality.business_id if f == "business_id" else getattr(party, f))]
    if missing:
        raise ProblemsError([Problem(
            f"{municipality.name}: the document needs {_FIELD_NAMES.get(f, f)}, which the agreement's "
            f"[parties.\"{municipality.name}\"] does not give", file=agreement.file, line=party.line,
            key=f"{party.path}.{f}", code="document.party-field") for f in missing])
    from stdnum.fi import alv, ytunnus

    from osuus.ids import ovt

    # the identifiers in their normal forms (the agreement's checks have judged them)
    business_id = municipality.business_id
    return PartyDocument(
        name=municipality.name, name_sv=municipality.name_sv, code=code,
        business_id=ytunnus.format(business_id) if ytunnus.is_valid(business_id) else business_id,
        address=PostalAddress(party.street, party.postcode, party.city, party.country),
        einvoice_address=ovt.compact(party.einvoice_address), operator=ovt.compact(party.operator).upper(),
        vat_number="FI" + alv.compact(party.vat_number) if party.vat_number else "",
        contact=party.contact, email=party.email, buyer_reference=party.buyer_reference,
        legal_name=party.legal_name, accounting_cost=party.accounting_cost)


def bank_account(agreement: Agreement) -> BankAccount:
    party_document(agreement, agreement.host, ACCOUNT)  # raises, naming what is missing
    host = agreement.parties[agreement.host]
    return BankAccount("".join(host.iban.split()).upper(), host.bic.strip().upper(), host.bank)


def vat_treatment(agreement: Agreement) -> VatTreatment:
    vat = agreement.billing.vat if agreement.billing else Vat()
    return VatTreatment(vat.category, Decimal("0"), vat.exemption_code, vat.exemption_text, vat.reference)


def _agreement_for(agreements: Agreements, invoice: InvoiceView) -> Agreement:
    agreement = (agreements.of_year(invoice.agreement_year) if invoice.agreement_year is not None
                 else agreements.for_year_or_before(invoice.period.year))
    if agreement is None:
        raise refuse(f"{invoice.number}: no agreement is stored for {invoice.period.year}", code="document.no-agreement")
    return agreement


def invoice_document(agreements: Agreements, invoice: InvoiceView, *, needs: tuple[str, ...] = ADDRESS,
                     rf: bool | None = None) -> InvoiceDocument:
    """The document of an issued invoice or credit note.

    `needs` names the party fields the output needs (EINVOICE adds the OVT
    address and the operator the buyer is reached through; the seller, who sends, needs
    its own address and may send through its bank); `rf` overrides the agreement's
    choice of payment reference form."""
    agreement = _agreement_for(agreements, invoice)
    if agreement.by_code(invoice.municipality) is None:
        raise refuse(f"{invoice.number}: municipality {invoice.municipality} is not in agreement {agreement.id}",
                     code="document.not-in-agreement")
    seller_needs = tuple(f for f in needs if f != "operator")  # the sender may send through its bank
    seller, buyer, account = gather(lambda make: make(), (
        lambda: party_document(agreement, agreement.host, seller_needs),
        lambda: party_document(agreement, invoice.municipality, needs),
        lambda: bank_account(agreement)))
    use_rf = (agreement.billing.reference_form == "rf") if rf is None and agreement.billing else bool(rf)
    return InvoiceDocument(
        kind=invoice.kind, number=invoice.number, issue_date=invoice.issue_date, due_date=invoice.due_date,
        period=invoice.period, seller=seller, account=account, buyer=buyer, reference=invoice.reference,
        reference_rf=viitenumero.to_rf(invoice.reference), use_rf=use_rf, lines=invoice.lines, total=invoice.total,
        vat=vat_treatment(agreement), agreement=agreement, currency=agreement.currency,
        credited_number=invoice.credited, credited_issue_date=invoice.credited_issue_date, reason=invoice.reason)


def select_invoices(session: Session, *, number: str | None = None, period: str | None = None,
                    year: int | None = None) -> list[InvoiceView]:
    """The invoices and credit notes asked for: one by number, a billing period's invoices, or a year's."""
    given = [x for x in (number, period, year) if x is not None]
    if len(given) != 1:
        raise refuse("name exactly one of: an invoice number, --period or --year", key="invoice",
                     code="document.selection")
    if period is not None:
        try:
            parsed = Period.parse(period)
        except ValueError as exc:
            raise refuse(str(exc), key="--period", code="period.invalid") from None
        found = queries.invoices_where(session, period=parsed, kind=DocumentKind.INVOICE)
    else:
        found = queries.invoices_where(session, number=number, year=year)
    if not found:
        what = f"invoice {number}" if number else f"invoices of period {period}" if period else f"invoices of {year}"
        raise refuse(f"no {what} in the ledger", key="invoice", code="invoice.unknown")
    return views(session, found)


def invoice_documents(session: Session, invoices: Iterable[InvoiceView], *, einvoice: bool = False,
                      rf: bool | None = None) -> list[InvoiceDocument]:
    """The documents of `invoices`; every missing field of every party at once."""
    agreements = Agreements(session)
    needs = ADDRESS + EINVOICE if einvoice else ADDRESS
    return gather(lambda invoice: invoice_document(agreements, invoice, needs=needs, rf=rf), invoices)


def estimate_letters(session: Session, year: int, date: dt.date | None = None,
                     municipality: str | None = None) -> list[EstimateLetter]:
    """One letter per member from the newest estimate revision of `year`, dated `date`
    or, by default, the day the estimate was made (the letter is sent with it)."""
    estimates = estimates_in(session, year, municipality)
    if not estimates:
        raise refuse(f"no estimate for {year} is stored: run `osuus estimate {year}` first", code="estimate.missing")
    agreements = Agreements(session)
    agreement = agreements.for_year_or_before(year)
    seller = party_document(agreement, agreement.host)
    billing = agreement.billing
    count = len(periods_of_year(year, billing.period if billing else "month"))
    advance_ids = set(billing.advance_tables) if billing else set()

    def letter(estimate) -> EstimateLetter:
        advance = sum((p.amount for p in estimate.parts if p.id in advance_ids), ZERO)
        return EstimateLetter(
            year=year, date=date or estimate.created_at.date(), seller=seller,
            buyer=party_document(agreement, estimate.municipality), amount=estimate.amount,
            parts=tuple((p.id, p.amount) for p in estimate.parts), basis=estimate.basis, agreement=agreement,
            revision=estimate.revision, issued_basis=estimate.issued_basis, instalments=count,
            instalment=instalment(advance, 1, count) if advance else ZERO)

    return gather(letter, estimates)


def annual_report_documents(session: Session, year: int, date: dt.date,
                            municipality: str | None = None) -> list[AnnualReportDocument]:
    """Members' annual reports, with the previous year beside them in the chart when there is one."""
    agreements = Agreements(session)
    agreement = agreements.of_year(year)
    if agreement is None:
        raise refuse(f"no agreement for {year} is stored", code="report.no-agreement")
    previous_agreement = agreements.of_year(year - 1)
    codes = [municipality] if municipality else list(agreement.members)

    def document(code: str) -> AnnualReportDocument:
        report = report_in(session, year, code, agreements)
        previous = None
        if previous_agreement is not None and previous_agreement.by_code(code) is not None:
            previous = report_in(session, year - 1, code, agreements)
        return AnnualReportDocument(date=date, seller=party_document(agreement, agreement.host),
                                    buyer=party_document(agreement, code), report=report, agreement=agreement,
                                    previous=previous, previous_agreement=previous_agreement)

    return gather(document, codes)


@dataclass(frozen=True)
class YearPlan:
    """What `export year` will write; `steps` is what its progress counts."""

    year: int
    agreement: Agreement
    invoices: tuple[InvoiceView, ...]
    has_estimate: bool

    @property
    def steps(self) -> int:
        members = len(self.agreement.members)
        return len(self.invoices) + (members if self.has_estimate else 0) + members + 1


def plan_year(session: Session, year: int) -> YearPlan:
    """The year's agreement, every invoice and credit note about the year (those of its periods,
    the December invoice numbered in the next year among them, and those carrying its
    settlement), and whether an estimate for it was made."""
    agreement = Agreements(session).of_year(year)
    if agreement is None:
        raise refuse(f"no agreement for {year} is stored", code="report.no-agreement")
    invoices = tuple(views(session, queries.invoices_about_year(session, year)))
    return YearPlan(year, agreement, invoices, queries.estimate_revision(session, year) is not None)


__all__ = ["ADDRESS", "ACCOUNT", "EINVOICE", "Ledger", "YearPlan", "annual_report_documents", "estimate_letters",
           "invoice_document", "invoice_documents", "party_document", "plan_year", "select_invoices"]
