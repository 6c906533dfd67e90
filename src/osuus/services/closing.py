"""Closing a year: confirmed prices, actual shares and every member's settlement, once.

The year must be invoiced to its last period, with no event of it left unbilled.
The settlement of each member (actual share − billed) is stored with its
explanation, and goes on the member's next invoice (osuus.services.invoicing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from osuus.billing.kinds import SettlementKind
from osuus.billing.settlement import ConfirmedPrice, MemberSettlement, YearSettlement, settle_year
from osuus.calendar import Period, PeriodKind
from osuus.engine.trace import FACTOR, Figure, given
from osuus.problems import Problem, ProblemsError, refuse
from osuus.services.agreements import Agreements
from osuus.services.ledger import Ledger, now
from osuus.store import queries
from osuus.store.tables import Settlement, YearClosing


@dataclass(frozen=True)
class SettlementRow:
    municipality: str  # code
    actual: Decimal
    billed: Decimal
    difference: Decimal


@dataclass(frozen=True)
class CloseResult:
    year: int
    created: bool
    settlements: tuple[SettlementRow, ...]
    prices: tuple[ConfirmedPrice, ...] = ()


def _as_closed(session: Session, year: int) -> CloseResult | None:
    """A closed year as it was closed (its confirmed prices and year-end settlements); None when
    it is not closed."""
    closing = queries.closing(session, year)
    if closing is None:
        return None
    rows = queries.settlements_of(session, year, kind=SettlementKind.YEAR_END)
    return CloseResult(year, False, tuple(SettlementRow(s.municipality, s.actual, s.billed, s.difference)
                                          for s in rows), tuple(_prices(closing)))


def show_closing(ledger: Ledger, year: int) -> CloseResult:
    """A closed year as it was closed (`created` False); refused when the year is not closed."""
    with ledger.read() as session:
        result = _as_closed(session, year)
    if result is None:
        raise refuse(f"{year} is not closed", key="year", code="settlement.not-closed")
    return result


def close_year(ledger: Ledger, year: int) -> CloseResult:
    """Close `year` once; a year closed already is answered as it was closed (`created` False)."""
    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
        closed = _as_closed(session, year)
        if closed is not None:
            return closed
        agreements = Agreements(session)
        version = agreements.version(year)
        if version is None:
            raise refuse(f"no agreement for {year} is stored", code="close.no-agreement")
        agreement = agreements.of_year(year)
        kind = PeriodKind(agreement.billing.period) if agreement.billing else PeriodKind.MONTH
        last = Period(year, kind, kind.count)
        problems = []
        if last not in queries.run_periods(session, year):
            problems.append(Problem(f"the last period of {year} ({last.code}) is not invoiced yet; invoice every "
                                    "period of the year before closing it", key="close-year", code="close.not-invoiced"))
        waiting = queries.unbilled_count(session, year)
        if waiting:
            problems.append(Problem(f"{waiting} events of {year} are not invoiced yet", key="close-year",
                                    code="close.events-waiting"))
        if problems:
            raise ProblemsError(problems)
        result = settle_year(agreement, queries.actual_costs(session, year), queries.volumes(session, year),
                             queries.billed_for_year(session, year))
        if result.problems:
            raise ProblemsError(result.problems)
        session.add(YearClosing(year=year, agreement_version_id=version.id, closed_at=now(), closed_by=tx.actor,
                                details=_details(result)))
        session.flush()
        session.add_all(Settlement(year=year, municipality=m.municipality, kind=SettlementKind.YEAR_END,
                                   actual=m.actual, billed=m.billed, difference=m.difference,
                                   explanation=m.explanation(year).to_data())
                        for m in result.members)
        tx.audit("year.close", str(year), {"settlements": {m.municipality: str(m.difference) for m in result.members}})
        return CloseResult(year, True, tuple(SettlementRow(m.municipality, m.actual, m.billed, m.difference)
                                             for m in result.members), result.prices)


def _details(result: YearSettlement) -> dict:
    """What a closing keeps: the confirmed prices with the factor that confirmed them, and each
    member's actual share by part (a table or a component) with its explanation."""
    return {
        "prices": [{"component": p.component, "integration_year": p.integration_year, "agreed": str(p.agreed),
                    "confirmed": str(p.confirmed), "factor": str(p.explanation.value),
                    "explanation": p.explanation.to_data()} for p in result.prices],
        "members": {m.municipality: {"parts": [[p.id, p.kind, str(p.amount)] for p in m.parts]}
                    for m in result.members},
    }


def _prices(closing: YearClosing | None) -> list[ConfirmedPrice]:
    if closing is None:
        return []
    out = []
    for p in closing.details.get("prices", []):
        agreed, confirmed = Decimal(p["agreed"]), Decimal(p["confirmed"])
        if "explanation" in p:
            explanation = Figure.from_data(p["explanation"])
        else:  # a closing made before prices kept their explanation: the factor is confirmed / agreed
            factor = confirmed / agreed if agreed else Decimal(1)
            explanation = given("price.factor", factor, "", FACTOR, component=p["component"])
        out.append(ConfirmedPrice(p["component"], p["integration_year"], agreed, confirmed, explanation))
    return out


def confirmed_factors(closing: YearClosing | None) -> dict[str, Figure]:
    """The factor (as its figure) that confirmed each component's prices at a year's closing."""
    out: dict[str, Figure] = {}
    for p in _prices(closing):
        out.setdefault(p.component, p.explanation)
    return out


def actual_parts(closing: YearClosing | None, code: str) -> dict[str, Decimal]:
    """A member's actual share of a closed year by table or component (the id is the first of
    each part, the amount the last: a closing made before parts carried their kind had a label between)."""
    if closing is None:
        return {}
    return {part[0]: Decimal(part[-1]) for part in closing.details["members"].get(code, {}).get("parts", [])}


__all__ = ["CloseResult", "MemberSettlement", "SettlementRow", "actual_parts", "close_year", "confirmed_factors",
           "dt", "show_closing"]
