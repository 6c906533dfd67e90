"""E-invoices of the whole 2021–2022 walkthrough: written, read back, and validated.

Every invoice and credit note of the walkthrough is written as Finvoice 3.0 and
as Peppol BIS Billing 3.0 and must pass the official rules with no fatal or
error finding. Hand-broken copies of generated documents must each be caught
with the rule id the specification gives for that fault.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from osuus.billing.kinds import DocumentKind
from osuus.calendar import Period
from osuus.einvoice.finvoice import finvoice_xml
from osuus.einvoice.peppol import peppol_xml
from osuus.ids import viitenumero
from osuus.services.documents import invoice_documents
from osuus.services.invoicing import list_invoices

ROOT = Path(__file__).resolve().parents[2]
NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
# Business IDs transcribed from shared/data/municipalities.csv (which cites its sources).
BUSINESS_IDS = {"Sastamala": "0144411-3", "Akaa": "2050864-5", "Pirkkala": "0152084-1", "Virrat": "0206333-9"}
# Sastamala's yearly payment of Taulukko 1 ("Maksuosuus" column), transcribed from the seed.
SASTAMALA_T1_PAYMENT = Decimal("14240")


def _errors(findings) -> list[str]:
    return [str(f) for f in findings if f.is_error]


def _documents(ledger, number: str | None = None, **kw):
    """(issued invoice, its document) of every invoice and credit note, or of one."""
    invoices = list_invoices(ledger, number=number)
    with ledger.read() as session:
        return list(zip(invoices, invoice_documents(session, invoices, einvoice=True, **kw)))


def test_every_walkthrough_document_passes_the_official_rules(walkthrough_ledger, validator):
    docs = _documents(walkthrough_ledger)
    assert len(docs) > 12 * 21  # every member every month of 2021, then 2022-01 and a credit note
    kinds = {doc.kind for _, doc in docs}
    assert kinds == {DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE}
    failures = []
    for inv, doc in docs:
        for name, xml, check in (("peppol", peppol_xml(doc), validator.validate_peppol),
                                 ("finvoice", finvoice_xml(doc), validator.validate_finvoice)):
            errors = _errors(check(xml))
            if errors:
                failures.append((inv.number, name, errors[:3]))
    assert failures == []


def test_einvoice_texts_have_ordinary_spaces(walkthrough_ledger):
    """Receiving systems show a text as it comes: a no-break space inside a figure (as the PDF
    typesets "1 400,00 €") would reach the reader as an odd character, so e-invoices have none."""
    docs = _documents(walkthrough_ledger)
    odd = [(inv.number, name) for inv, doc in docs[:60]
           for name, text in (("peppol", peppol_xml(doc).decode("utf-8")),
                              ("finvoice", finvoice_xml(doc).decode("iso-8859-15")))
           if "\u00a0" in text or "\u202f" in text]
    assert odd == []
    texts = " ".join(peppol_xml(doc).decode("utf-8") for _, doc in docs[:60])
    assert "1 400,00 €" in texts or "1 150,00 €" in texts  # the figures are still grouped, by plain spaces


def test_rf_references_pass_too(walkthrough_ledger, validator):
    ((inv, doc),) = _documents(walkthrough_ledger, "2022-00042", rf=True)
    assert not inv.is_credit
    assert doc.payment_reference.startswith("RF")
    for xml, check in ((peppol_xml(doc), validator.validate_peppol), (finvoice_xml(doc), validator.validate_finvoice)):
        assert _errors(check(xml)) == []
    finvoice = etree.fromstring(finvoice_xml(doc))
    ref = finvoice.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    assert ref.get("IdentificationSchemeName") == "ISO" and ref.text == viitenumero.to_rf(inv.reference)


def test_peppol_content_matches_the_ledger_and_the_seed(walkthrough_ledger):
    docs = _documents(walkthrough_ledger)
    advance_sum = Decimal(0)
    checked: set[str] = set()
    for inv, doc in docs:
        root = etree.fromstring(peppol_xml(doc))
        sign = -1 if inv.is_credit else 1
        payable = Decimal(root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS))
        assert payable == inv.total * sign, inv.number
        lines = root.findall("cac:InvoiceLine" if sign == 1 else "cac:CreditNoteLine", NS)
        assert sum(Decimal(x.findtext("cbc:LineExtensionAmount", namespaces=NS)) for x in lines) == payable
        if not inv.is_credit:  # a credit note asks for no payment: no payment means (test_einvoice_content)
            assert root.findtext("cac:PaymentMeans/cbc:PaymentID", namespaces=NS) == inv.reference
        buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
        name = buyer.findtext("cac:PartyName/cbc:Name", namespaces=NS)
        if name in BUSINESS_IDS:
            checked.add(name)
            digits = BUSINESS_IDS[name].replace("-", "")
            # the OVT e-invoice address is 0037 followed by the business ID's eight digits
            assert buyer.findtext("cbc:EndpointID", namespaces=NS) == "0037" + digits
            assert buyer.findtext("cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS) == digits
        if name == "Sastamala" and not inv.is_credit:
            for x in lines:
                if x.findtext("cac:Item/cac:SellersItemIdentification/cbc:ID", namespaces=NS) == "yhteiset" and \
                        x.findtext("cac:InvoicePeriod/cbc:StartDate", namespaces=NS).startswith("2021"):
                    advance_sum += Decimal(x.findtext("cbc:LineExtensionAmount", namespaces=NS))
    assert checked == set(BUSINESS_IDS)
    # twelve instalments make the year's payment (shown in whole euros in the appendix)
    assert abs(advance_sum - SASTAMALA_T1_PAYMENT) <= Decimal("0.5")


def test_credit_note_refers_to_the_credited_invoice(walkthrough_ledger):
    (note,) = [i for i in list_invoices(walkthrough_ledger) if i.credited]
    (credited,) = list_invoices(walkthrough_ledger, number=note.credited)
    ((_, doc),) = _documents(walkthrough_ledger, note.number)
    root = etree.fromstring(peppol_xml(doc))
    assert etree.QName(root).localname == "CreditNote"
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS) == credited.number
    assert Decimal(root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS)) == credited.total
    fin = etree.fromstring(finvoice_xml(doc))
    assert fin.findtext("InvoiceDetails/InvoiceTypeCode") == "INV02"
    assert fin.findtext("InvoiceDetails/OriginalInvoiceNumber") == credited.number
    # Finvoice amounts: decimal comma, negative on a credit note
    total = fin.findtext("InvoiceDetails/InvoiceTotalVatExcludedAmount")
    assert total == f"-{credited.total:.2f}".replace(".", ",")


def test_finvoice_amounts_and_reference(walkthrough_ledger):
    ((inv, doc),) = _documents(walkthrough_ledger, "2021-00001")
    fin = etree.fromstring(finvoice_xml(doc))
    assert fin.findtext("InvoiceDetails/InvoiceTotalVatIncludedAmount") == f"{inv.total:.2f}".replace(".", ",")
    ref = fin.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    assert ref.get("IdentificationSchemeName") == "SPY"
    assert ref.text == inv.reference.rjust(20, "0") and viitenumero.is_valid(inv.reference)
    assert fin.findtext("InvoiceDetails/VatSpecificationDetails/VatCode") == "O"
    assert fin.findtext("InvoiceDetails/VatSpecificationDetails/VatExemptionReasonCode") == "VATEX-EU-O"


# ---------------------------------------------------------------------------
# hand-broken copies of generated documents
# ---------------------------------------------------------------------------

@pytest.fixture
def sample(walkthrough_ledger):
    ((inv, doc),) = _documents(walkthrough_ledger, "2021-00016")
    return inv, doc


def _rule_ids(findings) -> set[str]:
    return {f.code for f in findings if f.is_error}


def _edit(xml: bytes, path: str, text: str | None = None, *, remove: bool = False, ns=NS) -> bytes:
    root = etree.fromstring(xml)
    el = root.find(path, ns)
    assert el is not None, path
    if remove:
        el.getparent().remove(el)
    else:
        el.text = text
    return etree.tostring(root, xml_declaration=True, encoding=root.getroottree().docinfo.encoding)


def test_broken_peppol_documents_are_caught(sample, validator):
    inv, doc = sample
    xml = peppol_xml(doc)
    assert _errors(validator.validate_peppol(xml)) == []
    wrong = f"{inv.total + 1:.2f}"
    cases = {
        "BR-CO-10": _edit(xml, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount", wrong),  # lines ≠ sum
        "BR-CO-16": _edit(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount", wrong),  # amount due ≠ total
        "BR-07": _edit(xml, "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
                       remove=True),  # no buyer name
        "UBL-XSD": _edit(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount", "12 345,00"),  # malformed amount
        "OSUUS-REF-01": _edit(xml, "cac:PaymentMeans/cbc:PaymentID",
                              inv.reference[:-1] + str((int(inv.reference[-1]) + 1) % 10)),
    }
    for rule, broken in cases.items():
        assert rule in _rule_ids(validator.validate_peppol(broken)), rule


def test_a_vat_number_with_category_o_is_caught(sample, validator):
    import dataclasses

    inv, doc = sample
    # Sastamala's VAT number would be FI + its business ID digits (0144411-3)
    buyer = dataclasses.replace(doc.buyer, vat_number="FI01444113")
    found = _rule_ids(validator.validate_peppol(peppol_xml(dataclasses.replace(doc, buyer=buyer))))
    assert "BR-O-02" in found or "BR-O-04" in found or "BR-O-03" in found, found


def test_broken_finvoice_documents_are_caught(sample, validator):
    inv, doc = sample
    xml = finvoice_xml(doc)
    assert _errors(validator.validate_finvoice(xml)) == []
    cases = {
        "FINVOICE-XSD": _edit(xml, "InvoiceDetails/InvoiceTotalVatIncludedAmount", f"{inv.total:.2f}", ns=None),
        "OSUUS-FI-01": _edit(xml, "InvoiceDetails/InvoiceTotalVatExcludedAmount",
                             f"{inv.total + 1:.2f}".replace(".", ","), ns=None),
        "OSUUS-REF-01": _edit(xml, "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier",
                              inv.reference[:-1].rjust(19, "0") + str((int(inv.reference[-1]) + 1) % 10), ns=None),
    }
    for rule, broken in cases.items():
        assert rule in _rule_ids(validator.validate_finvoice(broken)), rule


def test_quarter_and_whole_year_lines_carry_their_periods(sample, validator):
    """A quarterly agreement's lines say `2021-Q1`, a settlement line says `2021`: both are periods."""
    import dataclasses

    inv, doc = sample
    first, second = doc.lines[0], doc.lines[-1]
    lines = (dataclasses.replace(first, period=Period.quarter(2021, 1)),
             dataclasses.replace(second, position=second.position, period=Period.whole_year(2021)))
    total = sum((line.amount for line in lines), Decimal(0))
    doc = dataclasses.replace(doc, lines=lines, total=total, period=Period.quarter(2021, 1))
    # the document's period runs from the first line's first day to the last line's last day
    assert doc.billing_period == (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    ubl = etree.fromstring(peppol_xml(doc))
    periods = [(x.findtext("cac:InvoicePeriod/cbc:StartDate", namespaces=NS),
                x.findtext("cac:InvoicePeriod/cbc:EndDate", namespaces=NS))
               for x in ubl.findall("cac:InvoiceLine", NS)]
    assert periods == [("2021-01-01", "2021-03-31"), ("2021-01-01", "2021-12-31")]
    fin = etree.fromstring(finvoice_xml(doc))
    assert [r.findtext("StartDate") for r in fin.findall("InvoiceRow")] == ["20210101", "20210101"]
    assert [r.findtext("EndDate") for r in fin.findall("InvoiceRow")] == ["20210331", "20211231"]
    assert _errors(validator.validate_peppol(peppol_xml(doc))) == []
    assert _errors(validator.validate_finvoice(finvoice_xml(doc))) == []
