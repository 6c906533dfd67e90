"""Finvoice 3.0 (Finance Finland): the Finnish banks' e-invoice message.

Written with lxml from an `InvoiceDocument`, in the element order of the
Finvoice 3.0 schema. Amounts use a decimal comma ("1234,50"); a credit note
(INV02, HYVITYSLASKU) carries negative amounts. `EpiDetails` holds what a
bank needs to pay: the account, the payment reference (SPY for a national
reference, ISO for RF), the amount and the due date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from osuus.documents.model import InvoiceDocument, PartyDocument
from osuus.einvoice.common import (
    agreement_note,
    amount_text,
    basis_note,
    description,
    payment_terms,
    plain_text,
    price_text,
    t,
    vat_text,
)
from osuus.render.words import unit_text

ENCODING = "ISO-8859-15"  # what most Finvoice traffic uses; other characters become references


def finvoice_xml(doc: InvoiceDocument, *, timestamp: dt.datetime | None = None) -> bytes:
    """The Finvoice 3.0 message of an invoice or a credit note."""
    from lxml import etree

    root = etree.Element("Finvoice", Version="3.0")

    def add(parent, name: str, text=None, **attrs):
        el = etree.SubElement(parent, name, **attrs)
        if text is not None:
            el.text = str(text)
        return el

    def money(parent, name: str, value: Decimal):
        return add(parent, name, amount_text(value, comma=True), AmountCurrencyIdentifier=doc.currency)

    def date(parent, name: str, value: dt.date):
        return add(parent, name, value.strftime("%Y%m%d"), Format="CCYYMMDD")

    transmission = add(root, "MessageTransmissionDetails")
    sender = add(transmission, "MessageSenderDetails")
    add(sender, "FromIdentifier", doc.seller.einvoice_address)
    add(sender, "FromIntermediator", doc.seller.operator or doc.account.bic)
    receiver = add(transmission, "MessageReceiverDetails")
    add(receiver, "ToIdentifier", doc.buyer.einvoice_address)
    add(receiver, "ToIntermediator", doc.buyer.operator or doc.buyer.einvoice_address)
    details = add(transmission, "MessageDetails")
    add(details, "MessageIdentifier", doc.number)
    stamp = timestamp or dt.datetime.combine(doc.issue_date, dt.time(8, 0), dt.timezone(dt.timedelta(hours=2)))
    add(details, "MessageTimeStamp", stamp.isoformat(timespec="seconds"))

    _party(root, "Seller", doc.seller)
    account = add(add(root, "SellerInformationDetails"), "SellerAccountDetails")
    add(account, "SellerAccountID", doc.account.iban, IdentificationSchemeName="IBAN")
    add(account, "SellerBic", doc.account.bic, IdentificationSchemeName="BIC")
    _party(root, "Buyer", doc.buyer)

    inv = add(root, "InvoiceDetails")
    add(inv, "InvoiceTypeCode", "INV02" if doc.is_credit else "INV01")
    add(inv, "InvoiceTypeText", t(f"einvoice.type.{doc.kind.value}"))
    add(inv, "OriginCode", "Original")
    add(inv, "InvoiceNumber", doc.number)
    date(inv, "InvoiceDate", doc.issue_date)
    if doc.is_credit and doc.credited_number:
        add(inv, "OriginalInvoiceNumber", doc.credited_number)
        if doc.credited_issue_date:
            date(inv, "OriginalInvoiceDate", doc.credited_issue_date)
    start, end = doc.billing_period
    date(inv, "InvoicingPeriodStartDate", start)
    date(inv, "InvoicingPeriodEndDate", end)
    if doc.agreement_id:
        add(inv, "AgreementIdentifier", doc.agreement_id)
    add(inv, "BuyerReferenceIdentifier", doc.buyer.buyer_reference or doc.agreement_id or doc.number)
    money(inv, "InvoiceTotalVatExcludedAmount", doc.total)
    money(inv, "InvoiceTotalVatAmount", Decimal(0))
    money(inv, "InvoiceTotalVatIncludedAmount", doc.total)
    vat = add(inv, "VatSpecificationDetails")
    money(vat, "VatBaseAmount", doc.total)
    add(vat, "VatRatePercent", plain_text(doc.vat.rate, comma=True))
    add(vat, "VatCode", doc.vat.category)
    money(vat, "VatRateAmount", Decimal(0))
    add(vat, "VatFreeText", vat_text(doc)[:70])
    add(vat, "VatExemptionReasonCode", doc.vat.exemption_code)
    note = agreement_note(doc)
    if note:
        add(inv, "InvoiceFreeText", note[:512])
    terms = add(inv, "PaymentTermsDetails")
    add(terms, "PaymentTermsFreeText", payment_terms(doc))
    date(terms, "InvoiceDueDate", doc.due_date)

    for line in doc.lines:
        row = add(root, "InvoiceRow")
        add(row, "ArticleIdentifier", line.component or line.kind.value)
        add(row, "ArticleName", description(doc, line)[:100])
        quantity = abs(line.quantity) if line.amount >= 0 else -abs(line.quantity)
        add(row, "DeliveredQuantity", plain_text(quantity, comma=True),
            QuantityUnitCode=unit_text(line.unit, "fi")[:14])
        date(row, "StartDate", line.period.start)
        date(row, "EndDate", line.period.end)
        add(row, "UnitPriceAmount", price_text(abs(line.unit_price), comma=True),
            AmountCurrencyIdentifier=doc.currency)
        if line.reference:
            add(row, "RowFreeText", basis_note(line)[:512])
        add(row, "RowVatRatePercent", plain_text(doc.vat.rate, comma=True))
        add(row, "RowVatCode", doc.vat.category)
        money(row, "RowVatAmount", Decimal(0))
        money(row, "RowVatExcludedAmount", line.amount)
        money(row, "RowAmount", line.amount)

    epi = add(root, "EpiDetails")
    ident = add(epi, "EpiIdentificationDetails")
    date(ident, "EpiDate", doc.issue_date)
    add(ident, "EpiReference", doc.number)
    parties = add(epi, "EpiPartyDetails")
    add(add(parties, "EpiBfiPartyDetails"), "EpiBfiIdentifier", doc.account.bic, IdentificationSchemeName="BIC")
    beneficiary = add(parties, "EpiBeneficiaryPartyDetails")
    add(beneficiary, "EpiNameAddressDetails", doc.seller.name)
    add(beneficiary, "EpiBei", doc.seller.business_id)
    add(beneficiary, "EpiAccountID", doc.account.iban, IdentificationSchemeName="IBAN")
    instruction = add(epi, "EpiPaymentInstructionDetails")
    if doc.use_rf:
        add(instruction, "EpiRemittanceInfoIdentifier", doc.reference_rf, IdentificationSchemeName="ISO")
    else:
        add(instruction, "EpiRemittanceInfoIdentifier", doc.reference.rjust(20, "0"), IdentificationSchemeName="SPY")
    # a credit note asks for no payment
    money(instruction, "EpiInstructedAmount", Decimal(0) if doc.is_credit else doc.total)
    add(instruction, "EpiCharge", "SLEV", ChargeOption="SLEV")
    date(instruction, "EpiDateOptionDate", doc.due_date)
    return etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True)


def _party(root, role: str, party: PartyDocument) -> None:
    from lxml import etree

    def add(parent, name: str, text=None):
        el = etree.SubElement(parent, name)
        if text is not None:
            el.text = str(text)
        return el

    details = add(root, f"{role}PartyDetails")
    add(details, f"{role}PartyIdentifier", party.business_id)
    add(details, f"{role}OrganisationName", party.name)
    if party.vat_number:
        add(details, f"{role}OrganisationTaxCode", party.vat_number)
    address = add(details, f"{role}PostalAddressDetails")
    add(address, f"{role}StreetName", party.address.street)
    add(address, f"{role}TownName", party.address.city)
    add(address, f"{role}PostCodeIdentifier", party.address.postcode)
    add(address, "CountryCode", party.address.country)
    if role == "Buyer" and party.contact:
        add(root, "BuyerContactPersonName", party.contact)
