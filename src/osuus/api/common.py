"""What the routes share: uploads kept as files for the use cases, agreements for names and
labels, municipalities named in a path, and JSON answers with a status."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from fastapi import UploadFile

from osuus.problems import Problem, ProblemsError

#: Years a path or a body may name (those an agreement may be of: osuus.agreement.checks).
FIRST_YEAR, LAST_YEAR = 1900, 2200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def year_of(value: int, key: str = "year") -> int:
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise ProblemsError([Problem(f"expected a year from {FIRST_YEAR} to {LAST_YEAR}, found {value}", key=key,
                                     code="request.year")])
    return value


def upload_name(upload: UploadFile, key: str = "file") -> str:
    """The uploaded file's own name, without any folder a client sent with it."""
    name = re.split(r"[\\/]", upload.filename or "")[-1].strip()
    if not name or name in (".", "..") or _UNSAFE.search(name) or len(name) > 200:
        raise ProblemsError([Problem("expected a file with its name (such as events.csv or events.xlsx)", key=key,
                                     code="request.file-name")])
    return name


@contextlib.contextmanager
def saved(upload: UploadFile, key: str = "file") -> Iterator[Path]:
    """The upload as a file of its own name in a folder of its own, removed afterwards: the use
    cases read files, and name them in their problems and in the ledger."""
    name = upload_name(upload, key)
    with tempfile.TemporaryDirectory(prefix="osuus-upload-") as folder:
        path = Path(folder) / name
        upload.file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1 << 20)
        yield path


def agreement_of(ledger, year: int | None = None):
    """The agreement of `year` (or, when there is none, the newest) for names and labels."""
    from osuus.services.agreements import Agreements

    with ledger.read() as session:
        agreements = Agreements(session)
        return (agreements.of_year(year) if year is not None else None) or agreements.latest()


def agreements_of(ledger, years) -> dict:
    """The agreement of each year for names and labels (as `agreement_of`: a year with none, or
    None, by the newest), as the command line's JSON takes them."""
    from osuus.services.agreements import Agreements

    with ledger.read() as session:
        agreements = Agreements(session)
        return {y: (agreements.of_year(y) if y is not None else None) or agreements.latest() for y in set(years)}


def municipality_code(ledger, text: str, year: int | None = None) -> str:
    """A municipality named in a path or a query (its code or any name it has had) as its code;
    404 when no stored agreement has it."""
    from osuus.services.invoicing import municipality_code as code_of

    return code_of(ledger, text, year)


def iso(value: dt.datetime | None) -> str | None:
    """A time as ISO 8601 in UTC with its offset (SQLite gives stored UTC times back naive)."""
    if value is None:
        return None
    aware = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    return aware.isoformat()


def today() -> dt.date:
    return dt.date.today()

