"""The approval flow with the keyboard alone (WCAG 2.1.1): Tab to move, Enter or Space to act,
typing into the fields; no click. An approver signs in, reaches April's draft through the menu
and the list of drafts, skips to the decision and approves it; every element reached shows
where the focus is (2.4.7).
"""

from __future__ import annotations

from tests.browser.conftest import AREA, PASSWORD, new_context

#: Tab presses allowed to reach one element: a page's whole frame and more, not an endless loop.
MAX_TABS = 80

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || '').trim(), id: e.id,
          href: e.getAttribute('href') || '', type: e.getAttribute('type') || '',
          action: e.form ? e.form.getAttribute('action') || '' : '',
          visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none'};
}"""


def words(key: str, **params) -> str:
    from osuus.render.i18n import catalogue

    return catalogue("fi").t(key, **params)


def tab_to(page, wanted, what: str) -> dict:
    """Press Tab until the focused element is `wanted` (a predicate of FOCUSED's answer); it must
    show its focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUSED)
        if found and wanted(found):
            assert found["visible"], f"{what} is focused but shows no focus: {found}"
            return found
    raise AssertionError(f"{what} was not reached in {MAX_TABS} presses of Tab on {page.url}")


def test_an_approver_approves_a_draft_with_the_keyboard_alone(browser, server, module_ledger):
    from osuus.services.approval import show_draft
    from osuus.services.ledger import Ledger

    draft = module_ledger.drafts["run"]  # April 2021, prepared by valmistelija
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(server.url("/login"))
        tab_to(page, lambda e: e["id"] == "name", "the name field")
        page.keyboard.type("hyvaksyja")
        tab_to(page, lambda e: e["id"] == "password", "the password field")
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith(f"/areas/{AREA}/"), page.url

        tab_to(page, lambda e: e["href"] == f"/areas/{AREA}/runs", "the menu's invoice runs")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        tab_to(page, lambda e: e["href"] == f"/areas/{AREA}/runs/{draft}", f"the link to draft {draft}")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith(f"/runs/{draft}")

        # the draft lists every member's lines: a link near the top skips to the decision
        tab_to(page, lambda e: e["href"] == "#decision", "the link to the decision")
        page.keyboard.press("Enter")
        button = tab_to(page, lambda e: e["tag"] == "button" and e["action"].endswith(f"/runs/{draft}/approve"),
                        "the approve button")
        assert button["text"] == words("web.runs.approve.submit", draft=draft)
        with page.expect_navigation():
            page.keyboard.press("Space")
        page.get_by_role("status").filter(has_text=words("web.runs.notice.approved")).wait_for()
    finally:
        context.close()
    with Ledger(module_ledger.url, area=AREA) as ledger:
        approved = show_draft(ledger, draft)
    assert (approved.status, approved.approved_by) == ("approved", "hyvaksyja")
