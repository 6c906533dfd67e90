"""The records: immutable, their provenance kept whole, turned into the project's CountRecords."""

from __future__ import annotations

import dataclasses
import decimal
import datetime as dt
import json
from decimal import Decimal

import pytest

from osuus.billing.records import CountRecord
from osuus.money import CONTEXT
from osuus.refdata import (POPULATION, Provenance, RefResult, RefValue, average, exact_average, fetch_jobseekers,
                           fetch_population, key_values_toml, to_count_records, with_key, year_end)

SOURCE = Provenance(table="12r5", updated="2026-03-24T06:00:00Z",
                    fetched=dt.datetime(2026, 6, 10, 8, 30, tzinfo=dt.timezone.utc),
                    query='{"query": [], "response": {"format": "json-stat2"}}',
                    url="https://pxdata.stat.fi/PxWeb/api/v1/fi/StatFin/tyonv/12r5.px", publisher="Tilastokeskus",
                    content="TYOTTOMATLOPUSSA", classification=dt.date(2026, 1, 1), sha256="ab" * 32)


def month(code: str, m: int, value: str) -> RefValue:
    import calendar

    return RefValue("tyottomat", code, dt.date(2023, m, calendar.monthrange(2023, m)[1]), Decimal(value), SOURCE,
                    period=f"2023M{m:02d}", method="month-end", areas=(code,))


def test_records_are_immutable():
    v = month("020", 1, "800")
    with pytest.raises(AttributeError):
        v.value = Decimal(1)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SOURCE.table = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        RefResult().values = ()  # type: ignore[misc]
    assert hash(SOURCE) and hash(v)


def test_provenance_round_trips_through_json():
    v = month("020", 1, "800.5")
    data = json.loads(json.dumps(v.to_dict()))
    assert RefValue.from_dict(data) == v
    assert data["source"]["query"] == {"query": [], "response": {"format": "json-stat2"}}
    assert data["value"] == "800.5" and data["source"]["fetched"] == "2026-06-10T08:30:00+00:00"
    assert Provenance.from_dict(SOURCE.to_dict()) == dataclasses.replace(
        SOURCE, query=json.dumps(SOURCE.query_data, ensure_ascii=False))


def test_an_average_that_does_not_terminate_keeps_its_exact_form():
    values = [month("020", m, "1") for m in range(1, 12)] + [month("020", 12, "2")]  # 13 / 12
    [mean] = average(RefResult(values=tuple(values)), 2023).values
    with decimal.localcontext(CONTEXT):
        assert mean.value == Decimal(13) / Decimal(12)
    assert str(mean.value) == "1.08" + "3" * 47  # 50 significant digits, not the default 28
    assert exact_average(mean) == (Decimal(13), 12)
    assert RefValue.from_dict(json.loads(json.dumps(mean.to_dict()))) == mean


def test_count_records_carry_a_short_note_and_the_source():
    values = [month("020", m, str(800 + m)) for m in range(1, 13)]
    [record] = to_count_records(year_end(RefResult(values=tuple(values)), 2023))
    assert record == CountRecord(key="tyottomat", municipality="020", date=dt.date(2023, 12, 31),
                                 value=Decimal(812), source_note=record.source_note, source=SOURCE.url)
    assert record.source_note.startswith("Tilastokeskus 12r5 (TYOTTOMATLOPUSSA); updated 2026-03-24T06:00:00Z; "
                                         "fetched 2026-06-10T08:30:00+00:00")
    assert len(record.source_note) <= 300
    [mean] = to_count_records(average(RefResult(values=tuple(values)), 2023), key="ulkomaalaiset", places=4)
    assert mean.key == "ulkomaalaiset" and mean.value == Decimal("806.5000")
    assert "average of 12 month-ends 2023M01-2023M12" in mean.source_note
    odd = [month("250", m, "1") for m in range(1, 12)] + [month("250", 12, "2")]
    [rounded] = to_count_records(average(RefResult(values=tuple(odd)), 2023), places=4)
    assert rounded.value == Decimal("1.0833") and "rounded half_up to 4 decimals" in rounded.source_note


def test_a_note_never_exceeds_the_limit():
    long = dataclasses.replace(SOURCE, publisher="x" * 400)
    assert len(month("020", 1, "1")._replace(source=long).note()) == 300


def test_imported_values_name_their_file():
    v = month("020", 1, "1")._replace(source=Provenance(table="11ra", updated="2026-04-30T05:00:00Z",
                                                          file="/media/usb/11ra.json"))
    assert "imported from 11ra.json" in v.note()
    [record] = to_count_records([v])
    assert record.source == "/media/usb/11ra.json"


def test_fetched_population_to_count_records_and_agreement_toml(statfin, client, agreement_path):
    from osuus.agreement import load_agreement

    agreement, _ = load_agreement(agreement_path)
    members = {"020": "Akaa", "250": "Kihniö", "837": "Tampere"}
    result = fetch_population(client, members, 2023)
    records = to_count_records(result)
    assert [(r.key, r.municipality, r.date, r.value) for r in records] == [
        ("asukasluku", "020", dt.date(2023, 12, 31), Decimal(16439)),
        ("asukasluku", "250", dt.date(2023, 12, 31), Decimal(1747)),
        ("asukasluku", "837", dt.date(2023, 12, 31), Decimal(255050))]
    assert all("11ra (vaerak-vaesto)" in r.source_note and r.source.endswith("/vaerak/11ra.px") for r in records)
    full = json.loads(result.to_json())
    assert full[0]["source"]["query"]["query"][0]["code"] == "alue_23_20260101"
    text = key_values_toml(result, agreement)
    assert "[keys.asukasluku.values]\nAkaa = 16439\n\"Kihniö\" = 1747\nTampere = 255050\n" in text
    assert text.startswith("# Tilastokeskus 11ra (vaerak-vaesto); updated 2026-04-30T05:00:00Z")
    odd = [month("020", m, "1") for m in range(1, 12)] + [month("020", 12, "2")]
    text = key_values_toml(average(RefResult(values=tuple(odd)), 2023), agreement, places=2)
    assert text.endswith("[keys.tyottomat.values]\nAkaa = 1.08\n")


def test_a_key_of_another_name(statfin, client):
    result = with_key(fetch_jobseekers(client, {"020": "Akaa"}, 2023), "tyottomat_ka")
    assert {v.key for v in result.values} == {"tyottomat_ka"}
    assert {v.key for v in average(result, 2023).values} == {"tyottomat_ka"}
    assert fetch_population(client, {"020": "Akaa"}, 2023, key="vaesto").values[0].key == "vaesto"


def test_year_end_reports_a_member_without_december():
    values = (month("020", 11, "1"), month("250", 12, "2"))
    result = year_end(RefResult(values=values), 2023, names={"020": "Akaa"})
    assert [v.municipality_code for v in result.values] == ["250"]
    [problem] = result.problems
    assert problem.key == "020" and "Akaa (020): no figure for the end of 2023" == problem.message


def test_result_helpers():
    values = (month("020", 1, "1"), month("020", 2, "2"), month("250", 1, "3"))
    result = RefResult(values=values)
    assert result.ok and result.value_of("020", "2023M02").value == 2 and result.value_of("999") is None
    assert {k: len(v) for k, v in result.by_municipality().items()} == {"020": 2, "250": 1}
    assert POPULATION.period_code.__doc__
