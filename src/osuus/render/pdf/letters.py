"""PDF invoices, credit notes and estimate letters, in Finnish, Swedish or English.

Everything a reader sees is decided here: the texts (`LABELS`), the number
and date formats, which rows the details box has and which clause each line's
price comes from. The templates (`templates/invoice.typ`, `estimate.typ`)
only lay the prepared strings out, so a figure on the PDF is formatted by the
same code whatever the template does.

Money: "1 234,56" in Finnish and Swedish (the group separator is a narrow
no-break space, U+202F, so that a figure never breaks across lines), "1,234.56"
in English. Dates: "12.6.2021" (fi, sv) and "12 June 2021" (en).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from osuus.documents.model import EstimateLetter, InvoiceDocument, PartyDocument
from osuus.ids import viitenumero
from osuus.render.pdf import formats
from osuus.render.pdf.engine import render_pdf
from osuus.render.pdf.formats import NBSP, NNBSP

SUPPORTED = formats.LANGUAGES

# The payment slip (tilisiirtolomake) is bilingual Finnish/Swedish by the
# Finnish standard, whatever the language of the invoice; the English invoice
# gives the English words first.
_SLIP_FI_SV = {
    "slip_title": "TILISIIRTO. GIRERING",
    "slip_account": "Saajan tilinumero\nMottagarens kontonummer",
    "slip_payee": "Saaja\nMottagare",
    "slip_payer": "Maksajan nimi ja osoite\nBetalarens namn och adress",
    "slip_signature": "Allekirjoitus\nUnderskrift",
    "slip_from_account": "Tililtä nro\nFrån konto nr",
    "slip_reference": "Viitenro\nRef.nr",
    "slip_due": "Eräpäivä\nFörfallodag",
    "slip_euro": "Euro",
    "slip_virtual": "Virtuaaliviivakoodi / Virtuell streckkod",
}

LABELS: dict[str, dict[str, Any]] = {
    "fi": {
        "invoice": "Lasku",
        "credit_note": "Hyvityslasku",
        "invoice_number": "Laskun numero",
        "credit_number": "Hyvityslaskun numero",
        "invoice_date": "Laskun päivämäärä",
        "credit_date": "Hyvityslaskun päivämäärä",
        "due_date": "Eräpäivä",
        "payment_terms": "Maksuehto",
        "terms_days": "{days} päivää netto",
        "terms_now": "Heti netto",
        "reference": "Viitenumero",
        "buyer_reference": "Viitteenne",
        "billing_period": "Laskutuskausi",
        "agreement": "Sopimus",
        "einvoice_address": "Verkkolaskuosoite",
        "operator": "Välittäjätunnus",
        "credited_invoice": "Hyvitettävä lasku",
        "dated": "päivätty",
        "reason": "Hyvityksen syy",
        "nothing_to_pay": "Hyvityslasku: ei maksettavaa.",
        "business_id": "Y-tunnus",
        "vat_number": "ALV-numero",
        "seller": "Laskuttaja",
        "buyer": "Laskutettava",
        "col_description": "Selite",
        "col_period": "Toimitus\u00adkuukausi",
        "col_quantity": "Määrä",
        "col_unit": "Yks.",
        "col_unit_price": "À-hinta €",
        "col_amount": "Yhteensä €",
        "total": "Yhteensä",
        "vat": "Arvonlisävero {rate} %",
        "amount_due": "Maksettava yhteensä",
        "credit_total": "Hyvitys yhteensä",
        "price_basis": "Hintojen perusteet",
        "page": "Sivu",
        "bank": "Pankki",
        "iban": "IBAN",
        "bic": "BIC",
        "pay_with_reference": "Käytä maksaessasi viitenumeroa.",
        # the estimate letter
        "estimate_subject": "Arvio kuntaosuudesta vuodelle {year}",
        "estimate_revision": "Päivitetty arvio (versio {revision}).",
        "estimate_intro": "Lähetämme kuntanne talousarvion valmistelua varten arvion kuntanne maksuosuudesta "
                          "vuodelle {year}. Arvio on yhteensä {amount}.",
        "estimate_agreement": "Arvio perustuu sopimukseen: {title}.",
        "estimate_basis": "Arvion laskentaperusteet: {basis}.",
        "estimate_instalments": "Ennakko-osuus laskutetaan {count} {instalments_word}, kukin erä {instalment}.",
        "estimate_afterwards": "Palvelutapahtumat laskutetaan jälkikäteen toteutuneen mukaan.",
        "estimate_settlement": "Vuoden päätyttyä lasketaan toteutuneet kustannukset ja vahvistetaan "
                               "yksikköhinnat; erotus tasataan vuoden {next_year} ensimmäisellä laskulla.",
        "instalments_month": "kuukausierässä",
        "instalments_quarter": "neljännesvuosierässä",
        "instalments_other": "erässä",
        "estimate_part": "Kustannuserä",
        "estimate_amount": "Arvio {year}, €",
        "estimate_contact": "Lisätietoja: {contact}.",
        "regards": "Ystävällisin terveisin",
        "signature_unit": "työllisyyspalvelut",
        "date": "Päivämäärä",
        **_SLIP_FI_SV,
    },
    "sv": {
        "invoice": "Faktura",
        "credit_note": "Kreditnota",
        "invoice_number": "Fakturanummer",
        "credit_number": "Kreditnotans nummer",
        "invoice_date": "Fakturadatum",
        "credit_date": "Kreditnotans datum",
        "due_date": "Förfallodag",
        "payment_terms": "Betalningsvillkor",
        "terms_days": "{days} dagar netto",
        "terms_now": "Genast netto",
        "reference": "Referensnummer",
        "buyer_reference": "Er referens",
        "billing_period": "Faktureringsperiod",
        "agreement": "Avtal",
        "einvoice_address": "E-fakturaadress",
        "operator": "Förmedlarkod",
        "credited_invoice": "Krediterad faktura",
        "dated": "daterad",
        "reason": "Orsak till krediteringen",
        "nothing_to_pay": "Kreditnota: inget att betala.",
        "business_id": "FO-nummer",
        "vat_number": "Momsnummer",
        "seller": "Fakturerare",
        "buyer": "Faktureras",
        "col_description": "Beskrivning",
        "col_period": "Leverans\u00admånad",
        "col_quantity": "Antal",
        "col_unit": "Enh.",
        "col_unit_price": "À-pris €",
        "col_amount": "Summa €",
        "total": "Totalt",
        "vat": "Mervärdesskatt {rate} %",
        "amount_due": "Att betala",
        "credit_total": "Kredit totalt",
        "price_basis": "Prisernas grunder",
        "page": "Sida",
        "bank": "Bank",
        "iban": "IBAN",
        "bic": "BIC",
        "pay_with_reference": "Använd referensnumret vid betalningen.",
        "estimate_subject": "Uppskattning av kommunandelen för år {year}",
        "estimate_revision": "Uppdaterad uppskattning (version {revision}).",
        "estimate_intro": "För beredningen av er kommuns budget sänder vi en uppskattning av kommunens "
                          "betalningsandel för år {year}. Uppskattningen är sammanlagt {amount}.",
        "estimate_agreement": "Uppskattningen grundar sig på avtalet: {title}.",
        "estimate_basis": "Beräkningsgrunder: {basis}.",
        "estimate_instalments": "Förskottsandelen faktureras i {count} {instalments_word} på {instalment} var.",
        "estimate_afterwards": "Serviceprestationerna faktureras i efterhand enligt utfall.",
        "estimate_settlement": "Efter årets slut beräknas de faktiska kostnaderna och enhetspriserna "
                               "fastställs; skillnaden utjämnas på den första fakturan år {next_year}.",
        "instalments_month": "månadsrater",
        "instalments_quarter": "kvartalsrater",
        "instalments_other": "rater",
        "estimate_part": "Kostnadspost",
        "estimate_amount": "Uppskattning {year}, €",
        "estimate_contact": "Mer information: {contact}.",
        "regards": "Med vänliga hälsningar",
        "signature_unit": "sysselsättningstjänster",
        "date": "Datum",
        **_SLIP_FI_SV,
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "invoice_number": "Invoice number",
        "credit_number": "Credit note number",
        "invoice_date": "Invoice date",
        "credit_date": "Credit note date",
        "due_date": "Due date",
        "payment_terms": "Payment terms",
        "terms_days": "{days} days net",
        "terms_now": "Due on receipt",
        "reference": "Reference number",
        "buyer_reference": "Your reference",
        "billing_period": "Billing period",
        "agreement": "Agreement",
        "einvoice_address": "E-invoice address",
        "operator": "Operator",
        "credited_invoice": "Credited invoice",
        "dated": "dated",
        "reason": "Reason for the credit",
        "nothing_to_pay": "Credit note: nothing to pay.",
        "business_id": "Business ID",
        "vat_number": "VAT number",
        "seller": "Seller",
        "buyer": "Bill to",
        "col_description": "Description",
        "col_period": "Delivery month",
        "col_quantity": "Quantity",
        "col_unit": "Unit",
        "col_unit_price": "Unit price €",
        "col_amount": "Amount €",
        "total": "Total",
        "vat": "VAT {rate} %",
        "amount_due": "Amount due",
        "credit_total": "Total credited",
        "price_basis": "Basis of the prices",
        "page": "Page",
        "bank": "Bank",
        "iban": "IBAN",
        "bic": "BIC",
        "pay_with_reference": "Please quote the reference number when paying.",
        "estimate_subject": "Estimate of the municipal share for {year}",
        "estimate_revision": "Revised estimate (version {revision}).",
        "estimate_intro": "For the preparation of your municipality's budget, we send you an estimate of "
                          "its payment share for {year}. The estimate totals {amount}.",
        "estimate_agreement": "The estimate is based on the agreement: {title}.",
        "estimate_basis": "It was computed from: {basis}.",
        "estimate_instalments": "The advance share is invoiced in {count} {instalments_word} of {instalment} each.",
        "estimate_afterwards": "Service events are invoiced afterwards as delivered.",
        "estimate_settlement": "After the year ends, the actual costs are computed and the unit prices "
                               "confirmed; the difference is settled on the first invoice of {next_year}.",
        "instalments_month": "monthly instalments",
        "instalments_quarter": "quarterly instalments",
        "instalments_other": "instalments",
        "estimate_part": "Cost item",
        "estimate_amount": "Estimate {year}, €",
        "estimate_contact": "Further information: {contact}.",
        "regards": "Kind regards",
        "signature_unit": "employment services",
        "date": "Date",
        "slip_title": "BANK TRANSFER",
        "slip_account": "Payee's account\nSaajan tilinumero",
        "slip_payee": "Payee\nSaaja",
        "slip_payer": "Payer's name and address\nMaksajan nimi ja osoite",
        "slip_signature": "Signature\nAllekirjoitus",
        "slip_from_account": "From account\nTililtä nro",
        "slip_reference": "Reference\nViitenro",
        "slip_due": "Due date\nEräpäivä",
        "slip_euro": "Euro",
        "slip_virtual": "Virtual bar code / Virtuaaliviivakoodi",
    },
}

#: the units the agreement writes in Finnish, in the other languages; others are shown as written
UNITS: dict[str, dict[str, str]] = {
    "fi": {"erä": "erä", "tunti": "tunti", "kartoitus": "kartoitus", "asiakas/vuosi": "asiakas/vuosi",
           "asiakas": "asiakas", "pv": "pv", "km": "km", "ryhmä": "ryhmä"},
    "sv": {"erä": "post", "tunti": "timme", "kartoitus": "kartläggning", "asiakas/vuosi": "kund/år",
           "asiakas": "kund", "pv": "dygn", "km": "km", "ryhmä": "grupp"},
    "en": {"erä": "item", "tunti": "hour", "kartoitus": "assessment", "asiakas/vuosi": "customer/year",
           "asiakas": "customer", "pv": "days", "km": "km", "ryhmä": "group"},
}


def labels(lang: str) -> dict[str, Any]:
    """The texts of `lang`; an unsupported language is refused, naming the supported ones."""
    try:
        return LABELS[lang]
    except (KeyError, TypeError):
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(SUPPORTED)}") from None


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------

# Figures and dates are written as in every other PDF (osuus.render.pdf.formats).
fmt_amount, fmt_euros, fmt_quantity, fmt_date = formats.amount, formats.euros, formats.quantity, formats.date


def fmt_period(code: str, lang: str = "fi") -> str:
    """A billing or delivery period code as printed: `2021-03` -> `3/2021`, `2021-Q1` -> `Q1/2021`."""
    code = code.strip()
    if len(code) == 7 and code[4] == "-" and code[:4].isdigit():
        tail = code[5:]
        if tail.isdigit():
            return f"{int(tail)}/{code[:4]}"
        if tail[:1] in "Qq" and tail[1:].isdigit():
            return f"Q{tail[1:]}/{code[:4]}"
    return code


def fmt_iban(iban: str) -> str:
    """An IBAN in groups of four: `FI79 4405 2020 0360 82`."""
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def fmt_reference(doc: InvoiceDocument) -> str:
    """The payment reference as printed: a national one in groups of five from the right,
    an RF reference in groups of four."""
    if doc.use_rf:
        compact = "".join(doc.reference_rf.split()).upper()
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return viitenumero.format(doc.reference)


_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def tidy(text: str) -> str:
    """Keep a figure written into a text on one line: `14 387,94 €` gets no-break spaces."""
    return _THOUSANDS.sub(NNBSP, text).replace(" €", NBSP + "€")


def fmt_unit(unit: str, lang: str = "fi") -> str:
    return UNITS.get(lang, {}).get(unit, unit)


# --------------------------------------------------------------------------
# What the templates get
# --------------------------------------------------------------------------

def _party(party: PartyDocument, lang: str, *, with_contact: bool = True) -> dict[str, Any]:
    return {"name": party.display_name(lang), "lines": formats.address_lines(party, with_contact=with_contact),
            "business_id": party.business_id, "vat_number": party.vat_number, "email": party.email}


def _slip_texts(lang: str) -> dict[str, str]:
    text = labels(lang)
    return {key: value for key, value in text.items() if key.startswith("slip_")}


def invoice_data(doc: InvoiceDocument, lang: str = "fi") -> dict[str, Any]:
    """Everything `invoice.typ` shows, formatted."""
    text = labels(lang)
    if doc.kind not in ("invoice", "credit_note"):
        raise ValueError(f"{doc.number}: unknown document kind {doc.kind!r} (invoice or credit_note)")
    credit = doc.is_credit
    title = text["credit_note"] if credit else text["invoice"]
    reference = fmt_reference(doc) if (doc.reference or doc.reference_rf) else ""

    details: list[list[str]] = [
        [text["credit_number"] if credit else text["invoice_number"], doc.number],
        [text["credit_date"] if credit else text["invoice_date"], fmt_date(doc.issue_date, lang)],
    ]
    if credit:
        if doc.credited_number:
            credited = doc.credited_number
            if doc.credited_issue_date:
                credited += f", {text['dated']} {fmt_date(doc.credited_issue_date, lang)}"
            details.append([text["credited_invoice"], credited])
    else:
        days = (doc.due_date - doc.issue_date).days
        details.append([text["due_date"], fmt_date(doc.due_date, lang)])
        details.append([text["payment_terms"],
                        text["terms_days"].format(days=days) if days > 0 else text["terms_now"]])
    if reference:
        details.append([text["reference"], reference])
    if doc.buyer.buyer_reference:
        details.append([text["buyer_reference"], doc.buyer.buyer_reference])
    period = doc.billing_period
    if period:
        details.append([text["billing_period"], f"{fmt_date(period[0], lang)}\u2009–\u2009{fmt_date(period[1], lang)}"])
    if doc.agreement_title:
        details.append([text["agreement"], doc.agreement_title])
    if doc.buyer.einvoice_address:
        details.append([text["einvoice_address"], doc.buyer.einvoice_address])
    if doc.buyer.operator:
        details.append([text["operator"], doc.buyer.operator])

    # the clause each price comes from, numbered once per distinct clause
    basis: dict[str, int] = {}
    rows = []
    for line in sorted(doc.lines, key=lambda line: line.position):
        mark = ""
        if line.reference:
            mark = str(basis.setdefault(line.reference, len(basis) + 1))
        rows.append({
            "description": tidy(line.description),
            "mark": mark,
            "period": fmt_period(line.events_period, lang) if line.events_period else "",
            "quantity": fmt_quantity(line.quantity, lang),
            "unit": fmt_unit(line.unit, lang),
            "unit_price": fmt_amount(line.unit_price, lang),
            "amount": fmt_amount(line.amount, lang),
        })

    vat_rate = fmt_quantity(doc.vat.rate, lang)
    vat_note = doc.vat.exemption_text
    if doc.vat.exemption_code and doc.vat.exemption_code not in vat_note:
        vat_note = f"{vat_note} ({doc.vat.exemption_code})" if vat_note else doc.vat.exemption_code

    slip = None
    payable = not credit and doc.total > 0
    if payable:
        from osuus.ids.pankkiviivakoodi import code128_modules, virtual_barcode

        virtual = virtual_barcode(doc.account.iban, doc.total, doc.payment_reference, doc.due_date)
        slip = {
            **_slip_texts(lang),
            "iban": fmt_iban(doc.account.iban),
            "bic": doc.account.bic,
            "bank": doc.account.bank,
            "payee": _party(doc.seller, lang, with_contact=False),
            "payer": _party(doc.buyer, lang),
            "reference": reference,
            # the slip's boxes are narrow: its due date is numeric in every language
            "due": fmt_date(doc.due_date, "fi"),
            "amount": fmt_amount(doc.total, lang),
            "virtual": virtual,
            "modules": code128_modules(virtual),
            "message": f"{title} {doc.number}",
            "hint": text["pay_with_reference"],
        }

    seller = _party(doc.seller, lang)
    footer = " · ".join(p for p in (seller["name"], f"{text['business_id']} {doc.seller.business_id}",
                                     f"{title} {doc.number}") if p)
    return {
        "title": f"{title} {doc.number}",
        "author": seller["name"],
        "footer": footer,
        "lang": lang,
        "kind": doc.kind,
        "heading": title,
        "number": doc.number,
        "labels": {key: text[key] for key in (
            "business_id", "vat_number", "seller", "buyer", "col_description", "col_period", "col_quantity",
            "col_unit", "col_unit_price", "col_amount", "total", "price_basis", "reason", "iban", "bic")},
        "seller": seller,
        "buyer": _party(doc.buyer, lang),
        "details": details,
        "reason": doc.reason if credit else "",
        "lines": rows,
        "total": fmt_amount(doc.total, lang),
        "vat_label": text["vat"].format(rate=vat_rate),
        "vat_amount": fmt_amount(Decimal(0), lang),
        "vat_note": vat_note,
        "grand_label": text["credit_total"] if credit else text["amount_due"],
        "grand_total": fmt_euros(doc.total, lang),
        "nothing_to_pay": text["nothing_to_pay"] if credit else "",
        "basis": [[str(n), ref] for ref, n in basis.items()],
        "notes": list(doc.notes),
        "account": {"iban": fmt_iban(doc.account.iban), "bic": doc.account.bic, "bank": doc.account.bank},
        "slip": slip,
    }


def invoice_pdf(doc: InvoiceDocument, lang: str = "fi") -> bytes:
    """The invoice or credit note as a PDF in `lang` (fi, sv, en)."""
    return render_pdf("invoice.typ", invoice_data(doc, lang))


def estimate_data(letter: EstimateLetter, lang: str = "fi") -> dict[str, Any]:
    """Everything `estimate.typ` shows, formatted."""
    text = labels(lang)
    seller = _party(letter.seller, lang)
    subject = text["estimate_subject"].format(year=letter.year)
    # three paragraphs: what the estimate is for and what it rests on; how it is
    # invoiced and settled; whom to ask
    purpose = [text["estimate_intro"].format(year=letter.year, amount=fmt_euros(letter.amount, lang))]
    if letter.agreement_title:
        purpose.append(text["estimate_agreement"].format(title=letter.agreement_title.rstrip(".")))
    if letter.basis:
        purpose.append(text["estimate_basis"].format(basis=tidy(letter.basis.rstrip("."))))
    invoicing = []
    if letter.instalment and letter.instalments:
        word = {12: "instalments_month", 4: "instalments_quarter"}.get(letter.instalments, "instalments_other")
        invoicing.append(text["estimate_instalments"].format(
            count=letter.instalments, instalments_word=text[word], instalment=fmt_euros(letter.instalment, lang)))
        # what the instalments do not cover is billed per service event afterwards
        if letter.instalment * letter.instalments + Decimal("0.01") * letter.instalments < letter.amount:
            invoicing.append(text["estimate_afterwards"])
    else:
        invoicing.append(text["estimate_afterwards"])
    invoicing.append(text["estimate_settlement"].format(next_year=letter.year + 1))
    body = [" ".join(purpose), " ".join(invoicing)]
    contact = ", ".join(p for p in (letter.seller.contact, letter.seller.email) if p)
    if contact:
        body.append(text["estimate_contact"].format(contact=contact))

    rows = [[part.label, fmt_amount(part.amount, lang)] for part in letter.parts]
    footer = " · ".join((seller["name"], f"{text['business_id']} {letter.seller.business_id}", subject))
    return {
        "title": subject,
        "author": seller["name"],
        "footer": footer,
        "lang": lang,
        "seller": seller,
        "buyer": _party(letter.buyer, lang),
        "date_label": text["date"],
        "date": fmt_date(letter.date, lang),
        "subject": subject,
        "revision": text["estimate_revision"].format(revision=letter.revision) if letter.revision > 1 else "",
        "body": body,
        "columns": [text["estimate_part"], text["estimate_amount"].format(year=letter.year)],
        "rows": rows,
        "total_label": text["total"],
        "total": fmt_amount(letter.amount, lang),
        "regards": text["regards"],
        "signature": f"{seller['name']}, {text['signature_unit']}",
        "business_id_label": text["business_id"],
    }


def estimate_pdf(letter: EstimateLetter, lang: str = "fi") -> bytes:
    """The August estimate letter as a PDF in `lang` (fi, sv, en)."""
    return render_pdf("estimate.typ", estimate_data(letter, lang))
