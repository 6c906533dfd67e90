"""store.queries.unbilled_count counts in date and id ranges what `unbilled()` (a run for each
event) says, on SQLite and PostgreSQL: a case worked by hand, then random ledgers of two areas
(events stored in any order of date, runs reaching any id), each range counted by date and by id."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, select

from osuus.calendar import Period
from osuus.money import ZERO
from osuus.store import queries
from osuus.store.db import session_factory
from osuus.store.tables import Area, ImportBatch, InvoiceRun, ServiceEvent

AT = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)


def _batch(session) -> int:
    batch = ImportBatch(kind="events", file_name="e.csv", content_hash="h", rows=0, added_rows=0,
                        imported_at=AT, imported_by="test")
    session.add(batch)
    session.flush()
    return batch.id


def _event(session, batch: int, date: dt.date, source: str, id: int | None = None) -> int:
    event = ServiceEvent(id=id, source_id=source, date=date, year=date.year, month=date.month, component="c",
                         municipality="020", customer="x", quantity=ZERO, travel_days=ZERO, km=ZERO,
                         interpretation=ZERO, batch_id=batch)
    session.add(event)
    session.flush()
    return event.id


def _run(session, month: tuple[int, int], max_event_id: int) -> None:
    period = Period.month(*month)
    session.add(InvoiceRun(period=period, period_end=period.end, max_event_id=max_event_id, issue_date=period.end,
                           run_at=AT, run_by="test"))
    session.flush()


def _reference(session, year: int) -> int:
    e = ServiceEvent
    return session.scalar(select(func.count()).select_from(e).where(e.year == year, queries.unbilled())) or 0


def _both_ways(session, year: int, monkeypatch) -> set[int]:
    """The count with each range read by the cheaper way, always by id, and always by date."""
    found = {queries.unbilled_count(session, year)}
    events = session.scalar(select(func.count()).select_from(ServiceEvent).where(ServiceEvent.year == year))
    found.add(queries.unbilled_count(session, year, events))
    for cost in (0, 10**9):  # 0: by id whenever the year has events in the range; 10**9: by date
        monkeypatch.setattr(queries, "_ROW_BY_ID_COST", cost)
        found.add(queries.unbilled_count(session, year))
    monkeypatch.undo()
    return found


def test_a_ledger_worked_by_hand(Session, monkeypatch):
    with Session.begin() as session:
        batch = _batch(session)
        jan10 = _event(session, batch, dt.date(2021, 1, 10), "1")
        _event(session, batch, dt.date(2021, 2, 5), "2")
        assert queries.billing_frontier(session) == [] and _both_ways(session, 2021, monkeypatch) == {2}
        # January's and February's runs reach ids 1–2 (January's decides nothing February's does not)
        _run(session, (2021, 1), jan10 + 1)
        _run(session, (2021, 2), jan10 + 1)
        _event(session, batch, dt.date(2021, 1, 20), "3")  # stored after the runs: unbilled
        _event(session, batch, dt.date(2021, 3, 1), "4")  # after every run's period: unbilled
        _event(session, batch, dt.date(2020, 12, 31), "5")  # a year before, stored after: unbilled
        assert queries.billing_frontier(session) == [(dt.date(2021, 2, 28), jan10 + 1)]
        assert _both_ways(session, 2021, monkeypatch) == {2}
        assert _both_ways(session, 2020, monkeypatch) == {1}
        assert _both_ways(session, 2022, monkeypatch) == {0}
        _run(session, (2021, 3), jan10 + 4)  # March's run reaches every event so far
        assert _both_ways(session, 2021, monkeypatch) == {0}
        assert _both_ways(session, 2020, monkeypatch) == {0}
        _event(session, batch, dt.date(2021, 2, 10), "6")
        assert _both_ways(session, 2021, monkeypatch) == {1}


@pytest.mark.parametrize("seed", range(6))
def test_random_ledgers_agree_with_a_run_for_each_event(engine, Session, monkeypatch, seed):
    rng = random.Random(seed)
    days = (dt.date(2022, 2, 28) - dt.date(2020, 11, 1)).days

    def some_date() -> dt.date:
        return dt.date(2020, 11, 1) + dt.timedelta(days=rng.randrange(days + 1))

    # the areas' events interleaved (ids given: each area is written in a transaction of its own),
    # in no order of date
    areas = [1 if rng.random() < 0.75 else 2 for _ in range(400)]
    with Session.begin() as session:
        session.add(Area(id=2, code="lappi", name="Lappi", created_at=AT))
    months = [(2020, 11), (2020, 12), *((2021, m) for m in range(1, 13)), (2022, 1), (2022, 2)]
    for area, factory in ((1, Session), (2, session_factory(engine, area_id=2))):
        with factory.begin() as session:
            batch = _batch(session)
            ids = [_event(session, batch, some_date(), f"e{i}", id=i)
                   for i, of in enumerate(areas, start=1) if of == area]
            if area == 1:
                for month in rng.sample(months, rng.randrange(1, 8)):
                    _run(session, month, rng.choice([0, *ids, len(areas) + 50]))
            else:  # another area's runs reach every event: they bill none of the first area's
                for month in rng.sample(months, 3):
                    _run(session, month, 10**6)
    with Session() as session:
        frontier = queries.billing_frontier(session)
        assert [end for end, _ in frontier] == sorted({end for end, _ in frontier})
        assert [top for _, top in frontier] == sorted({top for _, top in frontier}, reverse=True)
        for year in (2019, 2020, 2021, 2022):
            assert _both_ways(session, year, monkeypatch) == {_reference(session, year)}, year
