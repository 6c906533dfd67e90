"""The three catalogues hold the same messages: every key in Finnish, Swedish and English, with
the same fields to fill, and a plural form wherever one language counts.

A key missing at run time raises (`Catalogue.t`), so the tests that render each document and
command in every language find a key the code uses but no catalogue has; these find a message
that one language lacks or fills differently, before any reader does.
"""

from __future__ import annotations

import string

import pytest
from babel.messages.pofile import read_po

from osuus.render.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, catalogue, compiled


def messages(lang: str) -> dict[str, tuple[str, ...]]:
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as fh:
        po = read_po(fh, locale=lang, domain=DOMAIN)
    out = {}
    for m in po:
        if not m.id:
            continue
        key = m.id[0] if isinstance(m.id, tuple) else m.id
        out[key] = tuple(m.string) if isinstance(m.string, (tuple, list)) else (m.string,)
    return out


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


ALL = {lang: messages(lang) for lang in LANGUAGES}


def test_every_language_has_every_key():
    keys = {lang: set(m) for lang, m in ALL.items()}
    for lang in LANGUAGES:
        assert keys[lang] == keys["fi"], (lang, sorted(keys[lang] ^ keys["fi"])[:20])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_message_is_empty_or_left_untranslated(lang):
    empty = [k for k, forms in ALL[lang].items() if not all(f.strip() for f in forms)]
    assert empty == []


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "fi"])
def test_the_same_fields_in_every_language(lang):
    differ = {k: (fields(" ".join(ALL["fi"][k])), fields(" ".join(forms)))
              for k, forms in ALL[lang].items() if fields(" ".join(ALL["fi"][k])) != fields(" ".join(forms))}
    assert differ == {}


def test_a_counted_message_is_counted_in_every_language():
    plural = {lang: {k for k, forms in m.items() if len(forms) > 1} for lang, m in ALL.items()}
    assert plural["fi"] and plural["sv"] == plural["fi"] == plural["en"]
    assert catalogue("fi").n("line.events", 1) != catalogue("fi").n("line.events", 2)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shipped_mo_files_are_compiled_from_the_po_files(lang):
    shipped = (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes()
    assert shipped == compiled(lang), "run `python -m osuus.render.i18n` (or tools/messages.py) and commit the .mo"
