"""The August estimate of a year: made, stored as a revision, and read back.

From the year's own agreement when one is stored, else projected from the
last agreement with its year's actual costs, the latest counts and its volumes
at the confirmed prices (osuus.billing.estimate). Making the same estimate again
adds nothing; a changed one becomes a new revision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from osuus.billing.estimate import Basis, YearEstimate, estimate_from_actuals, estimate_from_agreement
from osuus.engine.trace import Figure
from osuus.money import ZERO
from osuus.problems import ProblemsError, refuse
from osuus.services.agreements import Agreements
from osuus.services.closing import confirmed_factors
from osuus.services.ledger import Ledger, now
from osuus.store import queries
from osuus.store.tables import Estimate


@dataclass(frozen=True)
class StoredPart:
    id: str
    kind: str  # "table" | "component"
    amount: Decimal


@dataclass(frozen=True)
class StoredEstimate:
    """A member's estimate as stored: its parts, its basis, and the explanation."""

    year: int
    revision: int
    municipality: str  # code
    amount: Decimal
    parts: tuple[StoredPart, ...]
    basis: tuple[Basis, ...]
    issued_basis: str | None  # the words of an estimate made before bases were structure
    explanation: Figure | None
    created_at: dt.datetime


@dataclass(frozen=True)
class EstimateResult:
    year: int
    revision: int
    created: bool
    estimates: tuple[StoredEstimate, ...]

    @property
    def basis(self) -> tuple[Basis, ...]:
        return self.estimates[0].basis if self.estimates else ()


def stored(row: Estimate) -> StoredEstimate:
    parts = []
    for part in row.details.get("parts", []):
        # [id, kind, amount]; an estimate made before parts carried their kind had [id, label, amount]
        kind = part[1] if len(part) == 3 and part[1] in ("table", "component") else ""
        parts.append(StoredPart(part[0], kind, Decimal(part[-1])))
    explanation = row.details.get("explanation")
    return StoredEstimate(row.year, row.revision, row.municipality, row.amount, tuple(parts),
                          tuple(Basis.from_data(b) for b in row.basis or ()), row.issued_basis,
                          Figure.from_data(explanation) if explanation else None, row.created_at)


def make_estimate(ledger: Ledger, year: int) -> EstimateResult:
    with ledger.write() as tx:
        session = tx.session
        queries.lock_billing(session)
        agreements = Agreements(session)
        agreement = agreements.of_year(year)
        if agreement is not None:
            estimate = estimate_from_agreement(agreement)
        else:
            last = agreements.latest(before=year)
            if last is None:
                raise refuse(f"no agreement for {year} or before is stored", code="estimate.no-agreement")
            estimate = estimate_from_actuals(year, last, queries.actual_costs(session, last.year),
                                             queries.latest_counts(session), queries.volumes(session, last.year),
                                             confirmed_factors(queries.closing(session, last.year)))
        if estimate.problems:
            raise ProblemsError(estimate.problems)
        basis = [b.to_data() for b in estimate.basis]
        details = {m.municipality: [[p.id, p.kind, str(p.amount)] for p in m.parts] for m in estimate.members}
        inputs_hash = hashlib.sha256(json.dumps([basis, details], sort_keys=True).encode()).hexdigest()
        latest = queries.estimate_revision(session, year)
        if latest is not None:
            rows = queries.estimates_of(session, year, latest)
            if rows and rows[0].inputs_hash == inputs_hash:
                return EstimateResult(year, latest, False, tuple(stored(r) for r in rows))
        revision = (latest or 0) + 1
        created = now()
        rows = [Estimate(year=year, revision=revision, municipality=m.municipality, amount=m.amount, basis=basis,
                         details={"parts": details[m.municipality], "explanation": m.explanation(year).to_data()},
                         inputs_hash=inputs_hash, created_at=created) for m in estimate.members]
        session.add_all(rows)
        tx.audit("estimate", str(year), {"revision": revision, "basis": basis,
                                         "total": str(sum((m.amount for m in estimate.members), ZERO))})
        return EstimateResult(year, revision, True, tuple(stored(r) for r in rows))


def latest_estimates(ledger: Ledger, year: int, code: str | None = None) -> tuple[StoredEstimate, ...]:
    """The newest revision of a year's estimate (of one member, or of all); () when none is stored."""
    with ledger.read() as session:
        return estimates_in(session, year, code)


def estimates_in(session, year: int, code: str | None = None) -> tuple[StoredEstimate, ...]:
    revision = queries.estimate_revision(session, year)
    if revision is None:
        return ()
    return tuple(stored(r) for r in queries.estimates_of(session, year, revision, code))


__all__ = ["EstimateResult", "StoredEstimate", "StoredPart", "YearEstimate", "latest_estimates", "make_estimate"]
