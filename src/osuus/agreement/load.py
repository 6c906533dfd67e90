"""An agreement file, read and checked: what `osuus check` and `osuus agreement add` accept.

`load_agreement(path)` returns `(agreement, problems)`: the agreement when the
file reads and passes every check, else None and every problem at once, each
naming the file, the line and the key path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from osuus.agreement.checks import figure_ids, run_checks, stable_ids
from osuus.agreement.model import Agreement
from osuus.agreement.read import read_agreement
from osuus.problems import Problem


def read_file(path: str | Path) -> tuple[str | None, list[Problem]]:
    """The text of an agreement file, or a problem that says why it cannot be read. A file whose
    name holds a personal identity code is not read: the ledger records the names of its files."""
    from osuus.privacy import mask_personal_codes, masked, personal_codes_in

    file = str(path)
    codes = personal_codes_in(Path(path).name)
    if codes:
        return None, [Problem(f"the file name holds a personal identity code ({masked(codes[0])}): rename the file; "
                              "osuus keeps no personal data, and the ledger records the names of the files it stores",
                              mask_personal_codes(file), code="privacy.personal-code")]
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None, [Problem("file not found", file, code="file.missing")]
    except IsADirectoryError:
        return None, [Problem("expected a file, found a folder", file, code="file.folder")]
    except OSError as exc:
        return None, [Problem(f"cannot read the file: {exc.strerror}", file, code="file.unreadable")]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(f"the file is not UTF-8 text: byte {raw[exc.start]:#04x} here is not UTF-8 (save the "
                              "file as UTF-8)", file, line, code="file.encoding")]


def parse_agreement(source: str, file: str = "<agreement>", *,
                    documents: bool = True) -> tuple[Agreement | None, list[Problem]]:
    """Read the text and run every check; every problem of both at once. Without `documents`,
    the checks of what documents need (identifiers, addresses, the host's bank account) are
    left out: the figures do not depend on them (`allocate`, `explain`); `check` and
    `agreement add` run them all."""
    agreement, problems = read_agreement(source, file, partial=True)
    if agreement is None:  # not TOML at all
        return None, problems
    found = {(p.line, p.key, p.message) for p in problems}
    only = None if documents else figure_ids()
    checked = [p for p in run_checks(agreement, only) if p.is_error and (p.line, p.key, p.message) not in found]
    problems = sorted(problems + checked, key=lambda p: p.line or 0)
    return (None, problems) if problems else (agreement, [])


def load_agreement(path: str | Path, *, documents: bool = True) -> tuple[Agreement | None, list[Problem]]:
    """Read and check an agreement file; return it with every problem found."""
    source, problems = read_file(path)
    if source is None:
        return None, problems
    return parse_agreement(source, str(path), documents=documents)


def read_stored(source: str, file: str, accepted: Iterable[str]) -> tuple[Agreement | None, list[Problem]]:
    """A stored agreement, read back with the checks it was accepted under (those of them this
    release still has unchanged and that depend on nothing outside the file)."""
    agreement, problems = read_agreement(source, file)
    if agreement is None:
        return None, problems
    problems = [p for p in run_checks(agreement, stable_ids(accepted)) if p.is_error]
    return (None, problems) if problems else (agreement, [])
