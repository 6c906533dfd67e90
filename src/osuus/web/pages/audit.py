"""The change log (admin, auditor): its records, newest first, paged and filtered (action,
actor, subject, a range of days); each record's details; and the verification of the ledger
against the log (`osuus audit verify`), whose every finding is listed.

The filters are a GET form, so a filtered list is an address to keep or send. Days are days
in Finland (Europe/Helsinki), as the times shown are. The records are read by
osuus.services.audit (`audit_entries`, `audit_choices`, `audit_record`), in the reader's area alone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from osuus.access import Action, Resource
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page

router = APIRouter(route_class=PageRoute)

READ = page(Resource.AUDIT, Action.READ)
PER_PAGE = 50
#: The details a record keeps that are shown apart from the others (what was written; the request).
CONTENT, VIA = "content", "via"
#: The details that are counts (written in the reader's locale: 8 547) and sums of money (1 234,56 €);
#: any other number (an id, a year, a revision) is shown as the record keeps it.
COUNTS = frozenset({"rows", "added", "sessions_ended", "documents", "events"})
MONEY = frozenset({"total"})
#: The days a filter or a form takes (beyond them a date's arithmetic overflows).
FIRST_YEAR, LAST_YEAR = 1900, 2200
_FINNISH_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class Filters:
    action: str = ""
    actor: str = ""
    subject: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def query(self) -> dict[str, str]:
        """The filters as the form's query (those given)."""
        values = {"action": self.action, "actor": self.actor, "subject": self.subject,
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in values.items() if v}


def parse_day(text: str) -> dt.date:
    """A day as a date field sends it (2021-02-01), or as a Finn types it (1.2.2021), of the years
    FIRST_YEAR–LAST_YEAR (ValueError otherwise: 0001-01-01 in Finland is no day in UTC)."""
    text = text.strip()
    found = _FINNISH_DATE.match(text)
    if found:
        day = dt.date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    else:
        day = dt.date.fromisoformat(text)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"expected a day of the years {FIRST_YEAR}–{LAST_YEAR}, found {day.isoformat()}")
    return day


def _start_of(day: dt.date) -> dt.datetime:
    from osuus.web.pages.home import HELSINKI

    return dt.datetime.combine(day, dt.time(0), HELSINKI).astimezone(dt.timezone.utc)


def search(ledger, f: Filters, *, offset: int = 0, limit: int = PER_PAGE):
    """The records that match the filters, newest first (an AuditPage): days in Finland."""
    from osuus.services.audit import audit_entries

    return audit_entries(ledger, offset=offset, limit=limit, action=f.action, actor=f.actor, subject=f.subject,
                         since=_start_of(f.since) if f.since else None,
                         before=_start_of(f.until + dt.timedelta(days=1)) if f.until else None)


# --------------------------------------------------------------------------
# words
# --------------------------------------------------------------------------

def action_words(p: Page, action: str) -> str:
    key = f"web.audit.action.{action}"
    return p.t(key) if p.words.has(key) else action


def _value(p: Page, name: str, value) -> str:
    """A detail as the reader reads it: a count or a sum in their locale, any other value as kept."""
    if name in COUNTS and isinstance(value, int) and not isinstance(value, bool):
        return p.fmt.count(value)
    if name in MONEY and isinstance(value, str):
        from decimal import Decimal, InvalidOperation

        try:
            amount = Decimal(value)
        except InvalidOperation:
            return value
        return p.fmt.money(amount) if amount.is_finite() else value
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _table_words(p: Page, table: str) -> str:
    key = f"cli.audit.table.{table}"
    words = p.t(key) if p.words.has(key) else table
    return words[:1].upper() + words[1:]


