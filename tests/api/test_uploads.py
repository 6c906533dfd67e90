"""Uploads: every class of import problem answered as 422 problem details, each problem at its
file, row and column, in the very words `osuus import` prints (compared with the command line
run on the same file and ledger), and nothing written.

The classes: a file that cannot be read (old Excel, unknown type, empty, not a workbook, not
UTF-8), a header with missing, unknown or repeated columns and a value under no column, every
kind of bad cell, a row repeated in the file, a personal identity code in a cell or in the file
name, a record stored before with other content, the ledger's limits, more problems than are
listed, and bad counts and costs; and the request itself (no file, an unknown kind).
"""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import AREA, app_for, client_for, make_ledger

HEADER = "event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost"
GOOD = "E-1,2021-03-04,mainio,790,A-000001,1.5,,,,"
HETU = "131052-308T"


def events(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def served(sqlite_url, cheap_passwords):
    ledger = make_ledger(sqlite_url, months=1)
    app = app_for(sqlite_url)
    yield ledger, client_for(app)
    app.state.ledgers.close()


def upload(served, kind: str, name: str, content: bytes, **data):
    ledger, client = served
    return client.post(f"/api/v1/areas/{AREA}/imports/{kind}", files={"file": (name, content, "text/csv")},
                       data=data or None, headers={"Authorization": f"Bearer {ledger.tokens['valmistelija']}"})


def cli_lines(served, kind: str, path, invoke_cli) -> list[str]:
    """What `osuus import KIND FILE` prints on stderr for the same file and ledger, less its summary."""
    ledger, _ = served
    code, out, err, exc = invoke_cli("--area", AREA, "import", kind, str(path), "--db", ledger.url)
    assert code == 2, (out, err, exc)
    return err.splitlines()[:-1]


def refused(served, kind: str, name: str, content: bytes, tmp_path, invoke_cli, **data) -> list[dict]:
    """Upload; assert 422 in the problem shape, with exactly the command line's lines; the errors."""
    answer = upload(served, kind, name, content, **data)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert (body["type"], body["status"]) == ("urn:osuus:problem:invalid-input", 422)
    path = tmp_path / name
    path.write_bytes(content)
    assert [e["text"] for e in body["errors"]] == cli_lines(served, kind, path, invoke_cli)
    return body["errors"]


def one(errors: list[dict]) -> dict:
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize("name, content, reason", [
    ("e.xls", b"x", "the old Excel format (.xls) is not read"),
    ("e.json", b"{}", "unknown file type '.json'"),
    ("e.csv", b"", "the file is empty"),
    ("e.xlsx", b"not a zip file", "cannot read as an Excel workbook"),
])
def test_a_file_that_cannot_be_read(served, tmp_path, invoke_cli, name, content, reason):
    error = one(refused(served, "events", name, content, tmp_path, invoke_cli))
    assert error["file"] == name and "row" not in error and error["message"].startswith(reason)


def test_not_utf8_is_named_at_its_row(served, tmp_path, invoke_cli):
    content = events(GOOD) + "E-2,2021-03-04,mainio,Hämeenkyrö,A-2,1,,,,\n".encode("latin-1")
    error = one(refused(served, "events", "events.csv", content, tmp_path, invoke_cli))
    assert error["row"] == 3 and "not UTF-8" in error["message"]


def test_header_problems(served, tmp_path, invoke_cli):
    errors = refused(served, "events", "events.csv", b"event_id;date;component;quantity\n1;2021-01-04;mainio;1\n",
                     tmp_path, invoke_cli)
    assert [(e["row"], e["column"], e["message"]) for e in errors] == [
        (1, "municipality", "required column missing from the header"),
        (1, "customer", "required column missing from the header")]
    header = HEADER.replace("integration_year", "integraton_year") + ",km"
    errors = refused(served, "events", "events.csv", events(GOOD + ",", header=header), tmp_path, invoke_cli)
    assert [(e["row"], e["column"]) for e in errors] == [(1, "integraton_year"), (1, "km")]
    error = one(refused(served, "events", "events.csv", events(GOOD + ",surprise"), tmp_path, invoke_cli))
    assert (error["row"], error["column"]) == (2, "#11")


@pytest.mark.parametrize("row, column, value, reason", [
    ("E1,2021-02-30,mainio,790,A-1,1,,,,", "date", "2021-02-30", "expected a date as YYYY-MM-DD or D.M.YYYY"),
    ("E1,2023-03-04,mainio,790,A-1,1,,,,", "date", "2023-03-04", "no agreement for 2023"),
    ("E1,2021-03-04,kahvi,790,A-1,1,,,,", "component", "kahvi", "unknown component"),
    ("E1,2021-03-04,mainio,Helsinki,A-1,1,,,,", "municipality", "Helsinki", "unknown municipality"),
    ("E1,2021-03-04,mainio,790,,1,,,,", "customer", "", "missing: expected a pseudonymous customer id"),
    ("E1,2021-03-04,mainio,790,A-1,-3,,,,", "quantity", "-3", "expected a quantity that is not negative"),
    ("E1,2021-03-04,omavalmentaja,790,A-1,1,toka,,,", "integration_year", "toka", "expected an integration year"),
    ("E1,2021-03-04,mainio,790,A-1,1,,-1,,", "travel_days", "-1", "expected a number of travel days"),
    ("E1,2021-03-04,mainio,790,A-1,1,,,paljon,", "km", "paljon", "expected kilometres: a number"),
    ("E1,2021-03-04,mainio,790,A-1,1,,,,12.345", "interpretation_cost", "12.345", "expected an amount in euros"),
])
def test_each_bad_cell_at_its_row_and_column(served, tmp_path, invoke_cli, row, column, value, reason):
    error = one(refused(served, "events", "events.csv", events(GOOD, row), tmp_path, invoke_cli))
    assert (error["file"], error["row"], error["column"], error.get("value", "")) == ("events.csv", 3, column, value)
    assert error["message"].startswith(reason) and error["code"] == "import"


def test_a_bad_cell_of_a_workbook(served, tmp_path, invoke_cli):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(GOOD.split(","))
    sheet.append(["E-2", "31.2.2021", "mainio", "790", "A-2", 1])
    data = io.BytesIO()
    book.save(data)
    error = one(refused(served, "events", "events.xlsx", data.getvalue(), tmp_path, invoke_cli))
    assert (error["file"], error["row"], error["column"]) == ("events.xlsx", 3, "date")


def test_a_row_repeated_in_the_file(served, tmp_path, invoke_cli):
    error = one(refused(served, "events", "events.csv", events(GOOD, GOOD.replace("A-000001", "A-2")), tmp_path,
                        invoke_cli))
    assert (error["row"], error["column"], error["message"]) == (
        3, "event_id", "the same event id is on an earlier row of this file")


def test_a_personal_identity_code_in_a_cell_and_in_the_name(served, tmp_path, invoke_cli):
    error = one(refused(served, "events", "events.csv", events(GOOD.replace("A-000001", HETU)), tmp_path, invoke_cli))
    assert error["column"] == "customer" and "personal identity code" in error["message"]
    assert HETU not in str(error)
    error = one(refused(served, "events", f"tapahtumat-{HETU}.csv", events(GOOD), tmp_path, invoke_cli))
    assert error["code"] == "privacy.personal-code" and HETU not in str(error)


def test_an_event_stored_with_other_content(served, tmp_path, invoke_cli):
    stored = "2021-000002,2021-01-04,mainio,508,A-000657,0.75,,,,"  # the example's second event, 0.5 hours
    error = one(refused(served, "events", "events.csv", events(stored), tmp_path, invoke_cli))
    assert (error["row"], error["column"], error["code"]) == (2, "event_id", "import.conflict")


def test_the_ledgers_limits(served, tmp_path, invoke_cli):
    # each row below a cell's limit; at 40 €/h each is 39 999 999 960 €: 25 rows come to 999 999 999 000 €,
    # and with Sastamala's events stored already the 25th (file row 26) takes the year to 10^12 €
    rows = [f"L-{n},2021-03-04,mainio,790,A-1,999999999,,,," for n in range(30)]
    error = one(refused(served, "events", "events.csv", events(*rows), tmp_path, invoke_cli))
    assert (error["row"], error["code"]) == (26, "import.limit") and "1 000 000 000 000 €" in error["message"]


def test_more_problems_than_are_listed_are_counted(served, tmp_path, invoke_cli):
    rows = [f"M-{n},2021-02-30,mainio,790,A-1,1,,,," for n in range(1005)]
    errors = refused(served, "events", "events.csv", events(*rows), tmp_path, invoke_cli)
    assert len(errors) == 1001 and errors[-1]["code"] == "import.more"
    assert errors[-1]["message"].startswith("… and 5 more problems")


@pytest.mark.parametrize("row, column, reason", [
    ("tyottomat,790,2020-12-31,5,", "key", "unknown key"),
    ("asukasluku,790,2020-12-31,-5,", "value", "expected a count that is not negative"),
    ("asukasluku,020,2020-12-31,16551,", "value", "asukasluku of 020 on 2020-12-31 is already stored as 16550"),
])
def test_bad_counts(served, tmp_path, invoke_cli, row, column, reason):
    content = f"key,municipality,date,value,source\n{row}\n".encode()
    error = one(refused(served, "counts", "counts.csv", content, tmp_path, invoke_cli))
    assert (error["row"], error["column"]) == (2, column) and error["message"].startswith(reason)


@pytest.mark.parametrize("row, column, reason", [
    ("2023;mainio;cost;1;", "year", "no agreement for 2023"),
    ("2021;mainio;tulo;1;", "kind", "expected cost or funding"),
    ("2021;mainio;cost;1,005;", "amount", "expected an amount in euros with at most 2 decimals"),
])
def test_bad_costs(served, tmp_path, invoke_cli, row, column, reason):
    content = f"year;component;kind;amount;note\n{row}\n".encode()
    error = one(refused(served, "costs", "costs.csv", content, tmp_path, invoke_cli))
    assert (error["row"], error["column"]) == (2, column) and error["message"].startswith(reason)


def test_a_refused_file_writes_nothing(served):
    ledger, client = served
    headers = {"Authorization": f"Bearer {ledger.tokens['tarkastaja']}"}
    before = client.get(f"/api/v1/areas/{AREA}/audit/log?limit=1", headers=headers).json()
    assert upload(served, "events", "events.csv", events(GOOD, "E1,2021-02-30,mainio,790,A-1,1,,,,")).status_code == 422
    after = client.get(f"/api/v1/areas/{AREA}/audit/log?limit=1", headers=headers).json()
    assert after["total"] == before["total"] and after["items"] == before["items"]


def test_a_good_file_then_the_same_again(served):
    first = upload(served, "events", "uudet.csv", events("N-1,2021-03-04,mainio,790,A-9,2,,,,"))
    assert first.status_code == 201 and first.json() == {"kind": "events", "file": "uudet.csv", "rows": 1, "added": 1,
                                                         "created": True}
    again = upload(served, "events", "uudet.csv", events("N-1,2021-03-04,mainio,790,A-9,2,,,,"))
    assert again.status_code == 200 and again.json()["created"] is False and again.json()["added"] == 0


def test_the_events_year(served):
    answer = upload(served, "events", "events.csv", events("Y-1,2021-03-04,mainio,790,A-1,1,,,,"), year="1800")
    assert answer.status_code == 422 and answer.json()["errors"][0]["key"] == "year"


def test_the_request_itself(served):
    ledger, client = served
    headers = {"Authorization": f"Bearer {ledger.tokens['valmistelija']}"}
    no_file = client.post(f"/api/v1/areas/{AREA}/imports/events", headers=headers, data={"year": "2021"})
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["key"] == "file"
    kind = client.post(f"/api/v1/areas/{AREA}/imports/kahvi", headers=headers,
                       files={"file": ("x.csv", b"a\n", "text/csv")})
    assert kind.status_code == 422 and kind.json()["errors"][0]["key"] == "path.kind"
    folder = upload(served, "events", "../../etc/events.csv", events("P-1,2021-03-04,mainio,790,A-1,1,,,,"))
    assert folder.status_code == 201 and folder.json()["file"] == "events.csv"  # the name, never its folders
