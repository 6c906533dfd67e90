"""Output files: all of a command's files or none, never half a file, never through a link.

The rules (docs/output-files.md):

- Each file is written to a temporary file created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW,
  a random name) in the folder it belongs in, fsynced, and only then moved into place: a
  link planted at a name osuus could be expected to use captures nothing.
- An existing file at an output name is refused unless `--force`; with `--force` the
  rename replaces it, and a symbolic link there is replaced itself, never written through.
  A folder, a device or a pipe at an output name is refused even with `--force`.
- The output folder the user names is followed if it is a link; the folders osuus makes
  inside it (one per member) are opened without following links.
- A command's files are one batch (`OutputFiles`): once a name is refused nothing more is
  rendered, but every further name is still checked (every taken name is reported at
  once); every file is written to its temporary file, and only when all are written are
  they moved into place, the export's index last. A failure at any point (a full disk, a
  folder that cannot be written) removes the temporary files and the folders the batch
  made and puts back what was in place before: nothing of the batch is left, exit status 2
  with the path and the reason. A process killed outright may leave hidden temporary
  files (`.NAME.….tmp`), never a half file under a final name; an export without its
  index is incomplete.

The documents are deterministic (fixed PDF timestamp, message time from the issue date),
so exporting again with `--force` writes the same bytes. `export_year` writes every
document of a year and an index (CSV) of what it wrote.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import io
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from osuus.problems import Problem, ProblemsError, refuse

EINVOICE_FORMATS = ("finvoice", "peppol")

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
# link(2) unavailable on this file system: fall back to a check and a rename
_NO_HARD_LINKS = {errno.EPERM, errno.EMLINK, errno.EXDEV, getattr(errno, "ENOTSUP", -1),
                  getattr(errno, "EOPNOTSUPP", -1)}
_REASONS = {errno.ENOSPC: "full", getattr(errno, "EDQUOT", -1): "full", errno.EACCES: "denied",
            errno.EPERM: "denied", errno.EROFS: "read_only", errno.ENOTDIR: "not_folder",
            errno.ENOENT: "cannot_make"}


def _t(key: str, /, **params) -> str:
    from osuus.cli.edge import t

    return t(key, **params)


def _n(key: str, count: int, /, **params) -> str:
    from osuus.cli.edge import n

    return n(key, count, **params)


def _reason(exc: OSError) -> str:
    key = _REASONS.get(exc.errno or 0)
    return _t(f"cli.output.reason.{key}") if key else (exc.strerror or str(exc))


class OutputProblems(ProblemsError):
    """What stopped a batch of output files (nothing of it was left)."""


class _Refused(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class _Broken(Exception):
    """An OSError, with the path it concerns as the user knows it."""

    def __init__(self, path: Path, exc: OSError):
        self.path, self.exc = path, exc


@dataclass(slots=True)
class _Staged:
    folder: int  # descriptor of the file's folder
    name: str
    temp: str
    path: Path
    undo: str | None = None  # once placed: "new" (remove it), a backup's name (put it back), or None


class OutputFiles:
    """One command's output files under `folder`: all of them, or none.

    `stage(path, make)` checks the name and writes `make()`'s bytes to a temporary file
    beside it; `commit()` moves every staged file into place, in order. Used as a context
    manager it commits on success and removes everything staged on an exception.
    Problems are raised as OutputProblems naming `option` and the path.

    `make_folder`: the folder (and missing parents) is made; else it must exist (a file
    named by the user must be in an existing folder)."""

    def __init__(self, folder: Path, *, force: bool = False, option: str = "--output", make_folder: bool = True):
        self.folder = Path(folder)
        self.force = force
        self.option = option
        self.make_folder = make_folder
        self.problems: list[Problem] = []
        self._staged: list[_Staged] = []
        self._paths: set[Path] = set()
        self._fds: dict[tuple[str, ...], int] = {}
        self._made_paths: list[Path] = []  # the folder itself and parents made, outermost first
        self._made: list[tuple[int, str]] = []  # folders made inside it: (parent's descriptor, name)

    # -- context manager ------------------------------------------------------------------

    def __enter__(self) -> "OutputFiles":
        return self

    def __exit__(self, kind, value, traceback) -> bool:
        if kind is None:
            self.commit()
        else:
            self.abort()
        return False

    # -- problems -----------------------------------------------------------------------

    def _problem(self, key: str, path: Path, **params) -> Problem:
        return Problem(_t(f"cli.output.{key}", path=path, **params), key=self.option, code=f"output.{key}")

    SHOWN_TAKEN = 10

    def _summary(self) -> list[Problem]:
        """The problems, with the taken names after the first ten counted (an export made
        again without --force would otherwise list every one of its files)."""
        taken = [p for p in self.problems if p.code in ("output.exists", "output.link")]
        if len(taken) <= self.SHOWN_TAKEN + 1:
            return self.problems
        hidden = taken[self.SHOWN_TAKEN:]
        more = Problem(_n("cli.output.exists_more", len(hidden), path=self.folder), key=self.option,
                       code="output.exists")
        return [p for p in self.problems if p not in hidden] + [more]

    def _fail(self, path: Path, exc: OSError) -> OutputProblems:
        """Remove everything staged; the problems so far and this one, to raise."""
        self.problems.append(self._problem("cannot_write", path, reason=_reason(exc)))
        self.abort()
        return OutputProblems(self.problems)

    # -- folders ------------------------------------------------------------------------

    def _root(self) -> int:
        if () in self._fds:
            return self._fds[()]
        folder = self.folder
        missing: list[Path] = []
        existing = folder
        while not os.path.lexists(existing) and existing != existing.parent:
            missing.append(existing)
            existing = existing.parent
        if missing and not self.make_folder:
            raise _Refused(self._problem("no_folder", folder))
        if not os.path.isdir(existing):
            if not self.make_folder:  # the folder of a file named by the user
                raise _Refused(self._problem("cannot_write", folder, reason=_t("cli.output.reason.not_folder")))
            raise _Refused(self._problem("is_file", existing))
        for path in reversed(missing):
            try:
                os.mkdir(path)
            except OSError as exc:
                raise _Broken(path, exc) from None
            self._made_paths.append(path)
        try:
            self._fds[()] = os.open(folder, _FOLDER)
        except OSError as exc:
            raise _Broken(folder, exc) from None
        return self._fds[()]

    def _open(self, parts: tuple[str, ...]) -> int:
        """The descriptor of the folder `parts` under the output folder, made if missing, never
        reached through a symbolic link."""
        if parts in self._fds:
            return self._fds[parts]
        if not parts:
            return self._root()
        parent = self._open(parts[:-1])
        name, path = parts[-1], self.folder.joinpath(*parts)
        try:
            os.mkdir(name, 0o777, dir_fd=parent)
            self._made.append((parent, name))
        except FileExistsError:
            pass
        except OSError as exc:
            raise _Broken(path, exc) from None
        try:
            fd = os.open(name, _FOLDER | _NOFOLLOW, dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise _Broken(path, exc) from None
            try:
                link = stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
            except OSError as again:
                raise _Broken(path, again) from None
            raise _Refused(self._problem("folder_link" if link else "is_file", path)) from None
        self._fds[parts] = fd
        return fd

    # -- files --------------------------------------------------------------------------

    def _check(self, folder: int, name: str, path: Path) -> None:
        """What is at the output name may be replaced (or there is nothing)."""
        try:
            found = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _Broken(path, exc) from None
        mode = found.st_mode
        if stat.S_ISDIR(mode):
            raise _Refused(self._problem("is_folder", path))
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise _Refused(self._problem("not_regular", path))
        if not self.force:
            raise _Refused(self._problem("link" if stat.S_ISLNK(mode) else "exists", path))

    @staticmethod
    def _fresh(name: str, suffix: str) -> str:
        return f".{name[:100]}.{secrets.token_hex(8)}.{suffix}"

    def _write_temp(self, folder: int, name: str, data: bytes) -> str:
        for _ in range(100):
            temp = self._fresh(name, "tmp")
            try:
                fd = os.open(temp, _CREATE, 0o666, dir_fd=folder)
            except FileExistsError:
                continue
            break
        else:
            raise FileExistsError(errno.EEXIST, "no free temporary name")
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            _quietly(os.unlink, temp, dir_fd=folder)
            raise
        return temp

    def stage(self, path: Path, make: Callable[[], bytes]) -> str:
        """Check `path` (under the folder), then write `make()` to a temporary file beside it;
        the sha256 of the bytes. After a refused name nothing more is made: "" is returned
        and the remaining names are only checked (commit raises every problem)."""
        path = Path(path)
        parts = path.relative_to(self.folder).parts
        if not parts or path in self._paths:
            raise ValueError(f"{path}: not a new file under {self.folder}")
        self._paths.add(path)
        try:
            folder = self._open(parts[:-1])
            self._check(folder, parts[-1], path)
        except _Refused as refused:
            if refused.problem not in self.problems:
                self.problems.append(refused.problem)
            return ""
        except _Broken as broken:
            raise self._fail(broken.path, broken.exc) from None
        if self.problems:
            return ""
        data = make()
        try:
            temp = self._write_temp(folder, parts[-1], data)
        except OSError as exc:
            raise self._fail(path, exc) from None
        self._staged.append(_Staged(folder, parts[-1], temp, path))
        return hashlib.sha256(data).hexdigest()

    def _place(self, s: _Staged) -> None:
        if self.force:
            backup = None
            try:
                os.stat(s.name, dir_fd=s.folder, follow_symlinks=False)
                backup = self._fresh(s.name, "old")
                os.link(s.name, backup, src_dir_fd=s.folder, dst_dir_fd=s.folder, follow_symlinks=False)
            except FileNotFoundError:
                backup = "new"
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                backup = None  # replaced for good: no hard link to keep the old one by
            try:
                os.replace(s.temp, s.name, src_dir_fd=s.folder, dst_dir_fd=s.folder)
            except OSError:
                if backup not in (None, "new"):
                    _quietly(os.unlink, backup, dir_fd=s.folder)
                raise
            s.undo = backup
            return
        try:  # link(2) never replaces: a name taken since it was checked is refused
            os.link(s.temp, s.name, src_dir_fd=s.folder, dst_dir_fd=s.folder, follow_symlinks=False)
        except FileExistsError:
            raise _Refused(self._problem("exists", s.path)) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            self._check(s.folder, s.name, s.path)
            os.rename(s.temp, s.name, src_dir_fd=s.folder, dst_dir_fd=s.folder)
        s.undo = "new"
        _quietly(os.unlink, s.temp, dir_fd=s.folder)

    def commit(self) -> None:
        """Every staged file into place, in order; or, on a problem, nothing (and raise it)."""
        if self.problems:
            self.abort()
            raise OutputProblems(self._summary())
        current = None
        try:
            for current in self._staged:
                self._place(current)
        except _Refused as refused:
            self.problems.append(refused.problem)
            self.abort()
            raise OutputProblems(self.problems) from None
        except OSError as exc:
            raise self._fail(current.path, exc) from None
        for s in self._staged:
            if s.undo not in (None, "new"):
                _quietly(os.unlink, s.undo, dir_fd=s.folder)
        for fd in self._fds.values():
            _quietly(os.fsync, fd)  # the renames themselves made durable
        self._staged.clear()
        self._close()

    def abort(self) -> None:
        """Remove what this batch wrote and made; put back what it replaced."""
        for s in reversed(self._staged):
            if s.undo == "new":
                _quietly(os.unlink, s.name, dir_fd=s.folder)
            elif s.undo is not None:
                _quietly(os.replace, s.undo, s.name, src_dir_fd=s.folder, dst_dir_fd=s.folder)
            _quietly(os.unlink, s.temp, dir_fd=s.folder)
        self._staged.clear()
        for parent, name in reversed(self._made):
            _quietly(os.rmdir, name, dir_fd=parent)
        self._made.clear()
        self._close()
        for path in reversed(self._made_paths):
            _quietly(os.rmdir, path)
        self._made_paths.clear()

    def _close(self) -> None:
        for fd in self._fds.values():
            _quietly(os.close, fd)
        self._fds.clear()


def _quietly(function: Callable, *args, **kwargs) -> None:
    try:
        function(*args, **kwargs)
    except OSError:
        pass


def folder_problems(folder: Path) -> list[Problem]:
    """An output folder may be new (it is made), but not a file nor inside one: checked
    before anything is read, so that a mistyped --output costs nothing."""
    existing = next((p for p in (folder, *folder.parents) if os.path.lexists(p)), None)
    if existing is not None and not existing.is_dir():
        return [Problem(_t("cli.output.is_file", path=existing), key="--output", code="output.is_file")]
    return []


def file_problems(path: Path, *, force: bool = False, option: str = "--output") -> list[Problem]:
    """What is wrong with writing the file `path` (checked early; `write_file` checks again)."""
    batch = OutputFiles(path.parent, force=force, option=option, make_folder=False)
    if path.name in ("", ".."):
        return [batch._problem("is_folder", path)]
    try:
        batch._check(batch._root(), path.name, path)
    except _Refused as refused:
        return [refused.problem]
    except _Broken as broken:
        return [batch._problem("cannot_write", broken.path, reason=_reason(broken.exc))]
    finally:
        batch._close()
    return []


def write_file(path: Path, data: bytes, *, force: bool = False, option: str = "--output") -> str:
    """One file named by the user, in an existing folder; its sha256."""
    if path.name in ("", ".."):
        raise OutputProblems(file_problems(path, force=force, option=option))
    with OutputFiles(path.parent, force=force, option=option, make_folder=False) as batch:
        return batch.stage(path, lambda: data)


# -- the documents ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """One file written: a row of the index."""

    kind: str  # invoice | credit_note | estimate | report | tables
    document: str  # invoice number, or the year
    municipality: str  # official code; empty for the appendix
    name: str
    format: str  # pdf | finvoice | finvoice-attachments | peppol
    language: str
    path: Path
    sha256: str
    amount: str = ""
    findings: str = ""  # validation: "" when valid or not asked for, the rule ids broken, or NOT-CHECKED:<layers>
    credited_by: str = ""  # an invoice: the credit note that credits it
    credits: str = ""  # a credit note: the invoice it credits


def slug(text: str) -> str:
    """A file-name-safe form of a municipality's name: 'Mänttä-Vilppula' → 'mantta-vilppula'."""
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "a", "Ö": "o", "Å": "a", " ": "-"})
    return "".join(c for c in text.translate(table).lower() if c.isalnum() or c == "-")


