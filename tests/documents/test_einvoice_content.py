"""What an operator routes and a receiver books (issue 10, parts 1-4): routing, the Finvoice 3.0
EN 16931 elements, the VAT text written whole, the buyer's accounting reference, legal names,
credit notes without payment instructions, Latin-9 text, and the invoice image inside.

Expected values are written by hand from the agreement file, the standards and the README's
walkthrough; the walkthrough ledger is the session's (tests/documents/conftest.py)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib

import pytest
from lxml import etree
from osuus.einvoice.common import latin9, split_words
from osuus.einvoice.finvoice import finvoice_attachments_xml, finvoice_send, finvoice_xml
from osuus.einvoice.peppol import peppol_xml
from osuus.problems import ProblemsError
from osuus.services.documents import invoice_documents
from osuus.services.invoicing import list_invoices
from tests.documents.conftest import AGREEMENT
from tests.documents.test_export_cli import osuus

NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
# [billing.vat] exemption_text of agreements/pirkanmaa-2021.toml, copied from the file
VAT_TEXT = ("Ei arvonlisäveron alaista: kuntien välinen lakisääteisten tehtävien kustannustenjako "
            "(yhteistoimintasopimus)")
# the OVT addresses of [parties."Tampere"] and [parties."Sastamala"], and their operator
TAMPERE_OVT, SASTAMALA_OVT, OPERATOR = "003702116752", "003701444113", "003721291126"


def _doc(ledger, number: str):
    (invoice,) = list_invoices(ledger, number=number)
    with ledger.read() as session:
        (doc,) = invoice_documents(session, [invoice], einvoice=True)
    return doc


def _errors(findings) -> list[str]:
    return [str(f) for f in findings if f.is_error]


@pytest.fixture
def invoice(walkthrough_ledger):
    return _doc(walkthrough_ledger, "2021-00016")  # Sastamala, January 2021


@pytest.fixture
def credit_note(walkthrough_ledger):
    return _doc(walkthrough_ledger, "2022-00043")  # credits 2021-00016: "Väärä laskutusosoite"


# -- 1. routing ---------------------------------------------------------------------------------

def test_a_member_without_an_operator_stops_the_export_before_any_file(tmp_path):
    """Parkano's operator removed: exit 2, Parkano and `operator` named, nothing written — its
    e-invoice address is never put in the operator's place."""
    text = AGREEMENT.read_text(encoding="utf-8")
    start = text.index('[parties."Parkano"]')
    end = text.index("[parties.", start + 5)
    section = "\n".join(x for x in text[start:end].splitlines() if not x.startswith("operator ="))
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(text[:start] + section + "\n\n" + text[end:], encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    for args in (("db", "upgrade"), ("agreement", "add", str(agreement)), ("estimate", "2021"),
                 ("invoice", "2021-01", "--date", "2021-02-01"), ("approve", "2021-01")):
        assert osuus(*args, url=url, env={"OSUUS_SELF_APPROVAL": "1"}).returncode == 0  # one user drafts, approves
    out = tmp_path / "out"
    for fmt in ("finvoice", "peppol"):
        proc = osuus("export", "einvoice", "--period", "2021-01", "-f", fmt, "-o", str(out), url=url)
        assert proc.returncode == 2, proc.stdout
        (problem,) = [x for x in proc.stderr.splitlines() if "Parkano" in x]
        assert "parties.Parkano.operator" in problem and "operator" in problem
        assert not out.exists()
    # the PDF needs no operator
    assert osuus("export", "pdf", "--period", "2021-01", "-o", str(out), url=url).returncode == 0


def test_the_receivers_operator_is_never_its_address(invoice):
    no_operator = dataclasses.replace(invoice, buyer=dataclasses.replace(invoice.buyer, operator=""))
    with pytest.raises(ProblemsError) as raised:
        finvoice_xml(no_operator)
    assert raised.value.problems[0].key == "parties.Sastamala.operator"
    fin = etree.fromstring(finvoice_xml(invoice))
    assert fin.findtext("MessageTransmissionDetails/MessageReceiverDetails/ToIdentifier") == SASTAMALA_OVT
    assert fin.findtext("MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator") == OPERATOR


# -- 2. Finvoice 3.0 in its EN 16931 form ------------------------------------------------------

def test_finvoice_carries_the_en16931_elements(invoice, credit_note, validator):
    fin = etree.fromstring(finvoice_xml(invoice))
    assert fin.findtext("MessageTransmissionDetails/MessageDetails/SpecificationIdentifier") == \
        "urn:cen.eu:en16931:2017"
    assert fin.findtext("InvoiceDetails/InvoiceTypeCodeUN") == "380"
    assert etree.fromstring(finvoice_xml(credit_note)).findtext("InvoiceDetails/InvoiceTypeCodeUN") == "381"
    assert fin.findtext("SellerOrganisationUnitNumber") == TAMPERE_OVT
    assert fin.findtext("BuyerOrganisationUnitNumber") == SASTAMALA_OVT
    rows = fin.findall("InvoiceRow")
    assert [r.findtext("RowPositionIdentifier") for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    # the advance: one instalment (C62, "one"); the Mainio line: 1,5 hours (HUR)
    quantities = [(r.findtext("InvoicedQuantity"), r.find("InvoicedQuantity").get("QuantityUnitCodeUN")) for r in rows]
    assert ("1", "C62") in quantities and ("1,5", "HUR") in quantities
    assert all(r.find("DeliveredQuantity") is None for r in rows)
    assert _errors(validator.validate_finvoice(finvoice_xml(invoice))) == []


def test_every_send_is_a_new_message_stamped_in_finnish_time(invoice):
    first, second = (etree.fromstring(finvoice_xml(invoice)) for _ in range(2))
    path = "MessageTransmissionDetails/MessageDetails/MessageIdentifier"
    assert first.findtext(path) != second.findtext(path)
    assert first.findtext(path).startswith("2021-00016-") and len(first.findtext(path)) <= 48
    stamp = "MessageTransmissionDetails/MessageDetails/MessageTimeStamp"
    summer = dt.datetime(2021, 7, 1, 9, 0, tzinfo=dt.timezone.utc)  # EEST: UTC+3
    winter = dt.datetime(2021, 1, 15, 9, 0, tzinfo=dt.timezone.utc)  # EET: UTC+2
    assert etree.fromstring(finvoice_xml(invoice, timestamp=summer)).findtext(stamp) == "2021-07-01T12:00:00+03:00"
    assert etree.fromstring(finvoice_xml(invoice, timestamp=winter)).findtext(stamp) == "2021-01-15T11:00:00+02:00"
    # the last Sunday of March 2021 at 03:00 local time the clocks went to 04:00
    spring = dt.datetime(2021, 3, 28, 1, 0, tzinfo=dt.timezone.utc)
    assert etree.fromstring(finvoice_xml(invoice, timestamp=spring)).findtext(stamp) == "2021-03-28T04:00:00+03:00"


def test_text_latin9_cannot_hold_is_written_in_characters_it_can(walkthrough_ledger, validator):
    assert latin9("toteutunut osuus − laskutettu") == "toteutunut osuus - laskutettu"
    assert latin9("kunnan ’oma’ ”palvelu”") == "kunnan 'oma' \"palvelu\""
    assert latin9("1\u202f400,00\u00a0€ – 2 000 €") == "1 400,00 € - 2 000 €"
    # ó is in Latin-9; ź is not and loses its accent; Ł has no Latin-9 base letter
    assert latin9("Łódź ja Ähtäri") == "?ódz ja Ähtäri"
    # a year-end settlement line is named "… toteutunut osuus − laskutettu …" (U+2212) in the catalogue
    doc = _doc(walkthrough_ledger, "2022-00022")  # carries a year-end settlement of 2021
    xml = finvoice_xml(doc)
    text = xml.decode("iso-8859-15")
    assert "toteutunut osuus - laskutettu" in text and "&#8722;" not in text and "&#" not in text
    assert "toteutunut osuus − laskutettu" in peppol_xml(doc).decode("utf-8")  # UTF-8 keeps the sign
    assert _errors(validator.validate_finvoice(xml)) == []


# -- 3. what the receiver books ----------------------------------------------------------------

def test_the_vat_exemption_reason_is_written_whole(invoice):
    fin = etree.fromstring(finvoice_xml(invoice))
    parts = [x.text for x in fin.findall("InvoiceDetails/VatSpecificationDetails/VatFreeText")]
    assert parts == ["Ei arvonlisäveron alaista: kuntien välinen lakisääteisten tehtävien",
                     "kustannustenjako (yhteistoimintasopimus)"]
    assert " ".join(parts) == VAT_TEXT
    ubl = etree.fromstring(peppol_xml(invoice))
    assert ubl.findtext("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason", namespaces=NS) == VAT_TEXT


def test_a_vat_reason_finvoice_cannot_hold_is_a_problem_of_the_agreement(invoice):
    from osuus.agreement.model import Text

    long = " ".join(["kustannustenjako"] * 13)  # 13 × 17 − 1 = 220 characters: four lines of 70
    assert len(split_words(long, 70)) == 4
    doc = dataclasses.replace(invoice, vat=dataclasses.replace(invoice.vat, exemption_text=Text(long)))
    with pytest.raises(ProblemsError) as raised:
        finvoice_xml(doc)
    (problem,) = raised.value.problems
    assert problem.key == "billing.vat.exemption_text" and "220" in problem.message


def test_accounting_cost_is_the_buyers_reference_only(invoice, validator):
    ubl = etree.fromstring(peppol_xml(invoice))
    # no cost centre given in the agreement: no AccountingCost at all (never osuus's component ids)
    assert ubl.findall(".//cbc:AccountingCost", NS) == []
    doc = dataclasses.replace(invoice, buyer=dataclasses.replace(invoice.buyer, accounting_cost="4410 Työllisyys"))
    xml = peppol_xml(doc)
    ubl = etree.fromstring(xml)
    assert ubl.findtext("cbc:AccountingCost", namespaces=NS) == "4410 Työllisyys"  # BT-19
    lines = ubl.findall("cac:InvoiceLine", NS)
    assert [x.findtext("cbc:AccountingCost", namespaces=NS) for x in lines] == ["4410 Työllisyys"] * len(lines)
    assert _errors(validator.validate_peppol(xml)) == []
    fin = etree.fromstring(finvoice_xml(doc))
    assert fin.findtext("InvoiceDetails/AccountDimensionText") == "4410 Työllisyys"
    assert {r.findtext("RowAccountDimensionText") for r in fin.findall("InvoiceRow")} == {"4410 Työllisyys"}
    assert _errors(validator.validate_finvoice(finvoice_xml(doc))) == []


def test_the_parties_carry_their_registered_names(invoice):
    ubl = etree.fromstring(peppol_xml(invoice))
    seller = ubl.find("cac:AccountingSupplierParty/cac:Party", NS)
    buyer = ubl.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert seller.findtext("cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS) == "Tampereen kaupunki"
    assert buyer.findtext("cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS) == "Sastamalan kaupunki"
    assert buyer.findtext("cac:PartyName/cbc:Name", namespaces=NS) == "Sastamala"  # the name the tables use
    assert ubl.findtext("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:Name", namespaces=NS) == "Tampereen kaupunki"
    fin = etree.fromstring(finvoice_xml(invoice))
    assert fin.findtext("SellerPartyDetails/SellerOrganisationName") == "Tampereen kaupunki"
    assert fin.findtext("BuyerPartyDetails/BuyerOrganisationName") == "Sastamalan kaupunki"
    assert fin.findtext("BuyerPartyDetails/BuyerOrganisationTradingName") == "Sastamala"
    assert fin.findtext("EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiNameAddressDetails") == \
        "Tampereen kaupunki"


def test_a_credit_note_asks_for_no_payment_and_says_how_it_is_settled(credit_note, validator):
    # the agreement has no [billing.credits]: a credit is offset against the next payment
    settled = "Hyvitys vähennetään seuraavan laskumme maksusta."
    xml = peppol_xml(credit_note)
    ubl = etree.fromstring(xml)
    assert ubl.find("cac:PaymentMeans", NS) is None  # no IBAN, no reference, no due date
    assert ubl.findtext("cac:PaymentTerms/cbc:Note", namespaces=NS) == settled
    assert "netto" not in xml.decode("utf-8") and "FI7944052020036082" not in xml.decode("utf-8")
    assert settled in ubl.findtext("cbc:Note", namespaces=NS)
    assert _errors(validator.validate_peppol(xml)) == []
    fin_xml = finvoice_xml(credit_note)
    fin = etree.fromstring(fin_xml)
    assert fin.findtext("InvoiceDetails/PaymentTermsDetails/PaymentTermsFreeText") == settled
    assert fin.find("InvoiceDetails/PaymentTermsDetails/InvoiceDueDate") is None
    assert fin.find("SellerInformationDetails") is None
    instruction = fin.find("EpiDetails/EpiPaymentInstructionDetails")
    assert instruction.find("EpiRemittanceInfoIdentifier") is None
    assert instruction.findtext("EpiInstructedAmount") == "0,00"
    assert instruction.findtext("EpiDateOptionDate") == "20220215"  # the day it was issued, not a due date
    assert "netto" not in fin_xml.decode("iso-8859-15")
    assert _errors(validator.validate_finvoice(fin_xml)) == []


def test_counted_texts_are_in_good_finnish(walkthrough_ledger):
    with walkthrough_ledger.read() as session:
        docs = invoice_documents(session, list_invoices(walkthrough_ledger)[:40], einvoice=True)
    texts = "".join(peppol_xml(doc).decode("utf-8") for doc in docs)
    assert "(1 tapahtuma)" in texts  # one event
    assert "(1 tapahtumaa)" not in texts


# -- 4. the invoice image travels with the data ------------------------------------------------

def test_the_embedded_pdf_is_what_export_pdf_writes(walkthrough_url, tmp_path, validator):
    for args in (("pdf",), ("einvoice", "-f", "peppol"), ("einvoice", "-f", "finvoice")):
        proc = osuus("export", *args[:1], "2021-00016", *args[1:], "-o", str(tmp_path / "out"), url=walkthrough_url)
        assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "out" / "790-sastamala"
    pdf = (folder / "lasku-2021-00016.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")

    ubl = etree.parse(str(folder / "lasku-2021-00016.peppol.xml")).getroot()
    (reference,) = ubl.findall("cac:AdditionalDocumentReference", NS)
    assert reference.findtext("cbc:ID", namespaces=NS) == "2021-00016"
    assert reference.findtext("cbc:DocumentDescription", namespaces=NS) == "Laskun 2021-00016 kuva (PDF)"
    binary = reference.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)
    assert binary.get("mimeCode") == "application/pdf" and binary.get("filename") == "lasku-2021-00016.pdf"
    assert base64.b64decode(binary.text) == pdf
    # UBL order: after BillingReference/InvoicePeriod, before the parties
    names = [etree.QName(x).localname for x in ubl]
    assert names.index("InvoicePeriod") < names.index("AdditionalDocumentReference") < \
        names.index("AccountingSupplierParty")

    message = etree.parse(str(folder / "lasku-2021-00016.finvoice.xml")).getroot()
    attachments = etree.parse(str(folder / "lasku-2021-00016.finvoice-attachments.xml")).getroot()
    message_id = message.findtext("MessageTransmissionDetails/MessageDetails/MessageIdentifier")
    assert message.findtext("AttachmentMessageDetails/AttachmentMessageIdentifier") == message_id + "::attachments"
    assert attachments.findtext("MessageTransmissionDetails/MessageDetails/MessageIdentifier") == \
        message_id + "::attachments"
    assert attachments.findtext("MessageTransmissionDetails/MessageDetails/RefToMessageIdentifier") == message_id
    details = attachments.find("AttachmentDetails")
    content = details.findtext("AttachmentContent")
    assert base64.b64decode(content) == pdf
    digest = hashlib.sha1(content.encode("ascii")).hexdigest()
    assert details.findtext("AttachmentSecureHash") == digest
    assert details.findtext("AttachmentIdentifier") == f"{message_id}::attachments::{digest}"
    assert details.findtext("AttachmentName") == "lasku-2021-00016.pdf"
    assert details.findtext("AttachmentMimeType") == "application/pdf"
    for path, check in ((folder / "lasku-2021-00016.peppol.xml", validator.validate_peppol),
                        (folder / "lasku-2021-00016.finvoice.xml", validator.validate_finvoice)):
        assert _errors(check(path.read_bytes())) == [], path


def test_one_send_has_one_identifier(credit_note):
    send = finvoice_send(credit_note, b"%PDF-1.7 test", message_id="2022-00043-abc")
    assert etree.fromstring(send.message).findtext("AttachmentMessageDetails/AttachmentMessageIdentifier") == \
        "2022-00043-abc::attachments"
    again = finvoice_attachments_xml(credit_note, b"%PDF-1.7 test", message_id="2022-00043-abc",
                                     timestamp=dt.datetime(2022, 2, 15, 8, 0))
    assert etree.fromstring(again).findtext("AttachmentDetails/AttachmentName") == "hyvityslasku-2022-00043.pdf"
    assert finvoice_send(credit_note).attachments is None  # no image given: no attachments message
    assert etree.fromstring(finvoice_send(credit_note).message).find("AttachmentMessageDetails") is None
