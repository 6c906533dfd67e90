"""axe-core (offline, inside axe-playwright-python) on every page, in every role that may see it,
in Finnish, Swedish and English: no WCAG 2.0/2.1 A or AA violation.

The pages are the app's GET page routes (osuus.web.app.page_table) with sample path values, so
a new page is checked without a change here; a route with a path parameter this module has no
sample for fails, naming it. Answers that are not HTML (PDF, XML, XLSX, zip) are left out. Who
may see a page is read from its guard (osuus.access.ALLOWED): a page its reader may see must
answer 200; a refused one is checked as the error page it shows.

axe takes seconds on the big tables, almost all of it in the `color-contrast` rule, so the work
is not repeated where its result cannot differ (axe's verdict is a function of the page's DOM
and style sheets):

- every page, role and language is loaded; all rules but `color-contrast` run on the whole
  page unless the same `<main>` (in the same language) was checked already: the frame around
  it (header, menu, language switch, footer) is checked whole on each role's first page, in
  each language;
- `color-contrast` runs on `<main>` once per distinct structure (tags, classes and attributes
  with the words left out: colours do not depend on the words), and on each role's first page
  whole, in each language.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.browser.conftest import AKAA, AREA, LANGUAGES, OTHER_AREA, PEOPLE, new_context, sign_in

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: The people whose views are checked: one of each role of the area (a second member sees what
#: the first sees of its own), and no one signed in.
READERS = ("paakayttaja", "valmistelija", "hyvaksyja", "tarkastaja", "akaa", None)

#: The normalised HTML of <main>: the words kept (language-dependent rules) or left out (colours).
NORMALISED_MAIN = """(withWords) => {
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('input[name=csrf_token]').forEach(e => e.removeAttribute('value'));
  if (!withWords) {
    const walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      node.nodeValue = node.nodeValue.trim() ? 'x' : '';
    }
    copy.querySelectorAll('*').forEach(e => {
      for (const name of ['aria-label', 'title', 'placeholder', 'alt', 'value', 'href', 'action', 'id', 'for',
                          'aria-labelledby', 'aria-describedby', 'lang', 'download', 'name', 'data-explain']) {
        if (e.hasAttribute(name)) e.setAttribute(name, '');
      }
    });
  }
  return (withWords ? document.documentElement.lang + '\\n' : '') + copy.outerHTML;
}"""


def _may(person: str | None, access: tuple) -> bool:
    """Whether `person` may see a page of this guard (osuus.web.context)."""
    from osuus.access import ALLOWED, Action, Resource, Role

    kind = access[0]
    if kind == "public":
        return True
    if person is None:
        return False
    if kind == "signed-in":
        return True
    area, role, municipality = PEOPLE[person]
    if area != AREA:
        return False
    _, resource, action = access
    if resource is None:
        return True
    return Action(action) in ALLOWED[Role(role)].get(Resource(resource), ())


@pytest.fixture(scope="module")
def axe_ledger(module_ledger, tmp_path_factory):
    """The module's ledger with a second revision of the 2021 agreement (Alkukartoitus at 150 €,
    not 140 €), so that the revisions' comparison has two to compare, and the admin with a role
    in the other area too, so that signing in shows the choice of an area."""
    from osuus.services import accounts
    from osuus.services.agreements import add_agreement
    from osuus.services.ledger import Ledger
    from tests.api.conftest import AGREEMENT

    edited = tmp_path_factory.mktemp("revision") / AGREEMENT.name
    text = AGREEMENT.read_text(encoding="utf-8")
    assert 'price = { value = 140, reference = "Kohta 5: 140' in text
    edited.write_text(text.replace('price = { value = 140, reference = "Kohta 5: 140',
                                   'price = { value = 150, reference = "Kohta 5: 140'), encoding="utf-8")
    with Ledger(module_ledger.url, "paakayttaja", area=AREA) as ledger:
        assert add_agreement(ledger, edited).agreement.revision == 2
        # a person with roles in two areas chooses one first (the areas' page)
        accounts.grant_role(ledger.acting("lappilainen", OTHER_AREA), "paakayttaja", "auditor")
    return module_ledger


@pytest.fixture(scope="module")
def samples(axe_ledger):
    """A value of every path parameter of the pages, from the ledger (Akaa's: the member checked is Akaa)."""
    from sqlalchemy import func, select

    from osuus.services.approval import list_drafts
    from osuus.services.ledger import Ledger
    from osuus.store.tables import AuditRecord

    with Ledger(axe_ledger.url, area=AREA) as ledger:
        approved = [d.id for d in list_drafts(ledger, approved=True) if d.status == "approved" and d.is_run]
        with ledger.read() as session:
            newest = session.scalar(select(func.max(AuditRecord.id)).where(AuditRecord.area_id == ledger.area_id))
    return {"area": AREA, "year": "2021", "number": axe_ledger.invoices[AKAA], "position": "1",
            "draft_id": str(axe_ledger.drafts["run"]), "k": "1", "municipality": AKAA, "sequence": str(newest),
            "_approved_draft": str(approved[0])}


#: Routes that show no page of their own, and why.
NOT_PAGES = {
    "/login/oidc/{provider}": "sends the browser to the identity provider",
    "/login/oidc/{provider}/callback": "the identity provider's return: signs in and redirects",
    "/areas/{area}/runs/{draft_id}/documents.zip": "a zip of an approved draft's documents (a download)",
}

#: Besides each route with the samples: the same pages in another state or with a query. Each of
#: these must answer 200; the route's sample address may be refused by design (an explanation
#: asks for a figure).
EXTRA = {
    "/areas/{area}/runs/{draft_id}": ["/areas/{area}/runs/{_approved_draft}"],
    "/areas/{area}/agreement/{year}": ["/areas/{area}/agreement/{year}?revision=1"],
    "/areas/{area}/agreement/{year}/explain": ["/areas/{area}/agreement/{year}/explain?municipality={municipality}"],
    "/areas/{area}/invoices": ["/areas/{area}/invoices?municipality={municipality}"],
    "/login": ["/login?next=%2Fareas%2F{area}%2F"],
}


def _fill(path: str, samples: dict) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: samples[m.group(1)], path)


