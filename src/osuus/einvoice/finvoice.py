"""Finvoice 3.0 (Finance Finland): the Finnish e-invoice message, in its EN 16931 form.

Written with lxml from an `InvoiceDocument`, in the element order of the
Finvoice 3.0 schema, with the elements Finnish operators map to and from
EN 16931 (Peppol): the UN invoice type code, the specification identifier,
the parties' e-invoice addresses, rows with their position, invoiced quantity
and UN/ECE unit code. Amounts use a decimal comma ("1234,50"); a credit note
(INV02, HYVITYSLASKU) carries negative amounts and no payment instructions
beyond what the schema requires (see docs/einvoices.md). `EpiDetails` holds
what a bank needs to pay an invoice: the account, the payment reference (SPY
for a national reference, ISO for RF), the amount and the due date.

The message is written in ISO-8859-15 (Latin-9); text it cannot hold is
written in characters it can (`common.latin9`). Every send is a new message:
its identifier is fresh and its time stamp is the moment of writing, in
Finnish local time. The invoice image travels as a separate Finvoice
attachments message (`finvoice_attachments_xml`) that the invoice message
names in `AttachmentMessageDetails`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from osuus.documents.model import InvoiceDocument, PartyDocument
from osuus.einvoice.common import (
    agreement_note,
    amount_text,
    basis_note,
    description,
    helsinki_time,
    latin9,
    message_identifier,
    payment_terms,
    pdf_file_name,
    plain_text,
    price_text,
    shorten,
    split_words,
    t,
    unit_code,
    vat_text,
)
from osuus.problems import Problem, ProblemsError
from osuus.render.words import unit_text

ENCODING = "ISO-8859-15"  # what Finvoice traffic uses; text is made to fit it (common.latin9)
#: Finvoice 3.0 MessageDetails/SpecificationIdentifier of a message that follows EN 16931.
SPECIFICATION = "urn:cen.eu:en16931:2017"
#: VatFreeText: at most three elements of at most 70 characters.
VAT_TEXT_WIDTH, VAT_TEXT_PARTS = 70, 3
ATTACHMENTS_SUFFIX = "::attachments"


@dataclass(frozen=True, slots=True)
class FinvoiceSend:
    """One send of an invoice: the invoice message, and the attachments message carrying
    its image (None when there is no image), under one fresh message identifier."""

    message: bytes
    attachments: bytes | None
    message_id: str


def finvoice_send(doc: InvoiceDocument, pdf: bytes | None = None, *, timestamp: dt.datetime | None = None,
                  message_id: str | None = None) -> FinvoiceSend:
    """The invoice message and, with `pdf`, the attachments message that carries it."""
    message_id = message_id or message_identifier(doc.number)
    stamp = helsinki_time(timestamp)
    attachments = finvoice_attachments_xml(doc, pdf, message_id=message_id, timestamp=stamp) if pdf else None
    message = finvoice_xml(doc, timestamp=stamp, message_id=message_id, with_attachments=pdf is not None)
    return FinvoiceSend(message, attachments, message_id)


def vat_text_parts(doc: InvoiceDocument) -> list[str]:
    """The VAT exemption reason in whole words over at most three VatFreeText elements;
    a reason that does not fit is a problem of the agreement, named before anything is written."""
    parts = split_words(latin9(vat_text(doc)), VAT_TEXT_WIDTH)
    if len(parts) > VAT_TEXT_PARTS:
        raise ProblemsError([Problem(
            f"the VAT exemption reason is {len(latin9(vat_text(doc)))} characters; Finvoice holds at most "
            f"{VAT_TEXT_PARTS} × {VAT_TEXT_WIDTH} characters in whole words: shorten it",
            file=doc.agreement.file, key="billing.vat.exemption_text", code="einvoice.vat-text-too-long")])
    return parts


def finvoice_xml(doc: InvoiceDocument, *, timestamp: dt.datetime | None = None, message_id: str | None = None,
                 with_attachments: bool = False) -> bytes:
    """The Finvoice 3.0 message of an invoice or a credit note.

    `timestamp` defaults to now and `message_id` to a fresh identifier; with
    `with_attachments` the message names its attachments message
    (`<message_id>::attachments`)."""
    from lxml import etree

    credit = doc.is_credit
    message_id = message_id or message_identifier(doc.number)
    vat_parts = vat_text_parts(doc)
    root = etree.Element("Finvoice", Version="3.0")

    add = _add

    def money(parent, name: str, value: Decimal):
        return add(parent, name, amount_text(value, comma=True), AmountCurrencyIdentifier=doc.currency)

    def date(parent, name: str, value: dt.date):
        return add(parent, name, value.strftime("%Y%m%d"), Format="CCYYMMDD")

    details = _message_details(root, doc, message_id, timestamp)
    add(details, "SpecificationIdentifier", SPECIFICATION)

    _party(root, "Seller", doc.seller, add)
    add(root, "SellerOrganisationUnitNumber", doc.seller.einvoice_address)
    if not credit:  # a credit note asks for no payment: no account to pay to
        account = add(add(root, "SellerInformationDetails"), "SellerAccountDetails")
        add(account, "SellerAccountID", doc.account.iban, IdentificationSchemeName="IBAN")
        add(account, "SellerBic", doc.account.bic, IdentificationSchemeName="BIC")
    _party(root, "Buyer", doc.buyer, add)
    add(root, "BuyerOrganisationUnitNumber", doc.buyer.einvoice_address)
    if doc.buyer.contact:
        add(root, "BuyerContactPersonName", shorten(latin9(doc.buyer.contact), 70))

    inv = add(root, "InvoiceDetails")
    add(inv, "InvoiceTypeCode", "INV02" if credit else "INV01")
    add(inv, "InvoiceTypeCodeUN", "381" if credit else "380")
    add(inv, "InvoiceTypeText", t(f"einvoice.type.{doc.kind.value}"))
    add(inv, "OriginCode", "Original")
    add(inv, "InvoiceNumber", doc.number)
    date(inv, "InvoiceDate", doc.issue_date)
    if credit and doc.credited_number:
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
    if doc.buyer.accounting_cost:  # BT-19, the buyer's accounting reference
        add(inv, "AccountDimensionText", doc.buyer.accounting_cost[:35])
    vat = add(inv, "VatSpecificationDetails")
    money(vat, "VatBaseAmount", doc.total)
    add(vat, "VatRatePercent", plain_text(doc.vat.rate, comma=True))
    add(vat, "VatCode", doc.vat.category)
    money(vat, "VatRateAmount", Decimal(0))
    for part in vat_parts:
        add(vat, "VatFreeText", part)
    add(vat, "VatExemptionReasonCode", doc.vat.exemption_code)
    note = latin9(agreement_note(doc))
    if note:
        add(inv, "InvoiceFreeText", shorten(note, 512))
    terms = add(inv, "PaymentTermsDetails")
    for part in split_words(latin9(payment_terms(doc)), 70)[:2]:
        add(terms, "PaymentTermsFreeText", part)
    if not credit:
        date(terms, "InvoiceDueDate", doc.due_date)

    for line in doc.lines:
        row = add(root, "InvoiceRow")
        add(row, "ArticleIdentifier", line.component or line.kind.value)
        text = latin9(description(doc, line))
        add(row, "ArticleName", shorten(text, 100))
        if len(text) > 100:
            add(row, "ArticleDescription", shorten(text, 512))
        quantity = abs(line.quantity) if line.amount >= 0 else -abs(line.quantity)
        add(row, "InvoicedQuantity", plain_text(quantity, comma=True),
            QuantityUnitCode=shorten(latin9(unit_text(line.unit, "fi")), 14), QuantityUnitCodeUN=unit_code(line.unit))
        date(row, "StartDate", line.period.start)
        date(row, "EndDate", line.period.end)
        add(row, "UnitPriceAmount", price_text(abs(line.unit_price), comma=True),
            AmountCurrencyIdentifier=doc.currency, QuantityUnitCodeUN=unit_code(line.unit))
        add(row, "RowPositionIdentifier", str(line.position))
        if doc.buyer.accounting_cost:  # BT-133, the buyer's accounting reference of the row
            add(row, "RowAccountDimensionText", doc.buyer.accounting_cost[:35])
        if line.reference:
            add(row, "RowFreeText", shorten(latin9(basis_note(line)), 512))
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
    add(beneficiary, "EpiNameAddressDetails", shorten(latin9(doc.seller.registered_name), 35))
    add(beneficiary, "EpiBei", doc.seller.business_id)
    # the schema requires the account even on a credit note, which asks for nothing (amount 0,00)
    add(beneficiary, "EpiAccountID", doc.account.iban, IdentificationSchemeName="IBAN")
    instruction = add(epi, "EpiPaymentInstructionDetails")
    if not credit:
        if doc.use_rf:
            add(instruction, "EpiRemittanceInfoIdentifier", doc.reference_rf, IdentificationSchemeName="ISO")
        else:
            add(instruction, "EpiRemittanceInfoIdentifier", doc.reference.rjust(20, "0"),
                IdentificationSchemeName="SPY")
    money(instruction, "EpiInstructedAmount", Decimal(0) if credit else doc.total)
    add(instruction, "EpiCharge", "SLEV", ChargeOption="SLEV")
    # a credit note has no due date; the schema requires a date: the day it was issued
    date(instruction, "EpiDateOptionDate", doc.issue_date if credit else doc.due_date)
    if with_attachments:
        add(add(root, "AttachmentMessageDetails"), "AttachmentMessageIdentifier", message_id + ATTACHMENTS_SUFFIX)
    return etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True)


def finvoice_attachments_xml(doc: InvoiceDocument, pdf: bytes, *, message_id: str,
                             timestamp: dt.datetime | None = None) -> bytes:
    """The Finvoice attachments message (FinvoiceAttachments 1.0) carrying the invoice's PDF.

    Its identifier is the invoice message's followed by `::attachments`, which the invoice
    message names in `AttachmentMessageDetails`; `RefToMessageIdentifier` points back to the
    invoice message. The PDF is base64 in `AttachmentContent`; `AttachmentSecureHash` is the
    SHA-1 of that base64 text, in hexadecimal, and the attachment's identifier is the
    message's identifier, `::` and that hash (docs/einvoices.md says where this comes from)."""
    from lxml import etree

    attachments_id = message_id + ATTACHMENTS_SUFFIX
    root = etree.Element("FinvoiceAttachments", Version="1.0")

    add = _add
    details = _message_details(root, doc, attachments_id, timestamp)
    add(details, "RefToMessageIdentifier", message_id)
    content = base64.b64encode(pdf).decode("ascii")
    digest = hashlib.sha1(content.encode("ascii")).hexdigest()
    attachment = add(root, "AttachmentDetails")
    add(attachment, "AttachmentIdentifier", f"{attachments_id}::{digest}")
    add(attachment, "AttachmentContent", content)
    add(attachment, "AttachmentName", pdf_file_name(doc))
    add(attachment, "AttachmentMimeType", "application/pdf")
    add(attachment, "AttachmentSecureHash", digest)
    return etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True)


