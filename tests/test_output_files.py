"""Output files that cannot be redirected (issue 9, item 4) and output paths refused cleanly.

The file-writing rules are unit tests of `osuus.cli.files.OutputFiles` (fast, on a temporary
folder); a few runs of the command line show them end to end: `allocate -o`, and `export
year` on a small ledger whose members have formula-looking names.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest

from osuus.cli.files import OutputFiles, OutputProblems, file_problems, folder_problems, write_file
from osuus.render.csv_out import text_cell

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
# members renamed to texts a spreadsheet would take for formulas (TOML escapes: a tab, a carriage return)
FORMULA_NAMES = {'"Akaa"': '"=1+2"', '"Hämeenkyrö"': '"@SUM(A1)"', '"Ikaalinen"': '"+358"',
                 '"Juupajoki"': '"-Juupajoki"', '"Kangasala"': '"\\tKangasala"'}
NAMES = ["=1+2", "@SUM(A1)", "+358", "-Juupajoki", "\tKangasala"]


def hidden(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*")]


def everything(folder: Path) -> dict[str, bytes | str]:
    """Every entry under `folder`: a file's bytes, a link's target, a folder's mark."""
    found: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        key = p.relative_to(folder).as_posix()
        found[key] = f"-> {os.readlink(p)}" if p.is_symlink() else "<dir>" if p.is_dir() else p.read_bytes()
    return found


def enospc(*_, **__):
    raise OSError(errno.ENOSPC, "No space left on device")


def fail_on_call(monkeypatch, name: str, call: int) -> None:
    """os.`name` raises ENOSPC on its `call`-th call (counted from 1), and works otherwise."""
    real = getattr(os, name)
    calls = []

    def fake(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            enospc()
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)


# ---------------------------------------------------------------------------------------------
# OutputFiles: temporary files, renames, existing files, links
# ---------------------------------------------------------------------------------------------

def test_files_go_through_fresh_temporary_files_and_then_all_into_place(tmp_path):
    out = tmp_path / "out"
    with OutputFiles(out) as batch:
        sha = batch.stage(out / "790-sastamala" / "lasku.pdf", lambda: b"pdf")
        batch.stage(out / "hakemisto.csv", lambda: b"index")
        assert not (out / "790-sastamala" / "lasku.pdf").exists()  # nothing in place before the commit
        temps = hidden(out)
        assert len(temps) == 2 and all(p.name.endswith(".tmp") for p in temps)
        assert all(p.stat().st_nlink == 1 and not p.is_symlink() for p in temps)
    assert sha == hashlib.sha256(b"pdf").hexdigest()
    assert everything(out) == {"790-sastamala": "<dir>", "790-sastamala/lasku.pdf": b"pdf", "hakemisto.csv": b"index"}


def test_an_existing_file_is_refused_without_force_and_replaced_with_it(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "taken.pdf").write_bytes(b"old")
    made = []
    with pytest.raises(OutputProblems) as refused:
        with OutputFiles(out) as batch:
            batch.stage(out / "new" / "first.pdf", lambda: made.append(1) or b"first")
            batch.stage(out / "taken.pdf", lambda: made.append(2) or b"new")
            batch.stage(out / "later.pdf", lambda: made.append(3) or b"later")  # not made after a refusal
    (problem,) = refused.value.problems
    assert problem.key == "--output" and str(out / "taken.pdf") in problem.message and "--force" in problem.message
    assert made == [1]
    assert everything(out) == {"taken.pdf": b"old"}  # the first file's temporary and its new folder removed

    with OutputFiles(out, force=True) as batch:
        batch.stage(out / "taken.pdf", lambda: b"new")
    assert everything(out) == {"taken.pdf": b"new"}