def _file_word(kind: str, lang: str) -> str:
    from osuus.render.i18n import catalogue

    return catalogue(lang).t(f"file.{kind}")


def einvoice_bytes(doc, fmt: str, pdf: bytes | None = None) -> bytes:
    """The e-invoice of `doc` in `fmt`, with the invoice's image `pdf` embedded (Peppol) or named
    as its attachments message (Finvoice: `write_einvoice_files` writes that message beside it)."""
    if fmt == "finvoice":
        from osuus.einvoice.finvoice import finvoice_xml

        return finvoice_xml(doc)
    if fmt == "peppol":
        from osuus.einvoice.peppol import peppol_xml

        return peppol_xml(doc, pdf)
    raise refuse(f"unknown e-invoice format {fmt!r}; expected finvoice or peppol", key="--format")


def invoice_image(doc) -> bytes:
    """The Finnish PDF of `doc`, byte for byte what `osuus export pdf` writes: the image every
    e-invoice of it carries (rendered once per document and reused)."""
    from osuus.render.pdf.letters import invoice_pdf

    return invoice_pdf(doc, "fi")


def _member_folder(out: Path, code: str, name: str) -> Path:
    return out / f"{code}-{slug(name)}"


def _invoice_name(doc, suffix: str, lang: str) -> str:
    return f"{_file_word(doc.kind.value, lang)}-{doc.number}{suffix}"


