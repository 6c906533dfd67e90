"""`osuus demo --no-serve`: the demo database of the 2021 example year, and logins that work.

The figures are those of the shipped files: examples/2021 has 66 counts, 8 547 events and 11
cost rows (one a line after the header), the agreement 22 municipalities.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

ROLES = {"valmistelija": ("preparer", None), "hyvaksyja": ("approver", None), "paakayttaja": ("admin", None),
         "tarkastaja": ("auditor", None), "sastamala": ("member", "790")}


def _logins(out: str) -> dict[str, str]:
    """The demo's printed logins: a row of the table is a name, then its password."""
    found = {}
    for line in out.splitlines():
        match = re.match(r"^(\S+)\s+([a-z2-9]{4}(?:-[a-z2-9]{4}){3})\s", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _audit_count(url: str) -> int:
    from sqlalchemy import func, select

    from osuus.services.ledger import Ledger
    from osuus.store.tables import AuditRecord

    with Ledger(url, choose_area=False) as ledger, ledger.outside_areas() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from tests.conftest import invoke_cli_in_process

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    code, out, err, exc = invoke_cli_in_process("--language", "en", "demo", "--db", path, "--no-serve")
    assert code == 0, (out, err, exc)
    return path, out


def test_the_demo_database_holds_the_example_year(demo_db):
    from osuus.services.agreements import list_agreements
    from osuus.services.ledger import Ledger
    from osuus.store.tables import ActualCost, ReferenceCount, ServiceEvent
    from sqlalchemy import func, select

    path, out = demo_db
    assert f"The demo's database: {path}" in out
    assert "Agreement pirkanmaa-2021 stored (year 2021, revision 1)." in out
    assert "events.csv: 8547 rows, 8547 new" in out
    with Ledger(f"sqlite:///{path}", area="pirkanmaa") as ledger:
        assert [(a.agreement_id, a.year, a.revision) for a in list_agreements(ledger)] == [("pirkanmaa-2021", 2021, 1)]
        with ledger.read() as session:
            counted = {table.__name__: session.scalar(select(func.count()).select_from(table))
                       for table in (ServiceEvent, ReferenceCount, ActualCost)}
    assert counted == {"ServiceEvent": 8547, "ReferenceCount": 66, "ActualCost": 11}


def test_the_printed_logins_sign_in_with_their_roles(demo_db):
    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    path, out = demo_db
    logins = _logins(out)
    assert set(logins) == set(ROLES)
    kept = json.loads((path.parent / "demo.logins.json").read_text(encoding="utf-8"))
    assert kept == logins
    assert (path.parent / "demo.logins.json").stat().st_mode & 0o077 == 0  # the user's alone
    with Ledger(f"sqlite:///{path}", area="pirkanmaa") as ledger:
        for name, password in logins.items():
            result = accounts.login(ledger, name, password, "test")
            principal = accounts.principal_for_token(ledger, result.token)
            assert ([r.value for r in principal.roles], principal.municipality) == ([ROLES[name][0]], ROLES[name][1])
        with pytest.raises(accounts.LoginRefused):
            accounts.login(ledger, "valmistelija", logins["hyvaksyja"], "test")


def test_a_second_run_reuses_the_database_and_changes_nothing(demo_db):
    from tests.conftest import invoke_cli_in_process

    path, out = demo_db
    before = _audit_count(f"sqlite:///{path}")
    code, again, err, exc = invoke_cli_in_process("--language", "en", "demo", "--db", path, "--no-serve")
    assert code == 0, (again, err, exc)
    assert _logins(again) == _logins(out)
    assert "events.csv was imported already." in again
    assert "Agreement pirkanmaa-2021 was stored already" in again
    assert _audit_count(f"sqlite:///{path}") == before


def test_a_database_the_demo_did_not_make_is_refused(tmp_path):
    from tests.conftest import invoke_cli_in_process

    other = tmp_path / "ledger.db"
    other.write_bytes(b"not the demo's")
    code, out, err, _ = invoke_cli_in_process("--language", "en", "demo", "--db", other, "--no-serve")
    assert code == 2
    assert "was not made by osuus demo" in err
    assert other.read_bytes() == b"not the demo's"
    code, out, err, _ = invoke_cli_in_process("--language", "en", "demo", "--db", "postgresql://x@y/z", "--no-serve")
    assert code == 2 and "give --db a file's path" in err


def test_the_demo_command_imports_no_database_library_until_it_runs():
    code = ("import sys, osuus.cli.demo; "
            "heavy = [m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'argon2') if m in sys.modules]; "
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
