"""The documents do not depend on the database: PostgreSQL and SQLite give the same bytes.

Money is NUMERIC in PostgreSQL and scaled integers in SQLite; a document must
not show the difference (no "1186.680000", no lost cent). Every e-invoice of the
walkthrough and one PDF of each kind are compared byte for byte.
"""

from __future__ import annotations

import datetime as dt

from osuus.einvoice.finvoice import finvoice_xml
from osuus.einvoice.peppol import peppol_xml
from osuus.render.pdf.letters import estimate_pdf, invoice_pdf
from osuus.render.pdf.reports import annual_report_pdf
from osuus.services import documents
from osuus.services.invoicing import list_invoices
from osuus.services.ledger import Ledger


def _documents(url: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with Ledger(url, readonly=True) as ledger:
        invoices = sorted(list_invoices(ledger), key=lambda i: i.number)
        with ledger.read() as session:
            docs = documents.invoice_documents(session, invoices, einvoice=True)
            (letter,) = documents.estimate_letters(session, 2022, dt.date(2021, 8, 31), "790")
            (report,) = documents.annual_report_documents(session, 2021, dt.date(2022, 3, 31), "790")
    for doc in docs:
        out[f"{doc.number}.peppol"] = peppol_xml(doc)
        # a Finvoice message is a send: the same identifier and moment make the same bytes
        out[f"{doc.number}.finvoice"] = finvoice_xml(doc, timestamp=dt.datetime(2022, 3, 1, 8, 0),
                                                     message_id=f"{doc.number}-test")
        if doc.number in ("2021-00016", "2022-00043"):
            out[f"{doc.number}.pdf"] = invoice_pdf(doc)
    out["estimate"] = estimate_pdf(letter)
    out["report"] = annual_report_pdf(report)
    return out


def test_postgresql_and_sqlite_documents_are_identical(walkthrough_url, walkthrough_pg_url):
    on_sqlite = _documents(walkthrough_url)
    on_postgres = _documents(walkthrough_pg_url)
    assert len(on_sqlite) > 2 * 12 * 21
    assert on_sqlite.keys() == on_postgres.keys()
    differ = [name for name in on_sqlite if on_sqlite[name] != on_postgres[name]]
    assert differ == []
