"""Swedish and English documents hold no Finnish words: every word a reader sees comes from the
catalogue of the document's language, or is a proper name or a clause quoted from the agreement.

The walkthrough's documents (an invoice with advances, events, travel and late events; the
first invoice of 2022 with its settlement; a credit note; the estimate letter; the annual
report; the appendix tables) are rendered in Swedish and English and read back with pypdf.
Each text is cleared of what may stay Finnish (the agreement's clause citations, its
parties' addresses and names, municipality names, the credit's reason as the user wrote
it); what is left may hold no word of the Finnish catalogue that the Swedish and English
catalogues do not share. Figures must be written the language's way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from io import BytesIO

import pytest

pypdf = pytest.importorskip("pypdf")

from osuus.calendar import Period  # noqa: E402
from osuus.render.i18n import LOCALE_DIR  # noqa: E402

WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé]{4,}")


def catalogue_words(lang: str) -> set[str]:
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "osuus.po", "rb") as fh:
        catalog = read_po(fh)
    words: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            words |= {w.lower() for w in WORD.findall(re.sub(r"\{[^}]*\}", " ", text))}
    return words


def finnish_only() -> set[str]:
    return catalogue_words("fi") - catalogue_words("sv") - catalogue_words("en")


def quoted(agreement) -> list[str]:
    """What a document quotes from the agreement as written: clauses, sources, parties, names."""
    texts = [agreement.reference, agreement.source, agreement.id]
    texts += [p.reference for p in agreement.parameters.values()]
    texts += [k.reference for k in agreement.keys.values()]
    for c in agreement.components.values():
        texts.append(c.reference)
        for sourced in (getattr(c, "cost", None), getattr(c, "price", None), getattr(c, "total_cost", None)):
            if sourced is not None:
                texts.append(sourced.reference)
        texts += [getattr(c, "tiers_reference", ""), getattr(c, "tier_reference", "")]
    texts += [t.reference for t in agreement.tables] + [r.reference for r in agreement.reductions]
    billing = agreement.billing
    texts += [billing.reference, billing.interpretation_reference, billing.vat.reference,
              billing.travel.reference, billing.travel.per_diem.reference, billing.travel.km_rate.reference,
              billing.without_agreement.reference, billing.credits.reference]
    texts += [p.price.reference for p in billing.events.values() if p.price is not None]
    for party in agreement.parties.values():
        texts += [party.street, party.city, party.contact, party.buyer_reference, party.bank]
    texts += [m.name for m in agreement.municipalities] + [agreement.shown.reference, agreement.invoiced.reference]
    return sorted((t for t in texts if t), key=len, reverse=True)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(pdf)).pages).replace("\xad", "")


def left_finnish(text: str, agreement, extra: tuple[str, ...] = ()) -> set[str]:
    flat = re.sub(r"\s+", " ", text)
    for fragment in (*extra, *quoted(agreement)):
        flat = flat.replace(re.sub(r"\s+", " ", fragment), " ")
    return {w.lower() for w in WORD.findall(flat)} & finnish_only()


@pytest.fixture(scope="module")
def documents(walkthrough_url):
    """Every kind of document of the walkthrough, rendered in Swedish and English."""
    from osuus.engine import allocate
    from osuus.render.pdf.letters import estimate_pdf, invoice_pdf
    from osuus.render.pdf.reports import annual_report_pdf, appendix_pdf
    from osuus.services import documents as docs
    from osuus.services.invoicing import list_invoices
    from osuus.services.ledger import Ledger

    with Ledger(walkthrough_url, readonly=True) as ledger:
        invoices = list_invoices(ledger)
        travel = next(i for i in invoices if {line.kind.value for line in i.lines} >= {"advance", "event", "travel"})
        settled = next(i for i in invoices if any(line.kind.value == "settlement" for line in i.lines)
                       and not i.is_credit)
        credit = next(i for i in invoices if i.credited)
        with ledger.read() as session:
            rendered = docs.invoice_documents(session, [travel, settled, credit])
            (letter,) = docs.estimate_letters(session, 2022, None, "790")
            (report,) = docs.annual_report_documents(session, 2021, dt.date(2022, 3, 31), "790")
    agreement = rendered[0].agreement
    # the same invoice as if sent with December's: its events are then late ones ("Jälkikirjaus")
    late = dataclasses.replace(rendered[0], period=Period.month(2021, 12))
    out = {}
    for lang in ("sv", "en"):
        out[lang] = {
            "invoice with events and travel": pdf_text(invoice_pdf(rendered[0], lang)),
            "invoice with late events": pdf_text(invoice_pdf(late, lang)),
            "invoice with a settlement": pdf_text(invoice_pdf(rendered[1], lang)),
            "credit note": pdf_text(invoice_pdf(rendered[2], lang)),
            "estimate letter": pdf_text(estimate_pdf(letter, lang)),
            "annual report": pdf_text(annual_report_pdf(report, lang)),
            "appendix tables": pdf_text(appendix_pdf(allocate(agreement), lang)),
        }
    return agreement, credit.reason, out


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_no_finnish_words_from_the_catalogue(documents, lang):
    agreement, reason, texts = documents
    found = {name: sorted(left_finnish(text, agreement, (reason,))) for name, text in texts[lang].items()}
    assert {name: words for name, words in found.items() if words} == {}


def test_the_test_would_see_finnish(documents):
    agreement, reason, texts = documents
    # (the payment slip's headings are Finnish and Swedish by the banks' standard in every language:
    # its Finnish words are in the Swedish and English catalogues too, and are not looked for)
    assert left_finnish("Laskun numero ja hyvityksen syy", agreement) >= {"laskun", "numero", "hyvityksen"}


@pytest.mark.parametrize("lang, money", [("sv", r"\d{1,3}(\xa0\d{3})*,\d{2}\xa0€"), ("en", r"€\d{1,3}(,\d{3})*\.\d{2}")])
def test_figures_are_written_the_languages_way(documents, lang, money):
    _, _, texts = documents
    for name in ("invoice with events and travel", "estimate letter", "annual report"):
        assert re.search(money, texts[lang][name]), (lang, name)
    if lang == "en":
        assert not re.search(r"\d,\d{2}\xa0€", texts["en"]["annual report"])
