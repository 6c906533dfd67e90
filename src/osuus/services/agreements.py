"""Agreements in the ledger: storing a year's agreement, and reading back the ones stored.

A stored agreement is read back with the checks it was accepted under (see
osuus.agreement.checks), so a check added in a later release can never make an
invoiced year unreadable. Municipalities are found by code or by any name they
have had in a stored year: a member renamed in 2022 is still found by its 2021
name, and keeps its history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from osuus.agreement import read_stored
from osuus.agreement.checks import accepted_ids
from osuus.agreement.load import parse_agreement, read_file
from osuus.agreement.model import Agreement, Municipality
from osuus.engine import Allocation, allocate
from osuus.problems import Problem, ProblemsError
from osuus.services.ledger import Ledger, now
from osuus.services.views import AgreementView
from osuus.store import queries
from osuus.store.tables import AgreementVersion

_parsed: dict[tuple[str, str], Agreement] = {}


def agreement_of(version: AgreementVersion) -> Agreement:
    """A stored version as the model (cached: stored content never changes)."""
    key = (version.content_hash, version.file_name)
    cached = _parsed.get(key)
    if cached is None:
        agreement, problems = read_stored(version.content, f"{version.file_name} (rev {version.revision})",
                                          version.checks or [])
        if agreement is None:
            raise ProblemsError(problems)
        cached = _parsed[key] = agreement
    return cached


def view_of(version: AgreementVersion) -> AgreementView:
    return AgreementView(version.agreement_id, version.year, version.revision, version.file_name,
                         version.content_hash, version.added_at, version.added_by, tuple(version.checks or ()))


class Agreements:
    """The agreements stored in one session, by year (read once per use case)."""

    def __init__(self, session: Session):
        self.session = session
        self._years: dict[int, Agreement | None] = {}
        self._versions: dict[int, AgreementVersion | None] = {}

    def version(self, year: int) -> AgreementVersion | None:
        if year not in self._versions:
            self._versions[year] = queries.agreement_version(self.session, year)
        return self._versions[year]

    def of_year(self, year: int) -> Agreement | None:
        """The agreement in force for `year` (its newest revision), or None."""
        if year not in self._years:
            version = self.version(year)
            self._years[year] = agreement_of(version) if version is not None else None
        return self._years[year]

    def years(self) -> list[int]:
        return queries.stored_years(self.session)

    def latest(self, before: int | None = None) -> Agreement | None:
        """The newest stored agreement (of a year before `before`)."""
        years = [y for y in self.years() if before is None or y < before]
        return self.of_year(years[-1]) if years else None

    def for_year_or_before(self, year: int) -> Agreement | None:
        return self.of_year(year) or self.latest(before=year)

    def find(self, text: str, year: int | None = None) -> Municipality | None:
        """A municipality by code or by a name it has had: the year's agreement first, then
        the newest year backwards (a renamed member is found by either name)."""
        years = self.years()
        order = ([year] if year in years else []) + [y for y in reversed(years) if y != year]
        for y in order:
            found = self.of_year(y).find_municipality(text)
            if found is not None:
                return found
        return None

    def code_of(self, text: str, year: int | None = None, *, key: str = "--municipality") -> str:
        found = self.find(text, year)
        if found is None:
            raise ProblemsError([Problem(f"unknown municipality '{text}': not a code or a name of any stored "
                                         "agreement", key=key, code="municipality.unknown")])
        return found.code


@dataclass(frozen=True)
class AgreementAdded:
    agreement: AgreementView
    created: bool
    previous_revision: int | None = None


def add_agreement(ledger: Ledger, path: Path) -> AgreementAdded:
    """Store an agreement file: read, every check, and an allocation that succeeds; refused
    whole otherwise. The same content again adds nothing; edited content becomes a new
    revision of its year and keeps the old one (invoices keep referring to theirs)."""
    source, problems = read_file(path)
    if source is None:
        raise ProblemsError(problems)
    agreement, problems = parse_agreement(source, str(path))
    if agreement is None:
        raise ProblemsError(problems)
    allocation = allocate(agreement)
    if allocation.problems:
        raise ProblemsError(allocation.problems)
    content_hash = hashlib.sha256(source.encode("utf-8")).hexdigest()
    with ledger.write() as tx:
        queries.lock_billing(tx.session)
        existing = queries.version_by_hash(tx.session, agreement.year, content_hash)
        if existing is not None:
            return AgreementAdded(view_of(existing), False)
        latest = queries.latest_revision(tx.session, agreement.year)
        version = AgreementVersion(agreement_id=agreement.id, year=agreement.year, revision=(latest or 0) + 1,
                                   host=agreement.host, content_hash=content_hash, content=source,
                                   file_name=path.name, added_at=now(), added_by=tx.actor, checks=accepted_ids())
        tx.session.add(version)
        tx.session.flush()
        tx.audit("agreement.add", f"{agreement.id} rev {version.revision}",
                 {"year": agreement.year, "revision": version.revision, "sha256": content_hash, "file": path.name,
                  "checks": list(version.checks)})
        return AgreementAdded(view_of(version), True, latest)


def list_agreements(ledger: Ledger) -> list[AgreementView]:
    with ledger.read() as session:
        return [view_of(v) for v in queries.all_versions(session)]


def agreement_hash(ledger: Ledger, year: int) -> str:
    """The SHA-256 of the agreement in force for `year` (its newest revision); "" when none is
    stored. What a document's master data comes from, for its ETag."""
    with ledger.read() as session:
        version = queries.agreement_version(session, year)
        return version.content_hash if version is not None else ""


def revision_allocation(ledger: Ledger, year: int, revision: int) -> Allocation | None:
    """The allocation of one stored revision of a year's agreement (the use cases read the
    newest; a revision is what a comparison and an older revision's page need); None when that
    revision is not stored."""
    with ledger.read() as session:
        version = session.scalar(select(AgreementVersion).where(AgreementVersion.year == year,
                                                                AgreementVersion.revision == revision))
        if version is None:
            return None
        agreement = agreement_of(version)
    allocation = allocate(agreement)
    if allocation.problems:
        raise ProblemsError(allocation.problems)
    return allocation


def agreement_years(ledger: Ledger, member: str | None = None) -> list[int]:
    """The years with a stored agreement, newest first; with `member`, those whose agreement has
    that municipality among its parties."""
    with ledger.read() as session:
        agreements = Agreements(session)
        years = sorted(agreements.years(), reverse=True)
        if member is None:
            return years
        return [y for y in years if (a := agreements.of_year(y)) is not None and a.by_code(member) is not None]
