"""Users and API keys of the area (admin), and the accessibility feedback sent to it.

The users listed are those who have or had a role in the area (`list_users(area_only=True)`),
and the admin acts on them alone (osuus.services.accounts: `grant_area_role`, `revoke_area_role`,
`disable_area_user`): a name of another area's person is answered as a name no one has, and
disabling a user takes away their roles here, the account itself only when no other area gives
them a role. No admin takes their own admin role away, nor disables themself, and an area's last
admin stays. Adding a user gives them an initial password and, in the same transaction, a role (a
member's of one municipality of the area's agreement). A form's problems
are said in an error summary whose every line links to its field, in the reader's words where
the catalogue has the problem's code (`web.users.problem.<code>`).

An API key's secret is shown once, in the answer to the form that made it, and never again
(only its SHA-256 is kept): that answer is a page, not a redirect, so the secret is in no
address and no later page.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from osuus.access import SCOPES, Action, Resource, Role
from osuus.problems import ProblemsError
from osuus.web.app import PageRoute
from osuus.web.context import Page, page, redirect

router = APIRouter(route_class=PageRoute)

READ = page(Resource.USERS, Action.READ)
WRITE = page(Resource.USERS, Action.WRITE)
ROLES = tuple(r.value for r in Role)
#: An API key's default lifetime in the form (at most osuus.services.accounts.KEY_MAX_LIFETIME).
KEY_DAYS = 90

#: The form fields of a problem's key, per form.
ADD_FIELDS = {"name": "name", "display_name": "display_name", "password": "password", "role": "role",
              "municipality": "municipality", "language": "language"}
GRANT_FIELDS = {"name": "grant-name", "role": "grant-role", "municipality": "grant-municipality"}
KEY_FIELDS = {"name": "key-name", "role": "key-role", "municipality": "key-municipality",
              "scope": f"key-scope-{SCOPES[0].replace(':', '-')}", "expires": "key-expires"}


# --------------------------------------------------------------------------
# words
# --------------------------------------------------------------------------

def problem_errors(p: Page, problems, fields: dict[str, str]) -> list[tuple[str, str]]:
    """Problems as an error summary's [(field id, message)], in the reader's words where the
    catalogue has the problem's code, else as the use case said it."""
    from osuus.web.templating import problem_text

    out = []
    for problem in problems:
        key = f"web.users.problem.{problem.code}" if problem.code else ""
        text = p.t(key) if key and p.words.has(key) else problem_text(problem, p.t)
        field = fields.get(problem.key or "", "")
        if (field, text) not in out:
            out.append((field, text))
    return out


def role_words(p: Page, role: str) -> str:
    return p.t(f"web.users.role.{role}")


def municipalities(p: Page) -> list[tuple[str, str]]:
    """The municipalities of the area's newest agreement, as (code, name), by name."""
    from osuus.api.common import agreement_of

    agreement = agreement_of(p.reader)
    if agreement is None:
        return []
    return sorted(((m.code, agreement.name_of(m.code, p.lang)) for m in agreement.municipalities),
                  key=lambda m: m[1])


def _names(p: Page) -> dict[str, str]:
    return dict(municipalities(p))


def grant_words(p: Page, role: str, municipality: str | None, names: dict[str, str]) -> str:
    if municipality:
        return p.t("web.users.role_of", role=role_words(p, role),
                   municipality=names.get(municipality, municipality), code=municipality)
    return role_words(p, role)


def _form(form, *names: str) -> dict[str, str]:
    return {n: str(form.get(n, "")).strip() for n in names}


# --------------------------------------------------------------------------
# users
# --------------------------------------------------------------------------

