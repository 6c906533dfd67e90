"""Every word a reader sees, from one catalogue per language (gettext).

The catalogues are `locale/<lang>/LC_MESSAGES/osuus.po` beside this module,
keyed by message ids such as `invoice.title`; Finnish (`fi`) is the first
language, Swedish (`sv`) and English (`en`) are complete translations of it.
Messages are `str.format` templates: `t("estimate.subject", year=2022)`.
Plural forms follow each language's rule: `n("line.events", 1)` gives
"1 tapahtuma", `n("line.events", 12)` "12 tapahtumaa".

The `.po` files are the source; the `.mo` files beside them are compiled from
them with Babel (`python -m osuus.render.i18n`), and a test holds the two
together. Loading a compiled catalogue is quick (the standard library's
`gettext`), so the command line can use it at start-up.
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("fi", "sv", "en")
DEFAULT = "fi"
DOMAIN = "osuus"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
ENV_LANG = "OSUUS_LANG"


class UnknownLanguage(ValueError):
    pass


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return lang


def default_language() -> str:
    """$OSUUS_LANG when it names a supported language, else Finnish."""
    wanted = os.environ.get(ENV_LANG, "").strip().lower()[:2]
    return wanted if wanted in LANGUAGES else DEFAULT


class Catalogue:
    """The messages of one language."""

    def __init__(self, lang: str):
        self.lang = check_language(lang)
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        with open(path, "rb") as fh:
            self._translations = gettext.GNUTranslations(fh)

    def has(self, key: str) -> bool:
        return self._translations.gettext(key) != key

    def t(self, key: str, /, **params) -> str:
        """The message `key`, its fields filled from `params`."""
        text = self._translations.gettext(key)
        if text == key:
            raise KeyError(f"no message {key!r} in the {self.lang} catalogue")
        return text.format(**params) if params else text

    def n(self, key: str, count: int, /, **params) -> str:
        """The message `key` in the plural form for `count` (`{count}` is filled too, with `count`
        itself unless `params` gives it written out: `count="8 547"`)."""
        text = self._translations.ngettext(key, key, count)
        if text == key:
            raise KeyError(f"no message {key!r} in the {self.lang} catalogue")
        return text.format(**{"count": count, **params})


@lru_cache(maxsize=None)
def catalogue(lang: str = DEFAULT) -> Catalogue:
    return Catalogue(lang)


def t(key: str, /, lang: str | None = None, **params) -> str:
    """A message in `lang` (default: $OSUUS_LANG, else Finnish)."""
    return catalogue(lang or default_language()).t(key, **params)


# --------------------------------------------------------------------------
# compiling the catalogues (a developer's step; the .mo files are shipped)
# --------------------------------------------------------------------------

def compiled(lang: str) -> bytes:
    """The .mo bytes of a language's .po file, compiled with Babel."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as fh:
        messages = read_po(fh, locale=lang, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, messages, use_fuzzy=False)
    return out.getvalue()


def compile_all() -> list[Path]:
    written = []
    for lang in LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        path.write_bytes(compiled(lang))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in compile_all():
        print(p)