def _rule_ids(findings: list) -> str:
    return " ".join(sorted({f.code for f in findings if f.is_error}))


def write_einvoice_files(doc, fmt: str, out: OutputFiles, validate: Callable[[bytes], list] | None = None,
                         credited_by: str = "", pdf: bytes | None = None) -> list[Written]:
    """The e-invoice of `doc` in `fmt` carrying its image `pdf` (rendered here when not given):
    a Peppol file with the PDF inside, or a Finvoice message and its attachments message
    (the invoice message first)."""
    findings = ""
    image = pdf if pdf is not None else invoice_image(doc)
    folder = _member_folder(out.folder, doc.buyer.code, doc.buyer.name)
    if fmt == "finvoice":
        from osuus.einvoice.finvoice import finvoice_send

        send = finvoice_send(doc, image)

        def make() -> bytes:
            nonlocal findings
            findings = _rule_ids(validate(send.message)) if validate else ""
            return send.message

        path = folder / _invoice_name(doc, ".finvoice.xml", "fi")
        sha = out.stage(path, make)
        attachments = folder / _invoice_name(doc, ".finvoice-attachments.xml", "fi")
        return [Written(doc.kind.value, doc.number, doc.buyer.code, doc.buyer.name, fmt, "", path, sha,
                        str(doc.total), findings, credited_by, doc.credited_number),
                Written(doc.kind.value, doc.number, doc.buyer.code, doc.buyer.name, "finvoice-attachments", "",
                        attachments, out.stage(attachments, lambda: send.attachments), str(doc.total), "",
                        credited_by, doc.credited_number)]

    def make_other() -> bytes:
        nonlocal findings
        data = einvoice_bytes(doc, fmt, image)
        findings = _rule_ids(validate(data)) if validate else ""
        return data

    path = folder / _invoice_name(doc, f".{fmt}.xml", "fi")
    sha = out.stage(path, make_other)
    return [Written(doc.kind.value, doc.number, doc.buyer.code, doc.buyer.name, fmt, "", path, sha, str(doc.total),
                    findings, credited_by, doc.credited_number)]


