"""Keep personal identity codes out: customers are pseudonymous in osuus.

Billing needs no person's identity, so any text that holds a valid Finnish
personal identity code (henkilötunnus, checked with python-stdnum, temporary
codes 900–999 included) is refused wherever text enters the system.

How a code is found in a text:

- The text is first brought to plain ASCII where Unicode has another way of
  writing the same thing: NFKC (full-width `０１０５９４Ｙ９０３２`, ligatures),
  any other script's decimal digits, and the dashes a word processor puts in
  place of a hyphen (`131052–308T`).
- Every place where the shape `ddmmyy`, a century sign, three digits and a
  character stands is a candidate, overlapping ones included; a candidate is a
  code only when python-stdnum finds its date possible, its individual number
  allowed and its **check character right**. A random string of that shape
  passes the check character once in 31 times, which is what keeps false
  positives low.
- A code that stands apart (no letter or digit touching it) is found in any
  case and with any century sign, as before.
- A code glued to letters or digits (`HETU010594Y9032`, `0010594Y9032`,
  `010594Y9032abc`) is found when its century sign is a letter (`A`–`F`,
  `U`–`Y`), or when it is the dash form (`-`, `+`) with a letter as its check
  character. The dash form with a digit check character is not looked for
  inside a longer token: it has exactly the shape of a date-stamped sequence
  number (`20210114-0123` holds `210114-0123`), which would be refused once in
  about thirty times. Nor is a glued code looked for inside a run of 16 or more
  hexadecimal characters (a hash or a UUID used as a pseudonymous id, whose
  `A`–`F` would otherwise read as century signs now and then).

tests/test_privacy.py shows both sides: the codes found, and the ids that are
not taken for codes.
"""

from __future__ import annotations

import re
import unicodedata

# ddmmyy, century sign, individual number, control character, anywhere (overlapping: a lookahead)
_CANDIDATE = re.compile(r"(?=([0-3][0-9][01][0-9][0-9][0-9][-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Za-z]))")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HEX = frozenset("0123456789ABCDEFabcdef")
_HEX_RUN = 16
#: dashes and minus signs that stand for a hyphen in a code typed into a word processor
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASH_MAP = str.maketrans(dict.fromkeys(_DASHES, "-"))
_NOT_PLAIN = re.compile(rf"[{_DASHES}]|(?![0-9])\d")  # a dash, or a digit of another script


def _plain_char(char: str) -> str:
    text = unicodedata.normalize("NFKC", char).translate(_DASH_MAP)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)


def _plain(text: str) -> tuple[str, list[int] | None]:
    """The text as the codes are looked for in it, and where each of its characters came from
    in `text` (None when it is `text` itself)."""
    if text.isascii():
        return text, None
    if unicodedata.is_normalized("NFKC", text) and not _NOT_PLAIN.search(text):
        return text, None
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        plain = _plain_char(char)
        out.append(plain)
        origin.extend([i] * len(plain))
    return "".join(out), origin


def _hex_run(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies in a run of at least _HEX_RUN hexadecimal characters and hyphens."""
    if not all(c in _HEX or c == "-" for c in text[start:end]):
        return False
    while start > 0 and (text[start - 1] in _HEX or text[start - 1] == "-"):
        start -= 1
    while end < len(text) and (text[end] in _HEX or text[end] == "-"):
        end += 1
    return end - start >= _HEX_RUN


def _found(text: str) -> list[tuple[int, str]]:
    """(start, code) of every valid code in a plain text."""
    found: list[tuple[int, str]] = []
    taken = -1
    for match in _CANDIDATE.finditer(text):
        start = match.start()
        if start < taken:
            continue  # inside a code already found
        code = match.group(1)
        end = start + len(code)
        glued = (start > 0 and text[start - 1] in _ALNUM) or (end < len(text) and text[end] in _ALNUM)
        if glued:
            sign, check = code[6], code[10]
            if sign in "-+" and not check.isalpha():
                continue
            if _hex_run(text, start, end):
                continue
        if _valid(code):
            found.append((start, code))
            taken = end
    return found


def _valid(code: str) -> bool:
    from stdnum.fi import hetu

    return hetu.is_valid(code, allow_temporary=True)


def personal_codes_in(text: str) -> list[str]:
    """The valid personal identity codes found in `text` (usually none), each as plain ASCII."""
    if len(text) < 11 and text.isascii():  # the fast path of a million-row import: most cells are short
        return []
    plain, _ = _plain(text)
    if not _CANDIDATE.search(plain):
        return []
    return [code for _, code in _found(plain)]


def contains_personal_code(text: str) -> bool:
    return bool(personal_codes_in(text))


def masked(code: str) -> str:
    """Show a found code without repeating it whole: 131052-***T."""
    return code[:7] + "***" + code[-1:]


def mask_personal_codes(text: str) -> str:
    """`text` with every code in it masked where it stands (full-width or glued ones too)."""
    if len(text) < 11 and text.isascii():
        return text
    plain, origin = _plain(text)
    found = _found(plain) if _CANDIDATE.search(plain) else []
    if not found:
        return text
    out = []
    last = 0
    for start, code in found:
        first = origin[start] if origin else start
        after = origin[start + len(code) - 1] + 1 if origin else start + len(code)
        out.append(text[last:first])
        out.append(masked(code))
        last = after
    out.append(text[last:])
    return "".join(out)


SMALL_COUNT = 5


def shown_count(count: int, threshold: int = SMALL_COUNT) -> str:
    """A count of people as a report may show it: under `threshold` (but not 0) is '<5'."""
    return f"<{threshold}" if 0 < count < threshold else str(count)
