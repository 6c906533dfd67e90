"""Fetching from a fake StatFin over real HTTP, in the shapes before and after 8 June 2026."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from osuus.calendar import Period
from osuus.problems import Severity
from osuus.refdata import (JOBSEEKERS, POPULATION, Merger, average, fetch, fetch_jobseekers, fetch_population,
                           year_end)
from tests.refdata.conftest import FETCHED
from tests.refdata.fakestat import JOBSEEKERS as JOBSEEKER_DATA
from tests.refdata.fakestat import NAMES
from tests.refdata.fakestat import POPULATION as POPULATION_DATA

MEMBERS = {"020": "Akaa", "250": "Kihniö", "604": "Pirkkala", "837": "Tampere"}


def values_of(result):
    return {(v.municipality_code, v.period): v.value for v in result.values}


@pytest.mark.parametrize("shape", ["post", "pre"])
def test_population_in_both_shapes_exact_and_with_provenance(statfin, client, shape):
    statfin.scenario.shape = shape
    result = fetch_population(client, MEMBERS, 2023)
    assert result.ok and not result.problems and result.not_found == ()
    assert values_of(result) == {(c, "2023"): Decimal(POPULATION_DATA[c]["2023"]) for c in MEMBERS}
    assert all(type(v.value) is Decimal for v in result.values)
    v = result.value_of("837")
    assert v.key == "asukasluku" and v.date == dt.date(2023, 12, 31) and v.method == "year-end"
    assert v.areas == ("837",)
    source = v.source
    assert source.fetched == FETCHED and source.publisher == "Tilastokeskus" and source.content_label == "Väestö 31.12."
    query = source.query_data
    assert query["response"] == {"format": "json-stat2"}
    codes = {q["code"]: q["selection"]["values"] for q in query["query"]}
    if shape == "post":
        assert source.table == "11ra" and source.updated == "2026-04-30T05:00:00Z"
        assert source.url.endswith("/StatFin/vaerak/11ra.px")
        assert codes == {"alue_23_20260101": ["KU020", "KU250", "KU604", "KU837"], "contentscode": ["vaerak-vaesto"],
                         "timeperiod_y": ["2023"]}
        assert source.classification == dt.date(2026, 1, 1) and source.area_variable == "alue_23_20260101"
    else:
        assert source.table == "statfin_vaerak_pxt_11ra" and source.updated == "2025-04-25T05:00:00Z"
        assert source.url.endswith("/StatFin/vaerak/statfin_vaerak_pxt_11ra.px")
        assert codes == {"Alue": ["KU020", "KU250", "KU604", "KU837"], "Tiedot": ["vaesto"], "Vuosi": ["2023"]}
        assert source.classification is None
    # the query in the provenance is the one the service received
    assert statfin.posts()[-1].body == query
    # the metadata is read before the query is posted, and the limits before anything
    methods = [(r.method, r.path.rsplit("/", 1)[-1]) for r in statfin.requests]
    assert methods[0] == ("GET", "?config")
    assert methods[-1][0] == "POST" and methods[-2][0] == "GET"


def test_pre_june_tables_are_found_by_their_long_id_after_a_404(statfin, client):
    statfin.scenario.shape = "pre"
    fetch_population(client, MEMBERS, 2023)
    gets = [r.path for r in statfin.requests if r.method == "GET"]
    assert gets[1].endswith("/vaerak/11ra.px") and gets[2].endswith("/vaerak/statfin_vaerak_pxt_11ra.px")


@pytest.mark.parametrize("shape", ["post", "pre"])
def test_jobseekers_month_ends_a_secret_value_is_a_problem_never_a_zero(statfin, client, shape):
    statfin.scenario.shape = shape
    result = fetch_jobseekers(client, MEMBERS, 2023)
    got = values_of(result)
    assert ("250", "2023M07") not in got
    assert got[("250", "2023M06")] == Decimal(JOBSEEKER_DATA["250"]["2023M06"])
    assert len(result.values) == 4 * 12 - 1
    [problem] = result.problems
    assert problem.code == "refdata.missing_value" and problem.key == "250" and problem.value == ".."
    assert "Kihniö (250)" in problem.message and "2023M07" in problem.message
    assert "never read as zero" in problem.message
    assert not result.ok
    v = result.value_of("020", "2023M02")
    assert v.date == dt.date(2023, 2, 28) and v.method == "month-end" and v.key == "tyottomat"
    query = {q["code"]: q["selection"]["values"] for q in v.source.query_data["query"]}
    area = "Alue"
    assert query[area] == (["020", "250", "604", "837"] if shape == "post" else ["KU020", "KU250", "KU604", "KU837"])
    assert query["timeperiod_m" if shape == "post" else "Kuukausi"] == [f"2023M{m:02d}" for m in range(1, 13)]
    assert query["contentscode" if shape == "post" else "Tiedot"] == ["TYOTTOMATLOPUSSA"]


def test_year_end_and_exact_average_of_month_ends(statfin, client):
    result = fetch_jobseekers(client, MEMBERS, 2023)
    ends = year_end(result, 2023, names=MEMBERS)
    assert {v.municipality_code: v.value for v in ends.values} == {
        c: Decimal(JOBSEEKER_DATA[c]["2023M12"]) for c in MEMBERS}
    assert all(v.method == "year-end" and v.date == dt.date(2023, 12, 31) for v in ends.values)
    means = average(result, 2023, names=MEMBERS)
    expected = {c: sum(Decimal(JOBSEEKER_DATA[c][f"2023M{m:02d}"]) for m in range(1, 13)) / 12
                for c in ("020", "604", "837")}
    assert {v.municipality_code: v.value for v in means.values} == expected
    akaa = next(v for v in means.values if v.municipality_code == "020")
    assert akaa.value == Decimal("839.5") and akaa.period == "2023M01-2023M12" and akaa.date == dt.date(2023, 12, 31)
    assert [p.period for p in akaa.parts] == [f"2023M{m:02d}" for m in range(1, 13)]
    # Kihniö lacks July: no average, and a problem that names it (besides the secret value's own)
    incomplete = [p for p in means.problems if p.code == "refdata.incomplete_months"]
    assert [p.key for p in incomplete] == ["250"] and "Kihniö (250)" in incomplete[0].message
    assert "2023M07" in incomplete[0].message


def test_an_average_over_some_months(statfin, client):
    months = [Period.month(2023, 11), Period.month(2023, 12), Period.month(2024, 1)]
    result = average(fetch_jobseekers(client, {"020": "Akaa"}, months), months)
    [v] = result.values
    data = JOBSEEKER_DATA["020"]
    assert v.value == (Decimal(data["2023M11"]) + data["2023M12"] + data["2024M01"]) / 3
    assert v.date == dt.date(2024, 1, 31) and v.period == "2023M11-2024M01"


def test_members_of_an_agreement_and_those_not_found(statfin, client):
    result = fetch_population(client, {"020": "Akaa", "999": "Kuvitteellinen", "12": "bad"}, 2023)
    assert values_of(result) == {("020", "2023"): Decimal(16439)}
    assert result.not_found == ("999",)
    codes = {p.code for p in result.problems}
    assert codes == {"refdata.member_not_found", "refdata.bad_member"}
    assert any("Kuvitteellinen (999)" in p.message for p in result.problems)


def test_the_shipped_agreements_members_are_looked_up_by_code(statfin, client, agreement_path):
    from osuus.agreement import load_agreement

    agreement, problems = load_agreement(agreement_path)
    assert agreement is not None and not problems
    result = fetch_population(client, agreement, 2023)
    assert set(result.value_of(c).municipality_code for c in ("020", "250", "604", "837")) == {"020", "250", "604",
                                                                                                "837"}
    # every other municipality of the agreement is not in the fake table: reported, by name
    assert set(result.not_found) == set(agreement.codes) - {"020", "108", "250", "604", "837"}
    assert any("Sastamala (790)" in p.message for p in result.problems)


def test_a_merged_municipality_cannot_be_split_out_of_a_newer_division(statfin, client):
    members = {"099": "Honkajoki", "214": "Kankaanpää"}
    merger = Merger("099", "214", dt.date(2021, 1, 1))
    # the members of 2020 (Honkajoki still separate); the table's areas are those of 2026
    result = fetch_population(client, members, 2023, mergers=[merger], members_as_of=dt.date(2020, 1, 1))
    assert result.values == () and set(result.not_found) == {"099", "214"}
    by_key = {p.key: p for p in result.problems}
    assert by_key["099"].code == "refdata.merged" and "099 joined 214 on 2021-01-01" in by_key["099"].message
    assert "cannot be split" in by_key["099"].message
    assert by_key["214"].code == "refdata.merged" and "also counts" in by_key["214"].message
    # members of 2022: Kankaanpää already includes Honkajoki, as the table does
    result = fetch_population(client, {"214": "Kankaanpää"}, 2023, mergers=[merger], members_as_of=dt.date(2022, 1, 1))
    assert result.ok and values_of(result) == {("214", "2023"): Decimal(12860)}
    # without the members' date the divisions are taken to be the same, and the merger explains the absence
    result = fetch_population(client, {"099": "Honkajoki"}, 2023, mergers=[merger])
    [problem] = result.problems
    assert problem.code == "refdata.merged" and "099 joined 214" in problem.message


def test_a_period_not_yet_published_is_a_problem(statfin, client):
    result = fetch_population(client, MEMBERS, [Period.whole_year(2024), Period.whole_year(2025)])
    assert {v.period for v in result.values} == {"2024"}
    [problem] = result.problems
    assert problem.code == "refdata.period_missing"
    assert "2025" in problem.message and "latest is 2024" in problem.message


def test_a_month_is_refused_for_a_yearly_table(statfin, client):
    result = fetch(client, POPULATION, MEMBERS, Period.month(2023, 1))
    assert result.problems[0].code == "refdata.period" and result.not_found == tuple(MEMBERS)


def test_queries_are_cut_to_the_services_cell_limit(statfin, client):
    statfin.scenario.max_cells = 24  # 12 months × 2 municipalities per query
    result = fetch_jobseekers(client, NAMES, 2023)
    posts = statfin.posts()
    assert len(posts) == 3
    for post in posts:
        sizes = [len(q["selection"]["values"]) for q in post.body["query"]]
        assert sizes[0] * sizes[1] * sizes[2] <= 24
    assert len(result.values) == 6 * 12 - 1 and len(result.sources) == 3
    # each value keeps the query it came from
    v = result.value_of("837", "2023M05")
    assert "KU837" in v.source.query or "837" in json.dumps(v.source.query_data)


def test_periods_are_split_when_one_municipality_is_more_than_the_limit(statfin, client):
    statfin.scenario.max_cells = 5
    result = fetch_jobseekers(client, {"020": "Akaa"}, 2023)
    assert len(statfin.posts()) == 3  # 5 + 5 + 2 months
    assert len(result.values) == 12 and result.ok


def test_a_403_for_too_many_cells_splits_the_query_and_says_so(statfin, client):
    statfin.scenario.refuse_over = 30  # ?config says 120 000, the service refuses more than 30
    result = fetch_jobseekers(client, NAMES, 2023)
    assert len(result.values) == 6 * 12 - 1
    split = [p for p in result.problems if p.code == "refdata.too_many_cells"]
    assert split and all(p.severity is Severity.WARNING for p in split)
    assert "72 cells" in split[0].message and "two halves" in split[0].message
    errors = [p for p in result.problems if p.is_error]
    assert [p.code for p in errors] == ["refdata.missing_value"]  # only the secret value
    posts = statfin.posts()
    assert len(posts) > 1


def test_a_query_that_cannot_be_split_any_further_is_an_error(statfin, client):
    statfin.scenario.refuse_over = 0
    result = fetch_population(client, {"020": "Akaa"}, 2023)
    assert result.values == ()
    [problem] = result.problems
    assert problem.code == "refdata.too_many_cells" and problem.is_error
    assert "even a query of 1 cells" in problem.message


def test_a_429_is_retried_after_the_time_retry_after_asks(statfin, client, fake_time):
    statfin.scenario.rate_limit = 2
    result = fetch_population(client, MEMBERS, 2023)
    assert result.ok and len(result.values) == 4
    assert fake_time.slept == [7.0, 7.0]
    assert len(statfin.posts()) == 3


def test_a_429_with_an_http_date(statfin, make_client, fake_time):
    statfin.scenario.rate_limit = 1
    statfin.scenario.retry_after = "Wed, 10 Jun 2026 08:30:12 GMT"  # 12 s after FETCHED (the client's now)
    result = fetch_population(make_client(), MEMBERS, 2023)
    assert result.ok and fake_time.slept == [12.0]


def test_a_429_without_retry_after_waits_the_window(statfin, client, fake_time):
    statfin.scenario.rate_limit = 1
    statfin.scenario.retry_after = None
    assert fetch_population(client, MEMBERS, 2023).ok
    assert fake_time.slept == [60.0]  # the window of ?config


def test_too_many_429s_are_a_problem(statfin, make_client):
    statfin.scenario.rate_limit = 10
    result = fetch_population(make_client(retries=2), MEMBERS, 2023)
    assert result.values == ()
    [problem] = result.problems
    assert problem.code == "refdata.rate_limited" and "HTTP 429" in problem.message


def test_a_429_asking_for_too_long_a_wait_is_a_problem(statfin, make_client, fake_time):
    statfin.scenario.rate_limit = 1
    statfin.scenario.retry_after = "3600"
    result = fetch_population(make_client(max_wait=600), MEMBERS, 2023)
    [problem] = result.problems
    assert problem.code == "refdata.rate_limited" and "3600 s" in problem.message
    assert fake_time.slept == []


def test_calls_are_spaced_to_the_services_rate(statfin, client, fake_time):
    statfin.scenario.max_calls = 3
    statfin.scenario.time_window = 10
    statfin.scenario.max_cells = 12  # one municipality a query: six queries
    result = fetch_jobseekers(client, NAMES, 2023)
    assert len(result.values) == 6 * 12 - 1
    assert client.calls_made == 8  # ?config, the metadata, six queries
    # eight calls at three per 10 s: the client waited twice, a whole window in all at least
    assert len(fake_time.slept) == 2 and sum(fake_time.slept) >= 20.0


def test_limits_are_read_from_config(statfin, client):
    statfin.scenario.max_cells, statfin.scenario.max_values = 1234, 99
    statfin.scenario.max_calls, statfin.scenario.time_window = 7, 11
    limits = client.limits()
    assert (limits.max_cells, limits.max_values, limits.max_calls, limits.time_window) == (1234, 99, 7, 11.0)
    assert limits.from_service


def test_without_config_careful_defaults_and_a_warning(statfin, client):
    statfin.scenario.config = False
    result = fetch_population(client, MEMBERS, 2023)
    assert len(result.values) == 4 and result.ok
    [warning] = result.problems
    assert warning.code == "refdata.config" and warning.severity is Severity.WARNING


def test_an_unreachable_service_is_a_problem(make_client, fake_time):
    client = make_client(api_url="http://127.0.0.1:9/PxWeb/api/v1", retries=2)
    result = fetch_population(client, MEMBERS, 2023)
    assert result.values == () and result.not_found == tuple(MEMBERS)
    network = [p for p in result.problems if p.code == "refdata.network"]
    assert network and "could not be reached" in network[0].message and "tried 3 times" in network[0].message
    assert fake_time.slept.count(1.0) >= 1 and 2.0 in fake_time.slept  # a growing pause between tries


def test_an_answer_that_is_not_json_is_a_problem(statfin, client):
    statfin.scenario.garbage = True
    result = fetch_population(client, MEMBERS, 2023)
    assert [p.code for p in result.problems] == ["refdata.bad_response"]
    assert "not with JSON" in result.problems[0].message


def test_the_content_code_is_matched_with_or_without_its_prefix(statfin, client):
    statfin.scenario.shape = "pre"
    result = fetch(client, POPULATION, MEMBERS, 2023, content="vaesto")
    assert result.ok
    result = fetch(client, JOBSEEKERS, MEMBERS, Period.month(2023, 1), content="tyonv-TYOTTOMATLOPUSSA")
    assert result.ok and len(result.values) == 4
    result = fetch(client, JOBSEEKERS, MEMBERS, Period.month(2023, 1), content="NOPE")
    [problem] = result.problems
    assert problem.code == "refdata.content_missing" and "TYOTTOMATLOPUSSA" in problem.message
