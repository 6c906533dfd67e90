"""Imports: a CSV or XLSX export of the host's systems uploaded, checked row by row, stored all
or nothing (osuus.services.imports, as `osuus import`)."""

from __future__ import annotations

import enum

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile

from osuus.access import Action, Resource
from osuus.api import models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import saved, year_of
from osuus.api.problems import responses

router = APIRouter(prefix="/areas/{area}/imports", route_class=GuardedRoute, tags=["imports"])


class ImportKind(str, enum.Enum):
    events = "events"
    counts = "counts"
    costs = "costs"


@router.post("/{kind}", response_model=models.ImportResult, status_code=201,
             responses={200: {"model": models.ImportResult, "description": "Nothing new: the file, or its rows, "
                                                                           "were imported before"},
                        **responses(401, 403, 404, 422)},
             summary="Import a file of service events, reference counts or actual costs")
def import_file(request: Request, response: Response, kind: ImportKind, ctx: Context = Depends(
        require(Resource.IMPORTS, Action.WRITE)),
                file: UploadFile = File(description="the file: CSV (UTF-8; `,` `;` or tab) or XLSX"),
                year: int | None = Form(None, description="events: the year being imported (every date in it)")
                ) -> dict:
    """The file's formats are in docs/import-formats.md. A file with a bad row is refused whole:
    422 with every problem at its file, row and column, in the words of `osuus import` (`errors`).
    The same file again adds nothing (200, `created` false); new rows: 201."""
    from osuus.services import imports

    with saved(file) as path:
        if kind is ImportKind.events:
            result = imports.import_events(ctx.ledger, path, year_of(year) if year is not None else None)
        elif kind is ImportKind.counts:
            result = imports.import_counts(ctx.ledger, path)
        else:
            result = imports.import_costs(ctx.ledger, path)
    if not result.added:
        response.status_code = 200
    return {"kind": result.kind, "file": result.file, "rows": result.rows, "added": result.added,
            "created": result.created}
