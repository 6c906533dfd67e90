"""The accessibility statement (laki digitaalisten palvelujen tarjoamisesta 306/2019): public, in
Finnish, Swedish and English, with a feedback form whose messages are stored (with the area
they were sent from, when the sender has a role there) and read by the area's admins."""

from __future__ import annotations

import pytest

from tests.api.conftest import AREA, OTHER_AREA
from tests.web.conftest import csrf, csrf_in
from tests.web.test_home import text_of

FEEDBACK = f"/areas/{AREA}/users/feedback"


def stored(web_ledger) -> list:
    from sqlalchemy import create_engine, select

    from osuus.store.tables import AccessibilityFeedback as F

    engine = create_engine(web_ledger.url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(F.area_code, F.message, F.contact, F.language).order_by(F.id)))
    finally:
        engine.dispose()


@pytest.mark.parametrize("lang, words", [
    ("fi", ["Saavutettavuusseloste", "(306/2019)", "WCAG 2.1", "täyttää WCAG 2.1 -kriteeristön A- ja AA-tason "
            "saavutettavuusvaatimukset osittain", "axe-core", "tagatuiksi PDF-tiedostoiksi", "laadittu 7.12.2026",
            "Lupa- ja valvontavirasto", "Saavutettavuusvalvonta", "www.saavutettavuusvaatimukset.fi"]),
    ("sv", ["Tillgänglighetsutlåtande", "(306/2019)", "uppfyller delvis", "taggade PDF-filer", "utarbetades 7.12.2026",
            "Tillstånds- och tillsynsverket", "Tillgänglighetstillsynen", "www.saavutettavuusvaatimukset.fi"]),
    ("en", ["Accessibility statement", "(306/2019)", "partially compliant", "tagged PDFs",
            "prepared on 7 December 2026", "Lupa- ja valvontavirasto", "www.saavutettavuusvaatimukset.fi"]),
])
def test_the_statement_is_public_in_three_languages(anonymous, lang, words):
    anonymous.cookies.set("osuus_lang", lang)
    answer = anonymous.get("/accessibility")
    assert answer.status_code == 200 and f'<html lang="{lang}">' in answer.text
    text = text_of(answer.text)
    for phrase in words:
        assert phrase in text, phrase
    if lang != "fi":  # the authority's Finnish name is marked as Finnish
        assert '<span lang="fi">Lupa- ja valvontavirasto</span>' in answer.text


def test_feedback_is_stored_and_confirmed(anonymous, web_ledger):
    page = anonymous.get("/accessibility")
    answer = anonymous.post("/accessibility", data={"csrf_token": csrf_in(page.text), "message": "Kontrasti on heikko.",
                                                    "contact": ""}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/accessibility?sent=1#feedback"
    assert (None, "Kontrasti on heikko.", None, "fi") in stored(web_ledger)
    assert "Kiitos! Palautteesi on tallennettu." in anonymous.get("/accessibility?sent=1").text


def test_feedback_needs_a_message_and_its_csrf_token(anonymous, web_ledger):
    before = len(stored(web_ledger))
    assert anonymous.post("/accessibility", data={"message": "ilman tokenia"}).status_code == 403
    page = anonymous.get("/accessibility")
    answer = anonymous.post("/accessibility", data={"csrf_token": csrf_in(page.text), "message": "  ",
                                                    "contact": "x" * 300})
    assert answer.status_code == 400
    assert 'href="#message"' in answer.text and 'href="#contact"' in answer.text
    assert "Kirjoita palaute." in answer.text
    assert len(stored(web_ledger)) == before


def test_feedback_sent_from_inside_an_area_is_that_areas(browser_for, web_ledger):
    c = browser_for("akaa")
    page = c.get("/accessibility", headers={"Referer": f"https://testserver/areas/{AREA}/invoices"})
    assert f'name="area" value="{AREA}"' in page.text
    c.post("/accessibility", data={"csrf_token": csrf(c), "message": "Taulukko ei mahdu.", "area": AREA,
                                   "contact": "talous@akaa.example"})
    assert (AREA, "Taulukko ei mahdu.", "talous@akaa.example", "fi") in stored(web_ledger)


def test_an_area_the_sender_has_no_role_in_is_not_kept(browser_for, anonymous, web_ledger):
    c = browser_for("lappilainen")
    page = c.get("/accessibility", headers={"Referer": f"https://testserver/areas/{AREA}/"})
    assert 'name="area" value=""' in page.text
    c.post("/accessibility", data={"csrf_token": csrf(c), "message": "Lapista.", "area": AREA})
    form = anonymous.get("/accessibility")
    anonymous.post("/accessibility", data={"csrf_token": csrf_in(form.text), "message": "Nimetön.", "area": AREA})
    rows = stored(web_ledger)
    assert (None, "Lapista.", None, "fi") in rows and (None, "Nimetön.", None, "fi") in rows


def test_the_areas_admin_reads_the_feedback(browser_for, web_ledger):
    c = browser_for("akaa")
    c.post("/accessibility", data={"csrf_token": csrf(c), "message": "Pirkanmaalta.", "area": AREA})
    admin = browser_for("paakayttaja").get(FEEDBACK)
    assert admin.status_code == 200
    text = text_of(admin.text)
    assert "Pirkanmaalta." in text
    other = browser_for("lappilainen").get(f"/areas/{OTHER_AREA}/users/feedback")
    assert other.status_code == 200 and "Pirkanmaalta." not in other.text  # another area's
    assert browser_for("tarkastaja").get(FEEDBACK).status_code == 403


def test_a_personal_identity_code_in_feedback_is_masked(anonymous, web_ledger):
    page = anonymous.get("/accessibility")
    anonymous.post("/accessibility", data={"csrf_token": csrf_in(page.text), "message": "Olen 311280-999J ja en näe."})
    messages = [row.message for row in stored(web_ledger)]
    assert "Olen 311280-***J ja en näe." in messages
    assert not any("999J" in m for m in messages)
