"""Pictures of the main pages in each language, for a person to look at (not a check: run on
purpose, not in CI):

    OSUUS_SCREENSHOTS=/tmp/shots .venv/bin/python -m pytest -q tests/browser/test_screenshots.py

writes `<lang>-<reader>-<page>.png` (the page, 1280 px wide, its top 2 400 px) and, for a few pages,
`<lang>-<reader>-<page>-narrow.png` (390 px, a phone) into the folder, and each page's text
(`.txt`), to look for words left untranslated; `.scrolls.txt` names the tables that scroll sideways
in their own box, `.overflow.txt` whatever makes a page wider than its screen (WCAG 1.4.10 Reflow:
the test fails on it, once every picture is made). The ledger is the 2021
example year closed (every month invoiced, the costs imported, the settlements made), the 2022
estimate made and January 2022 drafted with its settlement lines, a credit note drafted.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.api.conftest import EXAMPLES, Ledgerful, make_ledger
from tests.browser.conftest import AKAA, AREA, LANGUAGES, new_context, sign_in

FOLDER = os.environ.get("OSUUS_SCREENSHOTS", "").strip()
#: A picture shows the top of a long page (a run's 21 documents would be 10 000 px).
MAX_HEIGHT = 2400

#: What reaches past the right edge of the screen outside a scrolling box (nothing should at 390 px:
#: WCAG 1.4.10; a table scrolls inside its .table-wrap), innermost first; and, apart, the tables
#: that scroll and by how much (allowed, but worth a look).
LAYOUT = """() => {
  const limit = document.documentElement.clientWidth;
  const clipped = (e) => {  // inside a scroller (an absolutely placed box only in a positioned one)
    const absolute = getComputedStyle(e).position === 'absolute';
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (absolute && getComputedStyle(a).position === 'static') continue;
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const words = (e) => (e.innerText || e.value || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  const past = (e) => e.getBoundingClientRect().right > limit + 1;
  const overflow = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (!past(e) || e.getBoundingClientRect().width === 0 || clipped(e) || [...e.children].some(past)) continue;
    const name = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
    overflow.push(`${name} right=${Math.round(e.getBoundingClientRect().right)}: ${words(e)}`);
  }
  const scrolls = [];
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    const hidden = wrap.scrollWidth - wrap.clientWidth;
    const caption = wrap.querySelector('caption');
    if (hidden > 0) scrolls.push(`${hidden} px: ${caption ? words(caption) : wrap.getAttribute('aria-label')}`);
  }
  return {overflow, scrolls};
}"""

pytestmark = pytest.mark.skipif(not FOLDER, reason="screenshots are made on purpose: set OSUUS_SCREENSHOTS=FOLDER")

#: (reader, name of the picture, address; {number}, {draft}, {approved}, {sequence} filled in), narrow too?
PAGES = [
    (None, "login", "/login", True),
    (None, "accessibility", "/accessibility", False),
    ("valmistelija", "year", "/areas/{area}/", True),
    ("valmistelija", "agreement", "/areas/{area}/agreement/2021", True),
    ("valmistelija", "agreement-explain", "/areas/{area}/agreement/2021/explain?municipality=790", False),
    ("valmistelija", "imports", "/areas/{area}/imports", True),
    ("valmistelija", "runs", "/areas/{area}/runs", False),
    ("valmistelija", "draft", "/areas/{area}/runs/{draft}", False),
    ("hyvaksyja", "draft-approver", "/areas/{area}/runs/{draft}", True),
    ("valmistelija", "run-approved", "/areas/{area}/runs/{approved}", False),
    ("valmistelija", "invoices", "/areas/{area}/invoices", True),
    ("valmistelija", "invoice", "/areas/{area}/invoices/{number}", True),
    ("valmistelija", "invoice-line", "/areas/{area}/invoices/{number}/lines/1", False),
    ("valmistelija", "year-end", "/areas/{area}/year-end/2021", True),
    ("valmistelija", "settlement", "/areas/{area}/year-end/2021/790", False),
    ("valmistelija", "estimates", "/areas/{area}/estimates/2022", False),
    ("valmistelija", "estimate", "/areas/{area}/estimates/2022/790", False),
    ("valmistelija", "report", "/areas/{area}/reports/2021/790", True),
    ("tarkastaja", "audit", "/areas/{area}/audit", True),
    ("tarkastaja", "audit-verify", "/areas/{area}/audit/verify", False),
    ("tarkastaja", "audit-record", "/areas/{area}/audit/{sequence}", False),
    ("paakayttaja", "users", "/areas/{area}/users", True),
    ("paakayttaja", "keys", "/areas/{area}/users/keys", False),
    ("akaa", "member-home", "/areas/{area}/", True),
    ("akaa", "member-invoices", "/areas/{area}/invoices", False),
    ("akaa", "member-invoice", "/areas/{area}/invoices/{akaa_number}", True),
    ("akaa", "member-report", "/areas/{area}/reports/2021/020", True),
    ("akaa", "not-found", "/areas/{area}/invoices/{nokia_number}", False),
]


@pytest.fixture(scope="module")
def module_ledger(tmp_path_factory, cheap_passwords) -> Ledgerful:
    """The API tests' ledger carried on to the year's end and into 2022."""
    from osuus.calendar import Period
    from osuus.services import approval, closing, estimates, imports
    from osuus.services.ledger import Ledger

    made = make_ledger(f"sqlite:///{tmp_path_factory.mktemp('shots') / 'osuus.db'}")
    with Ledger(made.url, "valmistelija", area=AREA) as ledger:
        approver = ledger.acting("hyvaksyja")
        approval.approve(approver, made.drafts["run"])
        for month in range(5, 13):
            end = Period.month(2021, month).end
            approval.approve(approver, approval.prepare_run(ledger, Period.month(2021, month),
                                                            end + dt.timedelta(days=1)).id)
        imports.import_costs(ledger, EXAMPLES / "costs.csv")
        closing.close_year(ledger, 2021)
        estimates.make_estimate(ledger, 2022)
        made.drafts["next"] = approval.prepare_run(ledger, Period.month(2022, 1), dt.date(2022, 2, 1)).id
    return made


@pytest.fixture(scope="module")
def values(module_ledger):
    from sqlalchemy import func, select

    from osuus.services.ledger import Ledger
    from osuus.store.tables import AuditRecord

    with Ledger(module_ledger.url, area=AREA) as ledger, ledger.read() as session:
        sequence = session.scalar(select(func.max(AuditRecord.id)).where(AuditRecord.area_id == ledger.area_id))
    return {"area": AREA, "draft": module_ledger.drafts["next"], "approved": 1, "sequence": sequence,
            "number": module_ledger.invoices["790"], "akaa_number": module_ledger.invoices[AKAA],
            "nokia_number": module_ledger.invoices["536"]}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_screenshots_of_the_main_pages(lang, browser, server, values):
    folder = Path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    contexts = {}
    wider = []  # pages wider than their screen, said after every picture is made
    try:
        for reader, name, path, narrow in PAGES:
            for width in (1280, 390) if narrow else (1280,):
                key = (reader, width)
                if key not in contexts:
                    context = contexts[key] = new_context(browser, lang=lang,
                                                          viewport={"width": width, "height": 900})
                    context.add_cookies([{"name": "osuus_lang", "value": lang, "url": server.base}])
                    page = context.new_page()
                    if reader is not None:
                        sign_in(page, server, reader)
                page = contexts[key].pages[0]
                answer = page.goto(server.url(path.format(**values)))
                assert answer is not None and answer.status == (404 if name == "not-found" else 200), (path, answer)
                suffix = "-narrow" if width < 1000 else ""
                # the whole width (a page wider than the screen shows as such), at most MAX_HEIGHT tall
                size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
                stem = folder / f"{lang}-{reader or 'anonymous'}-{name}{suffix}"
                if not suffix:  # the words too, to look for any left untranslated
                    stem.with_suffix(".txt").write_text(page.locator("body").inner_text(), encoding="utf-8")
                layout = page.evaluate(LAYOUT)
                for kind in ("overflow", "scrolls"):  # <stem>.overflow.txt, <stem>.scrolls.txt, when any
                    said = Path(f"{stem}.{kind}.txt")
                    if layout[kind]:
                        said.write_text("\n".join(layout[kind]) + "\n", encoding="utf-8")
                    else:
                        said.unlink(missing_ok=True)
                if layout["overflow"]:
                    wider.append(f"{stem.name}: {layout['overflow'][0]}")
                page.screenshot(path=str(stem.with_suffix(".png")),
                                full_page=True, clip={"x": 0, "y": 0, "width": size[0],
                                                      "height": min(size[1], MAX_HEIGHT)})
    finally:
        for context in contexts.values():
            context.close()
    assert not wider, "wider than the screen (only a table's own box may scroll sideways):\n" + "\n".join(wider)