def write_invoice_pdf(doc, out: OutputFiles, lang: str, credited_by: str = "", pdf: bytes | None = None) -> Written:
    """The PDF of `doc` in `lang`; `pdf` is its Finnish image when already rendered."""
    from osuus.render.pdf.letters import invoice_pdf

    path = _member_folder(out.folder, doc.buyer.code, doc.buyer.name) / _invoice_name(doc, ".pdf", lang)
    data = pdf if pdf is not None and lang == "fi" else None
    return Written(doc.kind.value, doc.number, doc.buyer.code, doc.buyer.name, "pdf", lang, path,
                   out.stage(path, lambda: data if data is not None else invoice_pdf(doc, lang)), str(doc.total), "",
                   credited_by, doc.credited_number)


def write_estimates(letters: Iterable, out: OutputFiles, lang: str) -> list[Written]:
    from osuus.render.pdf.letters import estimate_pdf

    written = []
    for letter in letters:
        path = _member_folder(out.folder, letter.buyer.code, letter.buyer.name) / \
            f"{_file_word('estimate', lang)}-{letter.year}.pdf"
        written.append(Written("estimate", str(letter.year), letter.buyer.code, letter.buyer.name, "pdf", lang, path,
                               out.stage(path, lambda: estimate_pdf(letter, lang)), str(letter.amount)))
    return written