def _add(parent, name: str, text=None, **attrs):
    """A child element; its text, if any, in characters Latin-9 can hold."""
    from lxml import etree

    el = etree.SubElement(parent, name, **attrs)
    if text is not None:
        el.text = latin9(str(text))
    return el


def _message_details(root, doc: InvoiceDocument, message_id: str, timestamp: dt.datetime | None):
    """What the invoice message and its attachments message begin with alike: the routing, then
    the message's identifier and time stamp (returned, for what each adds after them)."""
    transmission = _add(root, "MessageTransmissionDetails")
    _routing(transmission, doc)
    details = _add(transmission, "MessageDetails")
    _add(details, "MessageIdentifier", message_id)
    _add(details, "MessageTimeStamp", helsinki_time(timestamp).isoformat(timespec="seconds"))
    return details


def _routing(transmission, doc: InvoiceDocument) -> None:
    """From and To: the e-invoice addresses and the operators they are reached through. The
    receiver's operator is required (services.documents refuses a document without it); the
    sender without an operator of its own sends through its bank (its BIC)."""
    add = _add
    sender = add(transmission, "MessageSenderDetails", None)
    add(sender, "FromIdentifier", doc.seller.einvoice_address)
    add(sender, "FromIntermediator", doc.seller.operator or doc.account.bic)
    receiver = add(transmission, "MessageReceiverDetails", None)
    add(receiver, "ToIdentifier", doc.buyer.einvoice_address)
    if not doc.buyer.operator:  # never the address in its place: the message would be misrouted
        raise ProblemsError([Problem(
            f"{doc.buyer.name}: the e-invoice needs operator (välittäjätunnus), which the agreement's "
            f"[parties.\"{doc.buyer.name}\"] does not give", file=doc.agreement.file,
            key=f"parties.{doc.buyer.name}.operator", code="document.party-field")])
    add(receiver, "ToIntermediator", doc.buyer.operator)


def _party(root, role: str, party: PartyDocument, add) -> None:
    """The party's registered (legal) name as its organisation name (BT-27/BT-44), the name
    the tables use as its trading name when it differs (BT-28/BT-45)."""
    details = add(root, f"{role}PartyDetails")
    add(details, f"{role}PartyIdentifier", party.business_id)
    for part in split_words(latin9(party.registered_name), 70):
        add(details, f"{role}OrganisationName", part)
    if party.legal_name and party.legal_name != party.name:
        add(details, f"{role}OrganisationTradingName", shorten(latin9(party.name), 70))
    if party.vat_number:
        add(details, f"{role}OrganisationTaxCode", party.vat_number)
    address = add(details, f"{role}PostalAddressDetails")
    add(address, f"{role}StreetName", party.address.street)
    add(address, f"{role}TownName", party.address.city)
    add(address, f"{role}PostCodeIdentifier", party.address.postcode)
    add(address, "CountryCode", party.address.country)
