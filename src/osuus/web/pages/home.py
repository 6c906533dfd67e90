"""The area's first page (the year at a glance for the host, the member's own page for a member)
and the accessibility statement with its feedback channel.

The year at a glance is `osuus.services.status.year_status` in words: each stage of the yearly
cycle done, waiting or still to do (said with a mark and words, never by colour alone), the
months invoiced, and what to do next as links to the pages that do it. A member sees its own
page instead (osuus.web.pages.member).

The accessibility statement (laki digitaalisten palvelujen tarjoamisesta 306/2019, 15 §) is
public. Its feedback form stores the message, with the time and, when it is sent by a
signed-in user from inside an area, that area (to be read by the area's admins); nothing about
the sender is required, and only what they type is kept. The form takes so many messages per
client address in a while (osuus.services.feedback), counted in the server's memory by a keyed
hash of the address. A message sent from outside any area is shown to the admins of every area
(there is no one else to read it), and the feedback page says so.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from osuus.access import Action, Resource
from osuus.web.app import PageRoute
from osuus.web.context import Page, PageError, page, public_page, redirect

router = APIRouter(route_class=PageRoute)

HELSINKI = ZoneInfo("Europe/Helsinki")
#: The accessibility statement was prepared (and last reviewed) on this day.
STATEMENT_DATE = dt.date(2026, 12, 7)
#: The longest feedback message and contact address taken (a form, not a file upload).
MESSAGE_MAX = 4000
CONTACT_MAX = 200

#: What the reader must be allowed to follow a link to a part of the area (as the menu).
NEEDS = {
    "agreement": (Resource.AGREEMENTS, Action.READ),
    "imports": (Resource.IMPORTS, Action.WRITE),  # a step's link is to take it: importing
    "runs": (Resource.RUNS, Action.READ),
    "invoices": (Resource.INVOICES, Action.READ),
    "year-end": (Resource.CLOSINGS, Action.READ),
    "estimates": (Resource.ESTIMATES, Action.READ),
    "reports": (Resource.REPORTS, Action.READ),
}


# --------------------------------------------------------------------------
# shared by the pages of this helper (audit, users, member)
# --------------------------------------------------------------------------

def aware(at: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands stored UTC times back naive."""
    return at.replace(tzinfo=dt.timezone.utc) if at is not None and at.tzinfo is None else at


def local_time(p: Page, at: dt.datetime | None) -> str:
    """A moment as a reader in Finland reads it: `7.12.2026 22.55` (fi), `7 December 2026 10:55 PM` (en)."""
    if at is None:
        return ""
    from babel.dates import format_time

    local = aware(at).astimezone(HELSINKI)
    return f"{p.fmt.date(local.date())} {format_time(local, 'short', locale=p.fmt.locale)}"


def link_to(p: Page, path: str) -> str:
    """The address of a part of the area, or "" when the reader may not open it."""
    needs = NEEDS.get(path.split("/", 1)[0])
    if needs is not None and not p.may(*needs):
        return ""
    if needs is not None and path.startswith("year-end") and p.member:
        return ""
    return p.url(path)


def chosen_year(p: Page, year: int | None) -> tuple[int, list[int]]:
    """The year asked for (default: the newest the area has), and the years to choose from; a
    year beyond those an agreement may be of is not found (as the agreement's page answers)."""
    from osuus.api.common import FIRST_YEAR, LAST_YEAR
    from osuus.services import status

    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        raise PageError(404, "web.error.not_found")
    known = status.years(p.reader)
    chosen = year if year is not None else (known[0] if known else dt.date.today().year)
    return chosen, sorted(set(known) | {chosen}, reverse=True)


# --------------------------------------------------------------------------
# the year at a glance
# --------------------------------------------------------------------------

def _period_words(p: Page, code: str) -> str:
    from osuus.render.explain import Explainer

    return Explainer(None, p.lang).period(code)


def _draft_words(p: Page, draft) -> str:
    if draft.kind == "invoice_run":
        return p.t("web.year.draft_run", period=_period_words(p, draft.subject))
    return p.t("web.year.draft_credit", number=draft.subject)


def month_strip(p: Page, st) -> list[dict]:
    """The twelve months: invoiced, drafted (waiting for approval) or not yet."""
    from babel.dates import format_date

    from osuus.calendar import Period

    drafted = set()
    for d in st.drafts:
        if d.kind == "invoice_run":
            try:
                period = Period.parse(d.subject)
            except ValueError:
                continue
            drafted |= set(range(period.start.month, period.end.month + 1))
    months = []
    for month in range(1, 13):
        day = dt.date(st.year, month, 1)
        state = "done" if month in st.invoiced_months else "wait" if month in drafted else "todo"
        months.append({"short": format_date(day, "LLL", locale=p.fmt.locale).rstrip("."),
                       "name": p.fmt.month(st.year, month), "state": state,
                       "words": p.t(f"web.year.month_{state}")})
    return months


