"""PDF invoices, credit notes and estimate letters, in Finnish, Swedish or English.

Everything a reader sees is decided here: the texts (from the catalogue, keys
`letter.*`), the figures and dates (osuus.render.formats), which rows the
details box has, each line's words (osuus.render.lines) and the clause each
line's price comes from. The templates (`templates/invoice.typ`,
`estimate.typ`) only lay the prepared strings out.

Money: "1 234,56" in Finnish and Swedish (the digits grouped by a no-break space,
so that a figure never breaks across lines), "1,234.56" in English. Dates:
"12.6.2021" (fi, sv) and "12 June 2021" (en).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from osuus.documents.model import EstimateLetter, InvoiceDocument, PartyDocument
from osuus.ids import viitenumero
from osuus.render.formats import formats
from osuus.render.i18n import LANGUAGES, catalogue, check_language
from osuus.render.lines import line_text
from osuus.render.pdf.engine import render_pdf
from osuus.render.words import basis_text, unit_text

SUPPORTED = LANGUAGES
_SLIP = ("slip_title", "slip_account", "slip_payee", "slip_payer", "slip_signature", "slip_from_account",
         "slip_reference", "slip_due", "slip_euro", "slip_virtual")


class _Labels:
    """`text["key"]`: the letter's texts in one language (the catalogue's `letter.<key>`)."""

    def __init__(self, lang: str):
        self.c = catalogue(check_language(lang))

    def __getitem__(self, key: str) -> str:
        return self.c.t(f"letter.{key}")


def labels(lang: str) -> _Labels:
    """The texts of `lang`; an unsupported language is refused, naming the supported ones."""
    try:
        return _Labels(lang)
    except (ValueError, TypeError):
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(SUPPORTED)}") from None


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


def address_lines(party: PartyDocument, *, with_contact: bool = True) -> list[str]:
    """The lines under a party's name: contact, street, postcode and city, a foreign country."""
    address = party.address
    lines = [party.contact] if with_contact and party.contact else []
    if address.street:
        lines.append(address.street)
    city = " ".join(p for p in (address.postcode, address.city) if p)
    if city:
        lines.append(city)
    if address.country and address.country != "FI":
        lines.append(address.country)
    return lines


# --------------------------------------------------------------------------
# What the templates get
# --------------------------------------------------------------------------

def _party(party: PartyDocument, lang: str, *, with_contact: bool = True) -> dict[str, Any]:
    return {"name": party.display_name(lang), "lines": address_lines(party, with_contact=with_contact),
            "business_id": party.business_id, "vat_number": party.vat_number, "email": party.email}


def _slip_texts(lang: str) -> dict[str, str]:
    text = labels(lang)
    return {key: text[key] for key in _SLIP}


