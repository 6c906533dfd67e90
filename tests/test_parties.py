"""Parties and VAT in the agreement: every mistake reported at once, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from osuus.agreement.load import parse_agreement
from osuus.services.documents import ACCOUNT, ADDRESS, EINVOICE, bank_account, party_document
from osuus.problems import ProblemsError

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "agreements" / "pirkanmaa-2021.toml").read_text(encoding="utf-8")


def load(text: str):
    agreement, problems = parse_agreement(text, "a.toml")
    return agreement, problems


def line_of(text: str, needle: str, start: str = "") -> int:
    offset = text.index(start) if start else 0
    return text[:text.index(needle, offset)].count("\n") + 1


def test_shipped_parties_load():
    agreement, problems = load(TEXT)
    assert problems == []
    assert set(agreement.parties) == set(agreement.codes)  # by code
    host = agreement.parties["837"]  # Tampere
    # the example account of the bank barcode guide, as the file writes it; documents use its electronic form
    assert (host.iban, host.bic) == ("FI79 4405 2020 0360 82", "ITELFIHH")
    assert bank_account(agreement).iban == "FI7944052020036082"
    # Tampere's business ID 0211675-2 → OVT 0037 0211675 2
    assert host.einvoice_address == "003702116752"
    assert agreement.billing.vat.category == "O" and agreement.billing.vat.exemption_code == "VATEX-EU-O"


def test_every_party_mistake_at_once():
    text = TEXT.replace('einvoice_address = "003701444113"', 'einvoice_address = "003701444114"')  # Sastamala, bad check
    text = text.replace('iban = "FI79 4405 2020 0360 82"', 'iban = "FI79 4405 2020 0360 83"')  # bad check digits
    akaa = '[parties."Akaa"]\nlegal_name = "Akaan kaupunki"\nstreet = "Kaupungintalo"\npostcode = "37800"'
    text = text.replace(akaa, akaa.replace('"37800"', '"3780"') + '\niban = "FI7944052020036082"')
    text = text.replace('[parties."Virrat"]', '[parties."Virtat"]')
    agreement, problems = load(text)
    assert agreement is None
    by_key = {p.key: p for p in problems}
    assert set(by_key) == {"parties.Sastamala.einvoice_address", "parties.Tampere.iban", "parties.Akaa.postcode",
                           "parties.Akaa.iban", "parties.Virtat"}, [str(p) for p in problems]
    assert "did you mean 'Virrat'" in by_key["parties.Virtat"].message
    assert by_key["parties.Akaa.postcode"].line == line_of(text, 'postcode = "3780"')
    assert "host" in by_key["parties.Akaa.iban"].message


def test_the_ovt_address_must_be_the_partys_own():
    # Akaa's business ID is 2050864-5; Hämeenkyrö's OVT (0132947-3) is not Akaa's
    text = TEXT.replace('einvoice_address = "003720508645"', 'einvoice_address = "003701329473"')
    _, problems = load(text)
    assert [p.key for p in problems] == ["parties.Akaa.einvoice_address"]


def test_bic_of_another_bank_is_refused():
    _, problems = load(TEXT.replace('bic = "ITELFIHH"', 'bic = "OKOYFIHH"'))
    assert [p.key for p in problems] == ["parties.Tampere.bic"]
    assert "not the bank" in problems[0].message


def test_vat_number_with_category_o_is_refused():
    text = TEXT.replace('[parties."Nokia"]', '[parties."Nokia"]\nvat_number = "FI02057174"')
    _, problems = load(text)
    assert [p.key for p in problems] == ["parties.Nokia.vat_number"]
    assert "BR-O-02" in problems[0].message


@pytest.mark.parametrize("category, message", [("S", "not supported"), ("X", "expected a VAT category")])
def test_vat_categories_with_vat_are_refused(category, message):
    _, problems = load(TEXT.replace('category = "O"', f'category = "{category}"'))
    assert [p.key for p in problems] == ["billing.vat.category"] and message in problems[0].message


def test_a_document_names_the_party_and_the_missing_field():
    start = TEXT.index('[parties."Parkano"]')
    end = TEXT.index("[parties.", start + 5)
    agreement, problems = load(TEXT[:start] + '[parties."Parkano"]\ncity = "Parkano"\n\n' + TEXT[end:])
    assert problems == []
    with pytest.raises(ProblemsError) as caught:
        party_document(agreement, "581", ADDRESS + EINVOICE)  # Parkano
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 4
    assert all("Parkano" in m for m in messages)
    assert any("street" in m for m in messages) and any("postcode" in m for m in messages)
    assert any("einvoice_address" in m for m in messages)
    assert any("operator" in m for m in messages)  # an e-invoice is routed by its operator too
    assert party_document(agreement, "020", ADDRESS + EINVOICE).business_id == "2050864-5"  # Akaa


def test_the_host_account_is_needed_for_an_invoice():
    text = TEXT.replace('iban = "FI79 4405 2020 0360 82"\nbic = "ITELFIHH"\n', "")
    agreement, problems = load(text)
    assert problems == []
    with pytest.raises(ProblemsError) as caught:
        bank_account(agreement)
    assert {p.key for p in caught.value.problems} == {"parties.Tampere.iban", "parties.Tampere.bic"}
    assert party_document(agreement, "837", ACCOUNT[:0]).name == "Tampere"
