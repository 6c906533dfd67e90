"""Areas (tenants): an installation serves several employment areas, each apart from the others.

Adding an area begins its own audit chain, with a first record saying who added it.
"""

from __future__ import annotations

from dataclasses import dataclass

from osuus.privacy import personal_codes_in
from osuus.problems import Problem, ProblemsError
from osuus.services.ledger import Ledger, now, refuse_personal_codes
from osuus.store import audit
from osuus.store.areas import AREA_CODE, area_by_code, areas, begin_in_area
from osuus.store.tables import Area


@dataclass(frozen=True)
class AreaView:
    id: int
    code: str
    name: str


def _view(area: Area) -> AreaView:
    return AreaView(area.id, area.code, area.name)


def add_area(ledger: Ledger, code: str, name: str) -> AreaView:
    problems = []
    if not AREA_CODE.fullmatch(code or ""):
        problems.append(Problem(f"expected an area code of lower-case letters a–z, digits and '-' (at most 40, "
                                f"first a letter or digit), found {code!r}", key="CODE", code="area.code"))
    name = (name or "").strip()
    if not name or len(name) > 200:
        problems.append(Problem(f"expected the area's name (1–200 characters), found {name!r}", key="--name",
                                code="area.name"))
    if personal_codes_in(name):
        problems.append(Problem("the area's name holds a personal identity code", key="--name",
                                code="privacy.personal-code"))
    if problems:
        raise ProblemsError(problems)
    refuse_personal_codes(ledger.actor)
    with ledger.outside_areas() as session:
        if area_by_code(session, code) is not None:
            raise ProblemsError([Problem(f"the area {code!r} is already in this database", key="CODE",
                                         code="area.exists")])
        area = Area(code=code, name=name, created_at=now())
        session.add(area)
        session.flush()
        begin_in_area(session, area.id)  # the area's first record begins its chain
        audit.append(session, actor=ledger.actor, action="area.add", subject=code, details={"name": name},
                     content=audit.empty_content())
        return _view(area)


def list_areas(ledger: Ledger) -> list[AreaView]:
    with ledger.outside_areas() as session:
        return [_view(a) for a in areas(session)]