def stages(p: Page, st) -> list[dict]:
    """Each stage of the cycle: its state (done, wait, todo), its words and where it is done."""
    fmt, year = p.fmt, st.year
    out = []

    def stage(key: str, state: str, detail: str, path: str = "", **extra) -> None:
        out.append({"key": key, "state": state, "title": p.t(f"web.year.stage.{key}"), "detail": detail,
                    "state_words": p.t(f"web.year.state_{state}"), "url": link_to(p, path) if path else "",
                    "months": [], "drafts": [], **extra})

    if st.agreement_revision:
        stage("agreement", "done", p.t("web.year.agreement_done", revision=st.agreement_revision), "agreement")
    else:
        stage("agreement", "todo", p.t("web.year.agreement_todo", year=year), "agreement")
    if st.counts:
        stage("counts", "done", p.t("web.year.counts_done", rows=fmt.count(st.counts),
                                    municipalities=fmt.count(st.count_municipalities)), "imports")
    else:
        stage("counts", "todo", p.t("web.year.counts_todo"), "imports")
    if st.events:
        stage("events", "done", p.t("web.year.events_done", events=fmt.count(st.events),
                                    unbilled=fmt.count(st.unbilled_events)), "imports")
    else:
        stage("events", "todo", p.t("web.year.events_todo"), "imports")
    months = month_strip(p, st)
    invoiced = sum(1 for m in months if m["state"] == "done")
    state = "done" if invoiced == 12 else "wait" if invoiced else "todo"
    stage("invoicing", state, p.t("web.year.invoicing_detail", invoices=fmt.count(st.invoices),
                                  credits=fmt.count(st.credit_notes)), "invoices", months=months)
    drafts = [{"words": _draft_words(p, d), "url": link_to(p, f"runs/{d.id}"), "by": d.prepared_by,
               "at": local_time(p, d.prepared_at)} for d in st.drafts]
    if drafts:
        stage("drafts", "wait", p.n("web.year.drafts_waiting", len(drafts)), "runs", drafts=drafts)
    else:
        stage("drafts", "done", p.t("web.year.drafts_none"), "runs")
    if st.estimate_revision is not None:
        stage("estimate", "done", p.t("web.year.estimate_done", year=year + 1, revision=st.estimate_revision,
                                      date=p.fmt.date(aware(st.estimate_made_at).astimezone(HELSINKI).date())
                                      if st.estimate_made_at else ""), f"estimates/{year + 1}")
    else:
        stage("estimate", "todo", p.t("web.year.estimate_todo", year=year + 1), f"estimates/{year + 1}")
    if st.costs:
        stage("costs", "done", p.t("web.year.costs_done", rows=fmt.count(st.costs)), "imports")
    else:
        stage("costs", "todo", p.t("web.year.costs_todo", year=year), "imports")
    if st.closed:
        stage("closing", "done", p.t("web.year.closed", at=local_time(p, st.closed_at), by=st.closed_by or ""),
              f"year-end/{year}")
    else:
        stage("closing", "todo", p.t("web.year.not_closed"), f"year-end/{year}")
    return out


def next_steps(p: Page, st) -> list[dict]:
    """What to do next, in the order of the cycle: words, and a link where the reader may follow it."""
    year = st.year
    drafts = {d.id: d for d in st.drafts}
    out = []
    for code in st.next_steps:
        name, _, arg = code.partition(":")
        if name == "approve-draft":
            draft = drafts.get(int(arg)) if arg.isascii() and arg.isdigit() else None
            words = p.t("web.year.next.approve_draft", draft=_draft_words(p, draft) if draft else arg)
            path = f"runs/{arg}"
        elif name in ("draft-month", "draft-quarter", "draft-year"):
            kind = name.split("-", 1)[1]
            index = int(arg) if arg.isascii() and arg.isdigit() else 1
            period = {"month": f"{year}-{index:02d}", "quarter": f"{year}-Q{index}", "year": f"{year}"}[kind]
            words = p.t("web.year.next.draft_run", period=_period_words(p, period))
            path = "runs"
        else:
            key = name.replace("-", "_")
            words = p.t(f"web.year.next.{key}", year=year, next=year + 1)
            path = {"store-agreement": "agreement", "import-counts": "imports", "import-events": "imports",
                    "import-costs": "imports", "make-estimate": f"estimates/{year + 1}",
                    "close-year": f"year-end/{year}", "annual-reports": "reports"}.get(name, "")
        out.append({"code": code, "words": words, "url": link_to(p, path) if path else ""})
    return out


