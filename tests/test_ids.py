"""Tests of osuus.ids.viitenumero: the Finnish national payment reference.

Every worked example below is computed by hand in a comment (7-3-1 weights
from the right for the national check digit, ISO 11649 mod 97 for the RF check
digits), and the arithmetic of the RF examples is asserted as well, so that a
mistake in a comment cannot hide.

Sources of the examples:
- base 123456 -> 12 34561: the example of Finance Finland's guide
  (Kotimaisen viitteen rakenneohje), also quoted by XMLdation's
  "Finnish Reference Number" page (paper form "12 34561", machine-readable
  form "00000000000001234561").
- RF18 5390 0754 7034: the example of ISO 11649, as in python-stdnum's own
  doctests; a valid RF reference whose payload is *not* a valid national
  reference.
- "RF88 1232" (suggested as a bank-guide example) does NOT verify; the RF
  reference of 1232 is RF11 1232 (worked below). It is used only as a
  refused example.
"""

from __future__ import annotations

import doctest
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import iso11649
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from osuus.ids import viitenumero

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# Hand-computed check digits
# ---------------------------------------------------------------------------

# (base, check digit, reference); the arithmetic: digits of the base from the
# right times the weights 7, 3, 1, 7, 3, 1, ...; check = (10 - sum mod 10) mod 10.
HAND_COMPUTED = [
    # 123: 3*7 + 2*3 + 1*1 = 21 + 6 + 1 = 28 -> (10 - 8) mod 10 = 2
    ("123", "2", "1232"),
    # 123456 (Finance Finland's example): 6*7 + 5*3 + 4*1 + 3*7 + 2*3 + 1*1
    #   = 42 + 15 + 4 + 21 + 6 + 1 = 89 -> (10 - 9) mod 10 = 1
    ("123456", "1", "1234561"),
    # 550: 0*7 + 5*3 + 5*1 = 0 + 15 + 5 = 20 -> (10 - 0) mod 10 = 0 (the "mod 10" case)
    ("550", "0", "5500"),
    # 2021000001 (invoice 2021 / 1): digits from the right 1,0,0,0,0,0,1,2,0,2
    #   times 7,3,1,7,3,1,7,3,1,7 = 7 + 0 + 0 + 0 + 0 + 0 + 7 + 6 + 0 + 14 = 34 -> 6
    ("2021000001", "6", "20210000016"),
    # 2021000015 (invoice 2021 / 15): digits from the right 5,1,0,0,0,0,1,2,0,2
    #   times 7,3,1,7,3,1,7,3,1,7 = 35 + 3 + 0 + 0 + 0 + 0 + 7 + 6 + 0 + 14 = 65 -> 5
    ("2021000015", "5", "20210000155"),
    # 2021999999 (invoice 2021 / 999999): digits from the right 9,9,9,9,9,9,1,2,0,2
    #   times 7,3,1,7,3,1,7,3,1,7 = 63 + 27 + 9 + 63 + 27 + 9 + 7 + 6 + 0 + 14 = 225 -> 5
    ("2021999999", "5", "20219999995"),
    # 1 followed by 18 zeros (19 digits, the longest base): only the 1 counts; it is the
    #   19th digit from the right, weight index 18, 18 mod 3 = 0 -> weight 7; 7 -> 3
    ("1" + "0" * 18, "3", "1" + "0" * 18 + "3"),
    # 53900754703 (the payload of ISO 11649's RF18 5390 0754 7034 without its last digit):
    #   digits from the right 3,0,7,4,5,7,0,0,9,3,5 times 7,3,1,7,3,1,7,3,1,7,3
    #   = 21 + 0 + 7 + 28 + 15 + 7 + 0 + 0 + 9 + 21 + 15 = 123 -> 7 (the payload ends in 4)
    ("53900754703", "7", "539007547037"),
]


