"""Users and API keys of an area (admin): the list, adding a user (with the form's problems in an
error summary linked to the fields), roles granted and revoked, a user disabled; API keys made
(the secret shown once), listed and revoked. The tests that write use users and keys of their own."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import AKAA, AREA, PASSWORD
from tests.web.conftest import csrf
from tests.web.test_home import text_of

USERS = f"/areas/{AREA}/users"
KEYS = f"/areas/{AREA}/users/keys"


def users_of(web_ledger):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        return {u.name: u for u in accounts.list_users(ledger, area_only=True)}


def keys_of(web_ledger):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        return {k.name: k for k in accounts.list_api_keys(ledger)}


def post(c, path: str, **data):
    return c.post(path, data={"csrf_token": csrf(c), **data}, follow_redirects=False)


def test_an_admin_sees_the_users_of_the_area_with_their_roles(browser_for):
    answer = browser_for("paakayttaja").get(USERS)
    assert answer.status_code == 200
    text = text_of(answer.text)
    for name in ("paakayttaja", "valmistelija", "hyvaksyja", "tarkastaja", "akaa", "nokia"):
        assert name in text
    assert "lappilainen" not in text  # of another area
    assert f"Jäsenkunta: Akaa ({AKAA})" in text and "Valmistelija" in text and "Hyväksyjä" in text


@pytest.mark.parametrize("person, status", [("valmistelija", 403), ("hyvaksyja", 403), ("tarkastaja", 403),
                                            ("akaa", 403), ("lappilainen", 404)])
def test_only_the_areas_admin_may(browser_for, person, status):
    c = browser_for(person)
    for path in (USERS, KEYS, USERS + "/feedback"):
        assert c.get(path).status_code == status
    assert post(c, USERS, name="x", password=PASSWORD, role="preparer").status_code == status
    assert post(c, KEYS, name="x", role="auditor", scope="invoices:read", expires="2099-01-01").status_code == status


def test_a_bad_name_is_said_in_the_error_summary_linked_to_its_field(browser_for, web_ledger):
    answer = post(browser_for("paakayttaja"), USERS, name="huono nimi!", password="lyhyt", role="preparer")
    assert answer.status_code == 422
    summary = answer.text[answer.text.index('class="error-summary"'):]
    summary = summary[:summary.index("</div>")]
    assert re.findall(r'href="#([^"]+)"', summary) == ["name", "password"]
    assert "Käyttäjätunnuksessa saa olla 1–100 merkkiä" in summary
    assert "Salasanassa on oltava vähintään 12 merkkiä." in summary
    assert 'id="name" name="name" type="text" value="huono nimi!"' in answer.text  # kept, with its error
    assert 'aria-invalid="true"' in answer.text
    assert "huono nimi!" not in users_of(web_ledger)


def test_a_member_without_its_municipality_is_refused(browser_for, web_ledger):
    answer = post(browser_for("paakayttaja"), USERS, name="kunnaton", password=PASSWORD, role="member")
    assert answer.status_code == 422 and 'href="#municipality"' in answer.text
    assert "Jäsenkunnan roolille valitaan kunta" in answer.text
    assert "kunnaton" not in users_of(web_ledger)


def test_adding_a_user_with_a_role(browser_for, web_ledger):
    c = browser_for("paakayttaja")
    answer = post(c, USERS, name="uusi.valmistelija", display_name="Uusi Valmistelija", password=PASSWORD,
                  role="preparer")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{USERS}?done=added&name=uusi.valmistelija"
    user = users_of(web_ledger)["uusi.valmistelija"]
    assert user.display_name == "Uusi Valmistelija" and [r.role.value for r in user.roles] == ["preparer"]
    assert "Käyttäjä uusi.valmistelija lisätty." in c.get(answer.headers["location"]).text
    again = post(c, USERS, name="uusi.valmistelija", password=PASSWORD, role="preparer")
    assert again.status_code == 422 and "Tämänniminen käyttäjä on jo olemassa." in again.text


def test_a_members_user_for_a_municipality_of_the_agreement(browser_for, web_ledger):
    answer = post(browser_for("paakayttaja"), USERS, name="akaa.talous", password=PASSWORD, role="member",
                  municipality=AKAA)
    assert answer.status_code == 303
    roles = users_of(web_ledger)["akaa.talous"].roles
    assert [(r.role.value, r.municipality) for r in roles] == [("member", AKAA)]


def test_granting_and_revoking_a_role(browser_for, web_ledger):
    c = browser_for("paakayttaja")
    assert post(c, USERS, name="roolitettava", password=PASSWORD, role="auditor").status_code == 303
    assert post(c, USERS + "/grant", name="roolitettava", role="approver").status_code == 303
    assert {r.role.value for r in users_of(web_ledger)["roolitettava"].roles} == {"auditor", "approver"}
    held = post(c, USERS + "/grant", name="roolitettava", role="approver")
    assert held.status_code == 422 and "Käyttäjällä on jo tämä rooli." in held.text
    unknown = post(c, USERS + "/grant", name="eiole", role="approver")
    assert unknown.status_code == 422 and 'href="#grant-name"' in unknown.text
    assert post(c, USERS + "/revoke", name="roolitettava", role="auditor").status_code == 303
    assert {r.role.value for r in users_of(web_ledger)["roolitettava"].roles} == {"approver"}


def test_disabling_a_user_ends_their_sessions(browser_for, web_app, web_ledger):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    c = browser_for("paakayttaja")
    assert post(c, USERS, name="lahtija", password=PASSWORD, role="preparer").status_code == 303
    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        token = accounts.login(ledger, "lahtija", PASSWORD, "testi").token
    assert post(c, USERS + "/disable", name="lahtija").status_code == 303
    assert users_of(web_ledger)["lahtija"].disabled
    from tests.web.conftest import client

    gone = client(web_app)
    gone.cookies.set("__Host-osuus_session", token)
    assert gone.get(f"/areas/{AREA}/", follow_redirects=False).status_code == 303  # to sign in
    assert post(c, USERS + "/disable", name="lappilainen").status_code == 404  # not a user of this area


def test_an_admin_cannot_disable_themself(browser_for, web_ledger):
    answer = post(browser_for("paakayttaja"), USERS + "/disable", name="paakayttaja")
    assert answer.status_code == 409 and "Et voi poistaa omaa tunnustasi käytöstä." in answer.text
    assert not users_of(web_ledger)["paakayttaja"].disabled


def test_the_users_forms_refuse_without_their_csrf_token(browser_for, web_ledger):
    c = browser_for("paakayttaja")
    assert c.post(USERS, data={"name": "ilman.tokenia", "password": PASSWORD, "role": "preparer"}).status_code == 403
    assert c.post(KEYS, data={"name": "ilman", "role": "auditor", "scope": "invoices:read"}).status_code == 403
    assert "ilman.tokenia" not in users_of(web_ledger)


def test_an_api_keys_secret_is_shown_once(browser_for, web_ledger):
    import datetime as dt

    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    c = browser_for("paakayttaja")
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    answer = post(c, KEYS, name="kirjanpito", role="auditor", scope=["invoices:read", "reports:read"],
                  expires=expires)
    assert answer.status_code == 201
    secrets = re.findall(r"osuus_[0-9a-f]{12}_[A-Za-z0-9_-]+", answer.text)
    assert len(secrets) == 1 and "sitä ei näytetä enää koskaan" in answer.text
    secret = secrets[0]
    key = keys_of(web_ledger)["kirjanpito"]
    assert key.scopes == ("invoices:read", "reports:read") and key.role.value == "auditor"
    with Ledger(web_ledger.url, "testi", area=AREA) as ledger:
        principal = accounts.principal_for_api_key(ledger, secret)
    assert principal is not None and principal.name == f"key:{key.prefix}"
    listed = c.get(KEYS)
    assert key.prefix in listed.text and secret not in listed.text
    assert secret.split("_", 2)[2] not in listed.text


def test_a_key_beyond_its_roles_scopes_is_refused(browser_for, web_ledger):
    answer = post(browser_for("paakayttaja"), KEYS, name="liikaa", role="member", municipality=AKAA,
                  scope=["audit:read"], expires="2099-01-01")
    assert answer.status_code == 422
    assert 'href="#key-scope-agreements-read"' in answer.text and 'href="#key-expires"' in answer.text
    assert "liikaa" not in keys_of(web_ledger)
    none = post(browser_for("paakayttaja"), KEYS, name="tyhja", role="auditor", expires="2099-01-01")
    assert none.status_code == 422 and "Valitse vähintään yksi oikeus." in none.text


def test_revoking_an_api_key(browser_for, web_ledger):
    c = browser_for("paakayttaja")
    assert post(c, KEYS, name="lyhytaikainen", role="auditor", scope="invoices:read",
                expires="2099-01-01").status_code == 422  # more than a year ahead
    import datetime as dt

    expires = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    assert post(c, KEYS, name="lyhytaikainen", role="auditor", scope="invoices:read", expires=expires).status_code == 201
    prefix = keys_of(web_ledger)["lyhytaikainen"].prefix
    answer = post(c, KEYS + "/revoke", prefix=prefix)
    assert answer.status_code == 303
    assert keys_of(web_ledger)["lyhytaikainen"].state() == "revoked"
    page = c.get(answer.headers["location"]).text
    assert f"API-avain {prefix} peruttu." in page
    again = post(c, KEYS + "/revoke", prefix=prefix)
    assert again.status_code == 409 and "API-avain on jo peruttu." in again.text
