"""Issued invoices and credit notes: list, show, explain a line, and the documents (PDF, Finvoice,
Peppol) with ETags; and a credit note's draft.

A member sees its own municipality's documents only: another municipality's invoice is
answered exactly as an invoice that does not exist (404, `invoice.unknown`), by number,
by URL and in every format; a list is of its own documents whatever it asks for.
"""

from __future__ import annotations

import enum

from fastapi import APIRouter, Depends, Query, Request, Response

from osuus.access import Action, Resource
from osuus.api import etags, models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import agreements_of, municipality_code, today, year_of
from osuus.api.paging import PageAsk, page, page_ask
from osuus.api.problems import responses
from osuus.problems import Problem, ProblemsError, refuse

router = APIRouter(prefix="/areas/{area}/invoices", route_class=GuardedRoute, tags=["invoices"])

READ = require(Resource.INVOICES, Action.READ)

LANG = Query(None, pattern="^(fi|sv|en)$", description="the document's language (default: the reader's)")


class DocumentKindName(str, enum.Enum):
    invoice = "invoice"
    credit_note = "credit_note"


def _unknown(number: str) -> ProblemsError:
    return refuse(f"no invoice numbered {number}", key="invoice", code="invoice.unknown")


def invoice_view(ctx: Context, number: str, *, explanations: bool = True):
    """The invoice or credit note `number`, as its view; refused alike when there is none and
    when it is another municipality's and the principal a member. `explanations` False: its
    lines without their explanations (enough to know whose it is)."""
    from osuus.services.invoicing import list_invoices

    found = list_invoices(ctx.reader, number=number, explanations=explanations)
    if not found or not ctx.principal.sees_municipality(found[0].municipality):
        if found:
            ctx.request.scope.setdefault("state", {})["refusal"] = "other-municipality"
        raise _unknown(number)
    return found[0]


def invoices_json(ctx: Context, invoices) -> list[dict]:
    from osuus.render.ledger_json import invoice_json

    agreements = agreements_of(ctx.reader, {i.agreement_year for i in invoices})
    return [invoice_json(i, agreements.get(i.agreement_year), ctx.lang) for i in invoices]


@router.get("", response_model=models.Page[models.InvoiceSummary], responses=responses(401, 403, 404, 422),
            summary="Invoices and credit notes, in number order (each one's lines at its own address)")
def list_(request: Request, response: Response, ctx: Context = Depends(READ), ask: PageAsk = Depends(page_ask),
          year: int | None = Query(None, description="of the invoice date (numbers run within it)"),
          municipality_name: str | None = Query(None, alias="municipality", description="a code or a name"),
          period: str | None = Query(None, description="the billing period, such as 2021-03"),
          kind: DocumentKindName | None = None) -> dict:
    from osuus.billing.kinds import DocumentKind
    from osuus.calendar import Period
    from osuus.services.invoicing import invoice_page

    where: dict = {"year": year_of(year) if year is not None else None,
                   "kind": DocumentKind(kind.value) if kind is not None else None}
    if period is not None:
        try:
            where["period"] = Period.parse(period)
        except ValueError as exc:
            raise ProblemsError([Problem(str(exc), key="period", value=period[:60], code="period.invalid")]) from None
    code = municipality_code(ctx.reader, municipality_name, year) if municipality_name else None
    if ctx.member is not None:
        if code is not None and code != ctx.member:
            return page(request, response, [], 0, ask)
        code = ctx.member
    where["municipality"] = code
    found = invoice_page(ctx.reader, offset=ask.offset, limit=ask.limit, lines=False, **where)
    summaries = [{k: v for k, v in item.items() if k != "lines"} for item in invoices_json(ctx, found.invoices)]
    return page(request, response, summaries, found.total, ask)


def document_tag(ctx: Context, invoice, *parts, weak: bool = False) -> str:
    """The ETag of a document of `invoice`: its content (the view, as issued), the agreement
    revision its master data comes from, and what is made of them (`parts`). The web app's
    documents are cached by the same tags."""
    agreement_hash = ""
    if invoice.agreement_year is not None:
        from osuus.services.agreements import agreement_hash as hash_of

        agreement_hash = hash_of(ctx.reader, invoice.agreement_year)
    return etags.tag(repr(invoice), agreement_hash, *parts, weak=weak)


def _document(ctx: Context, invoice, *, einvoice: bool = False):
    from osuus.services.documents import invoice_documents

    with ctx.reader.read() as session:
        return invoice_documents(session, [invoice], einvoice=einvoice)[0]


#: PDFs and Peppol documents made, by their strong ETag (a process's memory, at most 64 MB).
DOCUMENTS = etags.DocumentCache()