def test_every_taken_name_is_reported_at_once(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("a", "b"):
        (out / name).write_bytes(b"old")
    batch = OutputFiles(out)
    for name in ("a", "b", "c"):
        batch.stage(out / name, lambda: b"new")
    with pytest.raises(OutputProblems) as refused:
        batch.commit()
    assert [p.code for p in refused.value.problems] == ["output.exists", "output.exists"]
    assert everything(out) == {"a": b"old", "b": b"old"}


@pytest.mark.parametrize("force", [False, True])
def test_a_link_at_the_output_name_is_never_written_through(tmp_path, force):
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "jako.csv").symlink_to(target)
    if not force:
        with pytest.raises(OutputProblems) as refused:
            write_file(out / "jako.csv", b"new")
        assert "--output" == refused.value.problems[0].key and str(out / "jako.csv") in str(refused.value)
        assert (out / "jako.csv").is_symlink()
    else:  # the link itself is replaced by the file
        write_file(out / "jako.csv", b"new", force=True)
        assert not (out / "jako.csv").is_symlink() and (out / "jako.csv").read_bytes() == b"new"
    assert target.read_bytes() == b"precious"
    assert hidden(out) == []


def test_a_link_at_a_guessable_temporary_name_captures_nothing(tmp_path, monkeypatch):
    """Links planted at the names a temporary file could be expected to have: the old fixed
    `.NAME.tmp`, and even the exact random name osuus draws next (secrets made predictable)."""
    import secrets

    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    draws = iter(["0123456789abcdef", "0123456789abcdef", "fedcba9876543210"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(draws))
    for planted in (".lasku.pdf.tmp", ".lasku.pdf.0123456789abcdef.tmp"):
        (out / planted).symlink_to(target)
    with OutputFiles(out) as batch:
        batch.stage(out / "lasku.pdf", lambda: b"pdf")
    assert target.read_bytes() == b"precious"
    assert (out / "lasku.pdf").read_bytes() == b"pdf" and not (out / "lasku.pdf").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [".lasku.pdf.0123456789abcdef.tmp", ".lasku.pdf.tmp",
                                                     "lasku.pdf"]  # the planted links are left as they were


@pytest.mark.parametrize("force", [False, True])
def test_a_link_where_a_member_folder_goes_is_refused(tmp_path, force):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "790-sastamala").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputProblems) as refused:
        with OutputFiles(out, force=force) as batch:
            batch.stage(out / "790-sastamala" / "lasku.pdf", lambda: b"pdf")
    assert refused.value.problems[0].code == "output.folder_link"
    assert list(elsewhere.iterdir()) == []


def test_a_folder_or_a_device_at_the_output_name_is_refused_even_with_force(tmp_path):
    (tmp_path / "jako.xlsx").mkdir()
    for path, code in ((tmp_path / "jako.xlsx", "output.is_folder"), (Path("/dev/null"), "output.not_regular"),
                       (tmp_path, "output.is_folder"), (Path("."), "output.is_folder")):
        (problem,) = file_problems(path, force=True)
        assert problem.code == code and problem.key == "--output", path
    assert (tmp_path / "jako.xlsx").is_dir()


# ---------------------------------------------------------------------------------------------
# failures while writing: nothing is left
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["write", "fsync", "close"])
def test_a_full_disk_while_writing_leaves_nothing(tmp_path, monkeypatch, where):
    out = tmp_path / "out"
    with pytest.raises(OutputProblems) as refused:
        with OutputFiles(out) as batch:
            batch.stage(out / "020-akaa" / "first.pdf", lambda: b"first")
            fail_on_call(monkeypatch, where, 1)
            batch.stage(out / "020-akaa" / "second.pdf", lambda: b"second")
    (problem,) = refused.value.problems
    assert problem.key == "--output" and str(out / "020-akaa" / "second.pdf") in problem.message
    assert problem.code == "output.cannot_write"
    monkeypatch.undo()
    assert not out.exists()  # the made folders too: the export was refused whole


