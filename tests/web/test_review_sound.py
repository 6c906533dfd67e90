"""Review: what was checked in the web layer and found sound, kept as tests (they pass).

Member isolation beyond single documents (lists, query parameters, estimates, reports), the
areas kept apart by ids, redirects that stay on this server, templates without inline script
or style, no float in the pages' modules, and the flags of every cookie the pages set.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.web.conftest import AREA, OTHER_AREA, csrf

A = f"/areas/{AREA}"
WEB = Path(__file__).resolve().parents[2] / "src" / "osuus" / "web"


def test_a_member_lists_only_its_own_whatever_the_query_names(browser_for, web_ledger):
    nokia_invoice = web_ledger.invoices["536"]
    c = browser_for("akaa")
    for url in (f"{A}/invoices?municipality=536", f"{A}/invoices?municipality=Nokia",
                f"{A}/invoices?number={nokia_invoice}", f"{A}/invoices?year=2021&kind=invoice"):
        page = c.get(url)
        assert page.status_code == 200
        assert f"/invoices/{nokia_invoice}" not in page.text  # no row links to it (the form echoes what was asked)
    assert f"/invoices/{web_ledger.invoices['020']}" in c.get(f"{A}/invoices?municipality=536").text


def test_a_members_estimate_and_reports_pages_hold_its_own_row_only(browser_for):
    c = browser_for("akaa")
    estimate = c.get(f"{A}/estimates/2021")
    assert estimate.status_code == 200
    assert f"{A}/estimates/2021/020" in estimate.text
    assert f"{A}/estimates/2021/536" not in estimate.text
    reports = c.get(f"{A}/reports?year=2021&municipality=536")
    assert reports.status_code == 200
    assert "/reports/2021/536" not in reports.text
    assert c.get(f"{A}/reports/2021/Nokia").status_code == 404
    assert c.get(f"{A}/agreement/2021/explain?municipality=Nokia").status_code == 404


def test_an_id_of_another_area_is_not_found_in_this_one(browser_for, web_ledger):
    """The admin of `lappi` names `pirkanmaa`'s drafts, invoices and log records in its own area."""
    c = browser_for("lappilainen")
    number = web_ledger.invoices["020"]
    for url in (f"runs/{web_ledger.drafts['run']}", "runs/1/documents.zip", f"invoices/{number}",
                f"invoices/{number}/pdf", f"invoices/{number}/lines/1", "audit/3", "agreement/2021",
                "estimates/2021/020.pdf", "reports/2021/020"):
        assert c.get(f"/areas/{OTHER_AREA}/{url}", follow_redirects=False).status_code == 404, url


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\t/evil.example",
                                    "\\\\evil.example", "javascript:alert(1)", "//%2Fevil.example"])
def test_the_language_switch_goes_back_to_this_server_only(browser_for, target):
    c = browser_for("tarkastaja")
    answer = c.post("/language", data={"lang": "fi", "next": target, "csrf_token": csrf(c)}, follow_redirects=False)
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert "\t" not in location


def test_the_templates_hold_no_inline_script_style_or_handler():
    for template in (WEB / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert " style=" not in text and "<style" not in text, template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, template


def test_the_pages_never_make_a_float():
    """The pages' modules (where money is read, summed and formatted): no float() and no float literal."""
    for module in (WEB / "pages").rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"), \
                f"{module}:{node.lineno}"
            assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), f"{module}:{node.lineno}"


def test_every_cookie_the_pages_set_is_secure_http_only_and_same_site(anonymous, browser_for):
    cookies = anonymous.get("/login").headers.get_list("set-cookie")
    c = browser_for("tarkastaja")
    cookies += c.post("/language", data={"lang": "sv", "next": "/", "csrf_token": csrf(c)},
                      follow_redirects=False).headers.get_list("set-cookie")
    assert {cookie.split("=", 1)[0] for cookie in cookies} == {"__Host-osuus_csrf", "osuus_lang"}
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie, cookie


def test_a_download_carries_the_security_headers(browser_for, web_ledger):
    answer = browser_for("akaa").get(f"{A}/invoices/{web_ledger.invoices['020']}/pdf")
    assert answer.status_code == 200
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "private" in answer.headers["cache-control"]