def write_reports(documents: Iterable, out: OutputFiles, lang: str) -> list[Written]:
    from osuus.render.pdf.reports import annual_report_pdf

    written = []
    for doc in documents:
        report = doc.report
        path = _member_folder(out.folder, doc.buyer.code, doc.buyer.name) / \
            f"{_file_word('report', lang)}-{report.year}.pdf"
        written.append(Written("report", str(report.year), doc.buyer.code, doc.buyer.name, "pdf", lang, path,
                               out.stage(path, lambda: annual_report_pdf(doc, lang)),
                               str(report.actual if report.actual is not None else report.billed)))
    return written


def appendix_allocation(agreement):
    """The allocation the appendix tables show; its problems raised."""
    from osuus.engine import allocate

    allocation = allocate(agreement)
    if allocation.problems:
        raise ProblemsError(allocation.problems)
    return allocation


def write_tables(allocation, out: OutputFiles, lang: str = "fi") -> Written:
    """The appendix tables (Taulukko 1 and 2 ...) of an agreement, A4 landscape."""
    from osuus.render.pdf.reports import appendix_pdf

    agreement = allocation.agreement
    path = out.folder / f"{_file_word('tables', lang)}-{agreement.year}.pdf"
    return Written("tables", str(agreement.year), "", agreement.title.get(lang), "pdf", lang, path,
                   out.stage(path, lambda: appendix_pdf(allocation, lang)))


