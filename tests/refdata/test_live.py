"""The real StatFin service: opt-in (`pytest tests/refdata --live`, or OSUUS_REFDATA_LIVE=1).

These tests need network access to pxdata.stat.fi. They check what the
offline fixtures can only assume: that the tables are found, their variables
resolved from the metadata, the limits read from `?config`, and the figures
decoded as Decimal with their provenance. They do not check the figures
themselves, which Statistics Finland revises.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from osuus.refdata import average, fetch_jobseekers, fetch_population, to_count_records

pytestmark = pytest.mark.live

MEMBERS = {"020": "Akaa", "837": "Tampere", "790": "Sastamala"}


@pytest.fixture(scope="module")
def live_client():
    from osuus.refdata import PxWebClient

    with PxWebClient(timeout=60) as client:
        yield client


def _latest_complete_year() -> int:
    return dt.date.today().year - 2  # population 31.12. is final some months into the next year


def test_live_limits(live_client):
    limits = live_client.limits()
    assert limits.from_service, [str(w) for w in live_client.warnings]
    assert limits.max_cells > 1000 and limits.max_calls > 0


def test_live_population(live_client):
    year = _latest_complete_year()
    result = fetch_population(live_client, MEMBERS, year)
    assert result.ok, [str(p) for p in result.problems]
    assert {v.municipality_code for v in result.values} == set(MEMBERS)
    for v in result.values:
        assert type(v.value) is Decimal and v.value > 1000 and v.date == dt.date(year, 12, 31)
        assert v.source.table and v.source.updated and v.source.fetched is not None and v.source.query
    assert all(r.source_note for r in to_count_records(result))


def test_live_jobseekers_average(live_client):
    year = _latest_complete_year()
    result = fetch_jobseekers(live_client, MEMBERS, year)
    assert result.ok, [str(p) for p in result.problems]
    means = average(result, year)
    assert {v.municipality_code for v in means.values} == set(MEMBERS)
    assert all(type(v.value) is Decimal and len(v.parts) == 12 for v in means.values)
