"""Closing a year: confirmed prices, actual shares and every member's settlement (preparer), and
the closing as it was made."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from osuus.access import Action, Resource
from osuus.api import models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import agreement_of, year_of
from osuus.api.problems import responses

router = APIRouter(prefix="/areas/{area}/closings", route_class=GuardedRoute, tags=["closings"])


def _json(ctx: Context, result) -> dict:
    from osuus.render.ledger_json import close_json

    return close_json(result, agreement_of(ctx.reader, result.year), ctx.lang)


@router.post("/{year}", response_model=models.Closing, status_code=201,
             responses={200: {"model": models.Closing, "description": "The year is closed already: as it was closed"},
                        **responses(401, 403, 404, 422)},
             summary="Close a year: confirm its prices and settle every member")
def close(year: int, response: Response, ctx: Context = Depends(require(Resource.CLOSINGS, Action.WRITE))) -> dict:
    """`osuus close-year YEAR`. A year closed already is answered as it was closed (200)."""
    from osuus.services.closing import close_year

    result = close_year(ctx.ledger, year_of(year))
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/areas/{ctx.area}/closings/{year}"
    return _json(ctx, result)


@router.get("/{year}", response_model=models.Closing, responses=responses(401, 403, 404),
            summary="A closed year: its confirmed prices and settlements")
def show(year: int, ctx: Context = Depends(require(Resource.CLOSINGS, Action.READ))) -> dict:
    from osuus.services.closing import show_closing

    return _json(ctx, show_closing(ctx.reader, year_of(year)))
