"""A member's annual report: customers, services produced, and its money side by side.

Estimate, billed, actual share and settlement of the year, by table (advances)
and by component (service events), with every document that carries a part of
the settlement. Items are ids (a table, a component); the renderers name them
in the reader's language from the agreement of the year.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from osuus.agreement.model import Agreement
from osuus.billing.kinds import SettlementKind
from osuus.billing.report import AnnualReport, MoneyLine, ServiceLine
from osuus.money import ZERO
from osuus.problems import refuse
from osuus.services.agreements import Agreements
from osuus.services.closing import actual_parts
from osuus.services.estimates import estimates_in
from osuus.services.ledger import Ledger
from osuus.store import queries


def annual_report(ledger: Ledger, year: int, code: str) -> AnnualReport:
    with ledger.read() as session:
        return report_in(session, year, code)


def report_in(session: Session, year: int, code: str, agreements: Agreements | None = None) -> AnnualReport:
    agreements = agreements or Agreements(session)
    agreement = agreements.of_year(year)
    if agreement is None:
        raise refuse(f"no agreement for {year} is stored", code="report.no-agreement")
    if agreement.by_code(code) is None:
        raise refuse(f"municipality {code} is not in the {year} agreement", key="--municipality",
                     code="municipality.not-in-agreement")
    units = {cid: p.unit for cid, p in (agreement.billing.events.items() if agreement.billing else ())}
    services = tuple(ServiceLine(c, units.get(c, ""), n, q, k) for c, n, q, k in queries.services_of(session, year, code))
    billed_by, passthrough = queries.billed_by_item(session, year, code)
    estimate = next(iter(estimates_in(session, year, code)), None)
    estimate_by = {p.id: p.amount for p in estimate.parts} if estimate else {}
    closing = queries.closing(session, year)
    actual_by = actual_parts(closing, code)
    money = _money_lines(agreement, estimate_by, billed_by, actual_by, closed=closing is not None)
    settled = queries.settlements_of(session, year, code)
    year_end = next((s for s in settled if s.kind is SettlementKind.YEAR_END), None)
    return AnnualReport(
        year, code, queries.customers_of(session, year, code), services, money, passthrough,
        estimate.amount if estimate else None, sum(billed_by.values(), ZERO), year_end.actual if year_end else None,
        sum((s.difference for s in settled), ZERO) if settled else None,
        tuple(queries.settlement_lines(session, year, code)),
        estimate.basis if estimate else (), estimate.issued_basis if estimate else None)


def _money_lines(agreement: Agreement, estimate_by, billed_by, actual_by, *, closed: bool) -> tuple[MoneyLine, ...]:
    table_ids = [t.id for t in agreement.tables]
    advance = set(agreement.billing.advance_tables) if agreement.billing else set(table_ids)
    lines = []
    for item in dict.fromkeys([*table_ids, *billed_by, *actual_by]):
        if item in table_ids and item not in advance:
            lines.append(MoneyLine(item, estimate_by.get(item), ZERO, None, estimate_only=True))
            continue
        lines.append(MoneyLine(item, estimate_by.get(item), billed_by.get(item, ZERO),
                               actual_by.get(item) if closed else None))
    return tuple(lines)
