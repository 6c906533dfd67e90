"""Peppol BIS Billing 3.0: the UBL 2.1 Invoice and CreditNote that EN 16931 asks for.

Written with lxml from an `InvoiceDocument`. The element order follows the
UBL 2.1 schema; the business rules (BR-*, PEPPOL-EN16931-*) are the ones
`osuus.einvoice.validate` checks. Amounts have two decimals; a credit note
carries the credited amounts as positive figures, as UBL expects, and no
payment means: its payment terms say how the credit is settled. The parties'
legal names are their registered names; the buyer's accounting reference
(BT-19, BT-133) is written only when the agreement gives one. The invoice's
PDF, when given, travels inside as an `AdditionalDocumentReference`.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from osuus.billing.lines import Line
from osuus.documents.model import InvoiceDocument, PartyDocument
from osuus.einvoice.common import (
    agreement_note,
    amount_text,
    basis_note,
    description,
    image_description,
    payment_terms,
    pdf_file_name,
    plain_text,
    unit_code,
    vat_text,
)

CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
# Electronic address scheme for the Finnish OVT code (EAS 0216), legal id scheme for the business ID (ICD 0037).
SCHEME_OVT = "0216"
SCHEME_BUSINESS_ID = "0037"


def peppol_xml(doc: InvoiceDocument, pdf: bytes | None = None) -> bytes:
    """The UBL document of an invoice (380) or a credit note (381), UTF-8; with `pdf`, the
    invoice's image embedded (base64) under the name `osuus export pdf` gives it."""
    from lxml import etree

    credit = doc.is_credit
    sign = Decimal(-1) if credit else Decimal(1)
    root = etree.Element(f"{{{NS_CREDIT if credit else NS_INVOICE}}}{'CreditNote' if credit else 'Invoice'}",
                         nsmap={None: NS_CREDIT if credit else NS_INVOICE, "cac": CAC, "cbc": CBC})

    def cbc(parent, name: str, text, **attrs):
        el = etree.SubElement(parent, f"{{{CBC}}}{name}", **attrs)
        el.text = str(text)
        return el

    def cac(parent, name: str):
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def money(parent, name: str, value: Decimal):
        return cbc(parent, name, amount_text(value), currencyID=doc.currency)

    cbc(root, "CustomizationID", CUSTOMIZATION)
    cbc(root, "ProfileID", PROFILE)
    cbc(root, "ID", doc.number)
    cbc(root, "IssueDate", doc.issue_date.isoformat())
    if not credit:
        cbc(root, "DueDate", doc.due_date.isoformat())
    cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    note = agreement_note(doc)
    if note:
        cbc(root, "Note", note)
    cbc(root, "DocumentCurrencyCode", doc.currency)
    if doc.buyer.accounting_cost:  # BT-19: the buyer's own accounting reference
        cbc(root, "AccountingCost", doc.buyer.accounting_cost)
    cbc(root, "BuyerReference", doc.buyer.buyer_reference or doc.agreement_id or doc.number)
    start, end = doc.billing_period
    p = cac(root, "InvoicePeriod")
    cbc(p, "StartDate", start.isoformat())
    cbc(p, "EndDate", end.isoformat())
    if credit and doc.credited_number:
        ref = cac(cac(root, "BillingReference"), "InvoiceDocumentReference")
        cbc(ref, "ID", doc.credited_number)
        if doc.credited_issue_date:
            cbc(ref, "IssueDate", doc.credited_issue_date.isoformat())
    if pdf is not None:  # BG-24: after BillingReference in both Invoice and CreditNote
        attached = cac(root, "AdditionalDocumentReference")
        cbc(attached, "ID", doc.number)
        cbc(attached, "DocumentDescription", image_description(doc))
        cbc(cac(attached, "Attachment"), "EmbeddedDocumentBinaryObject", base64.b64encode(pdf).decode("ascii"),
            mimeCode="application/pdf", filename=pdf_file_name(doc))
    _party(cac(root, "AccountingSupplierParty"), doc.seller, cbc, cac)
    _party(cac(root, "AccountingCustomerParty"), doc.buyer, cbc, cac)

    if not credit:  # a credit note asks for no payment: no account, reference or due date
        means = cac(root, "PaymentMeans")
        cbc(means, "PaymentMeansCode", "58")  # SEPA credit transfer
        cbc(means, "PaymentID", doc.payment_reference)
        account = cac(means, "PayeeFinancialAccount")
        cbc(account, "ID", doc.account.iban)
        cbc(account, "Name", doc.seller.registered_name)
        cbc(cac(account, "FinancialInstitutionBranch"), "ID", doc.account.bic)
    # an invoice's terms; a credit note's says how the credit is settled (BR-CO-25 asks for
    # terms or a due date whenever an amount is due, and a credit note's amount is positive)
    cbc(cac(root, "PaymentTerms"), "Note", payment_terms(doc))

    total = doc.total * sign
    tax_total = cac(root, "TaxTotal")
    money(tax_total, "TaxAmount", Decimal(0))
    subtotal = cac(tax_total, "TaxSubtotal")
    money(subtotal, "TaxableAmount", total)
    money(subtotal, "TaxAmount", Decimal(0))
    category = cac(subtotal, "TaxCategory")
    _tax_category(category, doc, cbc, cac, with_reason=True)

    totals = cac(root, "LegalMonetaryTotal")
    money(totals, "LineExtensionAmount", sum((line.amount for line in doc.lines), Decimal(0)) * sign)
    money(totals, "TaxExclusiveAmount", total)
    money(totals, "TaxInclusiveAmount", total)
    money(totals, "PayableAmount", total)
    for line in doc.lines:
        _line(root, line, doc, sign, cbc, cac, money)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _tax_category(parent, doc: InvoiceDocument, cbc, cac, *, with_reason: bool) -> None:
    cbc(parent, "ID", doc.vat.category)
    if doc.vat.category != "O":  # category O carries no rate (BR-O-05, BR-O-10)
        cbc(parent, "Percent", plain_text(doc.vat.rate))
    if with_reason:
        cbc(parent, "TaxExemptionReasonCode", doc.vat.exemption_code)
        cbc(parent, "TaxExemptionReason", vat_text(doc))
    cbc(cac(parent, "TaxScheme"), "ID", "VAT")


