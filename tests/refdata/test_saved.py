"""Importing a saved answer (JSON-stat2) or a PxWeb CSV export: the same records, the same problems."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from osuus.calendar import Period
from osuus.refdata import JOBSEEKERS, POPULATION, Merger, fetch_jobseekers, fetch_population, import_bytes, import_file
from tests.refdata.fakestat import JOBSEEKERS as JOBSEEKER_DATA
from tests.refdata.fakestat import NAMES, dataset, tables

DATA = Path(__file__).parent / "data"
IMPORTED = dt.datetime(2026, 6, 11, 9, 0, tzinfo=dt.timezone.utc)
MEMBERS = {"020": "Akaa", "250": "Kihniö", "604": "Pirkkala", "837": "Tampere"}


def values_of(result):
    return {(v.municipality_code, v.period): v.value for v in result.values}


def saved_answer(shape: str, path: str, selected: dict[str, list[str]] | None = None) -> bytes:
    """What a fetch would have saved: the fake service's answer to a query, as bytes."""
    table = tables(shape)[path]
    chosen = {v["code"]: list(v["values"]) for v in table.variables}
    chosen.update(selected or {})
    return json.dumps(dataset(table, chosen, shape), ensure_ascii=False, indent=1).encode("utf-8")


@pytest.mark.parametrize("shape,path", [("post", "tyonv/12r5.px"), ("pre", "tyonv/statfin_tyonv_pxt_12r5.px")])
def test_a_saved_answer_gives_what_the_fetch_gave(statfin, client, shape, path):
    statfin.scenario.shape = shape
    fetched = fetch_jobseekers(client, MEMBERS, 2023)
    body = saved_answer(shape, path)
    imported = import_bytes(body, "12r5.json", JOBSEEKERS, MEMBERS, periods=2023, imported=IMPORTED)
    assert values_of(imported) == values_of(fetched)
    assert [(p.code, p.key, p.value) for p in imported.problems] == [(p.code, p.key, p.value) for p in fetched.problems]
    [problem] = imported.problems
    assert problem.file == "12r5.json" and "Kihniö (250)" in problem.message and "never read as zero" in problem.message
    source = imported.values[0].source
    assert source.fetched is None and source.imported == IMPORTED and source.file == "12r5.json"
    assert source.sha256 == hashlib.sha256(body).hexdigest()
    assert source.table == ("12r5" if shape == "post" else "statfin_tyonv_pxt_12r5")
    assert source.updated == fetched.values[0].source.updated
    assert source.query == ""


def test_without_periods_every_period_of_the_file(tmp_path):
    path = tmp_path / "11ra.json"
    path.write_bytes(saved_answer("post", "vaerak/11ra.px"))
    result = import_file(path, POPULATION, MEMBERS)
    assert {v.period for v in result.values} == {"2022", "2023", "2024"} and result.ok
    assert result.values[0].source.file == "11ra.json"


def test_an_old_division_sums_the_municipalities_a_member_was_formed_of():
    """Kankaanpää of 2021 is Honkajoki and Kankaanpää of the table's 2020 division: their exact sum."""
    merger = Merger("099", "214", dt.date(2021, 1, 1))
    members = {"214": "Kankaanpää", "250": "Kihniö"}
    result = import_file(DATA / "11ra-division-2020.json", POPULATION, members, mergers=[merger],
                         members_as_of=dt.date(2021, 1, 1), imported=IMPORTED)
    assert values_of(result) == {("214", "2019"): Decimal("13102.5"), ("214", "2020"): Decimal("13000"),
                                 ("250", "2019"): Decimal("1841")}
    kankaanpaa = result.value_of("214", "2019")
    assert kankaanpaa.areas == ("099", "214") and "sum of areas 099+214" in kankaanpaa.note()
    assert str(kankaanpaa.value) == "13102.5"  # 1719.5 + 11383, no float anywhere
    assert kankaanpaa.source.classification == dt.date(2020, 1, 1)
    assert kankaanpaa.source.updated == "2021-03-31T05:00:00Z" and kankaanpaa.source.table == "11ra"
    [secret] = result.problems
    assert secret.code == "refdata.missing_value" and secret.key == "250" and "2020" in secret.message
    # the members of 2020 are the table's: Honkajoki is read as it is
    result = import_file(DATA / "11ra-division-2020.json", POPULATION, {"099": "Honkajoki"},
                         members_as_of=dt.date(2020, 1, 1))
    assert values_of(result)[("099", "2019")] == Decimal("1719.5")


