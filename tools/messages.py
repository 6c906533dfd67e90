"""Add or change a message in the three catalogues at once, then compile them.

    python tools/messages.py KEY "suomeksi" "på svenska" "in English"
    python tools/messages.py --plural KEY "{count} tapahtuma" "{count} tapahtumaa" "{count} händelse" \
        "{count} händelser" "{count} event" "{count} events"
    python tools/messages.py --batch FILE   # lines: KEY<TAB>fi<TAB>sv<TAB>en
    python tools/messages.py --delete KEY...

The .po files (src/osuus/render/locale/*/LC_MESSAGES/osuus.po) are the source;
this only saves typing the same key three times. Entries stay sorted by key.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from osuus.render.i18n import LANGUAGES, LOCALE_DIR, compile_all  # noqa: E402

PLURALS = {"fi": "nplurals=2; plural=(n != 1);", "sv": "nplurals=2; plural=(n != 1);",
           "en": "nplurals=2; plural=(n != 1);"}


def load(lang: str) -> Catalog:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "osuus.po"
    if not path.exists():
        return Catalog(locale=lang, domain="osuus", project="osuus", fuzzy=False)
    with open(path, "rb") as fh:
        return read_po(fh, locale=lang, domain="osuus")


LANGUAGE_NAMES = {"fi": "Finnish", "sv": "Swedish", "en": "English"}


def save(lang: str, catalog: Catalog) -> None:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "osuus.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False
    # a steady header: the files change only where a message does
    catalog.project, catalog.version = "osuus", "1"
    catalog.copyright_holder = "the osuus authors (EUPL-1.2)"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "the osuus authors"
    catalog.language_team = LANGUAGE_NAMES[lang]
    catalog.header_comment = (f"# {LANGUAGE_NAMES[lang]} messages of osuus: every word a reader sees.\n"
                              "# Keys are message ids; fields in braces are filled by the program.\n"
                              "# Edit here, then compile: python -m osuus.render.i18n")
    catalog.creation_date = catalog.revision_date = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    with open(path, "wb") as fh:
        write_po(fh, catalog, sort_output=True, width=0, omit_header=False)


def main(argv: list[str]) -> None:
    # several people (or agents) may add messages at once: one at a time reads, changes and writes
    import fcntl

    with open(LOCALE_DIR / ".messages.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _change(argv)


def _change(argv: list[str]) -> None:
    catalogs = {lang: load(lang) for lang in LANGUAGES}
    entries: list[tuple[str, tuple]] = []
    if argv[0] == "--batch":
        for line in Path(argv[1]).read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            key, *texts = (part.replace("\\n", "\n") for part in line.split("\t"))
            if len(texts) == 3:
                entries.append((key, tuple(texts)))
            elif len(texts) == 6:
                entries.append((key, ((texts[0], texts[1]), (texts[2], texts[3]), (texts[4], texts[5]))))
            else:
                raise SystemExit(f"bad line (need 3 or 6 texts): {line}")
    elif argv[0] == "--delete":
        for catalog in catalogs.values():
            for key in argv[1:]:
                catalog.delete(key)
                catalog.delete((key, key))
    elif argv[0] == "--plural":
        key, *texts = argv[1:]
        entries.append((key, ((texts[0], texts[1]), (texts[2], texts[3]), (texts[4], texts[5]))))
    else:
        key, *texts = argv
        entries.append((key, tuple(texts)))
    for key, texts in entries:
        for lang, text in zip(LANGUAGES, texts):
            catalog = catalogs[lang]
            if isinstance(text, tuple):
                catalog.delete(key)
                catalog.add((key, key), string=text)
            else:
                catalog.delete(key)
                catalog.add(key, string=text)
    for lang, catalog in catalogs.items():
        save(lang, catalog)
    compile_all()


if __name__ == "__main__":
    main(sys.argv[1:])