@pytest.mark.parametrize("force", [False, True])
def test_a_failure_while_moving_into_place_puts_back_what_was_there(tmp_path, monkeypatch, force):
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.pdf").write_bytes(b"old b")
    names = ["a.pdf", "b.pdf", "c.pdf"] if force else ["a.pdf", "c.pdf"]
    batch = OutputFiles(out, force=force)
    for name in names:
        batch.stage(out / name, lambda: b"new")
    # the last file's move fails (a rename when replacing, a hard link when not)
    fail_on_call(monkeypatch, "replace" if force else "link", len(names) if not force else 3)
    with pytest.raises(OutputProblems) as refused:
        batch.commit()
    monkeypatch.undo()
    assert str(out / "c.pdf") in str(refused.value)
    assert everything(out) == {"b.pdf": b"old b"}


def test_an_unwritable_folder_is_refused(tmp_path, monkeypatch):
    locked = read_only_folder(tmp_path, monkeypatch)
    with pytest.raises(OutputProblems) as refused:
        with OutputFiles(locked / "out") as batch:
            batch.stage(locked / "out" / "a.pdf", lambda: b"a")
    assert str(locked / "out") in str(refused.value) and refused.value.problems[0].key == "--output"
    with pytest.raises(OutputProblems):
        write_file(locked / "jako.csv", b"a")
    assert list(locked.iterdir()) == []


def test_a_folder_under_proc_is_refused():
    with pytest.raises(OutputProblems) as refused:
        with OutputFiles(Path("/proc/osuus-output-test")) as batch:
            batch.stage(Path("/proc/osuus-output-test/a.pdf"), lambda: b"a")
    assert "/proc/osuus-output-test" in str(refused.value)
    assert not Path("/proc/osuus-output-test").exists()


def test_an_output_folder_that_is_a_file_or_inside_one(tmp_path):
    taken = tmp_path / "taken.txt"
    taken.write_text("x")
    for folder in (taken, taken / "inside"):
        (problem,) = folder_problems(folder)
        assert problem.key == "--output" and str(taken) in problem.message
    assert folder_problems(tmp_path / "new" / "folder") == []


