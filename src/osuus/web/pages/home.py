"""The area's first page (the year at a glance for the host, the member's own page for a member)
and the accessibility statement with its feedback channel."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from osuus.web.app import PageRoute
from osuus.web.context import Page, page, public_page

router = APIRouter(route_class=PageRoute)


@router.get("/areas/{area}/")
async def area_home(request: Request, year: int | None = None, p: Page = Depends(page())):
    return p.render("year.html", year=year)


@router.get("/accessibility")
async def accessibility(request: Request, p: Page = Depends(public_page)):
    return p.render("accessibility.html", sent=request.query_params.get("sent") == "1", errors=[], message="")
