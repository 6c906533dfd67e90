"""Numbers and dates in the reader's language, from Babel's locale data (CLDR).

One module for every renderer, so that a euro is written the same way on the
terminal, in an invoice, a letter, a report and the web:

| | Finnish (fi_FI) | Swedish (sv_FI) | English (en_IE) |
|---|---|---|---|
| money | `1 234,56 €` | `1 234,56 €` | `€1,234.56` |
| a count | `24 277`, `2,5` | `24 277` | `24,277` |
| a rate | `17 %` | `17 %` | `17%` |
| a date | `1.2.2021` | `1.2.2021` | `1 February 2021` |
| a month | `helmikuu 2021` | `februari 2021` | `February 2021` |

The group separator, decimal sign and where the currency and per cent sign go
are Babel's (the digit grouping of Finnish and Swedish is a no-break space).
Reading them means unpickling Babel's data of the whole language (some 30 ms,
more than the rest of `osuus allocate`), so the few conventions used here are
kept in the user's cache folder once read, keyed by the size and time of Babel's
data files: an update of Babel reads them afresh.
Rounding is never left to a formatting library: a value is rounded half up to
the places shown by `money`'s Decimal arithmetic, then written with those
symbols. The minus is ASCII '-' in every language (as Babel writes it).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from osuus.render.i18n import check_language

#: The Babel locale of each language: Finland's Finnish and Swedish; Ireland's English (a euro country).
LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_IE"}
_HALF_UP = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(0, 13)}


class Formats:
    """How one language writes figures and dates."""

    def __init__(self, lang: str):
        self.lang = check_language(lang)
        conventions = _conventions(LOCALES[lang])
        self.group = conventions["group"]
        self.decimal = conventions["decimal"]
        self._currency = tuple(conventions["currency"])
        self._percent = tuple(conventions["percent"])

    @property
    def locale(self):
        return _locale(LOCALES[self.lang])

    # numbers --------------------------------------------------------------------

    def number(self, value: Decimal, places: int = 0) -> str:
        """`1 234,56`: rounded half up to `places`, grouped by thousands."""
        quantum = _QUANTA.get(places) or Decimal(1).scaleb(-places)
        q = value.quantize(quantum, context=_HALF_UP)
        if q == 0:
            q = abs(q)  # no "-0"
        text = f"{q:,.{places}f}"
        if self.decimal == ".":
            return text if self.group == "," else text.replace(",", self.group)
        return text.replace(".", "\x00").replace(",", self.group).replace("\x00", self.decimal)

    def amount(self, value: Decimal) -> str:
        """Money as a plain figure with cents: `1 234,56`."""
        return self.number(value, 2)

    def money(self, value: Decimal, places: int = 2) -> str:
        """Money with its currency: `1 234,56 €`, `€1,234.56`, `-€5.00`."""
        figure = self.number(abs(value), places)
        prefix, suffix = self._currency
        sign = "-" if value < 0 and figure.strip("0.,\u00a0 ") else ""
        return f"{sign}{prefix}{figure}{suffix}"

    def count(self, value: Decimal | int) -> str:
        """A count without trailing zeros: `24 277`, `2,5`."""
        value = Decimal(value)
        exponent = int(value.normalize().as_tuple().exponent)
        return self.number(value, -exponent if exponent < 0 else 0)

    def rate(self, value: Decimal, places: int | None = None) -> str:
        """A ratio as a percentage: `17 %`, `38,5 %` (fi), `17%` (en)."""
        pct = value * 100
        figure = self.count(pct) if places is None else self.number(pct, places)
        prefix, suffix = self._percent
        return f"{prefix}{figure}{suffix}"

    # dates ----------------------------------------------------------------------

    def date(self, value: dt.date | None) -> str:
        """`1.2.2021` (fi, sv), `1 February 2021` (en); empty for no date."""
        if value is None:
            return ""
        if type(value) is dt.date:  # a page names the same few dates again and again
            return _date_text(self.lang, value)
        from babel.dates import format_date

        return format_date(value, "long" if self.lang == "en" else "short", locale=self.locale)

    def month(self, year: int, month: int) -> str:
        """`maaliskuu 2021`, `mars 2021`, `March 2021`: a month as a billing period is named."""
        return _month_text(self.lang, year, month)


#: No-break spaces (inside figures: "1 234,56 €") as ordinary ones, for text that is not
#: typeset: a terminal (easier to search) and an e-invoice (a receiving system shows them as is).
PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def plain_spaces(text: str) -> str:
    return text.translate(PLAIN_SPACES)


def _affixes(pattern, placeholder: str, symbol: str) -> tuple[str, str]:
    """The text before and after the number in a Babel pattern, with its symbol filled in."""
    prefix, suffix = pattern.prefix[0], pattern.suffix[0]
    return prefix.replace(placeholder, symbol), suffix.replace(placeholder, symbol)


def read_conventions(locale_name: str) -> dict:
    """What this module needs of a locale, read from Babel."""
    from babel import Locale

    locale = Locale.parse(locale_name)
    symbols = locale.number_symbols.get("latn", locale.number_symbols)
    return {"group": symbols["group"], "decimal": symbols["decimal"],
            "currency": _affixes(locale.currency_formats["standard"], "¤", "€"),
            "percent": _affixes(locale.percent_formats[None], "%", symbols["percentSign"])}


def _data_stamp(locale_name: str) -> str | None:
    """The size and time of Babel's data files of a locale (without importing Babel)."""
    from importlib.util import find_spec

    spec = find_spec("babel")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "locale-data"
    parts = []
    for name in ("root", locale_name.split("_")[0], locale_name):
        try:
            stat = (folder / f"{name}.dat").stat()
        except OSError:
            return None
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return " ".join(parts)


def _conventions(locale_name: str) -> dict:
    stamp = _data_stamp(locale_name)
    cache = _cache_file(locale_name)
    if stamp is not None and cache is not None:
        try:
            kept = json.loads(cache.read_text(encoding="utf-8"))
            if kept.get("stamp") == stamp:
                return kept["conventions"]
        except (OSError, ValueError, KeyError, AttributeError):
            pass
    conventions = read_conventions(locale_name)
    if stamp is not None and cache is not None:
        try:  # another process may write the same at once: a private name, then a rename
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
            tmp.write_text(json.dumps({"stamp": stamp, "conventions": conventions}), encoding="utf-8")
            os.replace(tmp, cache)
        except OSError:
            pass  # no cache where none can be kept: Babel each time
    return conventions


def _cache_file(locale_name: str) -> Path | None:
    root = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache" if Path.home() else None)
    return Path(root) / "osuus" / f"formats-{locale_name}.json" if root else None


@lru_cache(maxsize=None)
def formats(lang: str = "fi") -> Formats:
    return Formats(lang)


# Babel parses a locale name, and a date pattern, on every call: a list of invoices names its
# months hundreds of times, so the locales and the words of dates and months are kept.

@lru_cache(maxsize=None)
def _locale(name: str):
    from babel import Locale

    return Locale.parse(name)


@lru_cache(maxsize=4096)
def _date_text(lang: str, value: dt.date) -> str:
    from babel.dates import format_date

    return format_date(value, "long" if lang == "en" else "short", locale=_locale(LOCALES[lang]))


@lru_cache(maxsize=1024)
def _month_text(lang: str, year: int, month: int) -> str:
    from babel.dates import format_date

    return format_date(dt.date(year, month, 1), "LLLL yyyy", locale=_locale(LOCALES[lang]))
