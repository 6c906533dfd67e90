"""The documents do not depend on the database: PostgreSQL and SQLite give the same bytes.

Money is NUMERIC in PostgreSQL and scaled integers in SQLite; a document must
not show the difference (no "1186.680000", no lost cent). Every e-invoice of the
walkthrough and one PDF of each kind are compared byte for byte.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from osuus.documents.build import ADDRESS, EINVOICE, annual_report_document, estimate_letters, invoice_document
from osuus.einvoice.finvoice import finvoice_xml
from osuus.einvoice.peppol import peppol_xml
from osuus.render.pdf.letters import estimate_pdf, invoice_pdf
from osuus.render.pdf.reports import annual_report_pdf
from osuus.store.db import make_engine, session_factory
from osuus.store.tables import Invoice


def _documents(url: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            for inv in session.scalars(select(Invoice).order_by(Invoice.number)):
                doc = invoice_document(session, inv, needs=ADDRESS + EINVOICE)
                out[f"{inv.number}.peppol"] = peppol_xml(doc)
                out[f"{inv.number}.finvoice"] = finvoice_xml(doc)
                if inv.number in ("2021-00016", "2022-00043"):
                    out[f"{inv.number}.pdf"] = invoice_pdf(doc)
            letter = next(x for x in estimate_letters(session, 2022, dt.date(2021, 8, 31)) if x.buyer.code == "790")
            out["estimate"] = estimate_pdf(letter)
            out["report"] = annual_report_pdf(annual_report_document(session, 2021, "790", dt.date(2022, 3, 31)))
    finally:
        engine.dispose()
    return out


def test_postgresql_and_sqlite_documents_are_identical(walkthrough_url, walkthrough_pg_url):
    on_sqlite = _documents(walkthrough_url)
    on_postgres = _documents(walkthrough_pg_url)
    assert len(on_sqlite) > 2 * 12 * 21
    assert on_sqlite.keys() == on_postgres.keys()
    differ = [name for name in on_sqlite if on_sqlite[name] != on_postgres[name]]
    assert differ == []
