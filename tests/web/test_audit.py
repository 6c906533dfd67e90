"""The change log's pages (admin, auditor): the records, filtered and paged; one record's details;
the verification of the ledger against the log."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import AREA, OTHER_AREA
from tests.web.conftest import csrf
from tests.web.test_home import text_of

LOG = f"/areas/{AREA}/audit"


def sequences(html: str) -> list[int]:
    """The record numbers listed, in the page's order."""
    return [int(n) for n in re.findall(r'href="/areas/[^/]+/audit/(\d+)"', html)]


def records(web_ledger, area: str = AREA):
    from osuus.services.audit import audit_entries
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=area) as ledger:
        return audit_entries(ledger, limit=1000).entries


@pytest.mark.parametrize("person", ["paakayttaja", "tarkastaja"])
def test_admins_and_auditors_read_the_log(browser_for, web_ledger, person):
    answer = browser_for(person).get(LOG)
    assert answer.status_code == 200
    expected = records(web_ledger)
    assert sequences(answer.text) == [r.id for r in expected]  # newest first, all of them on one page
    text = text_of(answer.text)
    assert f"Tapahtumat 1–{len(expected)} / {len(expected)}" in text
    assert "Laskutusajo hyväksytty (invoice.run)" in text


@pytest.mark.parametrize("person, status", [("valmistelija", 403), ("hyvaksyja", 403), ("akaa", 403),
                                            ("lappilainen", 404)])
def test_the_others_may_not(browser_for, person, status):
    c = browser_for(person)
    assert c.get(LOG).status_code == status
    assert c.get(LOG + "/verify").status_code == status
    assert c.get(LOG + "/1").status_code == status


def test_filtered_by_action_and_actor(browser_for, web_ledger):
    c = browser_for("tarkastaja")
    runs = [r.id for r in records(web_ledger) if r.action == "invoice.run"]
    assert len(runs) == 3  # January, February, March
    assert sequences(c.get(LOG + "?action=invoice.run").text) == runs
    approver = [r.id for r in records(web_ledger) if r.actor == "hyvaksyja"]
    assert approver == runs  # the approver did nothing else
    answer = c.get(LOG + "?actor=hyvaksyja&action=invoice.run")
    assert sequences(answer.text) == runs
    assert '<option value="hyvaksyja" selected>' in answer.text  # the form keeps what was asked


def test_filtered_by_subject(browser_for, web_ledger):
    html = browser_for("tarkastaja").get(LOG + "?subject=2021-04").text
    found = [r for r in records(web_ledger) if r.id in sequences(html)]
    assert [(r.action, r.subject) for r in found] == [("draft.prepare", "2021-04")]


def test_filtered_by_days(browser_for, web_ledger):
    import datetime as dt

    c = browser_for("tarkastaja")
    everything = [r.id for r in records(web_ledger)]
    today = dt.date.today()
    around = f"?since={(today - dt.timedelta(days=1)).isoformat()}&until={(today + dt.timedelta(days=1)).isoformat()}"
    assert sequences(c.get(LOG + around).text) == everything  # the ledger was made today
    answer = c.get(LOG + "?until=1.2.2021")  # as a Finn types a day
    assert answer.status_code == 200 and sequences(answer.text) == []
    assert "Yksikään tapahtuma ei vastaa rajauksia." in answer.text


def test_a_bad_day_is_said_in_the_error_summary(browser_for):
    answer = browser_for("tarkastaja").get(LOG + "?since=eilen")
    assert answer.status_code == 400
    assert 'class="error-summary"' in answer.text and 'href="#since"' in answer.text
    assert "eilen ei ole päivämäärä" in answer.text
    reversed_ = browser_for("tarkastaja").get(LOG + "?since=2021-03-01&until=2021-02-01")
    assert reversed_.status_code == 400 and 'href="#until"' in reversed_.text


def test_the_log_is_paged(browser_for, web_ledger, monkeypatch):
    from osuus.web.pages import audit

    monkeypatch.setattr(audit, "PER_PAGE", 10)
    c = browser_for("tarkastaja")
    everything = [r.id for r in records(web_ledger)]
    first = c.get(LOG + "?action=&actor=")
    assert sequences(first.text) == everything[:10]
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = c.get(LOG + "?page=2")
    assert sequences(second.text) == everything[10:20] and 'rel="prev"' in second.text


def test_a_records_details(browser_for, web_ledger):
    key = next(r for r in records(web_ledger) if r.action == "apikey.create")
    answer = browser_for("paakayttaja").get(f"{LOG}/{key.id}")
    assert answer.status_code == 200
    text = text_of(answer.text)
    assert f"Muutoslokin tapahtuma {key.id}" in text
    assert "API-avain luotu (apikey.create)" in text and key.hash in text
    assert "raportointi" in text and '["invoices:read"]' in text  # the key's name and scopes, never its secret
    assert web_ledger.key not in answer.text


def test_a_runs_record_names_the_rows_it_wrote(browser_for, web_ledger):
    run = next(r for r in records(web_ledger) if r.action == "invoice.run" and r.subject == "2021-01")
    text = text_of(browser_for("tarkastaja").get(f"{LOG}/{run.id}").text)
    assert "Lasku 21 0 0" in text  # the 21 invoices of January, none changed or removed


def test_a_record_of_another_area_is_not_there(browser_for, web_ledger):
    theirs = records(web_ledger, OTHER_AREA)
    assert theirs
    c = browser_for("tarkastaja")
    for record in theirs:
        assert c.get(f"{LOG}/{record.id}").status_code == 404
    assert c.get(f"{LOG}/999999").status_code == 404
    assert c.get(f"{LOG}/x").status_code == 404


def test_verify_shows_the_chain_intact(browser_for, web_ledger):
    c = browser_for("tarkastaja")
    form = c.get(LOG + "/verify")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    answer = c.post(LOG + "/verify", data={"csrf_token": csrf(c)})
    assert answer.status_code == 200
    text = text_of(answer.text)
    count = len(records(web_ledger))
    assert "Muutosloki on eheä" in text
    assert f"Muutosloki eheä: {count} tietuetta." in text


def test_verify_against_a_checkpoint(browser_for, web_ledger):
    from osuus.services.audit import checkpoint
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        head = checkpoint(ledger)
    c = browser_for("paakayttaja")
    good = c.post(LOG + "/verify", data={"csrf_token": csrf(c), "checkpoint": f'{{"sequence": {head.sequence}, '
                                                                             f'"hash": "{head.hash}"}}'})
    assert "Muutosloki on eheä" in good.text
    wrong = c.post(LOG + "/verify", data={"csrf_token": csrf(c), "checkpoint": f'{{"sequence": {head.sequence}, '
                                                                              f'"hash": "{"0" * 64}"}}'})
    assert "Tarkastus löysi virheitä" in wrong.text
    bad = c.post(LOG + "/verify", data={"csrf_token": csrf(c), "checkpoint": "ei tarkastuspiste"})
    assert bad.status_code == 400 and 'href="#checkpoint"' in bad.text


def test_verify_refuses_a_form_without_its_csrf_token(browser_for):
    assert browser_for("tarkastaja").post(LOG + "/verify", data={}).status_code == 403
