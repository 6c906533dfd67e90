"""The change log (auditor, admin): its records, newest first, and its verification."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from osuus.access import Action, Resource
from osuus.api import models
from osuus.api.auth import Context, GuardedRoute, require
from osuus.api.common import iso
from osuus.api.paging import PageAsk, page, page_ask
from osuus.api.problems import responses

router = APIRouter(prefix="/areas/{area}/audit", route_class=GuardedRoute, tags=["audit"])

READ = require(Resource.AUDIT, Action.READ)


def _entries(ledger, ask: PageAsk) -> tuple[list[dict], int]:
    """A page of the area's records, newest first."""
    from osuus.services.audit import audit_entries

    found = audit_entries(ledger, offset=ask.offset, limit=ask.limit)
    return [{"sequence": r.id, "at": iso(r.at), "actor": r.actor, "action": r.action, "subject": r.subject,
             "reason": r.reason, "hash": r.hash} for r in found.entries], found.total


@router.get("/log", response_model=models.Page[models.AuditEntry], responses=responses(401, 403, 404),
            summary="The change log's records, newest first")
def log(request: Request, response: Response, ctx: Context = Depends(READ), ask: PageAsk = Depends(page_ask)) -> dict:
    items, total = _entries(ctx.reader, ask)
    return page(request, response, items, total, ask)


@router.get("/verify", response_model=models.Verification, responses=responses(401, 403, 404),
            summary="Verify the ledger against its change log (`osuus audit verify`)")
def verify(ctx: Context = Depends(READ)) -> dict:
    """The chain of hashes recomputed, and every row of the ledger checked against the record that
    wrote it. `ok` false: `findings` names each thing found, as `osuus audit verify` prints it."""
    from osuus.render.audit_text import AuditText, checkpoint_json
    from osuus.services.audit import checkpoint, verify as verify_ledger

    result = verify_ledger(ctx.reader)
    text = AuditText(ctx.lang)
    return {"ok": not result.findings, "records": result.records, "rows": result.rows,
            "not_covered": result.not_covered,
            "findings": [{"kind": f.kind, "text": text.finding(f), "record": f.record, "table": f.table, "key": f.key}
                         for f in result.findings],
            "text": text.failed(result) if result.findings else text.verified(result).strip(),
            "checkpoint": checkpoint_json(checkpoint(ctx.reader))}
