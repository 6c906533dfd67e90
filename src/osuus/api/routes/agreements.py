"""Agreements: store one (admin), list them, show a year's, its published tables 1 and 2 as the
allocation JSON contract, and the explanation of every figure of a municipality."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile

from osuus.access import Action, Resource
from osuus.api import models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import iso, saved, year_of
from osuus.api.paging import PageAsk, page, page_ask
from osuus.api.problems import responses
from osuus.problems import refuse

router = APIRouter(prefix="/areas/{area}/agreements", route_class=GuardedRoute, tags=["agreements"])

READ = require(Resource.AGREEMENTS, Action.READ)
WRITE = require(Resource.AGREEMENTS, Action.WRITE)


def agreement_json(view) -> dict:
    return {"agreement_id": view.agreement_id, "year": view.year, "revision": view.revision,
            "file_name": view.file_name, "sha256": view.sha256, "added_at": iso(view.added_at),
            "added_by": view.added_by, "checks": list(view.checks)}


@router.post("", response_model=models.AgreementAdded, status_code=201,
             responses={200: {"model": models.AgreementAdded, "description": "The same content is stored already"},
                        **responses(401, 403, 404, 422)},
             summary="Store a year's agreement (its TOML file)")
def add(request: Request, response: Response, ctx: Context = Depends(WRITE),
        file: UploadFile = File(description="the agreement file (TOML)")) -> dict:
    """Every check runs; a file with problems is refused whole (422, every problem with its line and
    key). The same content again adds nothing (200); an edited file is a new revision of its year (201)."""
    from osuus.services.agreements import add_agreement

    with saved(file) as path:
        added = add_agreement(ctx.ledger, path)
    if not added.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/areas/{ctx.area}/agreements/{added.agreement.year}"
    return {"agreement": agreement_json(added.agreement), "created": added.created,
            "previous_revision": added.previous_revision}


@router.get("", response_model=models.Page[models.Agreement], responses=responses(401, 403, 404),
            summary="The stored agreements, every revision, by year")
def list_(request: Request, response: Response, ctx: Context = Depends(READ),
          ask: PageAsk = Depends(page_ask)) -> dict:
    from osuus.services.agreements import list_agreements

    found = list_agreements(ctx.reader)
    return page(request, response, [agreement_json(v) for v in found[ask.offset:ask.offset + ask.limit]],
                len(found), ask)


def _views(ctx: Context, year: int):
    from osuus.services.agreements import list_agreements

    views = [v for v in list_agreements(ctx.reader) if v.year == year_of(year)]
    if not views:
        raise refuse(f"no agreement for {year} is stored", key="year", code="agreement.unknown")
    return views


@router.get("/{year}", response_model=models.AgreementYear, responses=responses(401, 403, 404),
            summary="A year's agreement in force (its newest revision), with every revision")
def show(year: int, ctx: Context = Depends(READ)) -> dict:
    views = _views(ctx, year)
    return {**agreement_json(views[-1]), "revisions": [agreement_json(v) for v in views]}


def _allocation(ctx: Context, year: int):
    from osuus.engine import allocate
    from osuus.problems import ProblemsError
    from osuus.services.agreements import Agreements

    with ctx.reader.read() as session:
        agreement = Agreements(session).of_year(year_of(year))
    if agreement is None:
        raise refuse(f"no agreement for {year} is stored", key="year", code="agreement.unknown")
    allocation = allocate(agreement)
    if allocation.problems:
        raise ProblemsError(allocation.problems)
    return allocation


@router.get("/{year}/tables", response_model=models.Tables, responses=responses(401, 403, 404),
            summary="The published tables (Taulukko 1 and 2) as the allocation JSON contract")
def tables(year: int, ctx: Context = Depends(READ)) -> dict:
    """Exactly `osuus allocate FILE --format json` of the year's agreement in force: money as
    decimal strings with two decimals, a row per municipality (README, "The JSON contract")."""
    from osuus.render.json_out import allocation_to_json

    return allocation_to_json(_allocation(ctx, year))


@router.get("/{year}/explain/{municipality}", response_model=models.AllocationExplanation,
            responses=responses(401, 403, 404), summary="Why each of a municipality's figures is what it is")
def explain(year: int, municipality: str, ctx: Context = Depends(READ)) -> dict:
    """Every figure of the municipality (code or name) in the year's tables: formula, inputs and
    clause, in the reader's language (`osuus explain FILE -m … --format json`). A member sees its own."""
    from osuus.render.explain import explanation_json

    allocation = _allocation(ctx, year)
    found = allocation.agreement.find_municipality(municipality)
    if found is None or not ctx.principal.sees_municipality(found.code):
        raise refuse(f"unknown municipality '{municipality}' in the {year} agreement", key="municipality",
                     code="municipality.unknown")
    return explanation_json(allocation, found.code, ctx.lang)