def _users_page(p: Page, *, status: int = 200, errors=(), add=None, grant=None, notice: str = ""):
    from osuus.services import accounts
    from osuus.web.pages.home import local_time

    names = _names(p)
    users = []
    for user in accounts.list_users(p.reader, area_only=True):
        users.append({"name": user.name, "display_name": user.display_name, "disabled": user.disabled,
                      "disabled_at": local_time(p, user.disabled_at), "created": local_time(p, user.created_at),
                      "me": p.principal is not None and user.name == p.principal.name,
                      "roles": [{"role": r.role.value, "municipality": r.municipality or "",
                                 "words": grant_words(p, r.role.value, r.municipality, names),
                                 "granted": p.t("web.users.granted", by=r.granted_by,
                                                at=local_time(p, r.granted_at))} for r in user.roles]})
    return p.render("users/list.html", status=status, users=users, errors=list(errors),
                    add=add or {"name": "", "display_name": "", "role": "", "municipality": ""},
                    grant=grant or {"name": "", "role": "", "municipality": ""},
                    roles=[(r, role_words(p, r)) for r in ROLES], municipalities=list(names.items()),
                    notice=notice, may_write=p.may(Resource.USERS, Action.WRITE))


def _notice(p: Page, request: Request) -> str:
    """The words of what the last form did (?done=added&name=...): only for a name a user may have
    (an address with any other text in it shows nothing)."""
    from osuus.services import accounts

    done, name = request.query_params.get("done", ""), request.query_params.get("name", "")
    if done not in ("added", "granted", "revoked", "disabled", "removed") or not name or accounts.name_problems(name):
        return ""
    return p.t(f"web.users.done.{done}", name=name)


def _done(p: Page, done: str, name: str):
    return redirect(p.url("users") + "?" + urlencode({"done": done, "name": name}))


@router.get("/areas/{area}/users")
def users(request: Request, p: Page = Depends(READ)):
    return _users_page(p, notice=_notice(p, request))


def _role_problems(p: Page, role: str, municipality: str, fields: dict[str, str]) -> list[tuple[str, str]]:
    from osuus.services import accounts

    if role not in ROLES:
        return [(fields["role"], p.t("web.users.role_missing"))]
    return problem_errors(p, accounts.role_problems(Role(role), municipality or None), fields)


@router.post("/areas/{area}/users")
async def add_user(request: Request, p: Page = Depends(WRITE)):
    from fastapi.concurrency import run_in_threadpool

    form = _form(await request.form(), "name", "display_name", "password", "role", "municipality")
    password = str((await request.form()).get("password", ""))
    return await run_in_threadpool(_add_user, p, form, password)


def _add_user(p: Page, form: dict, password: str):
    import unicodedata

    from osuus.services import accounts

    name = unicodedata.normalize("NFC", form["name"])
    errors = problem_errors(p, accounts.name_problems(name) + accounts.label_problems(
        form["display_name"], "display_name", 200), ADD_FIELDS)
    if not password:
        errors.append(("password", p.t("web.users.password_missing")))
    else:
        errors += problem_errors(p, accounts.password_problems(name, password), ADD_FIELDS)
    errors += _role_problems(p, form["role"], form["municipality"], ADD_FIELDS)
    if not errors:
        try:  # the user and their role in one: a user added here is a user of this area
            accounts.add_area_user(p.ledger, name, form["role"], form["municipality"] or None,
                                   display_name=form["display_name"], password=password, language=p.lang)
        except ProblemsError as exc:
            errors = problem_errors(p, exc.problems, ADD_FIELDS)
    if errors:
        return _users_page(p, status=422 if any(f for f, _ in errors) else 409, errors=errors, add=form)
    return _done(p, "added", name)


@router.post("/areas/{area}/users/grant")
async def grant(request: Request, p: Page = Depends(WRITE)):
    from fastapi.concurrency import run_in_threadpool

    form = _form(await request.form(), "name", "role", "municipality")
    return await run_in_threadpool(_grant, p, form)


def _grant(p: Page, form: dict):
    from osuus.services import accounts

    errors = [] if form["name"] else [(GRANT_FIELDS["name"], p.t("web.users.name_missing"))]
    errors += _role_problems(p, form["role"], form["municipality"], GRANT_FIELDS)
    if not errors:
        try:  # a user of this area only: anyone else is answered as a name no one has
            accounts.grant_area_role(p.ledger, form["name"], form["role"], form["municipality"] or None)
        except ProblemsError as exc:
            errors = problem_errors(p, exc.problems, GRANT_FIELDS)
    if errors:
        return _users_page(p, status=422, errors=errors, grant=form)
    return _done(p, "granted", form["name"])


#: A refusal of the users' use cases -> the words the page says it with (else web.users.problem.<code>).
REFUSALS = {"user.self": "web.users.not_yourself"}


