"""Every billed euro explains itself: an invoice line, a settlement and an estimate, through the
command line, on the small agreement of tests/billing/small.py, every figure computed by hand.

The year 2025: population H 50, A 30, B 20; p (1 200 €, by population) is invoiced in advance:
A 360 €/year, B 240 €/year, 30 € and 20 € a month. Events, all in March: A m 10 h (8 €/h = 80 €),
u 2 (100 € = 200 €), t 3 customers of integration year 1 (10 € = 30 €); B m 5 h (40 €), u 1
(100 €), t 2 of year 2 (20 € = 40 €); the host H m 35 h and u 5 (produced, not invoiced).
Actual costs: p 1 800 €, u 900 € − 100 € funding, m 500 €; t none.
- A's actual share: p 1 800 × 30 % = 540; u 800 / (8 × 100) = factor 1: 200; t agreed: 30;
  m 500 / (50 h × 8 €) = factor 1,25: 80 × 1,25 = 100. 870 €. Billed 360 + 80 + 200 + 30 = 670 €.
  Settlement +200 €.
- The 2026 estimate (no 2026 agreement): p at its actual 540; last year's volumes at the
  confirmed prices: m 100, u 200, t 30: 870 €.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.billing.small import TEXT

EVENTS = """event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost
e1,2025-03-03,m,002,A-1,10,,,,
e2,2025-03-04,u,002,A-2,2,,,,
e3,2025-03-05,t,002,A-3,3,1,,,
e4,2025-03-03,m,003,B-1,5,,,,
e5,2025-03-04,u,003,B-2,1,,,,
e6,2025-03-05,t,003,B-3,2,2,,,
e7,2025-03-03,m,001,H-1,35,,,,
e8,2025-03-04,u,001,H-2,5,,,,
"""
WITHOUT_AGREEMENT = """
[billing.without_agreement]
advances = "estimate"
reference = "next-year-clause"
"""
COSTS = """year,component,kind,amount
2025,p,cost,1800
2025,u,cost,900
2025,u,funding,100
2025,m,cost,500
"""


def osuus(url: str, *args, user: str = "test") -> str:
    from osuus.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], env={"OSUUS_DATABASE_URL": url, "OSUUS_USER": user})
    assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
    return result.stdout


def invoice(url: str, period: str, date: str) -> str:
    """The period's run drafted (`invoice`), then approved by another user (`approve`)."""
    osuus(url, "invoice", period, "--date", date)
    return osuus(url, "approve", period, user="approver")


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("explain")
    # until a 2026 agreement is stored, 2026's advances are billed by the 2026 estimate
    (folder / "small.toml").write_text(TEXT + WITHOUT_AGREEMENT, encoding="utf-8")
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    (folder / "costs.csv").write_text(COSTS, encoding="utf-8")
    url = f"sqlite:///{folder / 'ledger.db'}"
    osuus(url, "db", "upgrade")
    osuus(url, "agreement", "add", folder / "small.toml")
    osuus(url, "import", "events", folder / "events.csv")
    for month in range(1, 13):
        issue = dt.date(2025, month + 1, 1) if month < 12 else dt.date(2026, 1, 5)
        invoice(url, f"2025-{month:02d}", issue.isoformat())
    osuus(url, "import", "costs", folder / "costs.csv")
    osuus(url, "close-year", "2025")
    osuus(url, "estimate", "2026")
    invoice(url, "2026-01", "2026-02-02")  # carries the settlement
    return url


def march_invoice_of_a(url: str) -> dict:
    invoices = json.loads(osuus(url, "invoices", "--year", "2025", "-m", "002", "--format", "json"))
    (march,) = [i for i in invoices if i["period"] == "2025-03"]
    return march


def walk(fig: dict):
    yield fig
    for child in fig["inputs"]:
        yield from walk(child)


def test_an_advance_line_down_to_the_allocation(ledger_url):
    march = march_invoice_of_a(ledger_url)
    advance = next(line for line in march["lines"] if line["kind"] == "advance")
    doc = json.loads(osuus(ledger_url, "explain", "invoice", march["number"], "--line", advance["position"],
                           "--format", "json"))
    (line,) = doc["lines"]
    fig = line["explanation"]
    assert (fig["name"], D(fig["value"])) == ("line.advance", D("30.00"))  # 360 / 12
    assert fig["formula"].replace("\xa0", " ") == "360,00 € / 12"
    invoiced = fig["inputs"][0]
    assert (invoiced["name"], D(invoiced["value"])) == ("row.invoiced", D("360.00"))
    share = next(f for f in walk(fig) if f["name"] == "component.share")
    assert D(share["value"]) == D(360) and share["reference"] == "c-p"
    assert share["formula"].replace("\xa0", " ") == "1 200,00 € × 30 / 100"  # A's 30 of the population of 100


