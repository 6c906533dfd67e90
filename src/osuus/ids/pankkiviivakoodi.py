# pankkiviivakoodi.py - the Finnish bank barcode and its virtual form
#
# Written for osuus in the style of python-stdnum.

"""Pankkiviivakoodi (Finnish bank barcode) and virtuaaliviivakoodi.

A Finnish invoice carries its payment details (the creditor's account, the
amount, the reference and the due date) in a bar code, so that the payer's
bank can fill in the payment without anyone typing 50 digits. The same 54
digits are printed as text, the virtual bar code (virtuaaliviivakoodi), for
online banks where the payer copies and pastes them.

Two versions are in use. Version 4 carries a national reference
(viitenumero), version 5 an RF creditor reference (ISO 11649):

==========  ======  ===================================================
position    digits  version 4 / version 5
==========  ======  ===================================================
1           1       the version: 4 or 5
2-17        16      the IBAN without 'FI' (check digits and BBAN)
18-25       8       the amount: 6 digits of euros, 2 of cents
26-48       23      v4: '000' + the reference padded with zeros to 20
                    v5: the 2 RF check digits + the RF payload (after
                    'RFkk') padded with zeros to 21
49-54       6       the due date as YYMMDD, or 000000
==========  ======  ===================================================

The amount field is all zeros when the invoice gives no amount or the amount
is over 999 999,99 euros (the field has only six digits of euros): the payer
then types the amount. Only Finnish IBANs fit (the field has no room for the
country code), and only RF references with an all-digit payload.

The bar code itself is Code 128 in character set C (two digits a symbol):
start code C, 27 data symbols, the check symbol and the stop pattern.
code128_modules() gives its bars and spaces; python-barcode encodes them.

More information:

* Finance Finland (Finanssiala ry), Pankkiviivakoodi-opas (versions 4 and 5),
  https://www.finanssiala.fi/wp-content/uploads/2021/03/Pankkiviivakoodi-opas.pdf
* ISO/IEC 15417, Code 128 bar code symbology specification

The guide's first example invoice, with a national and with an RF
reference:

>>> virtual_barcode('FI79 4405 2020 0360 82', Decimal('4883.15'),
...                 '86851 62596 19897', datetime.date(2010, 6, 12))
'479440520200360820048831500000000868516259619897100612'
>>> virtual_barcode('FI79 4405 2020 0360 82', Decimal('4883.15'),
...                 'RF09 8685 1625 9619 897', datetime.date(2010, 6, 12))
'579440520200360820048831509000000868516259619897100612'
>>> parse('579440520200360820048831509000000868516259619897100612')
BankBarcode(version=5, iban='FI7944052020036082', amount=Decimal('4883.15'), \
reference='RF09868516259619897', due_date=datetime.date(2010, 6, 12))

No amount and no due date leave zeros:

>>> virtual_barcode('FI79 4405 2020 0360 82', None, '12 34561', None)
'479440520200360820000000000000000000000001234561000000'
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from barcode.codex import Code128
from stdnum import iban as _iban
from stdnum import iso11649
from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import clean

from osuus.ids import viitenumero

__all__ = [
    'BankBarcode', 'code128_modules', 'compact', 'is_valid', 'parse',
    'validate', 'virtual_barcode',
]

#: the length of the virtual bar code
LENGTH = 54

#: the largest amount the six euro digits can carry; larger amounts are left out
MAX_AMOUNT = Decimal('999999.99')

#: Code 128 start code C (value 105) and the stop pattern with its final bar
START_C = '11010011100'
STOP = '1100011101011'

#: modules of the bar code: start, 27 data symbols and the check symbol of
#: 11 modules each, then the 13-module stop pattern
MODULES = 11 * (1 + LENGTH // 2 + 1) + 13

_DIGITS = re.compile(r'[0-9]+')
_CENT_EXPONENT = -2


@dataclass(frozen=True)
class BankBarcode:
    """The payment details read back from a virtual bar code.

    amount is Decimal('0.00') when the code carries no amount (none was
    given, or it was over 999 999,99 euros); reference is the national
    reference without leading zeros (version 4) or the compact RF reference
    (version 5); due_date is None when the code carries none."""

    version: int
    iban: str
    amount: Decimal
    reference: str
    due_date: datetime.date | None


def compact(code: str) -> str:
    """Convert the virtual bar code to the minimal representation: strip
    spaces (some invoices print it in groups) and surrounding whitespace."""
    return clean(code, ' ').strip()


def _digits_only(value: str) -> bool:
    # stdnum.util.isdigits() lets a trailing newline through ('$'), and
    # str.isdigit() lets Arabic-Indic and other Unicode digits through
    return _DIGITS.fullmatch(value) is not None


def _reraise(error: ValidationError, what: str) -> ValidationError:
    """The same kind of stdnum error, with a message that says what was
    wrong in which field."""
    return type(error)(f'{what}: {error}')


def _iban_digits(iban: str) -> str:
    """The 16 digits after 'FI' of a valid Finnish IBAN."""
    number = _iban.compact(iban)
    if not number.startswith('FI'):
        raise InvalidComponent(
            'the bank barcode carries only Finnish IBANs (FI...): the field '
            'has room for the 16 digits after FI and no country code')
    if not _digits_only(number[2:]):
        raise InvalidFormat('invalid IBAN: a Finnish IBAN has only digits after FI')
    if len(number) != 18:
        raise InvalidLength('invalid IBAN: a Finnish IBAN is FI and 16 digits')
    try:
        number = _iban.validate(number)
    except ValidationError as error:
        raise _reraise(error, 'invalid IBAN') from None
    return number[2:]


def _amount_digits(amount: Decimal | None) -> str:
    """The 8 digits of the amount (euros and cents), or zeros when there is
    no amount or it does not fit."""
    if amount is None:
        return '0' * 8
    if not isinstance(amount, Decimal):
        # money is Decimal in osuus: a float may already have lost a cent,
        # and an int is more likely cents than euros by mistake
        raise InvalidFormat(
            f'the amount must be a decimal.Decimal, not {type(amount).__name__}')
    if not amount.is_finite():
        raise InvalidFormat('the amount must be a finite number')
    if amount < 0:
        raise InvalidComponent('the amount must not be negative')
    _sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    if exponent < _CENT_EXPONENT and any(digits[exponent - _CENT_EXPONENT:]):
        # checked on the digits themselves, so no rounding can hide it
        raise InvalidFormat('the amount has fractions of a cent')
    if amount > MAX_AMOUNT:
        # too large for the field: left out, and the payer types the amount
        return '0' * 8
    return f'{int(amount.scaleb(2)):08d}'


def _reference_digits(reference: str) -> tuple[str, str]:
    """The version and the 23 digits of the reference field."""
    if not isinstance(reference, str):
        raise InvalidFormat('the reference must be a string')
    number = viitenumero.compact(reference)
    if number[:2].upper() == 'RF':
        try:
            rf = iso11649.validate(number)
        except ValidationError as error:
            raise _reraise(error, 'invalid RF creditor reference') from None
        payload = rf[4:]
        if not _digits_only(payload):
            raise InvalidFormat(
                'the bank barcode carries only RF references whose payload '
                '(after RFkk) is all digits')
        if len(payload) > 21:
            raise InvalidLength(
                'the payload of an RF reference in the bank barcode is at '
                'most 21 digits')
        return '5', rf[2:4] + payload.zfill(21)
    try:
        number = viitenumero.validate(number)
    except ValidationError as error:
        raise _reraise(error, 'invalid national reference (viitenumero)') from None
    return '4', '000' + number.zfill(20)


def _due_date_digits(due_date: datetime.date | None) -> str:
    """The due date as YYMMDD, or zeros."""
    if due_date is None:
        return '0' * 6
    if isinstance(due_date, datetime.datetime) or not isinstance(due_date, datetime.date):
        # a datetime (possibly with a time zone) may be another day in Finland
        raise InvalidFormat('the due date must be a datetime.date')
    if not 2000 <= due_date.year <= 2099:
        raise InvalidComponent(
            'the due date must be in the years 2000-2099: the field has only '
            'two digits for the year')
    return due_date.strftime('%y%m%d')


def virtual_barcode(
    iban: str,
    amount: Decimal | None,
    reference: str,
    due_date: datetime.date | None,
) -> str:
    """Make the 54 digits of the bank barcode (the virtual bar code).

    Version 4 is made for a national reference (viitenumero, for example
    '12 34561'), version 5 for an RF creditor reference ('RF34 1234 561').
    amount None, or over 999 999,99 euros, leaves the amount field zero, and
    due_date None the due date field. A non-Finnish IBAN, a negative amount,
    an amount with fractions of a cent, a reference with a wrong check digit
    and a reference that does not fit are refused with a ValidationError (a
    ValueError) that says which."""
    account = _iban_digits(iban)
    version, reference_field = _reference_digits(reference)
    code = (version + account + _amount_digits(amount) + reference_field
            + _due_date_digits(due_date))
    if len(code) != LENGTH:  # pragma: no cover - the fields above add up to 54
        raise RuntimeError(f'built {len(code)} digits instead of {LENGTH}')
    return code


def _due_date(digits: str) -> datetime.date | None:
    if digits == '000000':
        return None
    try:
        return datetime.date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        raise InvalidComponent(f'the due date {digits} (YYMMDD) is not a date') from None


def parse(code: str) -> BankBarcode:
    """Read the payment details back from a virtual bar code, checking every
    field: the IBAN and the reference must be valid and the due date a date.
    """
    code = compact(code)
    if not _digits_only(code):
        raise InvalidFormat('a virtual bar code consists of digits only')
    if len(code) != LENGTH:
        raise InvalidLength(f'a virtual bar code is {LENGTH} digits')
    version = code[0]
    if version not in '45':
        raise InvalidComponent(
            f'version {version} is not supported: only versions 4 and 5 are in use')
    iban = 'FI' + code[1:17]
    try:
        iban = _iban.validate(iban)
    except ValidationError as error:
        raise _reraise(error, 'invalid IBAN') from None
    amount = Decimal(int(code[17:25])).scaleb(-2)
    if version == '4':
        if code[25:28] != '000':
            raise InvalidFormat('in version 4 the three digits before the reference are zeros')
        try:
            reference = viitenumero.validate(code[28:48].lstrip('0'))
        except ValidationError as error:
            raise _reraise(error, 'invalid national reference (viitenumero)') from None
    else:
        try:
            reference = iso11649.validate('RF' + code[25:27] + code[27:48].lstrip('0'))
        except ValidationError as error:
            raise _reraise(error, 'invalid RF creditor reference') from None
    return BankBarcode(int(version), iban, amount, reference, _due_date(code[48:]))


def validate(code: str) -> str:
    """Check that the virtual bar code is valid (see parse()) and return its
    compact form."""
    parse(code)
    return compact(code)


def is_valid(code: str) -> bool:
    """Check if the virtual bar code is valid."""
    try:
        return bool(validate(code))
    except ValidationError:
        return False


def code128_modules(digits: str) -> str:
    """The bar code of the virtual bar code, as a string of modules: '1' is a
    bar module and '0' a space module, all of the same width.

    The code is checked first (see parse()), so that a wrong code is never
    printed. The result is Code 128 in character set C, as the guide asks:
    start code C, the 27 two-digit symbols, the check symbol and the stop
    pattern, 332 modules in all. The quiet zones on either side (at least 10
    modules by ISO/IEC 15417) are left to the renderer."""
    code = validate(digits)
    modules = Code128(code).build()[0]
    if len(modules) != MODULES or not modules.startswith(START_C) or not modules.endswith(STOP):
        # python-barcode switches character sets by itself: make sure it stayed in C
        raise RuntimeError('python-barcode did not encode the digits in Code 128 character set C')
    return modules