def _refused(p: Page, exc: ProblemsError, name: str):
    """A refused revoke or disable as the users' page: 404 for a name that is not of this area
    (whether or not someone of another area has it), else 409 with the reasons."""
    if any(problem.code == "user.unknown" for problem in exc.problems):
        return _users_page(p, status=404, errors=[("", p.t("web.users.unknown_user", name=name[:100]))])
    errors = [("", p.t(REFUSALS[x.code])) if x.code in REFUSALS else problem_errors(p, [x], {})[0]
              for x in exc.problems]
    return _users_page(p, status=409, errors=errors)


@router.post("/areas/{area}/users/revoke")
async def revoke(request: Request, p: Page = Depends(WRITE)):
    from fastapi.concurrency import run_in_threadpool

    form = _form(await request.form(), "name", "role", "municipality")
    return await run_in_threadpool(_revoke, p, form)


def _revoke(p: Page, form: dict):
    from osuus.services import accounts

    if not form["name"]:
        return _users_page(p, status=404, errors=[("", p.t("web.users.unknown_user", name=""))])
    try:  # never one's own admin role, nor the area's last admin's
        accounts.revoke_area_role(p.ledger, form["name"], form["role"], form["municipality"] or None)
    except ProblemsError as exc:
        return _refused(p, exc, form["name"])
    return _done(p, "revoked", form["name"])


@router.post("/areas/{area}/users/disable")
async def disable(request: Request, p: Page = Depends(WRITE)):
    from fastapi.concurrency import run_in_threadpool

    form = _form(await request.form(), "name")
    return await run_in_threadpool(_disable, p, form["name"])


def _disable(p: Page, name: str):
    """Disable a user in this area: their roles here are taken away, and their account disabled
    when no other area gives them a role (accounts.disable_area_user)."""
    from osuus.services import accounts

    if not name:
        return _users_page(p, status=404, errors=[("", p.t("web.users.unknown_user", name=""))])
    try:
        removed = accounts.disable_area_user(p.ledger, name)
    except ProblemsError as exc:
        return _refused(p, exc, name)
    return _done(p, "disabled" if removed.disabled else "removed", name)


# --------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------

def scope_rows(p: Page, chosen: set[str]) -> list[dict]:
    """The scopes as a table's rows: a resource, and its read and write boxes."""
    rows = []
    for resource in Resource:
        label = p.t(f"web.users.resource.{resource.value}")
        cells = []
        for kind in ("read", "write"):
            scope = f"{resource.value}:{kind}"
            cells.append({"scope": scope, "id": f"key-scope-{resource.value}-{kind}", "checked": scope in chosen,
                          "label": p.t(f"web.users.scope.{kind}"), "resource": label})
        rows.append({"resource": label, "cells": cells})
    return rows


def scope_words(p: Page, scope: str) -> str:
    """A key's scope (`invoices:read`) in the reader's words (`Laskut: luku`)."""
    key = f"web.users.scope.{scope.replace(':', '.')}"
    return p.t(key) if p.words.has(key) else scope


def _keys_page(p: Page, *, status: int = 200, errors=(), form=None, scopes=(), created=None, notice: str = ""):
    from osuus.services import accounts
    from osuus.web.pages.home import local_time

    names = _names(p)
    at = dt.datetime.now(dt.timezone.utc)
    keys = []
    for key in accounts.list_api_keys(p.reader):
        state = key.state(at)
        keys.append({"prefix": key.prefix, "name": key.name,
                     "role": grant_words(p, key.role.value, key.municipality, names),
                     "scopes": ", ".join(scope_words(p, x) for x in key.scopes),
                     "created": local_time(p, key.created_at),
                     "created_by": key.created_by, "expires": local_time(p, key.expires_at),
                     "last_used": local_time(p, key.last_used_at) or p.t("web.users.keys.never"),
                     "state": state, "state_words": p.t(f"web.users.keys.state.{state}"),
                     "mark": {"active": "done", "expired": "todo", "revoked": "todo"}[state]})
    from osuus.web.pages.home import HELSINKI

    today = dt.datetime.now(HELSINKI).date()  # the day in Finland, as a key's expiry is read
    default = {"name": "", "role": "", "municipality": "", "expires": (today + dt.timedelta(days=KEY_DAYS)).isoformat()}
    return p.render("users/keys.html", status=status, keys=keys, errors=list(errors), form=form or default,
                    scope_rows=scope_rows(p, set(scopes)), roles=[(r, role_words(p, r)) for r in ROLES],
                    municipalities=list(names.items()), created=created, notice=notice,
                    today=today.isoformat(), last_day=(today + dt.timedelta(days=365)).isoformat(),
                    may_write=p.may(Resource.USERS, Action.WRITE))