def test_an_event_line_is_quantity_times_the_agreed_price(ledger_url):
    march = march_invoice_of_a(ledger_url)
    event = next(line for line in march["lines"] if line["kind"] == "event" and line["component"] == "t")
    doc = json.loads(osuus(ledger_url, "explain", "invoice", march["number"], "--line", event["position"],
                           "--format", "json"))
    fig = doc["lines"][0]["explanation"]
    assert D(fig["value"]) == D("30.00") and fig["formula"].replace("\xa0", " ") == "3 × 10,00 €"
    price = fig["inputs"][1]
    assert (price["name"], D(price["value"]), price["params"]["tier"]) == ("price.tier", D(10), "1")


def test_the_text_of_an_explained_line(ledger_url):
    march = march_invoice_of_a(ledger_url)
    text = osuus(ledger_url, "explain", "invoice", march["number"], "--line", "1")
    assert "Ennakko 3/12 (Shared): 360,00 € / 12 = 30,00 €" in text
    assert "p: 1 200,00 € × 30 / 100 = 360,00 €  [c-p]" in text


def test_a_settlement(ledger_url):
    doc = json.loads(osuus(ledger_url, "explain", "settlement", "2025", "-m", "A", "--format", "json"))
    (fig,) = doc["figures"]
    assert (fig["name"], D(fig["value"])) == ("settlement.difference", D(200))
    actual, billed = fig["inputs"]
    assert D(actual["value"]) == D(870) and D(billed["value"]) == D(670)
    parts = {p["params"]["item"]: D(p["value"]) for p in actual["inputs"]}
    assert parts == {"adv": D(540), "u": D(200), "t": D(30), "m": D(100)}
    factor = next(f for f in walk(actual) if f["name"] == "price.factor" and f["params"]["component"] == "m")
    assert D(factor["value"]) == D("1.25") and factor["formula"].replace("\xa0", " ") == "500,00 € / 400,00 €"
    # billed: the documents it was billed on; twelve advances of 30 €, March's events 310 €
    documents = {f["params"]["invoice"]: D(f["value"]) for f in billed["inputs"]}
    assert sum(documents.values()) == D(670) and len(documents) == 12
    assert sorted(documents.values()) == [D(30)] * 11 + [D(340)]
    assert [d["amount"] for d in doc["documents"]] == ["200.00"]  # on the first invoice of 2026


def test_an_estimate(ledger_url):
    doc = json.loads(osuus(ledger_url, "explain", "estimate", "2026", "-m", "002", "--format", "json"))
    fig = doc["explanation"]
    assert (fig["name"], D(fig["value"])) == ("estimate.total", D(870))
    parts = {p["params"]["item"]: D(p["value"]) for p in fig["inputs"]}
    assert parts == {"adv": D(540), "m": D(100), "u": D(200), "t": D(30)}
    text = osuus(ledger_url, "--language", "en", "explain", "estimate", "2026", "-m", "A")
    assert text.startswith("Estimate 2026: A (revision 1)")


def test_an_unknown_line_or_year_is_refused(ledger_url):
    from osuus.cli import app

    march = march_invoice_of_a(ledger_url)
    result = CliRunner().invoke(app, ["explain", "invoice", march["number"], "--line", "99"],
                                env={"OSUUS_DATABASE_URL": ledger_url})
    assert result.exit_code == 2 and "not 99" in result.stderr
    result = CliRunner().invoke(app, ["explain", "settlement", "2026", "-m", "A"],
                                env={"OSUUS_DATABASE_URL": ledger_url})
    assert result.exit_code == 2 and "no agreement for 2026" in result.stderr
    result = CliRunner().invoke(app, ["explain", "estimate", "2027", "-m", "A"],
                                env={"OSUUS_DATABASE_URL": ledger_url})
    assert result.exit_code == 2 and "no estimate for 2027" in result.stderr
