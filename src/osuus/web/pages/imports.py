"""Imports: what the ledger holds so far, and a form per kind of file (service events, reference
counts, actual costs) that uploads a CSV or XLSX export, as `osuus import` and the API's
`POST /imports/{kind}` do: checked row by row and stored all or nothing.

Whoever may read the imports (imports:read: the auditor, the approver, the admin) sees what is
imported; the forms are shown to those who may import (imports:write).

A refused file is answered at once (422) with every problem of the file in a table (row, column,
value, reason), nothing written. A file taken is answered with a redirect to the summary (rows
imported, or "already imported" for the same file again). The summary travels in the redirect's
address signed for the session that made the import (an HMAC keyed by the session's secret
token), so that no link made by anyone else can have the page say that a file was imported, or
with what counts: an address without a valid signature shows no summary. The forms work without JavaScript;
with htmx the upload reports its progress (static/osuus.js fills the bar) and the answer
replaces the page's content.

The import modules say most of their reasons under the one code `import`, in English with the
details written in; `readable` gives each known reason a code of its own (`import.<reason>`,
with the detail in the problem's `key`), so that the catalogue's `problem.<code>` says it in
the reader's language. A reason it does not know keeps its own words.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from osuus.access import Action, Resource
from osuus.problems import Problem, ProblemsError
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page, redirect

router = APIRouter(route_class=PageRoute)

READ = page(Resource.IMPORTS, Action.READ)
WRITE = page(Resource.IMPORTS, Action.WRITE)
KINDS = ("events", "counts", "costs")
FIRST_YEAR, LAST_YEAR = 1900, 2200
RECENT = 20  # how many of the imported files the page lists


# --- what is imported so far ---------------------------------------------------------------------

def summary(reader) -> dict:
    """Per year: service events, reference counts, rows of actual costs (osuus.services.imports);
    and the files imported last."""
    from osuus.services.imports import import_summary

    found = import_summary(reader, recent=RECENT)
    return {"years": [dataclasses.asdict(y) for y in found.years], "batches": list(found.files)}


# --- the problems in the reader's words ----------------------------------------------------------

#: (the code raised, what its message says, the code it is shown by). The group `key`, when
#: there is one, is the detail the catalogue's message names as {key} (only where the problem
#: has a column: the problems table shows the key where there is none); `value`, the value.
REASONS: tuple[tuple[str, re.Pattern, str], ...] = tuple((code, re.compile(pattern), to) for code, pattern, to in (
    ("import", r"the column appears twice in the header", "import.duplicate-column"),
    ("import", r"unknown column: expected (?P<key>.*)", "import.unknown-column"),
    ("import", r"required column missing from the header", "import.missing-column"),
    ("import", r"the file is empty: .*", "import.empty-file"),
    ("import", r"the file is not UTF-8 text.*", "import.not-utf8"),
    ("import", r"cannot read the CSV: .*", "import.unreadable-csv"),
    ("import", r"cannot read as an Excel workbook \(\.xlsx\): .*", "import.not-xlsx"),
    ("import", r"cannot read the worksheet: .*", "import.unreadable-sheet"),
    ("import", r"cannot read the file: .*", "import.unreadable"),
    ("import", r"the workbook has no worksheet", "import.no-worksheet"),
    ("import", r"the old Excel format \(\.xls\) is not read.*", "import.xls"),
    ("import", r"unknown file type '?(?P<value>[^']*)'?: expected \.csv or \.xlsx", "import.file-type"),
    ("import", r"holds a personal identity code \(henkilötunnus\).*", "import.personal-code"),
    ("import", r"a value in column (?P<key>\d+), which has no name in the header", "import.unnamed-column"),
    ("import", r"missing: \S+ is priced by integration year; give integration_year \((?P<key>[^)]*)\)",
     "import.integration-year-missing"),
    ("import", r"missing: expected a date as YYYY-MM-DD or D\.M\.YYYY", "import.missing-date"),
    ("import", r"missing: expected .*", "import.missing"),
    ("import", r"too long: \d+ characters, at most (?P<key>\d+) allowed", "import.too-long"),
    ("import", r"expected .*: a number such as 12,5 or 12\.5", "import.not-number"),
    ("import", r"expected .* that is not negative", "import.negative"),
    ("import", r"expected .* with at most (?P<key>\d+) decimals", "import.decimals"),
    ("import", r"expected .* below (?P<key>[\d ]+) \(what the ledger can bill and sum\)", "import.too-big"),
    ("import", r"expected .*: a whole number from (?P<low>\d+) to (?P<high>\d+)", "import.not-integer"),
    ("import", r"expected a date as YYYY-MM-DD or D\.M\.YYYY", "import.date"),
    ("import", r"expected a date of the years (?P<key>.*)", "import.date-range"),
    ("import", r"the same event id is on an earlier row of this file", "import.duplicate-row"),
    ("import", r".* is on an earlier row of this file", "import.duplicate-row"),
    ("import", r"no agreement for \d+: \w+ can be imported for (?P<key>.*)", "import.no-agreement"),
    ("import", r"not (?:in )?(?P<key>\d+), the year being imported", "import.other-year"),
    ("import", r"unknown component: the \d+ agreement has (?P<key>.*)", "import.unknown-component"),
    ("import", r"\S+ is not billed per service event in the \d+ agreement: events are for (?P<key>.*)",
     "import.not-billed-per-event"),
    ("import", r"unknown municipality: not a code or name of the(?: \d+)? agreement", "import.unknown-municipality"),
    ("import", r"this key is computed from another key, not counted.*", "import.derived-key"),
    ("import", r"unknown key: expected one of (?P<key>.*)", "import.unknown-key"),
    ("import", r"expected cost or funding \(kustannus or rahoitus\)", "import.cost-kind"),
    ("import.limit", r".* below [\d ]+ (?:€ )?(?:a year|of \w+ a year|of events per municipality and year)",
     "import.limit"),
    ("import.conflict", r"event id .* is already stored with other content.*", "import.conflict-event"),
    ("import.conflict", r".* is already stored as (?P<key>\S+); a stored \w+ is not overwritten", "import.conflict"),
    ("import.closed-year", r"the year (?P<key>\d+) is closed.*", "import.closed-year"),
    ("import.more", r"… and \d+ more problems.*", "import.more"),
))


def readable(problem: Problem) -> Problem:
    """The problem with a code the catalogue says in every language (and its detail as `key`)."""
    for code, pattern, to in REASONS:
        if problem.code != code:
            continue
        found = pattern.fullmatch(problem.message)
        if found is not None:
            groups = found.groupdict()
            key = f"{groups['low']}–{groups['high']}" if "low" in groups else groups.get("key") or problem.key
            return dataclasses.replace(problem, code=to, key=key, value=problem.value or groups.get("value") or "")
    return problem


def problem_count(problems) -> int:
    """How many problems a refused file has: those listed, and those its last line says are not."""
    count = len(problems)
    if problems and problems[-1].code == "import.more":
        more = re.match(r"… and (\d+) more", problems[-1].message)
        count += int(more.group(1)) - 1 if more else 0
    return count


# --- uploading -----------------------------------------------------------------------------------

def run_import(ledger, kind: str, upload, year: int | None):
    """The upload kept as a file of its own name (api.common.saved) and imported all or nothing."""
    from osuus.api.common import saved
    from osuus.services import imports

    with saved(upload) as path:
        if kind == "events":
            return imports.import_events(ledger, path, year)
        if kind == "counts":
            return imports.import_counts(ledger, path)
        return imports.import_costs(ledger, path)


def _page(p: Page, status: int = 200, *, done: dict | None = None, errors=(), problems=(), refused: dict | None = None,
          values: dict | None = None):
    return p.render("imports/index.html", status=status, summary=summary(p.reader), kinds=KINDS, done=done or {},
                    errors=list(errors), problems=list(problems), refused=refused or {}, values=values or {},
                    may_upload=p.may(Resource.IMPORTS, Action.WRITE), partial_ok=True)


#: The fields of an import's summary in the redirect's address, in the order they are signed.
SUMMARY = ("kind", "file", "rows", "added", "new")


def _signature(token: str, values: dict[str, str]) -> str:
    """The summary's HMAC, keyed by a hash of the session's secret token (a key of its own: not the
    CSRF token, which every form of the session shows)."""
    key = hashlib.sha256(b"osuus-import-summary:" + token.encode()).digest()
    message = json.dumps([values.get(name, "") for name in SUMMARY]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def summary_query(token: str, kind: str, file: str, rows: int, added: int, new: bool) -> str:
    """The query of the address that shows an import's summary to the session of `token`."""
    values = {"kind": kind, "file": file[:200], "rows": str(rows), "added": str(added), "new": "1" if new else "0"}
    return urlencode({**values, "sig": _signature(token, values)})