def read_only_folder(tmp_path: Path, monkeypatch) -> Path:
    """A folder nothing can be made in: its mode says so, and for root (whom modes do not
    stop) os.open/os.mkdir refuse inside it as the kernel would for anyone else."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:
        inode = (locked.stat().st_dev, locked.stat().st_ino)
        real_open, real_mkdir = os.open, os.mkdir

        def inside(path, dir_fd) -> bool:
            parent = os.fstat(dir_fd) if dir_fd is not None else os.stat(Path(path).parent)
            return (parent.st_dev, parent.st_ino) == inode

        def fake_open(path, flags, mode=0o777, *, dir_fd=None):
            if flags & os.O_CREAT and inside(path, dir_fd):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, flags, mode, dir_fd=dir_fd)

        def fake_mkdir(path, mode=0o777, *, dir_fd=None):
            if inside(path, dir_fd):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_mkdir(path, mode, dir_fd=dir_fd)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "mkdir", fake_mkdir)
    return locked


# ---------------------------------------------------------------------------------------------
# formula-looking texts in CSV and XLSX
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, cell", [
    ("=1+2", "'=1+2"), ("+358", "'+358"), ("-Juupajoki", "'-Juupajoki"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Akaa", "Akaa"), ("", ""), ("020", "020"), ("a=b", "a=b"),
])
def test_a_formula_looking_text_gets_a_quote(text, cell):
    assert text_cell(text) == cell


def test_xlsx_texts_are_text_cells_and_numbers_stay_numbers():
    openpyxl = pytest.importorskip("openpyxl")
    from osuus.render.xlsx import _append

    wb = openpyxl.Workbook()
    ws = wb.active
    _append(ws, ["=1+2", "+358", "-x", "@SUM(A1)", "\tx", "\rx", "#REF!", Decimal("-5.25"), -3, 0.5, "Akaa"])
    buffer = io.BytesIO()
    wb.save(buffer)
    (row,) = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows()
    assert [c.data_type for c in row] == ["s"] * 7 + ["n"] * 3 + ["s"]
    assert [c.value for c in row[:7]] == ["=1+2", "+358", "-x", "@SUM(A1)", "\tx", "\rx", "#REF!"]
    assert [c.value for c in row[7:10]] == [-5.25, -3, 0.5]
    assert all(c.quotePrefix for c in row[:7])


@pytest.fixture(scope="module")
def formula_agreement(tmp_path_factory) -> Path:
    text = AGREEMENT.read_text(encoding="utf-8")
    for old, new in FORMULA_NAMES.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path_factory.mktemp("agreement") / "formula-names.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_allocate_writes_formula_looking_names_as_text(invoke_cli, formula_agreement, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    for fmt in ("csv", "xlsx"):
        code, _, err, exc = invoke_cli("allocate", formula_agreement, "-f", fmt, "-o", tmp_path / f"jako.{fmt}")
        assert code == 0 and exc is None, err

    rows = list(csv.DictReader((tmp_path / "jako.csv").open(encoding="utf-8", newline="")))
    by_code = {r["code"]: r for r in rows if r["table"] == "yhteiset"}
    assert [by_code[c]["municipality"] for c in ("020", "108", "143", "177", "211")] == ["'" + n for n in NAMES]
    assert by_code["250"]["municipality"] == "Kihniö"
    for r in rows:  # every figure is a plain number, never quoted
        assert Decimal(r["payment"]) >= 0 and not r["payment"].startswith("'")

    wb = openpyxl.load_workbook(tmp_path / "jako.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(NAMES) <= texts
    named = [c for c in cells if c.value in NAMES]
    assert named and all(c.data_type == "s" for c in named)
    header, akaa = next((r[0].value, r) for r in wb["Lähtötiedot"].iter_rows() if r[0].value == "=1+2")
    assert akaa[1].value == "020" and isinstance(akaa[4].value, int)  # the code a text, the population a number


# ---------------------------------------------------------------------------------------------
# the command line: allocate -o
# ---------------------------------------------------------------------------------------------

def assert_refused(result, *texts: str) -> None:
    code, out, err, exc = result
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    assert code == 2, err
    assert "Traceback" not in out + err and "--output" in err, err
    for text in texts:
        assert text in err, err


def test_allocate_refuses_a_taken_name_and_replaces_it_with_force(invoke_cli, tmp_path):
    target = tmp_path / "jako.json"
    target.write_text("old")
    assert_refused(invoke_cli("allocate", AGREEMENT, "-f", "json", "-o", target), str(target))
    assert target.read_text() == "old"
    code, _, err, _ = invoke_cli("allocate", AGREEMENT, "-f", "json", "-o", target, "--force")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("{") and hidden(tmp_path) == []


@pytest.mark.parametrize("case", ["folder", "missing folder", "inside a file", "proc", "unwritable", "full disk",
                                  "link"])
def test_allocate_output_that_cannot_be_written(invoke_cli, tmp_path, monkeypatch, case):
    target = tmp_path / "jako.xlsx"
    if case == "folder":
        target.mkdir()
    elif case == "missing folder":
        target = tmp_path / "missing" / "jako.xlsx"
    elif case == "inside a file":
        (tmp_path / "file").write_text("x")
        target = tmp_path / "file" / "jako.xlsx"
    elif case == "proc":
        target = Path("/proc/self/jako.xlsx")
    elif case == "unwritable":
        target = read_only_folder(tmp_path, monkeypatch) / "jako.xlsx"
    elif case == "full disk":
        monkeypatch.setattr(os, "fsync", enospc)
    elif case == "link":
        (tmp_path / "elsewhere").write_text("precious")
        target.symlink_to(tmp_path / "elsewhere")
    before = everything(tmp_path)
    assert_refused(invoke_cli("allocate", AGREEMENT, "-f", "xlsx", "-o", target),
                   str(target.parent) if case in ("missing folder", "inside a file") else str(target))
    monkeypatch.undo()
    assert everything(tmp_path) == before  # nothing written, no temporary file left


# ---------------------------------------------------------------------------------------------
# the command line: export year on a small ledger
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_ledger(formula_agreement, tmp_path_factory) -> str:
    """January 2021 invoiced to members with formula-looking names; the first invoice credited."""
    import datetime as dt

    from osuus.calendar import Period
    from osuus.services import agreements, estimates
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade
    from tests.approving import credit_invoice, invoice_period

    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'small.db'}"
    upgrade(url)
    with Ledger(url, "test") as ledger:
        agreements.add_agreement(ledger, formula_agreement)
        estimates.make_estimate(ledger, 2021)
        invoice_period(ledger, Period.month(2021, 1), dt.date(2021, 2, 1))
        credit_invoice(ledger, "2021-00001", "=HYPERLINK(\"http://x\")", dt.date(2021, 2, 15))
    return url


def export_year(invoke_cli, url: str, out: Path, *more: str):
    return invoke_cli("--language", "en", "export", "year", "2021", "--db", url, "--output", out,
                      "--date", "2021-03-31", "--no-validate", *more)


def test_export_year_index_marks_credits_and_keeps_texts_as_text(invoke_cli, small_ledger, tmp_path):
    out = tmp_path / "2021"
    code, stdout, err, exc = export_year(invoke_cli, small_ledger, out)
    assert code == 0, err
    rows = list(csv.DictReader((out / "index.csv").open(encoding="utf-8", newline="")))
    invoice = next(r for r in rows if r["document"] == "2021-00001" and r["format"] == "pdf")
    credit = next(r for r in rows if r["kind"] == "credit_note" and r["format"] == "pdf")
    assert invoice["credited_by"] == credit["document"] and credit["credits"] == "2021-00001"
    assert all(r["credited_by"] == "" for r in rows if r["document"] not in ("2021-00001",))
    assert invoice["name"] == "'=1+2" and credit["name"] == "'=1+2"
    assert {r["name"] for r in rows if r["municipality"] in ("020", "108", "143", "177", "211")} == \
        {"'" + n for n in NAMES}
    assert credit["amount"].startswith("-") and Decimal(credit["amount"]) < 0  # a negative number, unquoted
    assert Decimal(invoice["amount"]) == -Decimal(credit["amount"])
    assert hidden(out) == []

    # again into the same folder (the e-invoices of January, quicker than the whole year; the
    # year again is tests/documents/test_export_year.py): refused without --force, nothing
    # changed; the same bytes with it
    before = everything(out)
    again = ("--language", "en", "export", "einvoice", "--period", "2021-01", "-f", "finvoice", "--db", small_ledger,
             "-o", out)
    assert_refused(invoke_cli(*again), str(out / "020-12" / "lasku-2021-00001.finvoice.xml"), "--force")
    assert everything(out) == before
    code, _, err, _ = invoke_cli(*again, "--force")
    assert code == 0, err
    after = everything(out)
    # a Finvoice message written again is a new send (a fresh identifier and time stamp,
    # docs/einvoices.md); the same files, and every other byte the same
    assert after.keys() == before.keys() and hidden(out) == []
    assert {k: v for k, v in after.items() if ".finvoice" not in k} == \
        {k: v for k, v in before.items() if ".finvoice" not in k}
    resent = out / "020-12" / "lasku-2021-00001.finvoice.xml"
    assert after[resent.relative_to(out).as_posix()] != before[resent.relative_to(out).as_posix()]


@pytest.mark.parametrize("case", ["a file", "under /proc", "unwritable", "full disk"])
def test_export_year_to_an_output_that_cannot_be_written(invoke_cli, small_ledger, tmp_path, monkeypatch, case):
    out = tmp_path / "2021"
    if case == "a file":
        out.write_text("not a folder")
    elif case == "under /proc":
        out = Path("/proc/osuus-export-test")
    elif case == "unwritable":
        out = read_only_folder(tmp_path, monkeypatch) / "2021"
    elif case == "full disk":
        fail_on_call(monkeypatch, "fsync", 10)  # in the middle of the export
    before = everything(tmp_path)
    assert_refused(export_year(invoke_cli, small_ledger, out), str(out))
    monkeypatch.undo()
    assert everything(tmp_path) == before  # no file of the export, no temporary file, no folder