@pytest.mark.parametrize(("base", "check", "reference"), HAND_COMPUTED)
def test_hand_computed_check_digits(base: str, check: str, reference: str) -> None:
    assert viitenumero.calc_check_digit(base) == check
    assert viitenumero.make(base) == reference
    assert viitenumero.validate(reference) == reference
    assert viitenumero.is_valid(reference) is True


def test_the_guides_example_in_its_printed_and_machine_readable_forms() -> None:
    assert viitenumero.validate("12 34561") == "1234561"
    assert viitenumero.format("1234561") == "12 34561"
    # the virtual bar code pads the reference with zeros to 20 digits; zeros are kept ...
    assert viitenumero.validate("00000000000001234561") == "00000000000001234561"
    # ... but not printed
    assert viitenumero.format("00000000000001234561") == "12 34561"


@pytest.mark.parametrize(
    ("number", "printed"),
    [
        ("1232", "1232"),
        ("12345", "12345"),
        ("123455", "1 23455"),  # groups counted from the right
        ("1234561", "12 34561"),
        ("20210000155", "2 02100 00155"),
        ("1" + "0" * 18 + "3", "10000 00000 00000 00003"),
        ("0001232", "1232"),  # leading zeros are not printed
        (" 12 34561 ", "12 34561"),
    ],
)
def test_format(number: str, printed: str) -> None:
    assert viitenumero.format(number) == printed


# ---------------------------------------------------------------------------
# Invoice numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "sequence", "reference"),
    [
        (2021, 1, "20210000016"),  # base 2021000001, worked above: sum 34 -> 6
        (2021, 15, "20210000155"),  # base 2021000015, worked above: sum 65 -> 5
        (2021, 999999, "20219999995"),  # base 2021999999, worked above: sum 225 -> 5
        # base 2022000001: digits from the right 1,0,0,0,0,0,2,2,0,2 times
        #   7,3,1,7,3,1,7,3,1,7 = 7 + 0 + 0 + 0 + 0 + 0 + 14 + 6 + 0 + 14 = 41 -> 9
        (2022, 1, "20220000019"),
        # base 2021000000: digits from the right 0,0,0,0,0,0,1,2,0,2 times
        #   7,3,1,7,3,1,7,3,1,7 = 7 + 6 + 0 + 14 = 27 -> 3
        (2021, 0, "20210000003"),
    ],
)
def test_from_invoice_number(year: int, sequence: int, reference: str) -> None:
    assert viitenumero.from_invoice_number(year, sequence) == reference
    assert viitenumero.is_valid(reference)


@pytest.mark.parametrize(
    ("year", "sequence", "error"),
    [
        (2021, -1, InvalidComponent),
        (2021, 1_000_000, InvalidComponent),  # would take a seventh digit: ambiguous
        (999, 1, InvalidComponent),
        (10_000, 1, InvalidComponent),
        (-2021, 1, InvalidComponent),
        (2021.0, 1, InvalidFormat),
        (2021, 1.0, InvalidFormat),
        ("2021", 1, InvalidFormat),
        (True, 1, InvalidFormat),
        (2021, None, InvalidFormat),
    ],
)
def test_from_invoice_number_refuses(year: object, sequence: object, error: type) -> None:
    with pytest.raises(error):
        viitenumero.from_invoice_number(year, sequence)  # type: ignore[arg-type]


@SETTINGS
@given(
    st.tuples(st.integers(1000, 9999), st.integers(0, 999_999)),
    st.tuples(st.integers(1000, 9999), st.integers(0, 999_999)),
)
def test_invoice_references_are_valid_and_distinct(a: tuple[int, int], b: tuple[int, int]) -> None:
    ref_a = viitenumero.from_invoice_number(*a)
    ref_b = viitenumero.from_invoice_number(*b)
    assert viitenumero.validate(ref_a) == ref_a
    assert len(ref_a) == 11
    assert ref_a[:-1] == f"{a[0]}{a[1]:06d}"
    assert (ref_a == ref_b) == (a == b)