def invoice_data(doc: InvoiceDocument, lang: str = "fi") -> dict[str, Any]:
    """Everything `invoice.typ` shows, formatted."""
    text = labels(lang)
    f = formats(lang)
    credit = doc.is_credit
    title = text["credit_note"] if credit else text["invoice"]
    reference = fmt_reference(doc) if (doc.reference or doc.reference_rf) else ""

    details: list[list[str]] = [
        [text["credit_number"] if credit else text["invoice_number"], doc.number],
        [text["credit_date"] if credit else text["invoice_date"], f.date(doc.issue_date)],
    ]
    if credit:
        if doc.credited_number:
            credited = doc.credited_number
            if doc.credited_issue_date:
                credited += f", {text['dated']} {f.date(doc.credited_issue_date)}"
            details.append([text["credited_invoice"], credited])
    else:
        days = (doc.due_date - doc.issue_date).days
        details.append([text["due_date"], f.date(doc.due_date)])
        details.append([text["payment_terms"],
                        text["terms_days"].format(days=days) if days > 0 else text["terms_now"]])
    if reference:
        details.append([text["reference"], reference])
    if doc.buyer.buyer_reference:
        details.append([text["buyer_reference"], doc.buyer.buyer_reference])
    start, end = doc.billing_period
    details.append([text["billing_period"], f"{f.date(start)}\u2009–\u2009{f.date(end)}"])
    details.append([text["agreement"], doc.agreement.title.get(lang)])
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
            "description": line_text(line, doc.agreement, lang, doc.period),
            "mark": mark,
            "period": fmt_period(line.period.code, lang),
            "quantity": f.count(line.quantity),
            "unit": unit_text(line.unit, lang),
            "unit_price": f.amount(line.unit_price),
            "amount": f.amount(line.amount),
        })

    vat_rate = f.count(doc.vat.rate)
    vat_note = doc.vat.exemption_text.get(lang) or catalogue(lang).t(f"vat.exemption.{doc.vat.category}")
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
            "due": formats("fi").date(doc.due_date),
            "amount": f.amount(doc.total),
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
        "total": f.amount(doc.total),
        "vat_label": text["vat"].format(rate=vat_rate),
        "vat_amount": f.amount(Decimal(0)),
        "vat_note": vat_note,
        "grand_label": text["credit_total"] if credit else text["amount_due"],
        "grand_total": f.money(doc.total),
        "nothing_to_pay": f"{text['nothing_to_pay']} {text['credit_' + doc.credit_settled_by]}" if credit else "",
        "basis": [[str(n), ref] for ref, n in basis.items()],
        "notes": [],
        "account": {"iban": fmt_iban(doc.account.iban), "bic": doc.account.bic, "bank": doc.account.bank},
        "slip": slip,
    }


def invoice_pdf(doc: InvoiceDocument, lang: str = "fi") -> bytes:
    """The invoice or credit note as a PDF in `lang` (fi, sv, en)."""
    return render_pdf("invoice.typ", invoice_data(doc, lang))


def estimate_data(letter: EstimateLetter, lang: str = "fi") -> dict[str, Any]:
    """Everything `estimate.typ` shows, formatted."""
    text = labels(lang)
    f = formats(lang)
    seller = _party(letter.seller, lang)
    subject = text["estimate_subject"].format(year=letter.year)
    # three paragraphs: what the estimate is for and what it rests on; how it is
    # invoiced and settled; whom to ask
    purpose = [text["estimate_intro"].format(year=letter.year, amount=f.money(letter.amount))]
    purpose.append(text["estimate_agreement"].format(title=letter.agreement.title.get(lang).rstrip(".")))
    basis = basis_text(letter.basis, letter.year, letter.agreement, lang, letter.issued_basis)
    if basis:
        purpose.append(text["estimate_basis"].format(basis=basis.rstrip(".")))
    invoicing = []
    if letter.instalment and letter.instalments:
        word = {12: "instalments_month", 4: "instalments_quarter"}.get(letter.instalments, "instalments_other")
        invoicing.append(text["estimate_instalments"].format(
            count=letter.instalments, instalments_word=text[word], instalment=f.money(letter.instalment)))
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

    rows = [[letter.agreement.label_of(part, lang), f.amount(amount)] for part, amount in letter.parts]
    footer = " · ".join((seller["name"], f"{text['business_id']} {letter.seller.business_id}", subject))
    return {
        "title": subject,
        "author": seller["name"],
        "footer": footer,
        "lang": lang,
        "seller": seller,
        "buyer": _party(letter.buyer, lang),
        "date_label": text["date"],
        "date": f.date(letter.date),
        "subject": subject,
        "revision": text["estimate_revision"].format(revision=letter.revision) if letter.revision > 1 else "",
        "body": body,
        "columns": [text["estimate_part"], text["estimate_amount"].format(year=letter.year)],
        "rows": rows,
        "total_label": text["total"],
        "total": f.amount(letter.amount),
        "regards": text["regards"],
        "signature": f"{seller['name']}, {text['signature_unit']}",
        "business_id_label": text["business_id"],
    }


def estimate_pdf(letter: EstimateLetter, lang: str = "fi") -> bytes:
    """The August estimate letter as a PDF in `lang` (fi, sv, en)."""
    return render_pdf("estimate.typ", estimate_data(letter, lang))
