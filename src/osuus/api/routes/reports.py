"""A member's annual report (JSON and PDF) and the explanation of its settlement; a member reads its own."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request, Response

from osuus.access import Action, Resource
from osuus.api import etags, models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import agreement_of, municipality_code, today, year_of
from osuus.api.problems import responses
from osuus.problems import refuse

router = APIRouter(prefix="/areas/{area}/reports", route_class=GuardedRoute, tags=["reports"])

READ = require(Resource.REPORTS, Action.READ)


def _code(ctx: Context, year: int, text: str) -> str:
    code = municipality_code(ctx.reader, text, year_of(year))
    if not ctx.principal.sees_municipality(code):
        ctx.request.scope.setdefault("state", {})["refusal"] = "other-municipality"
        raise refuse(f"unknown municipality '{text}': not a code or a name of any stored agreement",
                     key="municipality", code="municipality.unknown")
    return code


@router.get("/{year}/{municipality}.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the report as PDF"},
                       304: {"description": "Not modified"}, **responses(401, 403, 404, 422)},
            summary="A member's annual report as PDF, with its chart")
def report_pdf(year: int, municipality: str, request: Request, ctx: Context = Depends(READ),
               lang: str | None = Query(None, pattern="^(fi|sv|en)$"),
               date: dt.date | None = Query(None, description="the report's date (default: today)")) -> Response:
    """The same bytes as `osuus export report` for the date and language asked for; `If-None-Match`
    with its ETag: 304, without the PDF being made again."""
    from osuus.render.pdf.reports import annual_report_pdf
    from osuus.services.agreements import Agreements
    from osuus.services.documents import annual_report_documents

    code = _code(ctx, year, municipality)
    language, day = lang or ctx.lang, date or today()
    with ctx.reader.read() as session:
        document = annual_report_documents(session, year, day, code)[0]
        agreements = Agreements(session)
        hashes = [getattr(agreements.version(y), "content_hash", "") for y in (year, year - 1)]
    etag = etags.tag(repr(document.report), repr(document.previous), hashes, "report.pdf", language, day)
    headers = {"ETag": etag, "Cache-Control": etags.PRIVATE}
    if etags.matches(request, etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="report-{year}-{code}.pdf"'
    return Response(annual_report_pdf(document, language), media_type="application/pdf", headers=headers)


@router.get("/{year}/{municipality}", response_model=models.Report, responses=responses(401, 403, 404),
            summary="A member's annual report: customers, services, estimate, billed, actual, settlement")
def report(year: int, municipality: str, ctx: Context = Depends(READ)) -> dict:
    from osuus.render.ledger_json import report_json
    from osuus.services.reports import annual_report

    code = _code(ctx, year, municipality)
    return report_json(annual_report(ctx.reader, year, code), agreement_of(ctx.reader, year), ctx.lang)


@router.get("/{year}/{municipality}/settlement", response_model=models.FigureExplanation,
            responses=responses(401, 403, 404), summary="Why a member's settlement of a closed year is what it is")
def settlement(year: int, municipality: str, ctx: Context = Depends(READ)) -> dict:
    """`osuus explain settlement YEAR -m …`: the actual share − billed, and any credit carried back."""
    from osuus.render.explain_ledger import to_json
    from osuus.services.explain import explain_settlement

    code = _code(ctx, year, municipality)
    return to_json(explain_settlement(ctx.reader, year, code), ctx.lang)
