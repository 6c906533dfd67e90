"""The August estimate of a year: made (preparer), read (a member: its own), explained."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from osuus.access import Action, Resource
from osuus.api import models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import agreement_of, municipality_code, year_of
from osuus.api.problems import responses
from osuus.problems import refuse

router = APIRouter(prefix="/areas/{area}/estimates", route_class=GuardedRoute, tags=["estimates"])

READ = require(Resource.ESTIMATES, Action.READ)


def _json(ctx: Context, result) -> dict:
    from osuus.render.ledger_json import estimate_json

    agreement = agreement_of(ctx.reader, result.year)
    return estimate_json(result, agreement, ctx.lang)


@router.post("/{year}", response_model=models.Estimate, status_code=201,
             responses={200: {"model": models.Estimate, "description": "The same estimate is stored already"},
                        **responses(401, 403, 404, 422)},
             summary="Make the year's estimate (a new revision when it changed)")
def make(year: int, response: Response, ctx: Context = Depends(require(Resource.ESTIMATES, Action.WRITE))) -> dict:
    """`osuus estimate YEAR`: from the year's agreement, or projected from the last closed year.
    The same estimate again adds nothing (200, `created` false)."""
    from osuus.services.estimates import make_estimate

    result = make_estimate(ctx.ledger, year_of(year))
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/areas/{ctx.area}/estimates/{year}"
    return _json(ctx, result)


@router.get("/{year}", response_model=models.Estimate, responses=responses(401, 403, 404),
            summary="The year's estimate in force (a member: its own)")
def show(year: int, ctx: Context = Depends(READ)) -> dict:
    from osuus.services.estimates import EstimateResult, latest_estimates

    found = latest_estimates(ctx.reader, year_of(year), ctx.member)
    if not found:
        raise refuse(f"no estimate for {year} is stored", key="year", code="estimate.missing")
    return _json(ctx, EstimateResult(year, found[0].revision, False, found))


@router.get("/{year}/explain/{municipality}", response_model=models.FigureExplanation,
            responses=responses(401, 403, 404), summary="A member's estimate, part by part")
def explain(year: int, municipality: str, ctx: Context = Depends(READ)) -> dict:
    from osuus.render.explain_ledger import to_json
    from osuus.services.explain import explain_estimate

    code = municipality_code(ctx.reader, municipality, year_of(year))
    if not ctx.principal.sees_municipality(code):
        raise refuse(f"no estimate for {year} of municipality {municipality} is stored", key="municipality",
                     code="estimate.missing")
    return to_json(explain_estimate(ctx.reader, year, code), ctx.lang)