def _count(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _done(p: Page, request: Request) -> dict:
    """The summary of an import just made, from the redirect's query: only when this session signed
    it (anything else, a hand-made address included, shows none)."""
    q = request.query_params
    values = {name: q.get(name, "") for name in SUMMARY}
    sent = q.get("sig", "")
    if not p.token or not sent or not hmac.compare_digest(sent, _signature(p.token, values)):
        return {}
    rows, added = _count(values["rows"]), _count(values["added"])
    if values["kind"] not in KINDS or not values["file"] or rows is None or added is None:
        return {}
    return {"kind": values["kind"], "file": values["file"], "new_file": values["new"] == "1", "rows": rows,
            "added": added}


@router.get("/areas/{area}/imports")
def imports_page(request: Request, p: Page = Depends(READ)):
    return _page(p, done=_done(p, request))


@router.post("/areas/{area}/imports/{kind}")
async def upload(kind: str, request: Request, p: Page = Depends(WRITE)):
    if kind not in KINDS:
        raise PageError(404, "web.error.not_found")
    form = await request.form()
    upload = form.get("file")
    year_text = str(form.get("year", "") or "").strip() if kind == "events" else ""
    field = f"file-{kind}"
    values = {"kind": kind, "year": year_text}
    errors = []
    if upload is None or isinstance(upload, str) or not upload.filename:
        errors.append((field, p.t("web.imports.no_file")))
    year = None
    if year_text:
        if year_text.isascii() and year_text.isdigit() and FIRST_YEAR <= int(year_text) <= LAST_YEAR:
            year = int(year_text)
        else:
            errors.append(("year-events", p.t("web.imports.bad_year", first=FIRST_YEAR, last=LAST_YEAR)))
    if errors:
        return await run_in_threadpool(lambda: _page(p, 422, errors=errors, values=values))
    try:
        result = await run_in_threadpool(run_import, p.ledger, kind, upload, year)
    except ProblemsError as exc:
        problems = [readable(x) for x in exc.problems]
        file = next((x.file for x in problems if x.file), None) or _name(upload)
        count = problem_count(exc.problems)
        refused = {"kind": kind, "file": file, "count": count}
        errors = [(field, p.t("web.imports.refused", file=file, count=count))]
        return await run_in_threadpool(lambda: _page(p, 422, errors=errors, problems=problems, refused=refused,
                                                     values=values))
    query = summary_query(p.token, kind, result.file, result.rows, result.added, result.created)
    return redirect(p.url("imports") + "?" + query)


def _name(upload) -> str:
    return re.split(r"[\\/]", getattr(upload, "filename", "") or "")[-1][:200]