def _party(holder, party: PartyDocument, cbc, cac) -> None:
    p = cac(holder, "Party")
    cbc(p, "EndpointID", party.einvoice_address, schemeID=SCHEME_OVT)
    business_digits = party.business_id.replace("-", "")
    cbc(cac(p, "PartyIdentification"), "ID", business_digits, schemeID=SCHEME_BUSINESS_ID)
    cbc(cac(p, "PartyName"), "Name", party.name)
    address = cac(p, "PostalAddress")
    cbc(address, "StreetName", party.address.street)
    cbc(address, "CityName", party.address.city)
    cbc(address, "PostalZone", party.address.postcode)
    cbc(cac(address, "Country"), "IdentificationCode", party.address.country)
    if party.vat_number:
        scheme = cac(p, "PartyTaxScheme")
        cbc(scheme, "CompanyID", party.vat_number)
        cbc(cac(scheme, "TaxScheme"), "ID", "VAT")
    legal = cac(p, "PartyLegalEntity")
    cbc(legal, "RegistrationName", party.registered_name)
    cbc(legal, "CompanyID", business_digits, schemeID=SCHEME_BUSINESS_ID)
    if party.contact or party.email:
        contact = cac(p, "Contact")
        if party.contact:
            cbc(contact, "Name", party.contact)
        if party.email:
            cbc(contact, "ElectronicMail", party.email)


def _line(root, line: Line, doc: InvoiceDocument, sign: Decimal, cbc, cac, money) -> None:
    credit = doc.is_credit
    el = cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    cbc(el, "ID", str(line.position))
    amount = line.amount * sign
    # EN 16931 forbids negative prices (BR-27): a refund carries its sign on the quantity
    price = abs(line.unit_price)
    quantity = abs(line.quantity) if amount >= 0 else -abs(line.quantity)
    cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", plain_text(quantity), unitCode=unit_code(line.unit))
    money(el, "LineExtensionAmount", amount)
    if doc.buyer.accounting_cost:  # BT-133 is the buyer's reference, never osuus's component id
        cbc(el, "AccountingCost", doc.buyer.accounting_cost)
    period = cac(el, "InvoicePeriod")
    cbc(period, "StartDate", line.period.start.isoformat())
    cbc(period, "EndDate", line.period.end.isoformat())
    item = cac(el, "Item")
    if line.reference:
        cbc(item, "Description", basis_note(line))
    cbc(item, "Name", description(doc, line)[:200])
    cbc(cac(item, "SellersItemIdentification"), "ID", line.component or line.kind.value)
    category = cac(item, "ClassifiedTaxCategory")
    _tax_category(category, doc, cbc, cac, with_reason=False)
    cbc(cac(el, "Price"), "PriceAmount", plain_text(price), currencyID=doc.currency)