INDEX_COLUMNS = ("kind", "document", "municipality", "name", "format", "language", "file", "sha256", "amount",
                 "findings", "credited_by", "credits")


def index_bytes(written: list[Written], out: Path) -> bytes:
    """The CSV index of a batch: one row per file, paths relative to the folder. Every cell
    but `amount` (a number) is text, and a text that a spreadsheet would read as a formula
    gets a leading ' (render.csv_out.text_cell)."""
    from osuus.render.csv_out import text_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INDEX_COLUMNS)
    for w in written:
        writer.writerow((*map(text_cell, (w.kind, w.document, w.municipality, w.name, w.format, w.language,
                                          w.path.relative_to(out).as_posix(), w.sha256)),
                         w.amount, *map(text_cell, (w.findings, w.credited_by, w.credits))))
    return buffer.getvalue().encode("utf-8")


def write_index(written: list[Written], out: OutputFiles, lang: str = "fi") -> Path:
    path = out.folder / f"{_file_word('index', lang)}.csv"
    out.stage(path, lambda: index_bytes(written, out.folder))
    return path


@dataclass(frozen=True, slots=True)
class YearExport:
    written: tuple[Written, ...]
    index: Path
    invalid: tuple[Written, ...]  # e-invoices with findings (empty when all pass or not validated)


def export_year(ledger, plan, out: OutputFiles, *, lang: str = "fi", date: dt.date,
                validate: Callable[[bytes], list] | None = None, rf: bool | None = None,
                advance: Callable[[int], None] = lambda n: None) -> YearExport:
    """Every document about the plan's year, for every member: its invoices and credit notes
    (PDF, Finvoice, Peppol), the estimate letter, the annual report; and the appendix tables.

    `advance(n)` is called as work is done (n documents), for a progress bar. The index,
    staged last, marks each credited invoice with its credit note (`credited_by`) and each
    credit note with the invoice it credits (`credits`). The files are in place when `out`
    is committed."""
    from osuus.services import documents

    written: list[Written] = []
    with ledger.read() as session:
        docs = documents.invoice_documents(session, plan.invoices, einvoice=True, rf=rf)
        letters = documents.estimate_letters(session, plan.year) if plan.has_estimate else []
        reports = documents.annual_report_documents(session, plan.year, date)
    allocation = appendix_allocation(plan.agreement)
    credited_by = {i.number: i.credited_by for i in plan.invoices}
    for doc in docs:  # every missing field of every party is found before any file is written
        by = credited_by.get(doc.number, "")
        image = invoice_image(doc)  # rendered once: the PDF file (in Finnish) and both e-invoices carry it
        written.append(write_invoice_pdf(doc, out, lang, by, image))
        for fmt in EINVOICE_FORMATS:
            written += write_einvoice_files(doc, fmt, out, validate, by, image)
        advance(1)
    if letters:
        written += write_estimates(letters, out, lang)  # dated the day the estimate was made
        advance(len(letters))
    written += write_reports(reports, out, lang)
    advance(len(reports))
    written.append(write_tables(allocation, out, lang))
    advance(1)
    index = write_index(written, out, lang)
    return YearExport(tuple(written), index, tuple(w for w in written if w.findings))
