import pytest

from osuus.privacy import masked, personal_codes_in


@pytest.mark.parametrize("text", ["131052-308T", "asiakas 131052-308T kävi", "010594Y9032", "010594y9032",
                                  "020200A9994"])
def test_valid_codes_are_found(text):
    assert personal_codes_in(text)


@pytest.mark.parametrize("text", ["131052-308U", "asiakas-00042", "0211675-2", "X131052-308T1", "2021-01-15",
                                  "311352-308T"])
def test_other_text_is_not_a_code(text):
    # wrong check character, pseudonymous id, business id, inside a longer token, a date, an impossible date
    assert personal_codes_in(text) == []


def test_masked():
    assert masked("131052-308T") == "131052-***T"