@pytest.fixture(scope="module")
def pages(browser, server, samples):
    """Every HTML page as (address, guard): the GET page routes with their samples (and EXTRA);
    what answers with a document (PDF, XML, XLSX) is left out. Each address is asked for by the
    first reader who may see it; a route none of whose addresses answers is a failure."""
    from osuus.web.app import page_table

    routes, missing = [], []
    for method, path, access in page_table(server.app):
        if method != "GET" or path in NOT_PAGES:
            continue
        names = [n for n in re.findall(r"{(\w+)(?::\w+)?}", path) if n not in samples]
        if names:
            missing.append(f"{path}: no sample for {', '.join(names)} (add one to samples())")
            continue
        routes.append((path, access, [_fill(path, samples)] + [_fill(x, samples) for x in EXTRA.get(path, [])]))

    found, contexts = [], {}
    try:
        for path, access, addresses in routes:
            reader = next((p for p in READERS if _may(p, access)), None)
            if reader not in contexts:
                contexts[reader] = new_context(browser)
                if reader is not None:
                    sign_in(contexts[reader].new_page(), server, reader)
            answers = {a: contexts[reader].request.get(server.url(a), max_redirects=0) for a in addresses}
            # the sample address may be refused by design where EXTRA gives the page's query; EXTRA's must answer
            if not any(answer.status == 200 for answer in answers.values()) \
                    or any(answers[a].status != 200 for a in addresses[1:]):
                missing.append(f"{path}: as {reader or 'anonymous'} "
                               + ", ".join(f"{a} answered {answer.status}" for a, answer in answers.items()))
            found += [(a, access) for a, answer in answers.items()
                      if answer.status == 200 and answer.headers.get("content-type", "").startswith("text/html")]
    finally:
        for context in contexts.values():
            context.close()
    assert not missing, "pages not checked:\n" + "\n".join(missing)
    return found


