"""Turn the ledger's rows and the agreement's parties into documents.

This is the one place where an invoice becomes an `InvoiceDocument`: the
Finvoice and Peppol writers and the PDF renderer all start from its result.
Master data (addresses, e-invoice addresses, the host's account) comes from
the newest revision of the agreement the invoice was made under, so that a
corrected address reaches documents sent again; the money comes only from the
ledger, which is never edited.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from osuus.agreement.model import Agreement, Party, Vat
from osuus.documents.model import (
    AnnualReportDocument,
    BankAccount,
    ChartBar,
    DocumentLine,
    EstimateLetter,
    EstimatePart,
    InvoiceDocument,
    PartyDocument,
    PostalAddress,
    VatTreatment,
)
from osuus.ids import viitenumero
from osuus.money import ZERO
from osuus.privacy import shown_count
from osuus.problems import Problem, ProblemsError, gather

# What each use of a party needs; a missing field is named in the error.
ADDRESS = ("street", "postcode", "city")
EINVOICE = ("einvoice_address",)
ACCOUNT = ("iban", "bic")

_FIELD_NAMES = {
    "street": "street (katuosoite)", "postcode": "postcode (postinumero)", "city": "city (postitoimipaikka)",
    "einvoice_address": "einvoice_address (verkkolaskuosoite, OVT)", "operator": "operator (välittäjätunnus)",
    "iban": "iban (tilinumero)", "bic": "bic", "business_id": "business_id (Y-tunnus)",
}


def party_document(agreement: Agreement, name: str, needs: tuple[str, ...] = ADDRESS) -> PartyDocument:
    """The party `name` as documents need it; every missing field is reported at once."""
    municipality = agreement.municipality(name)
    party = agreement.parties.get(name) or Party(name)
    missing = [f for f in ("business_id", *needs)
               if not (municipality.business_id if f == "business_id" else getattr(party, f))]
    if missing:
        raise ProblemsError([Problem(
            f"{name}: the document needs {_FIELD_NAMES.get(f, f)}, which the agreement's [parties.\"{name}\"] "
            f"does not give", file=agreement.file, line=party.line, key=f"parties.{name}.{f}") for f in missing])
    return PartyDocument(
        name=name, name_sv=municipality.name_sv, code=municipality.code, business_id=municipality.business_id,
        address=PostalAddress(party.street, party.postcode, party.city, party.country),
        einvoice_address=party.einvoice_address, operator=party.operator, vat_number=party.vat_number,
        contact=party.contact, email=party.email, buyer_reference=party.buyer_reference)


def bank_account(agreement: Agreement) -> BankAccount:
    party_document(agreement, agreement.host, ACCOUNT)  # raises, naming what is missing
    host = agreement.parties[agreement.host]
    return BankAccount(host.iban, host.bic, host.bank)


def vat_treatment(agreement: Agreement) -> VatTreatment:
    vat = agreement.billing.vat if agreement.billing else Vat()
    return VatTreatment(vat.category, Decimal("0"), vat.exemption_code, vat.exemption_text, vat.reference)


def _agreement_for(session: Session, invoice) -> Agreement:
    from osuus.store.ledger import current_agreement, latest_agreement
    from osuus.store.tables import AgreementVersion

    version = session.get(AgreementVersion, invoice.agreement_version_id) if invoice.agreement_version_id else None
    agreement = current_agreement(session, version.year) if version else latest_agreement(
        session, before=invoice.year + 1)
    if agreement is None:
        raise ProblemsError([Problem(f"{invoice.number}: no agreement is stored for {invoice.year}")])
    return agreement


def invoice_document(session: Session, invoice, *, needs: tuple[str, ...] = ADDRESS,
                     rf: bool | None = None) -> InvoiceDocument:
    """The document of a stored invoice or credit note.

    `needs` names the party fields the output needs (EINVOICE adds the OVT
    addresses); `rf` overrides the agreement's choice of payment reference form.
    """
    from osuus.store.ledger import lines_of
    from osuus.store.tables import Invoice

    agreement = _agreement_for(session, invoice)
    host = next((m for m in agreement.municipalities if m.code == invoice.host), agreement.host_municipality)
    buyer = agreement.by_code(invoice.municipality)
    if buyer is None:
        raise ProblemsError([Problem(f"{invoice.number}: municipality {invoice.municipality} is not in agreement "
                                     f"{agreement.id}")])
    seller_doc, buyer_doc, account = gather(lambda make: make(), (
        lambda: party_document(agreement, host.name, needs), lambda: party_document(agreement, buyer.name, needs),
        lambda: bank_account(agreement)))
    credited = session.get(Invoice, invoice.credited_invoice_id) if invoice.credited_invoice_id else None
    lines = tuple(DocumentLine(line.position, line.kind, line.component, line.description, line.quantity,
                               line.unit, line.unit_price, line.amount, line.events_period, line.reference)
                  for line in lines_of(session, [invoice.id]).get(invoice.id, []))
    use_rf = (agreement.billing.reference_form == "rf") if rf is None and agreement.billing else bool(rf)
    return InvoiceDocument(
        kind=invoice.kind, number=invoice.number, issue_date=invoice.issue_date, due_date=invoice.due_date,
        period=invoice.period, seller=seller_doc, account=account, buyer=buyer_doc,
        reference=invoice.reference, reference_rf=viitenumero.to_rf(invoice.reference), use_rf=use_rf,
        lines=lines, total=invoice.total, vat=vat_treatment(agreement), currency=agreement.currency,
        agreement_id=agreement.id, agreement_title=agreement.title,
        credited_number=credited.number if credited else "",
        credited_issue_date=credited.issue_date if credited else None, reason=invoice.reason or "")


def estimate_letters(session: Session, year: int, date: dt.date | None = None) -> list[EstimateLetter]:
    """One letter per member from the newest estimate revision of `year`, dated `date`
    or, by default, the day the estimate was made (the letter is sent with it)."""
    from osuus.billing.invoicing import instalment
    from osuus.billing.periods import periods_of_year
    from osuus.store.ledger import current_agreement, latest_agreement
    from osuus.store.tables import Estimate

    revision = session.scalar(select(func.max(Estimate.revision)).where(Estimate.year == year))
    if revision is None:
        raise ProblemsError([Problem(f"no estimate for {year} is stored: run `osuus estimate {year}` first")])
    agreement = current_agreement(session, year) or latest_agreement(session, before=year)
    seller = party_document(agreement, agreement.host)
    billing = agreement.billing
    count = len(periods_of_year(year, billing.period if billing else "month"))
    advance_ids = set(billing.advance_tables) if billing else set()

    def letter(row: Estimate) -> EstimateLetter:
        parts = tuple(EstimatePart(pid, label, Decimal(value)) for pid, label, value in row.details.get("parts", []))
        advance = sum((p.amount for p in parts if p.id in advance_ids), ZERO)
        return EstimateLetter(
            year=year, date=date or row.created_at.date(), seller=seller,
            buyer=party_document(agreement, agreement.by_code(row.municipality).name), amount=row.amount,
            parts=parts, basis=row.basis, revision=revision, agreement_title=agreement.title,
            instalments=count, instalment=instalment(advance, 1, count) if advance else ZERO)

    return gather(letter, session.scalars(select(Estimate).where(Estimate.year == year, Estimate.revision == revision)
                                          .order_by(Estimate.municipality)))


def annual_report_document(session: Session, year: int, code: str, date: dt.date) -> AnnualReportDocument:
    """A member's annual report, with the previous year beside it in the chart when there is one."""
    from osuus.store.ledger import annual_report, current_agreement

    report = annual_report(session, year, code)
    agreement = current_agreement(session, year)
    previous = None
    if current_agreement(session, year - 1) is not None:
        previous = annual_report(session, year - 1, code)
    years = (year - 1, year) if previous is not None else (year,)

    def by_item(r) -> dict[str, Decimal]:
        # what the member paid for each item: the actual share once closed, else what was billed
        paid = {m.label: m.actual if m.actual is not None else m.billed for m in r.money}
        return {label: amount for label, amount in paid.items() if amount}

    now_items = by_item(report)
    before_items = by_item(previous) if previous is not None else {}
    labels = list(dict.fromkeys([*now_items, *before_items]))
    chart = tuple(ChartBar(label, tuple(items.get(label, ZERO) for items in
                                        ((before_items, now_items) if previous is not None else (now_items,))))
                  for label in labels)
    return AnnualReportDocument(
        year=year, date=date, seller=party_document(agreement, agreement.host),
        buyer=party_document(agreement, report.name), customers=shown_count(report.customers),
        services=tuple((s.label, s.unit, s.events, s.quantity, shown_count(s.customers)) for s in report.services),
        money=tuple((m.label, m.estimate, m.billed, m.actual) for m in report.money),
        travel_and_interpretation=report.travel_and_interpretation, estimate=report.estimate,
        billed=report.billed, actual=report.actual, settlement=report.settlement,
        settlement_invoice=report.settlement_invoice, chart_years=years, chart=chart)
