# ovt.py - functions for handling Finnish e-invoice addresses (OVT-tunnus)
#
# Written for osuus in the style of python-stdnum (stdnum/fi/ytunnus.py).

"""OVT-tunnus (Finnish e-invoice address of an organisation).

A Finnish e-invoice is routed to its receiver by two codes: the receiver's
e-invoice address and the id of the receiver's operator (intermediator,
välittäjä) that carries the invoice to it. Municipalities and companies
mostly use an OVT code as their address:

* '0037', the ISO 6523 code of the Finnish business ID register;
* the 8 digits of the business ID (Y-tunnus) without the hyphen;
* an optional suffix of up to 5 letters or digits that the organisation
  chooses to tell its units (for example cost centres) apart.

So an OVT code is 12 to 17 characters. Since the business ID has a check
digit, a mistyped address is mostly caught here instead of bouncing back from
the operator days later. The suffix is kept as given: it is the receiver's
own choice.

Operator ids are checked by validate_operator(): most are OVT codes of the
operator company itself, the banks use their BIC, and a few operators have
ids of their own (see there).

More information:

* TIEKE, Verkkolaskuosoitteisto / e-invoice address register,
  https://verkkolaskuosoite.fi/
* ISO/IEC 6523, structure for the identification of organisations

>>> validate('0037 2129112-6')
'003721291126'
>>> validate('003702116752KP01', business_id='0211675-2')
'003702116752KP01'
>>> validate('003721291127')  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
    ...
InvalidChecksum: ...
>>> from_business_id('0211675-2', suffix='KP01')
'003702116752KP01'
>>> business_id_of('003702116752KP01')
'0211675-2'
>>> validate_operator('BAWCFI22')
'BAWCFI22'
>>> validate_operator('E204503')
'E204503'
"""

from __future__ import annotations

import re

from stdnum import bic
from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.fi import ytunnus
from stdnum.util import clean

__all__ = [
    'business_id_of', 'compact', 'format', 'from_business_id', 'is_valid',
    'is_valid_operator', 'validate', 'validate_operator',
]

#: the ISO 6523 code of Finnish business IDs, the start of every OVT code
PREFIX = '0037'

_ALNUM = re.compile(r'[0-9A-Za-z]+')
_DIGITS = re.compile(r'[0-9]+')
_BIC_LIKE = re.compile(r'[A-Z]{4}[0-9A-Z]{4}([0-9A-Z]{3})?')
_OTHER_OPERATOR = re.compile(r'[A-Z][0-9A-Z]{4,11}')


def compact(number: str) -> str:
    """Convert the code to the minimal representation: strip spaces and
    hyphens (the business ID is often written with its hyphen, '0037
    2129112-6') and surrounding whitespace."""
    return clean(number, ' -').strip()


def _reraise(error: ValidationError, what: str) -> ValidationError:
    return type(error)(f'{what}: {error}')


def validate(number: str, business_id: str | None = None) -> str:
    """Check if the code is a valid OVT code and return its compact form.
    This checks the characters, the length, the prefix 0037 and the check
    digit of the business ID in it. When business_id is given, the code must
    also belong to that business ID: an address copied from another customer
    is refused."""
    number = compact(number)
    if not _ALNUM.fullmatch(number):
        raise InvalidFormat('an OVT code consists of ASCII letters and digits')
    if not 12 <= len(number) <= 17:
        raise InvalidLength(
            'an OVT code is 0037, the 8 digits of a business ID and at most 5 '
            'more characters: 12 to 17 characters')
    if not number.startswith(PREFIX):
        raise InvalidComponent(
            'an OVT code starts with 0037, the ISO 6523 code of Finnish business IDs')
    digits = number[4:12]
    if not _DIGITS.fullmatch(digits):
        raise InvalidFormat('an OVT code has the 8 digits of a business ID after 0037')
    try:
        ytunnus.validate(digits)
    except ValidationError as error:
        raise _reraise(error, 'the business ID in the OVT code is not valid') from None
    if business_id is not None:
        try:
            expected = ytunnus.validate(business_id)
        except ValidationError as error:
            raise _reraise(error, 'the business ID to compare with is not valid') from None
        if digits != expected:
            raise InvalidComponent(
                f'the OVT code belongs to business ID {ytunnus.format(digits)}, '
                f'not {ytunnus.format(expected)}')
    return number


def is_valid(number: str, business_id: str | None = None) -> bool:
    """Check if the code is a valid OVT code (of business_id, when given)."""
    try:
        return bool(validate(number, business_id))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Reformat the code as it is written: in one piece, without spaces."""
    return compact(number)


def from_business_id(business_id: str, suffix: str = '') -> str:
    """Make the OVT code of a business ID, with an optional suffix of up to
    5 letters or digits for a unit of the organisation."""
    try:
        digits = ytunnus.validate(business_id)
    except ValidationError as error:
        raise _reraise(error, 'invalid business ID') from None
    suffix = compact(suffix)
    if suffix and not _ALNUM.fullmatch(suffix):
        raise InvalidFormat('the suffix of an OVT code consists of ASCII letters and digits')
    if len(suffix) > 5:
        raise InvalidLength('the suffix of an OVT code is at most 5 characters')
    return validate(PREFIX + digits + suffix)


def business_id_of(number: str) -> str:
    """The business ID (Y-tunnus) in the OVT code, in its usual written form
    with the hyphen ('2129112-6')."""
    return ytunnus.format(validate(number)[4:12])


def validate_operator(value: str) -> str:
    """Check if the value is a valid e-invoice operator (intermediator) id
    and return its compact form in capitals. Three kinds are accepted, tried
    in this order:

    * an OVT code: starts with 0037, validated as above (Maventa
      '003721291126', Apix '003723327487');
    * a BIC (ISO 9362), used by the banks and a few operators (Basware
      'BAWCFI22', Nordea 'NDEAFIHH'); anything of the form of a BIC (8 or 11
      characters starting with 4 letters) must be a valid BIC;
    * as a last resort, an operator's own id: 5 to 12 letters and digits
      starting with a letter, such as OpusCapita's historical 'E204503'.
      This is only a check of form: the list of operators changes, and it is
      kept by TIEKE, not here.

    Digits that do not start with 0037 are refused, so that a mistyped OVT
    code does not pass as an operator's own id."""
    if not isinstance(value, str):
        raise InvalidFormat('an operator id must be a string')
    number = compact(value).upper()
    if not _ALNUM.fullmatch(number):
        raise InvalidFormat('an operator id consists of ASCII letters and digits')
    if number.startswith(PREFIX):
        return validate(number)
    if _BIC_LIKE.fullmatch(number):
        try:
            return bic.validate(number)
        except ValidationError as error:
            raise _reraise(error, 'an operator id of the form of a BIC must be a valid BIC') from None
    if _OTHER_OPERATOR.fullmatch(number):
        return number
    if number[0].isdigit():
        raise InvalidComponent('an operator id of digits is an OVT code and starts with 0037')
    raise InvalidLength('an operator id other than an OVT code or a BIC is 5 to 12 characters')


def is_valid_operator(value: str) -> bool:
    """Check if the value is a valid e-invoice operator id."""
    try:
        return bool(validate_operator(value))
    except ValidationError:
        return False
