"""Closing a year: confirmed prices, actual shares and every member's settlement, once.

The year must be invoiced to its last period, with no event of it left unbilled.
The settlement of each member (actual share − billed) is stored with its
explanation, and goes on the member's next invoice (osuus.services.invoicing).
`preview_close` computes the same settlements without writing anything, to be
reviewed before the year is closed.
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
from osuus.store.tables import AgreementVersion, Settlement, YearClosing


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
    preview: bool = False  # what closing the year would commit (`preview_close`): nothing was written


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


def _settle(session: Session, year: int) -> tuple[AgreementVersion, YearSettlement]:
    """What closing `year` comes to, from the ledger as it is now (writing nothing): the
    agreement version it closes under and every member's settlement. Refused when the year
    cannot be closed: no agreement, a period not invoiced, events not billed, settling fails."""
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
    return version, result


def _result(year: int, result: YearSettlement, *, created: bool, preview: bool = False) -> CloseResult:
    return CloseResult(year, created, tuple(SettlementRow(m.municipality, m.actual, m.billed, m.difference)
                                            for m in result.members), tuple(result.prices), preview)


def preview_close(ledger: Ledger, year: int) -> CloseResult:
    """What `close_year` would commit now (`preview` True): every member's settlement and the
    confirmed prices, computed in a read transaction, so nothing is written and nothing audited.
    Refused as closing would be; a closed year is answered as it was closed (`preview` False)."""
    with ledger.read() as session:
        closed = _as_closed(session, year)
        if closed is not None:
            return closed
        _version, result = _settle(session, year)
        return _result(year, result, created=False, preview=True)


def preview_settlement(ledger: Ledger, year: int, code: str) -> Figure | None:
    """The explanation `close_year` would store now with member `code`'s settlement (what
    `osuus.services.explain.explain_settlement` gives once the year is closed), written nowhere;
    None for a municipality it settles nothing with (the host). Refused as closing would be; a
    closed year gives the explanation stored with the settlement."""
    with ledger.read() as session:
        if queries.closing(session, year) is not None:
            rows = queries.settlements_of(session, year, code, SettlementKind.YEAR_END)
            return Figure.from_data(rows[0].explanation) if rows and rows[0].explanation else None
        _version, result = _settle(session, year)
    try:
        return result.member(code).explanation(year)
    except KeyError:
        return None


def close_year(ledger: Ledger, year: int) -> CloseResult:
    """Close `year` once; a year closed already is answered as it was closed (`created` False)."""
    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
        closed = _as_closed(session, year)
        if closed is not None:
            return closed
        version, result = _settle(session, year)
        session.add(YearClosing(year=year, agreement_version_id=version.id, closed_at=now(), closed_by=tx.actor,
                                details=_details(result)))
        session.flush()
        session.add_all(Settlement(year=year, municipality=m.municipality, kind=SettlementKind.YEAR_END,
                                   actual=m.actual, billed=m.billed, difference=m.difference,
                                   explanation=m.explanation(year).to_data())
                        for m in result.members)
        tx.audit("year.close", str(year), {"settlements": {m.municipality: str(m.difference) for m in result.members}})
        return _result(year, result, created=True)


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
           "dt", "preview_close", "preview_settlement", "show_closing"]