# ---------------------------------------------------------------------------
# RF creditor references (ISO 11649)
# ---------------------------------------------------------------------------

# (national reference, RF reference); the arithmetic: n = payload, then R = 27,
# F = 15, then 00; check digits = 98 - (n mod 97).
RF_HAND_COMPUTED = [
    # 1232 -> n = 1232 27 15 00 = 1232271500 = 97 * 12703829 + 87 -> 98 - 87 = 11
    ("1232", "RF111232", 1232271500, 12703829, 87),
    # 1234561 -> n = 1234561271500 = 97 * 12727435788 + 64 -> 98 - 64 = 34
    ("1234561", "RF341234561", 1234561271500, 12727435788, 64),
    # 20210000155 -> n = 20210000155271500 = 97 * 208350517064654 + 62 -> 98 - 62 = 36
    ("20210000155", "RF3620210000155", 20210000155271500, 208350517064654, 62),
    # 20210000016 -> n = 20210000016271500 = 97 * 208350515631664 + 92 -> 98 - 92 = 6 -> "06"
    ("20210000016", "RF0620210000016", 20210000016271500, 208350515631664, 92),
]


@pytest.mark.parametrize(("national", "rf", "n", "quotient", "remainder"), RF_HAND_COMPUTED)
def test_rf_hand_computed(national: str, rf: str, n: int, quotient: int, remainder: int) -> None:
    # the arithmetic of the comment above, checked
    assert int(national + "2715" + "00") == n
    assert 97 * quotient + remainder == n and 0 <= remainder < 97
    assert rf == "RF" + "%02d" % (98 - remainder) + national
    # and python-stdnum agrees that the result is a valid RF reference
    assert iso11649.is_valid(rf)
    assert viitenumero.to_rf(national) == rf
    assert viitenumero.from_rf(rf) == national
    assert viitenumero.from_rf(iso11649.format(rf)) == national


def test_rf_printed_form() -> None:
    assert iso11649.format(viitenumero.to_rf("1232")) == "RF11 1232"
    assert iso11649.format(viitenumero.to_rf("12 34561")) == "RF34 1234 561"
    assert viitenumero.from_rf("rf11 1232") == "1232"


def test_rf88_1232_does_not_verify() -> None:
    # The suggested "RF88 1232" is not a valid RF reference (1232271500 mod 97 = 87,
    # so the check digits are 11, not 88); it is refused, like the zero-padded
    # "RF18 0000 0000 0000 0000 0123 45".
    assert not iso11649.is_valid("RF88 1232")
    assert not iso11649.is_valid("RF18 0000 0000 0000 0000 0123 45")
    with pytest.raises(InvalidChecksum):
        viitenumero.from_rf("RF88 1232")


def test_iso_11649_example_is_valid_rf_but_not_a_national_reference() -> None:
    assert iso11649.is_valid("RF18 5390 0754 7034")
    # its payload 539007547034 ends in 4, but the check digit of 53900754703 is 7 (worked above)
    with pytest.raises(InvalidChecksum):
        viitenumero.from_rf("RF18 5390 0754 7034")
    # ISO 11649's letter example is valid, but carries no national reference
    assert iso11649.is_valid("RF18 5390 0754 70Y")
    with pytest.raises(InvalidFormat):
        viitenumero.from_rf("RF18 5390 0754 70Y")


def test_rf_leading_zeros_are_dropped() -> None:
    assert viitenumero.to_rf("00000000000001234561") == "RF341234561"


def test_from_rf_refuses_non_ascii_digits_that_stdnum_accepts() -> None:
    # stdnum.iso11649 computes mod 97 with int(c, 36), which also reads
    # Arabic-Indic digits; the payload of a national reference must be ASCII.
    rf = "RF11" + "\u0661\u0662\u0663\u0662"  # RF11 ١٢٣٢
    assert iso11649.is_valid(rf)
    with pytest.raises(InvalidFormat) as info:
        viitenumero.from_rf(rf)
    assert type(info.value) is InvalidFormat