def test_a_pxweb_csv_export_wide_semicolons_windows_1252_with_a_title():
    result = import_file(DATA / "12r5-wide-cp1252.csv", JOBSEEKERS, MEMBERS, imported=IMPORTED)
    assert values_of(result) == {("020", "2023M06"): Decimal(835), ("020", "2023M07"): Decimal(842),
                                 ("250", "2023M06"): Decimal(95), ("604", "2023M06"): Decimal(935),
                                 ("604", "2023M07"): Decimal(942)}
    problems = {p.key: p for p in result.problems}
    assert set(problems) == {"250", "837"}
    assert problems["250"].code == "refdata.missing_value" and problems["250"].value == ".."
    assert "Kihniö (250)" in problems["250"].message and "row 6" in problems["250"].message
    assert problems["837"].code == "refdata.member_not_found" and result.not_found == ("837",)
    source = result.values[0].source
    assert source.format == "csv" and source.table == "12r5" and source.content == "TYOTTOMATLOPUSSA"
    assert source.label.startswith("12r5 -- Työnhakijat")  # read as Windows-1252
    assert result.value_of("020", "2023M07").date == dt.date(2023, 7, 31)


def test_a_csv_export_long_with_codes():
    result = import_file(DATA / "11ra-long-codes.csv", POPULATION, MEMBERS)
    assert values_of(result) == {("020", "2023"): Decimal(16439), ("837", "2023"): Decimal(255050)}
    problems = {p.key: p.code for p in result.problems}
    assert problems == {"250": "refdata.missing_value", "604": "refdata.member_not_found"}
    source = result.values[0].source
    assert source.area_variable == "alue_23_20260101" and source.classification == dt.date(2026, 1, 1)


def test_a_csv_with_other_contents_and_not_the_wanted_one():
    text = "Alue,Vuosi,Tiedot,11ra\nKU020,2023,vaesto_keski_ika,42.4\n".encode()
    result = import_bytes(text, "x.csv", POPULATION, MEMBERS)
    assert [p.code for p in result.problems] == ["refdata.content_missing"]
    assert result.not_found == tuple(MEMBERS)


def test_a_wide_csv_of_one_other_content_is_read_with_a_warning():
    text = '"Alue","2023 Keski-ikä"\n"KU020 Akaa",42\n'.encode()
    result = import_bytes(text, "x.csv", POPULATION, {"020": "Akaa"})
    assert [(p.code, p.is_error) for p in result.problems] == [("refdata.content_assumed", False)]
    text = '"Alue","2023 Väestö 31.12."\n"KU020 Akaa",16439\n'.encode()
    result = import_bytes(text, "x.csv", POPULATION, {"020": "Akaa"})
    assert result.problems == () and values_of(result) == {("020", "2023"): Decimal(16439)}


@pytest.mark.parametrize("text,code", [
    (b"", "refdata.bad_file"),
    (b'{"not": "a dataset"}', "refdata.bad_file"),
    (b'{"class": "dataset", "id": ["a"], "size": [1], "dimension": {"a": {"category": {"index": ["x"]}}}, '
     b'"value": [NaN]}', "refdata.bad_file"),
    (b"just a title\n", "refdata.bad_file"),
])
def test_files_that_are_not_exports(text, code):
    result = import_bytes(text, "bad", POPULATION, MEMBERS)
    assert [p.code for p in result.problems] == [code] and result.not_found == tuple(MEMBERS)