@router.get("/areas/{area}/users/keys")
def keys(request: Request, p: Page = Depends(READ)):
    revoked = request.query_params.get("revoked", "")
    notice = ""
    if revoked and revoked.isascii() and revoked.isalnum() and len(revoked) <= 24:
        notice = p.t("web.users.keys.revoked_notice", prefix=revoked)
    return _keys_page(p, notice=notice)


def _expiry(day: dt.date) -> dt.datetime:
    """A key made to last until `day` (inclusive) expires at the end of that day in Finland (23.59, as the
    list shows it)."""
    from osuus.web.pages.home import HELSINKI

    return dt.datetime.combine(day, dt.time(23, 59), HELSINKI).astimezone(dt.timezone.utc)


@router.post("/areas/{area}/users/keys")
async def create_key(request: Request, p: Page = Depends(WRITE)):
    from fastapi.concurrency import run_in_threadpool

    raw = await request.form()
    form = _form(raw, "name", "role", "municipality", "expires")
    scopes = [str(s) for s in raw.getlist("scope")][:len(SCOPES) + 1]
    return await run_in_threadpool(_create_key, p, form, scopes)


def _create_key(p: Page, form: dict, scopes: list[str]):
    from osuus.services import accounts
    from osuus.web.pages.audit import parse_day

    errors = [] if form["name"] else [(KEY_FIELDS["name"], p.t("web.users.keys.name_missing"))]
    errors += _role_problems(p, form["role"], form["municipality"], KEY_FIELDS)
    expires = None
    try:
        expires = _expiry(parse_day(form["expires"]))
    except ValueError:
        errors.append((KEY_FIELDS["expires"], p.t("web.users.keys.expires_bad")))
    if not errors:
        try:
            view, secret = accounts.create_api_key(p.ledger, form["name"], form["role"], scopes, expires,
                                                   form["municipality"] or None)
        except ProblemsError as exc:
            errors = problem_errors(p, exc.problems, KEY_FIELDS)
    if errors:
        return _keys_page(p, status=422, errors=errors, form=form, scopes=scopes)
    return _keys_page(p, status=201, created={"prefix": view.prefix, "name": view.name, "secret": secret})


@router.post("/areas/{area}/users/keys/revoke")
async def revoke_key(request: Request, p: Page = Depends(WRITE)):
    from fastapi.concurrency import run_in_threadpool

    form = _form(await request.form(), "prefix")
    return await run_in_threadpool(_revoke_key, p, form["prefix"])


def _revoke_key(p: Page, prefix: str):
    from osuus.services import accounts

    if not prefix or not prefix.isascii() or not prefix.isalnum() or len(prefix) > 24:
        return _keys_page(p, status=404, errors=[("", p.t("web.users.problem.apikey.unknown"))])
    try:
        accounts.revoke_api_key(p.ledger, prefix)
    except ProblemsError as exc:
        return _keys_page(p, status=409, errors=problem_errors(p, exc.problems, {}))
    return redirect(p.url("users/keys") + "?" + urlencode({"revoked": prefix}))


# --------------------------------------------------------------------------
# the accessibility feedback
# --------------------------------------------------------------------------

@router.get("/areas/{area}/users/feedback")
def feedback(p: Page = Depends(READ)):
    from osuus.services.feedback import list_feedback
    from osuus.web.pages.home import local_time

    rows = [{"id": f.id, "at": local_time(p, f.at), "area": f.area, "message": f.message, "contact": f.contact,
             "language": p.t(f"web.users.feedback.language.{f.language}") if f.language in ("fi", "sv", "en")
             else f.language} for f in list_feedback(p.reader, p.area)]
    return p.render("users/feedback.html", rows=rows)
