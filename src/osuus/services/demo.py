"""The demo: a ledger of the 2021 example year to try the web app on (`osuus demo`).

`build_demo` makes the database (or takes the one it made before: every step is one the
ledger already makes idempotent, so a second run changes nothing), migrates it, adds the
area, stores the shipped agreement, imports the example counts, events and costs, makes the
year's estimate and the demo people with their roles. Passwords are the caller's to keep:
it passes those it knows and a maker of new ones, and gets back the ones in use.

The shipped agreement and the example files live in the repository (`agreements/`,
`examples/2021/`), not in the package: the demo is run from a clone installed with
`pip install -e .`, so `find_sources` looks beside the package's source tree, then in the
current folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from osuus.problems import Problem, ProblemsError

if TYPE_CHECKING:  # the database's libraries are imported when the demo is built, not before
    from osuus.services.agreements import AgreementAdded
    from osuus.services.views import ImportResult

__all__ = ["AREA", "AREA_NAME", "PEOPLE", "DemoBuilt", "DemoLogin", "DemoPerson", "DemoSources", "build_demo",
           "find_sources"]

AREA = "pirkanmaa"
AREA_NAME = "Pirkanmaan työllisyysalue"  # the area's own name, stored as data
AGREEMENT = Path("agreements") / "pirkanmaa-2021.toml"
EXAMPLES = Path("examples") / "2021"
#: The example files, in the order they are imported (the kind of each, its file).
EXAMPLE_FILES = (("counts", "counts.csv"), ("events", "events.csv"), ("costs", "costs.csv"))
#: Who acts when the demo sets itself up (areas, people), and who runs the cycle's steps.
SETUP_ACTOR = "osuus-demo"
CLERK = "valmistelija"


@dataclass(frozen=True)
class DemoPerson:
    name: str
    role: str
    municipality: str | None = None  # a member's municipality code
    municipality_name: str = ""


#: The demo's people: the host's clerk (preparer), an approver, an admin, an auditor and a member.
PEOPLE = (
    DemoPerson(CLERK, "preparer"),
    DemoPerson("hyvaksyja", "approver"),
    DemoPerson("paakayttaja", "admin"),
    DemoPerson("tarkastaja", "auditor"),
    DemoPerson("sastamala", "member", "790", "Sastamala"),
)


@dataclass(frozen=True)
class DemoSources:
    agreement: Path
    examples: Path | None  # the folder of the example files, None when they were not found


@dataclass(frozen=True)
class DemoLogin:
    person: DemoPerson
    password: str
    new: bool  # the password was made by this run (the user is new, or had no known password)


@dataclass(frozen=True)
class DemoBuilt:
    url: str
    area: str
    area_added: bool
    agreement: AgreementAdded
    imports: tuple[ImportResult, ...]
    estimate_year: int
    estimate_created: bool
    logins: tuple[DemoLogin, ...]


def _candidates(start: Path | None) -> list[Path]:
    here = Path(__file__).resolve()
    found = [start] if start is not None else []
    # src/osuus/services/demo.py -> the clone's root (an editable install runs from it)
    found += [here.parents[3], Path.cwd()]
    return found


def find_sources(start: Path | None = None) -> DemoSources:
    """The shipped agreement and the example files: in `start`, beside the package's source
    (a clone), or in the current folder. Without the agreement there is no demo: refused,
    naming where it was looked for."""
    looked = []
    for root in _candidates(start):
        agreement = root / AGREEMENT
        looked.append(str(agreement))
        if agreement.is_file():
            examples = root / EXAMPLES
            complete = all((examples / name).is_file() for _, name in EXAMPLE_FILES)
            return DemoSources(agreement, examples if complete else None)
    raise ProblemsError([Problem(f"the shipped agreement was not found (looked for {', '.join(looked)}); run the "
                                 "demo from a clone of osuus installed with pip install -e .", key="demo",
                                 code="demo.sources")])


def build_demo(url: str, sources: DemoSources, passwords: Mapping[str, str],
               make_password: Callable[[], str]) -> DemoBuilt:
    """The demo ledger at `url`, made or brought up to date; the people's passwords are those
    of `passwords` (the ones given before) or new ones from `make_password`."""
    from osuus.services import accounts, estimates, imports
    from osuus.services.agreements import add_agreement
    from osuus.services.areas import add_area, list_areas
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade

    upgrade(url)
    with Ledger(url, SETUP_ACTOR, choose_area=False) as base:
        area_added = AREA not in {a.code for a in list_areas(base)}
        if area_added:
            add_area(base, AREA, AREA_NAME)
    with Ledger(url, SETUP_ACTOR, area=AREA, self_approval=False) as ledger:
        clerk = ledger.acting(CLERK)
        added = add_agreement(clerk, sources.agreement)
        done = []
        if sources.examples is not None:
            importers = {"counts": imports.import_counts, "events": imports.import_events,
                         "costs": imports.import_costs}
            for kind, name in EXAMPLE_FILES:
                done.append(importers[kind](clerk, sources.examples / name))
        year = added.agreement.year
        estimate = estimates.make_estimate(clerk, year)
        logins = _people(ledger, accounts, passwords, make_password)
    return DemoBuilt(ledger.url, AREA, area_added, added, tuple(done), year, estimate.created, logins)


def _people(ledger, accounts, passwords: Mapping[str, str], make_password) -> tuple[DemoLogin, ...]:
    existing = {u.name: u for u in accounts.list_users(ledger)}
    logins = []
    for person in PEOPLE:
        user = existing.get(person.name)
        known = passwords.get(person.name)
        password = known or make_password()
        if user is None:
            user = accounts.add_user(ledger, person.name, password=password, language="fi")
        elif known is None:  # made before, its password lost: a new one
            accounts.set_password(ledger, person.name, password)
        if not any(r.role.value == person.role and r.municipality == person.municipality for r in user.roles):
            accounts.grant_role(ledger, person.name, person.role, person.municipality)
        logins.append(DemoLogin(person, password, known is None))
    return tuple(logins)