# ---------------------------------------------------------------------------
# Refused numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "1234562",  # the guide's example with the last digit changed (check is 1)
        "1233",  # base 123 has check 2
        "5501",  # base 550 has check 0
        "20210000157",  # base 2021000015 has check 5
        # the guide's example with 5 and 6 swapped: base 123465 -> 5*7 + 6*3 + 4*1 + 3*7
        #   + 2*3 + 1*1 = 35 + 18 + 4 + 21 + 6 + 1 = 85 -> check 5, not 1
        "1234651",
        "539007547034",  # ISO 11649 example payload: check of 53900754703 is 7
    ],
)
def test_wrong_check_digit(number: str) -> None:
    with pytest.raises(InvalidChecksum):
        viitenumero.validate(number)
    assert viitenumero.is_valid(number) is False


@pytest.mark.parametrize(
    "number",
    [
        "123",  # base 12 -> 2*7 + 1*3 = 17 -> 3: the check digit is right, but 3 digits are too few
        "0123",  # base 012 -> 2*7 + 1*3 + 0*1 = 17 -> 3: leading zeros do not count
        "0000",  # all zeros: check digit 0 is right, but nothing is left when the zeros go
        "1" + "0" * 19 + "7",  # 21 digits: base 1 and 19 zeros -> weight index 19 -> 3 -> 7
        "0" + "1" + "0" * 18 + "3",  # a valid 20-digit reference padded to 21 digits
    ],
)
def test_wrong_length(number: str) -> None:
    with pytest.raises(InvalidLength):
        viitenumero.validate(number)
    assert viitenumero.is_valid(number) is False


@pytest.mark.parametrize(
    "number",
    [
        "",
        " ",
        "-",
        "12345A1",
        "1234-561",  # only spaces are separators
        "12.34561",
        "+1234561",
        "-1234561",
        "\u0661\u0662\u0663\u0662",  # ١٢٣٢ Arabic-Indic digits (str.isdigit() is True)
        "\u0663\u0664\u0665",  # ٣٤٥
        "1232\u00b9",  # superscript one
        "RF111232",
        None,
        b"1232",
        1232,
    ],
)
def test_not_digits(number: object) -> None:
    with pytest.raises(InvalidFormat) as info:
        viitenumero.validate(number)  # type: ignore[arg-type]
    assert type(info.value) is InvalidFormat  # not InvalidLength, its subclass
    assert viitenumero.is_valid(number) is False  # type: ignore[arg-type]


def test_fullwidth_digits_and_unicode_spaces_are_normalised_like_stdnum_does() -> None:
    # stdnum.util.clean() maps full-width digits and Unicode spaces to ASCII,
    # as in every python-stdnum module; the normal form is always ASCII.
    assert viitenumero.validate("\uff11\uff12\uff13\uff12") == "1232"  # １２３２
    assert viitenumero.validate("12\u00a034561") == "1234561"  # no-break space
    assert viitenumero.validate("12\u202f34561") == "1234561"  # narrow no-break space


@pytest.mark.parametrize(
    ("base", "error"),
    [
        ("", InvalidFormat),
        ("12", InvalidLength),
        ("012", InvalidLength),
        ("1" * 20, InvalidLength),
        ("12a", InvalidFormat),
        ("\u0663\u0664\u0665", InvalidFormat),
        (None, InvalidFormat),
    ],
)
def test_make_refuses(base: object, error: type) -> None:
    with pytest.raises(error) as info:
        viitenumero.make(base)  # type: ignore[arg-type]
    assert type(info.value) is error


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------

bases = st.text(alphabet=string.digits, min_size=3, max_size=19).filter(
    lambda b: len(b.lstrip("0")) >= 3
)