def detail_rows(p: Page, details: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """A record's details as (name, value) rows; the request it came from; the rows it wrote."""
    plain = [{"name": k, "value": _value(p, k, v)} for k, v in sorted(details.items()) if k not in (CONTENT, VIA)]
    via = details.get(VIA)
    request = [{"name": k, "value": _value(p, k, v)} for k, v in sorted(via.items())] if isinstance(via, dict) else []
    content = details.get(CONTENT)
    written = []
    if isinstance(content, dict):
        changed = {t: len(keys) for t, keys in (content.get("before") or {}).items()}
        removed = {t: len(keys) for t, keys in (content.get("removed") or {}).items()}
        tables = content.get("tables") or {}
        for table in sorted(set(tables) | set(changed) | set(removed)):
            rows = tables.get(table, {}).get("rows", 0) if isinstance(tables.get(table), dict) else 0
            written.append({"table": _table_words(p, table), "rows": p.fmt.count(rows),
                            "changed": p.fmt.count(changed.get(table, 0)), "removed": p.fmt.count(removed.get(table, 0))})
    return plain, request, written


# --------------------------------------------------------------------------
# the pages
# --------------------------------------------------------------------------

def _filters(p: Page, query) -> tuple[Filters, dict, list[tuple[str, str]]]:
    """The filters asked for, the form's values as typed, and the errors of those not valid."""
    asked = {name: (query.get(name) or "").strip()[:200] for name in ("action", "actor", "subject", "since", "until")}
    errors, days = [], {}
    for name in ("since", "until"):
        days[name] = None
        if asked[name]:
            try:
                days[name] = parse_day(asked[name])
            except ValueError:
                errors.append((name, p.t("web.audit.error.day", value=asked[name][:40])))
    if days["since"] and days["until"] and days["since"] > days["until"]:
        errors.append(("until", p.t("web.audit.error.range")))
    return Filters(asked["action"], asked["actor"], asked["subject"], days["since"], days["until"]), asked, errors


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isascii() and text.isdigit() and 0 < int(text) < 1_000_000 else 1


@router.get("/areas/{area}/audit")
def audit_log(request: Request, p: Page = Depends(READ)):
    from osuus.services.audit import audit_choices
    from osuus.web.pages.home import local_time

    f, asked, errors = _filters(p, request.query_params)
    number = _page_number(request.query_params.get("page"))
    actions, actors = audit_choices(p.reader)
    found = None if errors else search(p.reader, f, offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
    entries, total = (found.entries, found.total) if found is not None else ((), 0)
    rows = [{"id": e.id, "url": p.url(f"audit/{e.id}"), "at": local_time(p, e.at), "actor": e.actor,
             "action": action_words(p, e.action), "code": e.action, "subject": e.subject, "reason": e.reason}
            for e in entries]
    kept = f.query()

    def page_url(n: int) -> str:
        return p.url("audit") + "?" + urlencode({**kept, "page": n})

    first = (number - 1) * PER_PAGE + 1 if rows else 0
    last = first + len(rows) - 1 if rows else 0
    return p.render("audit/log.html", status=400 if errors else 200, asked=asked, errors=errors, rows=rows,
                    total=p.fmt.count(total), first=p.fmt.count(first), last=p.fmt.count(last), filtered=bool(kept),
                    actions=[(a, action_words(p, a)) for a in actions], actors=actors,
                    previous_url=page_url(number - 1) if number > 1 and not errors else "",
                    next_url=page_url(number + 1) if number * PER_PAGE < total else "")


def _verify_page(p: Page, *, result=None, checkpoint_text: str = "", errors=(), status: int = 200):
    return p.render("audit/verify.html", status=status, result=result, checkpoint_text=checkpoint_text,
                    errors=list(errors))


@router.get("/areas/{area}/audit/verify")
def verify_form(p: Page = Depends(READ)):
    return _verify_page(p)


@router.post("/areas/{area}/audit/verify")
async def verify(request: Request, p: Page = Depends(READ)):
    """Verify the ledger against its log (it writes nothing: the answer is the result itself)."""
    from fastapi.concurrency import run_in_threadpool

    form = await request.form()
    text = str(form.get("checkpoint", "")).strip()[:2000]
    return await run_in_threadpool(_verify, p, text)


def _verify(p: Page, text: str):
    from osuus.problems import ProblemsError
    from osuus.render.audit_text import AuditText
    from osuus.services.audit import read_checkpoint, verify as verify_ledger

    checkpoint = None
    if text:
        try:
            checkpoint = read_checkpoint(text, "checkpoint")
        except ProblemsError:
            return _verify_page(p, checkpoint_text=text, errors=[("checkpoint", p.t("web.audit.error.checkpoint"))],
                                status=400)
    found = verify_ledger(p.reader, checkpoint)
    words = AuditText(p.lang)
    result = {"ok": not found.findings, "records": found.records, "rows": found.rows,
              "summary": (words.verified(found) if not found.findings else words.failed(found)).strip().splitlines(),
              "findings": [words.finding(f) for f in found.findings]}
    return _verify_page(p, result=result, checkpoint_text=text)


@router.get("/areas/{area}/audit/{sequence}")
def audit_record(sequence: int, p: Page = Depends(READ)):
    from osuus.services.audit import audit_record
    from osuus.web.pages.home import local_time

    found = audit_record(p.reader, sequence) if 0 < sequence < 2**31 else None  # the database's integer
    if found is None:
        raise PageError(404, "web.error.not_found")
    plain, via, written = detail_rows(p, found.details)
    return p.render("audit/record.html", record=found, at=local_time(p, found.at),
                    action=action_words(p, found.action), details=plain, via=via, written=written,
                    back_url=p.url("audit"))
