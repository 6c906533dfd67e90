"""Keep personal identity codes out: customers are pseudonymous in osuus.

Billing needs no person's identity, so any text that holds a valid Finnish
personal identity code (henkilötunnus, checked with python-stdnum, temporary
codes 900–999 included) is refused wherever text enters the system.
"""

from __future__ import annotations

import re

# ddmmyy, century sign, individual number, control character; not inside a longer token
_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([0-3]\d[01]\d\d\d[-+A-FU-Ya-fu-y]\d{3}[0-9A-Za-z])(?![0-9A-Za-z])")


def personal_codes_in(text: str) -> list[str]:
    """The valid personal identity codes found in `text` (usually none)."""
    if len(text) < 11:  # the fast path of a million-row import: most cells are short
        return []
    found = _CANDIDATE.findall(text)
    if not found:
        return []
    from stdnum.fi import hetu

    return [m for m in found if hetu.is_valid(m, allow_temporary=True)]


def contains_personal_code(text: str) -> bool:
    return bool(personal_codes_in(text))


def masked(code: str) -> str:
    """Show a found code without repeating it whole: 131052-***T."""
    return code[:7] + "***" + code[-1:]


SMALL_COUNT = 5


def shown_count(count: int, threshold: int = SMALL_COUNT) -> str:
    """A count of people as a report may show it: under `threshold` (but not 0) is '<5'."""
    return f"<{threshold}" if 0 < count < threshold else str(count)
