"""The parts: JSON-stat decoding, finding a table's variables, municipal mergers, the client's retries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from osuus.problems import ProblemsError
from osuus.refdata.areas import Merger, municipality_code, plan_areas
from osuus.refdata.client import Limits, PxWebClient, TooManyCells, retry_after
from osuus.refdata.jsonstat import JsonStatError, loads, parse_dataset
from osuus.refdata.tables import JOBSEEKERS, POPULATION, Variable, content_matches, division_date, resolve
from tests.refdata.fakestat import FakeTime

# --- JSON-stat ------------------------------------------------------------------------------


def test_numbers_are_decimal_never_float():
    data = loads(b'{"value": [0.1, 2.5, 16439, 1e3, null]}')
    assert data["value"][:2] == [Decimal("0.1"), Decimal("2.5")]
    assert type(data["value"][0]) is Decimal and data["value"][2] == 16439 and data["value"][3] == Decimal("1E+3")
    with pytest.raises(JsonStatError):
        loads('{"value": [NaN]}')
    with pytest.raises(JsonStatError):
        loads("<html>")


def _dataset(**changes):
    data = {"class": "dataset", "id": ["a", "t"], "size": [2, 2],
            "dimension": {"a": {"label": "Alue", "category": {"index": ["KU020", "KU250"],
                                                              "label": {"KU020": "Akaa", "KU250": "Kihniö"}}},
                          "t": {"category": {"index": {"2023": 0, "2024": 1}}}},
            "value": [Decimal("1.5"), 2, 3, None], "status": {"3": "..."}, "updated": "2026-01-01T00:00:00Z"}
    data.update(changes)
    return parse_dataset(loads(__import__("json").dumps(data, default=str).replace('"1.5"', "1.5")))


def test_row_major_cells_with_status():
    ds = _dataset()
    assert ds.cell({"a": "KU020", "t": "2023"}) == (Decimal("1.5"), "")
    assert ds.cell({"a": "KU020", "t": "2024"}) == (Decimal(2), "")
    assert ds.cell({"a": "KU250", "t": "2023"}) == (Decimal(3), "")
    assert ds.cell({"a": "KU250", "t": "2024"}) == (None, "...")
    assert ds.cell({"a": "KU999", "t": "2024"}) is None
    assert ds.dimension("a").label_of("KU250") == "Kihniö" and ds.updated == "2026-01-01T00:00:00Z"


def test_sparse_values_and_status_forms():
    ds = _dataset(value={"1": 7}, status=None)
    assert ds.cell({"a": "KU020", "t": "2024"}) == (Decimal(7), "")
    assert ds.cell({"a": "KU020", "t": "2023"}) is None  # not in the answer at all
    ds = _dataset(status=[None, None, "p", ".."])
    assert ds.cell({"a": "KU250", "t": "2023"}) == (Decimal(3), "p")
    ds = _dataset(value=[None, None, None, None], status="..")
    assert ds.cell({"a": "KU020", "t": "2023"}) == (None, "..")


@pytest.mark.parametrize("changes", [
    {"class": "collection"}, {"size": [2]}, {"size": [3, 2]}, {"value": [1, 2, 3]}, {"value": [1, 2, 3, "x"]},
    {"value": [1, 2, 3, True]}, {"dimension": {"a": {"category": {"index": ["KU020", "KU250"]}}}},
])
def test_what_is_not_a_dataset(changes):
    with pytest.raises(JsonStatError):
        _dataset(**changes)


# --- the variables of a table ---------------------------------------------------------------


def _vars(*specs):
    return [Variable(*s[:3], **(s[3] if len(s) > 3 else {})) for s in specs]


POST_11RA = _vars(("alue_23_20260101", "Alue", ("SSS", "KU020", "KU837", "MK06"), {"map": "Alue 2026"}),
                  ("contentscode", "Tiedot", ("vaerak-vaesto", "vaesto_keski_ika")),
                  ("timeperiod_y", "Vuosi", ("2023", "2024"), {"time": True}))


def test_post_june_variables_by_their_roles():
    r, problems = resolve(POST_11RA, POPULATION)
    assert not problems
    assert (r.area.code, r.time.code, r.content.code, r.content_code) == (
        "alue_23_20260101", "timeperiod_y", "contentscode", "vaerak-vaesto")
    assert r.classification == dt.date(2026, 1, 1) and dict(r.areas) == {"020": "KU020", "837": "KU837"}


def test_pre_june_variables_by_their_names_and_content_without_prefix():
    r, problems = resolve(_vars(("Alue", "Alue", ("SSS", "KU020")), ("Vuosi", "Vuosi", ("2023",)),
                                ("Tiedot", "Tiedot", ("vaesto", "miehet"))), POPULATION)
    assert not problems and (r.area.code, r.time.code, r.content_code) == ("Alue", "Vuosi", "vaesto")
    assert r.classification is None


def test_variables_found_by_their_values_alone():
    r, problems = resolve(_vars(("x1", "?", ("020", "837")), ("x2", "?", ("2023M01", "2023M02")),
                                ("x3", "?", ("TYOTTOMATLOPUSSA", "TYOTOSUUS"))), JOBSEEKERS)
    assert not problems and (r.area.code, r.time.code, r.content.code) == ("x1", "x2", "x3")


def test_other_variables_are_pinned_to_their_total_or_left_out():
    variables = [*POST_11RA, *_vars(("sukupuoli_9_20180101", "Sukupuoli", ("SSS", "1", "2")),
                                    ("ika", "Ikä", ("SSS", "000"), {"elimination": True}))]
    r, problems = resolve(variables, POPULATION)
    assert not problems and r.fixed == (("sukupuoli_9_20180101", "SSS"),) and r.eliminated == ("ika",)
    r, problems = resolve([*POST_11RA, *_vars(("x", "Muu", ("a", "b")))], POPULATION)
    assert r is None and problems[0].code == "refdata.table_shape" and "x (Muu)" in problems[0].message


def test_a_table_without_the_content_or_a_time():
    r, problems = resolve(POST_11RA, JOBSEEKERS)
    assert r is None and problems[0].code == "refdata.content_missing"
    r, problems = resolve(POST_11RA[:2], POPULATION)
    assert r is None and "which variable is the time" in problems[0].message


def test_content_codes_and_division_dates():
    assert content_matches("vaerak-vaesto", "vaesto") and content_matches("vaesto", "vaerak-vaesto")
    assert content_matches("tyonv-TYOTTOMATLOPUSSA", "TYOTTOMATLOPUSSA")
    assert not content_matches("vaesto_keski_ika", "vaesto")
    assert division_date(Variable("alue_23_20260101", "Alue", ())) == dt.date(2026, 1, 1)
    assert division_date(Variable("Alue", "Alue 2025", ())) == dt.date(2025, 1, 1)
    assert division_date(Variable("Alue", "Alue", ())) is None


# --- municipality codes and mergers ---------------------------------------------------------


def test_municipality_codes_in_both_forms():
    assert municipality_code("KU020") == "020" and municipality_code("020") == "020"
    assert municipality_code(" ku837 ") == "837"
    assert [municipality_code(x) for x in ("SSS", "MK06", "SK064", "2023", "KU20")] == [None] * 5


def test_merger_parse():
    assert Merger.parse("099:214:2021-01-01") == Merger("099", "214", dt.date(2021, 1, 1))
    for bad in ("099:214", "99:214:2021-01-01", "099:099:2021-01-01", "099:214:1.1.2021"):
        with pytest.raises(ValueError):
            Merger.parse(bad)


def test_a_chain_of_mergers_into_a_member_of_a_later_division():
    mergers = [Merger("101", "201", dt.date(2019, 1, 1)), Merger("201", "301", dt.date(2021, 1, 1)),
               Merger("202", "301", dt.date(2021, 1, 1))]
    areas = {c: f"KU{c}" for c in ("101", "201", "202", "999")}
    plans, problems, not_found = plan_areas({"301": "Uusi"}, areas, mergers=mergers,
                                            classification=dt.date(2018, 1, 1), members_as_of=dt.date(2022, 1, 1))
    assert not problems and plans[0].areas == ("101", "201", "202") and plans[0].values == ("KU101", "KU201", "KU202")
    # a part the table lacks
    plans, problems, not_found = plan_areas({"301": "Uusi"}, {"101": "KU101"}, mergers=mergers,
                                            classification=dt.date(2018, 1, 1), members_as_of=dt.date(2022, 1, 1))
    assert not plans and not_found == ["301"] and "sum of 101, 202" in problems[0].message
    assert "has no 202" in problems[0].message
    # a merger's new code the table lacks is one the merger created ...
    plans, problems, not_found = plan_areas({"301": "Uusi"}, {"101": "KU101", "202": "KU202"}, mergers=mergers,
                                            classification=dt.date(2018, 1, 1), members_as_of=dt.date(2022, 1, 1))
    assert plans[0].areas == ("101", "202") and problems == []
    # ... surely so when the areas are all the table's; taken so, with a warning, from a saved file's areas
    plans, problems, not_found = plan_areas({"301": "Uusi"}, {"101": "KU101", "202": "KU202"}, mergers=mergers,
                                            classification=dt.date(2018, 1, 1), members_as_of=dt.date(2022, 1, 1),
                                            complete=False)
    assert plans[0].areas == ("101", "202") and [(p.code, p.is_error) for p in problems] == [
        ("refdata.merger_assumed", False)]
    assert "201, 301 are not in the file's areas" in problems[0].message


# --- the client -------------------------------------------------------------------------------


def test_retry_after_forms():
    now = dt.datetime(2026, 6, 10, 8, 30, tzinfo=dt.timezone.utc)
    assert retry_after("7", now) == 7.0 and retry_after(" 2.5 ", now) == 2.5
    assert retry_after("Wed, 10 Jun 2026 08:31:00 GMT", now) == 60.0
    assert retry_after("Wed, 10 Jun 2026 08:00:00 GMT", now) == 0.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


def test_limits_from_config():
    assert Limits.from_config({"maxValues": 120000, "maxCells": 100000, "maxCalls": 40, "timeWindow": 60,
                               "CORS": True}) == Limits(100000, 120000, 40, 60.0, True)
    assert Limits.from_config({"maxValues": 5000, "maxCalls": 10, "timeWindow": 10}).max_cells == 5000
    with pytest.raises(ValueError):
        Limits.from_config({"maxCells": 0})


def _mock_client(handler, **options):
    time = FakeTime()
    client = PxWebClient("https://stat.invalid/PxWeb/api/v1", transport=httpx.MockTransport(handler),
                         sleep=time.sleep, clock=time.clock, limits=Limits(), **options)
    return client, time


def test_a_timeout_is_retried_then_a_problem():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"title": "t", "variables": []})

    client, time = _mock_client(handler, timeout=3)
    assert client.metadata("vaerak/11ra").data == {"title": "t", "variables": []}
    assert time.slept == [1.0]

    def always(request):
        raise httpx.ConnectTimeout("slow", request=request)

    client, time = _mock_client(always, timeout=3, retries=2)
    with pytest.raises(ProblemsError) as caught:
        client.metadata("vaerak/11ra")
    [problem] = caught.value.problems
    assert problem.code == "refdata.network" and "no answer within 3 s" in problem.message
    assert time.slept == [1.0, 2.0]


def test_server_errors_are_retried_client_errors_are_not():
    answers = iter([httpx.Response(503, text="busy"), httpx.Response(200, json={"ok": 1})])
    client, time = _mock_client(lambda request: next(answers))
    assert client.query("vaerak/11ra", {"query": []}).data == {"ok": 1}
    client, time = _mock_client(lambda request: httpx.Response(400, text="Bad Request"))
    with pytest.raises(ProblemsError) as caught:
        client.query("vaerak/11ra", {"query": []})
    assert caught.value.problems[0].code == "refdata.http" and "HTTP 400" in caught.value.problems[0].message
    assert time.slept == []


def test_a_403_to_a_query_is_too_many_cells():
    client, _ = _mock_client(lambda request: httpx.Response(403, html="<h2>403 - Forbidden: Access is denied.</h2>"))
    with pytest.raises(TooManyCells):
        client.query("vaerak/11ra", {"query": []})


def test_the_posted_query_is_json_and_kept_with_the_answer():
    seen = []

    def handler(request):
        seen.append((request.method, str(request.url), request.headers["content-type"], request.content))
        return httpx.Response(200, content=b'{"value": [1.25]}')

    client, _ = _mock_client(handler)
    reply = client.query("vaerak/11ra", {"query": [{"code": "contentscode"}], "response": {"format": "json-stat2"}})
    method, url, content_type, body = seen[0]
    assert method == "POST" and url == "https://stat.invalid/PxWeb/api/v1/fi/StatFin/vaerak/11ra.px"
    assert content_type == "application/json" and reply.request == body.decode()
    assert reply.data["value"] == [Decimal("1.25")]