def _bytes(request: Request, etag: str, media_type: str, filename: str, make) -> Response:
    headers = {"ETag": etag, "Cache-Control": etags.PRIVATE}
    if etags.matches(request, etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    area = request.path_params.get("area", "")
    return Response(DOCUMENTS.get_or_make(area, etag, make), media_type=media_type, headers=headers)


DOCUMENT_RESPONSES = {304: {"description": "Not modified: the ETag sent in If-None-Match is the document's"},
                      **responses(401, 403, 404, 422)}


@router.get("/{number}.pdf", response_class=Response, summary="The invoice or credit note as PDF",
            responses={200: {"content": {"application/pdf": {}}, "description": "the PDF"}, **DOCUMENT_RESPONSES})
def pdf(number: str, request: Request, ctx: Context = Depends(READ), lang: str | None = LANG) -> Response:
    """The same bytes as `osuus export pdf` in the language asked for. `If-None-Match` with its
    ETag: 304, without the PDF being made again."""
    from osuus.render.pdf.letters import invoice_pdf

    invoice = invoice_view(ctx, number)
    language = lang or ctx.lang
    etag = document_tag(ctx, invoice, "pdf", language)
    return _bytes(request, etag, "application/pdf", f"{number}.pdf",
                  lambda: invoice_pdf(_document(ctx, invoice), language))


@router.get("/{number}/finvoice", response_class=Response, summary="The invoice message in Finvoice 3.0",
            responses={200: {"content": {"application/xml": {}}, "description": "Finvoice 3.0"}, **DOCUMENT_RESPONSES})
def finvoice(number: str, request: Request, ctx: Context = Depends(READ)) -> Response:
    """The Finvoice invoice message (`osuus export einvoice --format finvoice`) without its attachments
    message. Each answer is a new send (a fresh message identifier and time stamp), so its ETag is weak."""
    from osuus.einvoice.finvoice import finvoice_xml

    invoice = invoice_view(ctx, number)
    etag = document_tag(ctx, invoice, "finvoice", weak=True)
    return _bytes(request, etag, "application/xml", f"{number}.finvoice.xml",
                  lambda: finvoice_xml(_document(ctx, invoice, einvoice=True)))


@router.get("/{number}/peppol", response_class=Response, summary="The invoice in Peppol BIS Billing 3.0 (UBL)",
            responses={200: {"content": {"application/xml": {}}, "description": "Peppol BIS 3 (UBL)"},
                       **DOCUMENT_RESPONSES})
def peppol(number: str, request: Request, ctx: Context = Depends(READ)) -> Response:
    """UBL Invoice or CreditNote with the invoice's Finnish PDF inside (`osuus export einvoice --format peppol`)."""
    from osuus.einvoice.peppol import peppol_xml
    from osuus.render.pdf.letters import invoice_pdf

    invoice = invoice_view(ctx, number)
    etag = document_tag(ctx, invoice, "peppol")

    def make() -> bytes:
        doc = _document(ctx, invoice, einvoice=True)
        return peppol_xml(doc, invoice_pdf(doc, "fi"))

    return _bytes(request, etag, "application/xml", f"{number}.peppol.xml", make)


@router.get("/{number}", response_model=models.Invoice, responses={304: {"description": "Not modified"},
                                                                   **responses(401, 403, 404)},
            summary="An invoice or credit note, with its lines")
def show(number: str, request: Request, response: Response, ctx: Context = Depends(READ)):
    invoice = invoice_view(ctx, number)
    etag = document_tag(ctx, invoice, "json", ctx.lang)
    if etags.matches(request, etag):
        return etags.not_modified(etag, etags.PRIVATE)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = etags.PRIVATE
    return invoices_json(ctx, [invoice])[0]


@router.get("/{number}/explain", response_model=models.InvoiceExplanation, responses=responses(401, 403, 404),
            summary="Why every line of an invoice is what it is")
def explain_all(number: str, ctx: Context = Depends(READ)) -> dict:
    return _explain(ctx, number, None)


@router.get("/{number}/explain/{line}", response_model=models.InvoiceExplanation, responses=responses(401, 403, 404),
            summary="Why a line of an invoice is what it is, down to the allocation and its clause")
def explain_line(number: str, line: int, ctx: Context = Depends(READ)) -> dict:
    """`osuus explain invoice NUMBER --line N --format json`: the line's figure tree."""
    return _explain(ctx, number, line)


def _explain(ctx: Context, number: str, line: int | None) -> dict:
    from osuus.render.explain_ledger import to_json
    from osuus.services.explain import explain_invoice

    invoice_view(ctx, number, explanations=False)  # a member's own only
    return to_json(explain_invoice(ctx.reader, number, line), ctx.lang)


@router.post("/{number}/credit", response_model=models.Draft, status_code=201,
             responses=responses(401, 403, 404, 409, 422), summary="Draft a credit note of the whole invoice")
def credit(number: str, body: models.CreditRequest, request: Request, response: Response,
           ctx: Context = Depends(require(Resource.RUNS, Action.WRITE))) -> dict:
    """A credit note, as a draft for an approver (`POST runs/{id}/approve` issues it), with its reason."""
    from osuus.api.routes.runs import draft_answer
    from osuus.services.approval import prepare_credit

    return draft_answer(ctx, response, prepare_credit(ctx.ledger, number, body.reason, body.date or today()))