@router.get("/areas/{area}/")
def area_home(year: int | None = None, p: Page = Depends(page())):
    from osuus.services import status

    chosen, years = chosen_year(p, year)
    if p.member:
        from osuus.web.pages.member import member_home

        return member_home(p, chosen, years)
    st = status.year_status(p.reader, chosen)
    return p.render("year.html", year=chosen, years=years, stages=stages(p, st), steps=next_steps(p, st))


# --------------------------------------------------------------------------
# the accessibility statement and its feedback
# --------------------------------------------------------------------------

def _area_of_referrer(request: Request, token: str | None) -> str:
    """The area the reader came from (the footer's link inside an area), when they have a role
    there: the feedback is then that area's to read."""
    from urllib.parse import urlsplit

    referrer = request.headers.get("referer", "")
    parts = urlsplit(referrer)
    if not token or parts.netloc != request.url.netloc:
        return ""
    segments = parts.path.split("/")
    if len(segments) < 3 or segments[1] != "areas":
        return ""
    return segments[2] if _has_role(request, segments[2], token) else ""


def _has_role(request: Request, area: str, token: str | None) -> bool:
    import re

    from osuus.api.auth import AREA_PATTERN
    from osuus.problems import ProblemsError
    from osuus.services import accounts

    if not token or not area or not re.match(AREA_PATTERN, area):
        return False
    try:
        ledger = request.app.state.ledgers.area(area, readonly=True)
    except ProblemsError:
        return False
    principal = accounts.principal_for_token(ledger, token)
    return principal is not None and bool(principal.roles)


def _statement(p: Page, status: int = 200, *, errors=(), message: str = "", contact: str = "", area: str = "",
               sent: bool = False):
    return p.render("accessibility.html", status=status, sent=sent, errors=list(errors), message=message,
                    contact=contact, area=area, prepared=p.fmt.date(STATEMENT_DATE),
                    message_max=p.fmt.count(MESSAGE_MAX))


@router.get("/accessibility")
async def accessibility(request: Request, p: Page = Depends(public_page)):
    area = await run_in_threadpool(_area_of_referrer, request, p.token)
    return _statement(p, sent=request.query_params.get("sent") == "1", area=area)


@router.post("/accessibility")
async def accessibility_feedback(request: Request, p: Page = Depends(public_page)):
    from osuus.services.feedback import FeedbackRefused, save_feedback

    form = await request.form()
    message = str(form.get("message", "")).strip()
    contact = str(form.get("contact", "")).strip()
    area = str(form.get("area", "")).strip()
    errors = []
    if not message:
        errors.append(("message", p.t("web.accessibility.message_missing")))
    elif len(message) > MESSAGE_MAX:
        errors.append(("message", p.t("web.accessibility.message_long", limit=p.fmt.count(MESSAGE_MAX))))
    if len(contact) > CONTACT_MAX:
        errors.append(("contact", p.t("web.accessibility.contact_long", limit=p.fmt.count(CONTACT_MAX))))
    # the area only when the sender has a role in it (a form field is whatever anyone sends)
    if area and not await run_in_threadpool(_has_role, request, area, p.token):
        area = ""
    if errors:
        return _statement(p, 400, errors=errors, message=message[:MESSAGE_MAX * 2], contact=contact[:CONTACT_MAX * 2],
                          area=area)
    # the installation's ledger (base() may check the database's revision: in the thread too);
    # at most so many messages per address (osuus.services.feedback: counted in this process)
    address = request.client.host if request.client else "unknown"
    limit = _feedback_limit(request)
    try:
        await run_in_threadpool(lambda: save_feedback(request.app.state.ledgers.base(), message, contact, area,
                                                      p.lang, address=address, limit=limit))
    except FeedbackRefused as refusal:
        minutes = max(1, -(-refusal.retry_after // 60))
        errors = [("message", p.t("web.accessibility.rate_limited", minutes=p.fmt.count(minutes)))]
        response = _statement(p, 429, errors=errors, message=message, contact=contact, area=area)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    return redirect("/accessibility?sent=1#feedback")


def _feedback_limit(request: Request):
    """The feedback form's rate limit of this app (one per server process)."""
    from osuus.services.feedback import FeedbackLimit

    limit = getattr(request.app.state, "feedback_limit", None)
    if limit is None:  # made on the event loop's thread: no two at once
        limit = request.app.state.feedback_limit = FeedbackLimit()
    return limit
