"""The Finvoice attachments message (the invoice's PDF beside the invoice message) checked by
osuus's own rules, since no schema of it is published: what it belongs to, and each
attachment's content, name, type and the SHA-1 of its base64 text."""

from __future__ import annotations

import base64
import hashlib

from lxml import etree

from osuus.einvoice.finvoice import finvoice_attachments_xml
from osuus.einvoice.validate import layers, validate_bytes
from tests.pdf.test_letters import make_invoice

PDF = b"%PDF-1.7\n% a stand-in for the invoice's image\n%%EOF\n"
MESSAGE_ID = "2021-00015-test"


def message() -> bytes:
    return finvoice_attachments_xml(make_invoice(), PDF, message_id=MESSAGE_ID)


def edited(change) -> bytes:
    root = etree.fromstring(message())
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="ISO-8859-15")


def codes(data: bytes) -> list[str]:
    return [p.code for p in validate_bytes(data)]


def test_a_written_attachments_message_passes_and_carries_the_pdf():
    data = message()
    assert codes(data) == [] and layers(data) == ("OSUUS",)
    root = etree.fromstring(data)
    content = root.findtext("AttachmentDetails/AttachmentContent")
    assert base64.b64decode(content) == PDF
    digest = hashlib.sha1(content.encode("ascii")).hexdigest()
    assert root.findtext("AttachmentDetails/AttachmentSecureHash") == digest
    assert root.findtext("MessageTransmissionDetails/MessageDetails/RefToMessageIdentifier") == MESSAGE_ID


def test_a_missing_reference_to_the_invoice_message():
    def drop(root):
        ref = root.find("MessageTransmissionDetails/MessageDetails/RefToMessageIdentifier")
        ref.getparent().remove(ref)
    assert codes(edited(drop)) == ["OSUUS-FA-01"]


def test_content_that_is_not_base64():
    def spoil(root):
        root.find("AttachmentDetails/AttachmentContent").text = "not base64!"
    assert "OSUUS-FA-02" in codes(edited(spoil))


def test_a_hash_that_is_not_the_contents():
    def spoil(root):
        root.find("AttachmentDetails/AttachmentSecureHash").text = "0" * 40
    assert codes(edited(spoil)) == ["OSUUS-FA-03", "OSUUS-FA-04"]


def test_no_attachment_at_all():
    def drop(root):
        root.remove(root.find("AttachmentDetails"))
    assert codes(edited(drop)) == ["OSUUS-FA-01"]
