"""Small texts many renderers share: units, an estimate's basis, a document's kind."""

from __future__ import annotations

from typing import Iterable

from osuus.agreement.model import Agreement
from osuus.billing.estimate import Basis
from osuus.render.i18n import catalogue


def unit_text(unit: str, lang: str = "fi") -> str:
    """A unit id in `lang` (`hour` → tunti, timme, hour); the agreement's own word as written."""
    c = catalogue(lang)
    key = f"unit.{unit}"
    return c.t(key) if c.has(key) else unit


def basis_text(basis: Iterable[Basis], year: int, agreement: Agreement | None, lang: str = "fi",
               issued: str | None = None) -> str:
    """What an estimate of `year` rests on, in words; an estimate made before bases were
    structure keeps the words it was made with (`issued`)."""
    items = list(basis)
    if not items:
        return issued or ""
    c = catalogue(lang)
    parts = []
    for b in items:
        facts = dict(b.facts)
        if b.kind == "latest_counts" and agreement is not None and facts.get("key") in agreement.keys:
            facts["key"] = agreement.keys[facts["key"]].label.get(lang)
        parts.append(c.t(f"basis.{b.kind}", estimated=year, **facts))
    return "; ".join(parts)


def document_kind(kind, lang: str = "fi") -> str:
    """`lasku` / `hyvityslasku`: an invoice or a credit note, in a running text."""
    return catalogue(lang).t(f"document.{getattr(kind, 'value', kind)}")
