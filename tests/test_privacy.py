"""Personal identity codes (henkilötunnus) are kept out: found wherever they are written, refused
at every way in before anything is stored or audited (the audit log cannot be cleaned afterwards
without breaking its chain), and never repeated whole in a message.

The ways in tested here: an import's cells (events, counts, costs), an imported file's name,
an agreement's values, comments and file name, and the actor ($OSUUS_USER) that every change
records; and, the other side, ordinary data of those places (ids, business ids, IBANs, invoice
and reference numbers, dates) imported as it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import shutil
import string
import uuid
from pathlib import Path

import pytest

from osuus.privacy import mask_personal_codes, masked, personal_codes_in
from tests.conftest import SHIPPED_AGREEMENT
from tests.test_refusals import COSTS_HEADER, COUNTS_HEADER, EVENTS_HEADER, cli, digest, sqlite_ledger  # noqa: F401

HETU = "010594Y9032"  # a valid code (the century sign Y: born in 1994, the sign of 2023's reform)
CLASSIC = "131052-308T"  # the register's checksum example, with the classic dash
FULL_WIDTH = HETU.translate(str.maketrans("0123456789Y", "０１２３４５６７８９Ｙ"))


# ---------------------------------------------------------------------------
# finding codes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    CLASSIC, f"asiakas {CLASSIC} kävi", HETU, HETU.lower(), "020200A9994",
    # glued to letters or digits
    f"HETU{HETU}", f"0{HETU}", f"{HETU}abc", f"X{CLASSIC}1", f"hetu{CLASSIC}", f"A-{HETU}-B",
    # another way of writing the same characters
    FULL_WIDTH, f"asiakas{FULL_WIDTH}", "131052–308T", "131052\u2212308T",
    "".join("٠١٢٣٤٥٦٧٨٩"[int(c)] if c.isdigit() else c for c in HETU),  # Arabic-Indic digits
])
def test_valid_codes_are_found(text):
    assert personal_codes_in(text), text


@pytest.mark.parametrize("text", [
    "131052-308U", f"HETU{HETU[:-1]}3",  # a wrong check character, apart or glued
    "asiakas-00042", "A-000123", "0211675-2", "2021-01-15", "311352-308T",  # ids, a business id, dates
    "20210114-0123", "EV210114-0123",  # date-stamped sequence numbers: the dash form glued, digit check
    "1234567-8", "Y-tunnus 0211675-2",  # business ids
    "FI21 1234 5600 0007 85", "FI2112345600000785", "IBAN:FI4950009420028730",  # IBANs, spaced or not
    "2021-00037", "lasku2022-00059", "20210000016", "RF18539007547034",  # invoice numbers, reference numbers
    "31.12.2020", "2021-02-22T10:15:00+02:00", "010594",  # dates, a date alone
])
def test_other_text_is_not_a_code(text):
    assert personal_codes_in(text) == []


def test_the_check_character_is_what_keeps_false_positives_low():
    """Of the 31 characters that may end a code of a given date and number, exactly one is its
    check character: a random token of the right shape is taken for a code once in 31 times.
    Glued codes are looked for with a letter as century sign (or as check character of the
    dash form), which tokens of the usual kinds of pseudonymous id seldom have in that place."""
    endings = "0123456789ABCDEFHJKLMNPRSTUVWXY"
    assert [c for c in endings if personal_codes_in(f"010594Y903{c}")] == ["2"]
    assert [c for c in endings if personal_codes_in(f"HETU010594Y903{c}")] == ["2"]


def test_common_pseudonymous_ids_are_not_taken_for_codes():
    """Ids of the usual kinds, made at random (seeded): none is taken for a code. Tokens of
    hexadecimal digits (a hash, a UUID) are where glued codes would be found by chance, which is
    why a glued code is not looked for inside a run of 16 or more of them."""
    rng = random.Random(9)
    day = dt.date(2019, 1, 1)
    kinds = {
        "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "UUID": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
        "sha256": lambda: hashlib.sha256(rng.randbytes(8)).hexdigest(),
        "SHA1": lambda: hashlib.sha1(rng.randbytes(8)).hexdigest().upper(),
        "base36": lambda: "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
        "dated": lambda: f"{day + dt.timedelta(rng.randrange(3000)):%Y%m%d}-{rng.randrange(10000):04d}",
        "dated2": lambda: f"E{day + dt.timedelta(rng.randrange(3000)):%y%m%d}-{rng.randrange(100000):05d}",
    }
    found = {kind: [i for i in (make() for _ in range(5000)) if personal_codes_in(i)] for kind, make in kinds.items()}
    assert found == {kind: [] for kind in kinds}


def test_masked():
    assert masked("131052-308T") == "131052-***T"
    assert mask_personal_codes(f"asiakas HETU{HETU}x ja {CLASSIC}") == "asiakas HETU010594Y***2x ja 131052-***T"
    assert mask_personal_codes(f"nimi {FULL_WIDTH} loppu") == "nimi 010594Y***2 loppu"
    assert mask_personal_codes("Hämeenkyrö A-000123") == "Hämeenkyrö A-000123"


# ---------------------------------------------------------------------------
# the ways in: imports
# ---------------------------------------------------------------------------

@pytest.fixture
def ledger(sqlite_ledger, tmp_path) -> str:  # noqa: F811
    shutil.copyfile(sqlite_ledger, tmp_path / "ledger.db")
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def refused_whole(url: str, args: list[str], *, shows: str) -> str:
    """The command exits 2, says `shows`, never shows a code whole, and changes nothing."""
    before = digest(url)
    code, stdout, stderr, exc = cli([str(a) for a in args], {"OSUUS_DATABASE_URL": url})
    context = f"osuus {' '.join(map(str, args))}\n{stdout}\n{stderr}\n{exc!r}"
    assert exc is None or isinstance(exc, SystemExit), context
    assert code == 2, context
    assert shows in stderr, context
    assert HETU not in stdout + stderr and CLASSIC not in stdout + stderr and FULL_WIDTH not in stderr, context
    assert digest(url) == before, f"the database changed\n{context}"
    return stderr


@pytest.mark.parametrize("cell, column", [
    (f"HETU{HETU}", "customer"), (f"A{CLASSIC}1", "customer"), (FULL_WIDTH, "customer"), (f"0{HETU}", "event_id"),
])
def test_an_events_cell_with_a_code_is_refused(ledger, tmp_path, cell, column):
    row = {"event_id": "P-1", "date": "2021-03-01", "component": "mainio", "municipality": "020",
           "customer": "A-1", "quantity": "1"}
    row[column] = cell
    path = tmp_path / "events.csv"
    columns = EVENTS_HEADER.split(",")
    path.write_text(EVENTS_HEADER + "\n" + ",".join(row.get(c, "") for c in columns) + "\n", encoding="utf-8")
    stderr = refused_whole(ledger, ["import", "events", path], shows=f"events.csv:2: [{column}=")
    assert "personal identity code" in stderr


def test_a_counts_source_with_a_code_is_refused(ledger, tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text(f"{COUNTS_HEADER}\nasukasluku,020,2021-12-31,16500,lähde {FULL_WIDTH}\n", encoding="utf-8")
    refused_whole(ledger, ["import", "counts", path], shows="counts.csv:2: [source=")


def test_a_costs_note_with_a_code_is_refused(ledger, tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(f"{COSTS_HEADER}\n2021;ict;kustannus;1000,00;laskuttaja{HETU}abc\n", encoding="utf-8")
    refused_whole(ledger, ["import", "costs", path], shows="costs.csv:2: [note=")


@pytest.mark.parametrize("kind, header, row", [
    ("events", EVENTS_HEADER, "P-1,2021-03-01,mainio,020,A-1,1,,,,"),
    ("counts", COUNTS_HEADER, "asukasluku,020,2021-12-31,16500,"),
    ("costs", COSTS_HEADER, "2021;ict;kustannus;1000,00;"),
])
@pytest.mark.parametrize("name", [f"tapahtumat {HETU}.csv", f"HETU{HETU}.csv", f"{FULL_WIDTH}.csv"])
def test_an_imported_file_named_with_a_code_is_refused_before_anything(ledger, tmp_path, kind, header, row, name):
    """The ledger records the name of every imported file, and its audit log too: a name with a
    code is refused before the file is read, stored or audited (the digest covers the audit log)."""
    path = tmp_path / name
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    stderr = refused_whole(ledger, ["import", kind, path], shows="the file name holds a personal identity code")
    assert "010594Y***2" in stderr


def test_the_parsers_refuse_a_file_named_with_a_code(tmp_path):
    """The pure parsers too (for programs): no row of such a file is read."""
    from osuus.agreement import load_agreement
    from osuus.imports import ImportContext
    from osuus.imports.events import parse_events

    agreement, _ = load_agreement(SHIPPED_AGREEMENT)
    path = tmp_path / f"{HETU}.csv"
    path.write_text(f"{EVENTS_HEADER}\nP-1,2021-03-01,mainio,020,A-1,1,,,,\n", encoding="utf-8")
    records, problems = parse_events(path, ImportContext.of(agreement, year=2021))
    assert records == [] and len(problems) == 1
    assert str(problems[0]).startswith("010594Y***2.csv: the file name holds a personal identity code")


# ---------------------------------------------------------------------------
# the ways in: agreements
# ---------------------------------------------------------------------------

TITLE = 'title = "Pirkanmaan työllisyyden edistämisen kuntakokeilu: kustannustenjakoliite 2021"'


@pytest.mark.parametrize("old, new, marker", [
    (TITLE, TITLE[:-1] + f' (laatija HETU{HETU})"', "laatija"),  # a value, glued
    ("[agreement]", f"# laatinut {CLASSIC}x\n[agreement]", "laatinut"),  # a comment: the file is stored whole
    ("[agreement]", f"# {FULL_WIDTH}\n[agreement]", FULL_WIDTH),
])
def test_an_agreement_with_a_code_is_refused(ledger, tmp_path, old, new, marker):
    text = SHIPPED_AGREEMENT.read_text(encoding="utf-8")
    assert text.count(old) == 1
    text = text.replace(old, new)
    path = tmp_path / "sopimus.toml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if marker in t)
    for args in (["check", path], ["agreement", "add", path]):
        stderr = refused_whole(ledger, args, shows=f"sopimus.toml:{line}:")
        assert "personal identity code" in stderr


def test_an_agreement_file_named_with_a_code_is_refused(ledger, tmp_path):
    path = tmp_path / f"sopimus-{HETU}.toml"
    shutil.copyfile(SHIPPED_AGREEMENT, path)
    for args in (["check", path], ["agreement", "add", path]):
        stderr = refused_whole(ledger, args, shows="the file name holds a personal identity code")
        assert "sopimus-010594Y***2.toml" in stderr


# ---------------------------------------------------------------------------
# the ways in: who acts
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("actor", [f"HETU{HETU}", f"0{HETU}", f"{HETU}abc", FULL_WIDTH, f"matti {CLASSIC}"])
def test_an_actor_with_a_code_is_refused_before_the_audit_log(ledger, tmp_path, actor):
    """$OSUUS_USER is written into every audit record, which cannot be cleaned afterwards: an
    actor holding a code, glued or in full-width digits, is refused and nothing is written (the
    digest covers the audit log)."""
    path = tmp_path / "costs.csv"
    path.write_text(f"{COSTS_HEADER}\n2021;ict;kustannus;1000,00;\n", encoding="utf-8")
    before = digest(ledger)
    code, stdout, stderr, exc = cli(["import", "costs", str(path)], {"OSUUS_DATABASE_URL": ledger, "OSUUS_USER": actor})
    context = f"{stdout}\n{stderr}\n{exc!r}"
    assert exc is None or isinstance(exc, SystemExit), context
    assert code == 2 and "[OSUUS_USER]" in stderr, context
    assert actor not in stdout + stderr and HETU not in stderr and CLASSIC not in stderr, context
    assert digest(ledger) == before


def test_ordinary_data_is_not_taken_for_codes(ledger, tmp_path):
    """Ids, business ids, IBANs, invoice and reference numbers and dates where codes are looked
    for: the import takes every row, and the actor is taken too."""
    events = tmp_path / "events.csv"
    rows = ["2021-00037,2021-03-01,mainio,020,FI2112345600000785,1,,,,",
            "EV210114-0123,2021-03-02,mainio,020,A-000123,1,,,,",
            "20210000016,2021-03-03,mainio,020,0211675-2,1,,,,",
            "RF18539007547034,2021-03-04,mainio,020,1234567-8,1,,,,"]
    events.write_text(EVENTS_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    costs = tmp_path / "costs 2021-02-22 FI2112345600000785.csv"
    costs.write_text(f"{COSTS_HEADER}\n2021;ict;kustannus;1000,00;Y-tunnus 0211675-2, tili FI21 1234 5600 0007 85, "
                     "lasku 2021-00037 31.12.2021\n", encoding="utf-8")
    env = {"OSUUS_DATABASE_URL": ledger, "OSUUS_USER": "kirjanpito-2021-00037"}
    for args, said in ((["import", "events", events], "4 lisätty"), (["import", "costs", costs], "1 lisätty")):
        code, stdout, stderr, exc = cli(["--language", "fi", *map(str, args)], env)
        assert code == 0 and said in stdout, f"{stdout}\n{stderr}\n{exc!r}"