@pytest.fixture(scope="module")
def checked():
    """What was checked already (shared by the module's tests): normalised <main>s, structures, frames."""
    return {"main": set(), "structure": set()}


def _axe(page, *, rules: list[str] | None = None, skip: list[str] | None = None, within: str | None = None):
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    if skip:
        options["rules"] = {rule: {"enabled": False} for rule in skip}
    return page.evaluate("([context, options]) => axe.run(context || document, options)"
                         ".then(r => r.violations)", [{"include": [[within]]} if within else None, options])


def _readable(violations, where: str) -> list[str]:
    lines = []
    for v in violations:
        lines.append(f"{where}: {v['id']} ({v.get('impact')}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:5]:
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}  — {summary}")
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more elements")
    return lines


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("reader", READERS, ids=lambda r: r or "anonymous")
def test_every_page_has_no_wcag_violation(reader, lang, browser, server, pages, checked):
    from axe_playwright_python.base import AXE_SCRIPT

    context = new_context(browser, lang=lang)
    context.add_init_script(AXE_SCRIPT)
    context.add_cookies([{"name": "osuus_lang", "value": lang, "url": server.base}])
    page = context.new_page()
    problems: list[str] = []
    try:
        if reader is not None:
            sign_in(page, server, reader)
        visible = [(path, access) for path, access in pages if _may(reader, access)]
        refused = next(((path, access) for path, access in pages if not _may(reader, access)), None)
        assert visible, "no page to check"
        first = True
        for path, expected in [(path, True) for path, _ in visible] + ([(refused[0], False)] if refused else []):
            answer = page.goto(server.url(path))
            landed = page.url.removeprefix(server.base)
            if expected and (answer is None or answer.status != 200
                             or (reader is not None and landed.startswith("/login") and not path.startswith("/login"))):
                problems.append(f"{lang} {reader or 'anonymous'} {path}: answered "
                                f"{answer.status if answer else 'nothing'} at {landed}, expected the page")
                continue
            where = f"{lang} {reader or 'anonymous'} {landed}"
            if page.evaluate("document.documentElement.lang") != lang:
                problems.append(f"{where}: <html lang> is not {lang}")
            words = _hash(page.evaluate(NORMALISED_MAIN, True))
            structure = _hash(page.evaluate(NORMALISED_MAIN, False))
            if first:  # the frame of this reader and language, whole
                problems += _readable(_axe(page), where)
                checked["main"].add(words)
                checked["structure"].add(structure)
                first = False
                continue
            if words not in checked["main"]:
                checked["main"].add(words)
                problems += _readable(_axe(page, skip=["color-contrast"]), where)
            if structure not in checked["structure"]:
                checked["structure"].add(structure)
                problems += _readable(_axe(page, rules=["color-contrast"], within="main"), where)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_a_form_with_errors_has_no_wcag_violation(browser, server):
    """The error summary and the fields marked in error (the sign-in form, refused)."""
    from axe_playwright_python.base import AXE_SCRIPT

    context = new_context(browser)
    context.add_init_script(AXE_SCRIPT)
    page = context.new_page()
    try:
        page.goto(server.url("/login"))
        page.locator("#name").fill("valmistelija")
        page.locator("form[action='/login'] button[type=submit]").click()  # no password: refused by the browser
        page.locator("#password").fill("not the password")
        with page.expect_navigation():
            page.locator("form[action='/login'] button[type=submit]").click()
        assert page.locator("#error-summary").is_visible()
        problems = _readable(_axe(page), "fi /login (refused)")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
