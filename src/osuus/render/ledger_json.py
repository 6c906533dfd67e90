"""The JSON of the ledger commands (`--format json`), built from the use cases' results.

Money is a decimal string with two decimals; periods are codes (`2021-03`);
documents are named by number, municipalities by code and by the name of the
agreement's year. Texts (line descriptions, bases) are in the requested language.
Fields are only ever added, never renamed or removed.
"""

from __future__ import annotations

from decimal import Decimal

from osuus.agreement.model import Agreement
from osuus.privacy import shown_count
from osuus.render.explain import Explainer
from osuus.render.lines import line_text
from osuus.render.words import basis_text


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def invoice_json(invoice, agreement: Agreement | None, lang: str = "fi") -> dict:
    name = agreement.name_of(invoice.municipality, lang) if agreement else invoice.municipality
    return {"number": invoice.number, "kind": invoice.kind.value, "municipality": invoice.municipality,
            "municipality_name": name, "period": invoice.period.code, "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(), "reference": invoice.reference, "total": str(invoice.total),
            "credited_invoice": invoice.credited or None, "credited_by": invoice.credited_by or None,
            "reason": invoice.reason,
            "lines": [{"position": line.position, "kind": line.kind.value, "component": line.component,
                       "description": line_text(line, agreement, lang, invoice.period),
                       "quantity": str(line.quantity), "unit": line.unit, "unit_price": str(line.unit_price),
                       "amount": str(line.amount), "period": line.period.code, "events_period": line.period.code,
                       "reference": line.reference, "details": _plain(line.details)}
                      for line in invoice.lines]}


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def run_json(result, agreement_of, lang: str = "fi") -> dict:
    from osuus.render.audit_text import checkpoint_json

    return {"period": result.period.code, "created": result.created, "events_billed": result.events_billed,
            "invoices": [invoice_json(i, agreement_of(i), lang) for i in result.invoices],
            "checkpoint": checkpoint_json(result.checkpoint) if result.checkpoint is not None else None}


def draft_json(view, agreement_of, lang: str = "fi") -> dict:
    """A draft (four eyes): its documents without number or payment reference (`null`), the
    hash of what the approver reviews, who prepared it and who approved it."""
    def document(i) -> dict:
        data = invoice_json(i, agreement_of(i), lang)
        data.update(number=None, reference=None)
        return data

    def at(value):
        return value.isoformat() if value is not None else None

    return {"draft": view.id, "kind": view.kind, "subject": view.subject, "status": view.status,
            "period": view.period.code, "issue_date": view.issue_date.isoformat(), "total": str(view.total),
            "events": view.events, "allowed_gap": list(view.allowed_gap),
            "credited_invoice": view.credited or None, "reason": view.reason or None,
            "content_hash": view.content_hash, "prepared_by": view.prepared_by, "prepared_at": at(view.prepared_at),
            "approved_by": view.approved_by, "approved_at": at(view.approved_at),
            "self_approved": view.self_approved, "changed": view.changed,
            "documents": [document(i) for i in view.invoices]}


def approved_json(result, agreement_of, lang: str = "fi") -> dict:
    return {"draft": draft_json(result.draft, agreement_of, lang),
            "run": run_json(result.run, agreement_of, lang) if result.run is not None else None,
            "credit_note": invoice_json(result.credit_note, agreement_of(result.credit_note), lang)
            if result.credit_note is not None else None}


def estimate_json(result, agreement: Agreement, lang: str = "fi") -> dict:
    first = result.estimates[0] if result.estimates else None
    basis = basis_text(result.basis, result.year, agreement, lang, first.issued_basis if first else None)
    return {"year": result.year, "revision": result.revision, "created": result.created, "basis": basis,
            "basis_items": [b.to_data() for b in result.basis],
            "members": [{"municipality": agreement.name_of(e.municipality, lang), "code": e.municipality,
                         "amount": str(e.amount),
                         "parts": [{"id": p.id, "kind": p.kind, "label": agreement.label_of(p.id, lang),
                                    "amount": str(p.amount)} for p in e.parts]}
                        for e in result.estimates]}


def close_json(result, agreement: Agreement, lang: str = "fi") -> dict:
    e = Explainer(agreement, lang)
    return {"year": result.year, "created": result.created,
            "settlements": [{"municipality": agreement.name_of(s.municipality, lang), "code": s.municipality,
                             "actual": str(s.actual), "billed": str(s.billed), "difference": str(s.difference)}
                            for s in result.settlements],
            "prices": [{"component": p.component, "integration_year": p.integration_year, "agreed": str(p.agreed),
                        "confirmed": str(p.confirmed),
                        "basis": e.line(p.explanation) if p.explanation is not None else ""}
                       for p in result.prices]}


def report_json(report, agreement: Agreement, lang: str = "fi") -> dict:
    return {"year": report.year, "municipality": agreement.name_of(report.municipality, lang),
            "code": report.municipality, "customers": shown_count(report.customers),
            "services": [{"component": x.component, "label": agreement.label_of(x.component, lang), "unit": x.unit,
                          "events": x.events, "quantity": str(x.quantity), "customers": shown_count(x.customers)}
                         for x in report.services],
            "money": [{"id": m.id, "label": agreement.label_of(m.id, lang), "estimate_only": m.estimate_only,
                       "estimate": _money(m.estimate), "billed": str(m.billed), "actual": _money(m.actual)}
                      for m in report.money],
            "travel_and_interpretation": str(report.travel_and_interpretation), "estimate": _money(report.estimate),
            "billed": str(report.billed), "actual": _money(report.actual), "settlement": _money(report.settlement),
            "settlement_invoice": ", ".join(n for n, _ in report.settlement_documents) or None,
            "settlement_documents": [{"number": n, "amount": str(a)} for n, a in report.settlement_documents],
            "settlement_open": _money(report.settlement_open),
            "estimate_basis": basis_text(report.estimate_basis, report.year, agreement, lang,
                                         report.estimate_issued_basis)}