def test_a_missing_file():
    result = import_file("/nonexistent/file.json", POPULATION, MEMBERS)
    assert [p.code for p in result.problems] == ["refdata.bad_file"]


def test_a_period_not_in_the_file():
    result = import_file(DATA / "11ra-long-codes.csv", POPULATION, MEMBERS, periods=Period.whole_year(2024))
    assert "refdata.period_missing" in [p.code for p in result.problems]
    assert result.values == ()


def test_saved_months_make_the_same_average(statfin, client):
    from osuus.refdata import average

    body = saved_answer("post", "tyonv/12r5.px")
    imported = average(import_bytes(body, "12r5.json", JOBSEEKERS, NAMES, periods=2023), 2023)
    fetched = average(fetch_jobseekers(client, NAMES, 2023), 2023)
    assert values_of(imported) == values_of(fetched)
    tampere = imported.value_of("837")
    assert tampere.value == sum(Decimal(JOBSEEKER_DATA["837"][f"2023M{m:02d}"]) for m in range(1, 13)) / 12


def test_population_import_matches_fetch_in_the_pre_june_shape(statfin, client):
    statfin.scenario.shape = "pre"
    fetched = fetch_population(client, MEMBERS, 2023)
    body = saved_answer("pre", "vaerak/statfin_vaerak_pxt_11ra.px")
    imported = import_bytes(body, "11ra.json", POPULATION, MEMBERS, periods=2023)
    assert values_of(imported) == values_of(fetched) and imported.ok


def test_answers_saved_by_a_fetch_are_imported_together(statfin, client, tmp_path):
    """The way to a host without network access: fetch with save_to, carry the folder, import it."""
    statfin.scenario.max_cells = 24  # three queries, three answers
    fetched = fetch_jobseekers(client, NAMES, 2023, save_to=tmp_path / "saved")
    files = sorted((tmp_path / "saved").iterdir())
    assert [f.name for f in files] == ["12r5-001.json", "12r5-002.json", "12r5-003.json"]
    from osuus.refdata import import_files

    imported = import_files(files, JOBSEEKERS, NAMES, periods=2023, imported=IMPORTED)
    assert values_of(imported) == values_of(fetched)
    assert [(p.code, p.key) for p in imported.problems] == [(p.code, p.key) for p in fetched.problems]
    assert imported.problems[0].file == "12r5-002.json"  # the secret value's own file
    # the saved bytes are the ones the fetch's provenance hashed
    assert {s.sha256 for s in imported.sources} == {s.sha256 for s in fetched.sources}
    assert fetched.value_of("837", "2023M01").source.sha256 == imported.value_of("837", "2023M01").source.sha256


def test_files_that_disagree(tmp_path):
    one = '"Alue","2023 Väestö 31.12."\n"KU020 Akaa",16439\n'.encode()
    two = '"Alue","2023 Väestö 31.12."\n"KU020 Akaa",16440\n'.encode()
    (tmp_path / "a.csv").write_bytes(one)
    (tmp_path / "b.csv").write_bytes(two)
    from osuus.refdata import import_files

    result = import_files([tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "none.csv"], POPULATION,
                          {"020": "Akaa"})
    assert sorted(p.code for p in result.problems) == ["refdata.bad_file", "refdata.conflict"]
    conflict = next(p for p in result.problems if p.code == "refdata.conflict")
    assert "16439 in a.csv but 16440 in b.csv" in conflict.message
    result = import_files([DATA / "11ra-division-2020.json", DATA / "11ra-long-codes.csv"], POPULATION,
                          {"250": "Kihniö"})
    assert [p.code for p in result.problems] == ["refdata.conflict"]
    assert "different municipal divisions (2020-01-01, 2026-01-01)" in result.problems[0].message
