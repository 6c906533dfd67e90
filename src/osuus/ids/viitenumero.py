# viitenumero.py - functions for handling Finnish national payment references
# coding: utf-8
#
# Written for osuus in the style of python-stdnum (stdnum/fi/ytunnus.py,
# stdnum/iso11649.py).

"""Viitenumero (kotimainen viite, Finnish national payment reference).

A creditor prints the reference on an invoice so that the bank can match the
payment to the invoice. The reference is 4 to 20 digits long: a freely chosen
base of 3 to 19 digits (for example an invoice or customer number) followed
by one check digit. The digits of the base are multiplied from right to left
by the weights 7, 3, 1, 7, 3, 1, ..., the products are added up and the sum is
subtracted from the next multiple of ten: check = (10 - sum mod 10) mod 10.

On invoices the reference is printed in groups of five digits counted from
the right, separated by a space, without leading zeros; machine-readable
forms (such as the virtual bar code) pad it with zeros to 20 digits. Leading
zeros do not change the check digit: compact() and validate() keep them, but
they do not count towards the minimum length of 4 digits.

The same reference can also be carried in an international RF creditor
reference (ISO 11649): 'RF', two check digits, then the national reference.

More information:

* Finance Finland (Finanssiala ry), Kotimaisen viitteen rakenneohje
  (Viitenumero ja RF-viite),
  https://www.finanssiala.fi/wp-content/uploads/2021/03/kotimaisen_viitteen_rakenneohje.pdf
* ISO 11649:2009, Structured creditor reference to remittance information
* https://fi.wikipedia.org/wiki/Viitenumero

The guide's own example is the base 123456 (reference 12 34561):

>>> calc_check_digit('123456')
'1'
>>> make('123456')
'1234561'
>>> validate('12 34561')
'1234561'
>>> validate('00000000000001234561')  # padded to 20 digits
'00000000000001234561'

A wrong check digit, too few digits and a letter are refused:

>>> validate('1234562')  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
    ...
InvalidChecksum: ...
>>> validate('123')  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
    ...
InvalidLength: ...
>>> validate('12345A1')  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
    ...
InvalidFormat: ...
>>> is_valid('1232')
True
>>> format('1234561')
'12 34561'
>>> format('00000000000001234561')
'12 34561'
>>> from_invoice_number(2021, 15)
'20210000155'
>>> format(from_invoice_number(2021, 15))
'2 02100 00155'
>>> to_rf('1232')
'RF111232'
>>> iso11649.format(to_rf('12 34561'))
'RF34 1234 561'
>>> from_rf('RF34 1234 561')
'1234561'

The ISO 11649 example RF18 5390 0754 7034 is a valid RF reference, but its
payload is not a valid national reference:

>>> from_rf('RF18 5390 0754 7034')  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
    ...
InvalidChecksum: ...
"""

from __future__ import annotations

from stdnum import iso11649
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import clean, isdigits


# weights applied to the digits of the base, from the right
_WEIGHTS = (7, 3, 1)

# 'RF' in the ISO 11649 check: letters become numbers, A=10 ... Z=35
_RF_AS_DIGITS = '2715'


def compact(number: str) -> str:
    """Convert the number to the minimal representation. This strips the
    number of spaces (also no-break and other Unicode spaces) and removes
    surrounding whitespace. Leading zeros are kept."""
    return clean(number, ' ').strip()


def calc_check_digit(base: str) -> str:
    """Calculate the check digit for the base (the reference without its
    check digit). The base must consist of ASCII digits."""
    total = sum(
        _WEIGHTS[i % 3] * int(n) for i, n in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def validate(number: str) -> str:
    """Check if the number is a valid national payment reference. This
    checks the characters, the length and the check digit, and returns the
    compact form."""
    number = compact(number)
    if not isdigits(number):
        raise InvalidFormat()
    if len(number) > 20 or len(number.lstrip('0')) < 4:
        raise InvalidLength()
    if calc_check_digit(number[:-1]) != number[-1]:
        raise InvalidChecksum()
    return number


def is_valid(number: str) -> bool:
    """Check if the number is a valid national payment reference."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Reformat the number as it is printed on invoices: without leading
    zeros, in groups of five digits counted from the right."""
    number = compact(number).lstrip('0')
    head = len(number) % 5
    groups = [number[:head]] if head else []
    groups.extend(number[i:i + 5] for i in range(head, len(number), 5))
    return ' '.join(groups)


def make(base: str) -> str:
    """Make a reference from the base by appending the check digit. The base
    must be 3 to 19 digits (leading zeros do not count towards the 3)."""
    base = compact(base)
    if not isdigits(base):
        raise InvalidFormat()
    if len(base) > 19 or len(base.lstrip('0')) < 3:
        raise InvalidLength()
    return base + calc_check_digit(base)


def from_invoice_number(year: int, sequence: int) -> str:
    """Make the reference of an invoice numbered year / sequence: the base
    is the four-digit year followed by the sequence number padded with zeros
    to six digits, so invoice 2021 / 15 gets the base 2021000015.

    >>> from_invoice_number(2021, 1)
    '20210000016'
    >>> from_invoice_number(2021, 1000000)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
        ...
    InvalidComponent: ...
    """
    for part in (year, sequence):
        if isinstance(part, bool) or not isinstance(part, int):
            raise InvalidFormat()
    if not 1000 <= year <= 9999:
        raise InvalidComponent()
    if not 0 <= sequence <= 999999:
        raise InvalidComponent()
    return make('%04d%06d' % (year, sequence))


def to_rf(number: str) -> str:
    """Convert the national reference to the RF creditor reference (ISO
    11649) that carries it, in compact form; use stdnum.iso11649.format() to
    print it. Leading zeros of the national reference are dropped.

    The check digits are computed as ISO 11649 specifies: 'RF00' is moved to
    the end, the letters become numbers (R = 27, F = 15) and the check digits
    are 98 - (n mod 97)."""
    number = validate(number).lstrip('0')
    check = '%02d' % (98 - int(number + _RF_AS_DIGITS + '00') % 97)
    return iso11649.validate('RF' + check + number)


def from_rf(rf: str) -> str:
    """Convert an RF creditor reference (ISO 11649) back to the national
    reference it carries. The RF reference must be valid, its payload must be
    all digits and a valid national reference."""
    rf = iso11649.validate(rf)
    payload = rf[4:]
    if not isdigits(payload):
        raise InvalidFormat()
    return validate(payload)
