"""The pages' templates: one Jinja2 environment, autoescaped, with the reader's words and formats.

A template sees `page` (osuus.web.context.Page), `t` and `n` (the catalogue in the reader's
language), `fmt` (numbers, money and dates in the reader's locale: `1 234,56 €`, `1.2.2021`),
`csrf` (the form's hidden field), `nav` (the menu the reader's roles allow) and the values the
route passes. A request from htmx (`HX-Request`) gets the template's `content` block alone when
the template says it can (`partial_ok`).
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

from osuus.access import Action, Resource


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("osuus.web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined, auto_reload=False)
    env.globals["error_for"] = error_for
    env.globals["problem_text"] = problem_text
    return env


def error_for(errors, name: str) -> str | None:
    """The message of the field `name` in a form's [(field, message)] errors, or None."""
    return next((message for field, message in errors if field == name), None)


#: The menu of an area: (path inside the area, catalogue key, what the reader must be allowed).
NAV = (
    ("", "web.nav.year", None),
    ("agreement", "web.nav.agreement", (Resource.AGREEMENTS, Action.READ)),
    ("imports", "web.nav.imports", (Resource.IMPORTS, Action.READ)),
    ("runs", "web.nav.runs", (Resource.RUNS, Action.READ)),
    ("invoices", "web.nav.invoices", (Resource.INVOICES, Action.READ)),
    ("year-end", "web.nav.year_end", (Resource.CLOSINGS, Action.READ)),
    ("estimates", "web.nav.estimates", (Resource.ESTIMATES, Action.READ)),
    ("reports", "web.nav.reports", (Resource.REPORTS, Action.READ)),
    ("audit", "web.nav.audit", (Resource.AUDIT, Action.READ)),
    ("users", "web.nav.users", (Resource.USERS, Action.READ)),
)


def nav(page) -> list[dict]:
    if page.principal is None or page.area is None:
        return []
    here = page.request.url.path
    items = []
    for path, key, needs in NAV:
        if needs is not None and not page.may(*needs):
            continue
        if path == "year-end" and page.member:
            continue
        url = page.url(path)
        current = here == url if not path else here == url.rstrip("/") or here.startswith(url + "/")
        items.append({"url": url, "label": page.t(key), "current": current})
    return items


def problem_text(problem, t) -> str:
    """A problem's reason in the reader's words: the catalogue's `problem.<code>` (given the
    problem's value, row, column and key) where there is one, else the message it was raised with."""
    key = f"problem.{problem.code}" if problem.code else ""
    words = getattr(getattr(t, "__self__", None), "words", None)  # t is Page.t
    if key and words is not None and words.has(key):
        return t(key, value=problem.value, row=problem.row or "", column=problem.column, key=problem.key)
    return problem.message


def render(page, template: str, **values) -> str:
    from osuus.web.context import CSRF_FIELD

    env = environment()
    tpl = env.get_template(template)
    context = {"page": page, "t": page.t, "n": page.n, "fmt": page.fmt, "nav": nav(page),
               "csrf": Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, page.csrf),
               "lang": page.lang, **values}
    if page.request.headers.get("hx-request") == "true" and "content" in tpl.blocks and values.get("partial_ok"):
        ctx = tpl.new_context(context)
        return "".join(tpl.blocks["content"](ctx))
    return tpl.render(context)