@SETTINGS
@given(bases)
def test_round_trips(base: str) -> None:
    reference = viitenumero.make(base)
    assert reference[:-1] == base
    assert viitenumero.validate(reference) == reference
    assert viitenumero.is_valid(reference) is True
    printed = viitenumero.format(reference)
    assert viitenumero.compact(printed) == reference.lstrip("0")
    assert viitenumero.validate(printed) == reference.lstrip("0")
    assert all(len(group) == 5 for group in printed.split(" ")[1:])
    rf = viitenumero.to_rf(reference)
    assert iso11649.is_valid(rf)
    assert viitenumero.from_rf(rf) == reference.lstrip("0")
    assert viitenumero.from_rf(iso11649.format(rf)) == reference.lstrip("0")


@SETTINGS
@given(bases.filter(lambda b: b[0] != "0"))
def test_round_trips_are_exact_without_leading_zeros(base: str) -> None:
    reference = viitenumero.make(base)
    assert viitenumero.compact(viitenumero.format(reference)) == reference
    assert viitenumero.from_rf(viitenumero.to_rf(reference)) == reference


@SETTINGS
@given(bases, st.data())
def test_every_single_digit_error_is_caught(base: str, data: st.DataObject) -> None:
    # the weights 7, 3 and 1 are prime to 10, so changing one digit always changes
    # the sum mod 10
    reference = viitenumero.make(base)
    position = data.draw(st.integers(0, len(reference) - 1))
    digit = data.draw(st.sampled_from([d for d in string.digits if d != reference[position]]))
    changed = reference[:position] + digit + reference[position + 1 :]
    assert viitenumero.is_valid(changed) is False


# ---------------------------------------------------------------------------
# Junk never escapes as anything but a stdnum ValidationError
# ---------------------------------------------------------------------------

EDGE_CASES = [
    "",
    " ",
    "-",
    "\u0663\u0664\u0665",  # ٣٤٥ Arabic-Indic digits
    "\u0661\u0662\u0663\u0662",  # ١٢٣٢
    "\uff13\uff14\uff15",  # ３４５ full-width digits
    "\uff11\uff12\uff13\uff12",  # １２３２
    "\u00a0",
    "\x00",
    "\ud800",  # lone surrogate
    "0",
    "0000",
    "9" * 21,
    "1" * 1000,
    "RF",
    "RF111232",
    "RF11\u0661\u0662\u0663\u0662",
    "1232\n",
    "١٢٣٢".encode().decode("latin-1"),
    None,
    b"1232",
    1232,
]

junk = st.one_of(
    st.text(),
    st.text(alphabet=string.digits + " \u00a0-\u0661\uff11RFrf", max_size=30),
    st.binary().map(lambda b: b.decode("utf-8", errors="replace")),
    st.binary().map(lambda b: b.decode("utf-8", errors="surrogateescape")),
    st.binary().map(lambda b: b.decode("latin-1")),
    st.sampled_from(EDGE_CASES),
)


def _check_junk(value: object) -> None:
    assert type(viitenumero.is_valid(value)) is bool  # type: ignore[arg-type]
    for function in (viitenumero.validate, viitenumero.make, viitenumero.to_rf, viitenumero.from_rf):
        try:
            result = function(value)  # type: ignore[arg-type]
        except ValidationError as error:
            assert type(error) is not ValidationError  # always a specific subclass
        else:
            assert isinstance(result, str)
            assert result.isascii()
    if viitenumero.is_valid(value):  # type: ignore[arg-type]
        assert viitenumero.validate(value).isdigit()  # type: ignore[arg-type]


@pytest.mark.parametrize("value", EDGE_CASES)
def test_edge_cases(value: object) -> None:
    _check_junk(value)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk)
def test_junk(value: object) -> None:
    _check_junk(value)
    if isinstance(value, str):  # format() does not validate, but takes any text
        assert isinstance(viitenumero.format(value), str)


# ---------------------------------------------------------------------------
# The module's own examples
# ---------------------------------------------------------------------------


def test_doctests() -> None:
    result = doctest.testmod(viitenumero)
    assert result.attempted > 0
    assert result.failed == 0
