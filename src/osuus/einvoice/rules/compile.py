"""Compile the official Schematron rules to the XSLT stylesheets shipped here.

Run it from anywhere, with the ``validate`` extra installed (it needs saxonche
and lxml), giving checkouts of the sources::

    python -m osuus.einvoice.rules.compile \\
        --peppol ~/src/peppol-bis-invoice-3@v3.0.19 \\
        --cen ~/src/eInvoicing-EN16931@validation-1.3.14.1 \\
        --schxslt2 ~/src/schxslt2@v1.3.4

Each source is a folder: a git work tree, a bare git repository, or an
unpacked release archive (then no commit can be recorded). ``@REV`` reads the
files at that tag or commit from git (needed for a bare repository; without
it a work tree's files are read as they are, and must not differ from HEAD).

What it does:

1. reads SchXslt2's ``transpile.xsl`` (the Schematron-to-XSLT 3.0 compiler,
   written in XSLT) and compiles it with SaxonC-HE, filling in its version
   the way SchXslt2's own Maven build does;
2. transpiles CEN's ``ubl/schematron/preprocessed/EN16931-UBL-validation-preprocessed.sch``
   (or, without ``--cen``, the copy that Peppol bundles in ``rules/sch/CEN-EN16931-UBL.sch``)
   and Peppol's ``rules/sch/PEPPOL-EN16931-UBL.sch``, all patterns, indented;
   with ``--cen``, CEN's file must be the very release Peppol bundles
   (compared byte for byte), or the run stops;
3. puts a header comment at the top of each stylesheet (where it comes from,
   the source's own notice, the compiler), runs each once on a small invoice
   to see that it works, and writes the stylesheets, the manifest
   ``rules.json`` and the generated part of ``PROVENANCE.md`` into ``--out``
   (by default this package's folder).

``--check`` writes nothing: it compiles and says whether the result is
byte-identical to what is in ``--out`` (exit status 0) or not (1). The date
is only in the manifest, so a check on another day still compares equal.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from osuus.einvoice.rules import MANIFEST_NAME, RULES_DIR

PEPPOL_REPOSITORY = "https://github.com/OpenPEPPOL/peppol-bis-invoice-3"
CEN_REPOSITORY = "https://github.com/ConnectingEurope/eInvoicing-EN16931"
SCHXSLT2_REPOSITORY = "https://github.com/schxslt/schxslt2"  # a mirror of https://git.sr.ht/~dmaus/schxslt2

PEPPOL_SCH = "rules/sch/PEPPOL-EN16931-UBL.sch"
PEPPOL_CEN_SCH = "rules/sch/CEN-EN16931-UBL.sch"
CEN_SCH = "ubl/schematron/preprocessed/EN16931-UBL-validation-preprocessed.sch"
SCHXSLT2_XSL = "src/main/resources/content/transpile.xsl"
SCHXSLT2_POM = "pom.xml"

SCHXSLT_NS = "http://dmaus.name/ns/2023/schxslt"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"

PROVENANCE_NAME = "PROVENANCE.md"
GENERATED_BEGIN = "<!-- compile.py: generated part, begin -->"
GENERATED_END = "<!-- compile.py: generated part, end -->"

#: The terms of each source, as checked by hand (see PROVENANCE.md); recorded
#: in the manifest. Compiling a new release does not change them: check again.
TERMS = {
    "CEN": "EUPL-1.2 (notice in the source file and LICENSE.txt of the repository)",
    "PEPPOL": ("no licence stated; the source's notice says it is reproduced with permission from CEN, "
               "who bears no liability (see PROVENANCE.md)"),
    "SchXslt2": "MIT (LICENSE of the repository; copyright David Maus)",
}

# A small UBL invoice that every stylesheet must be able to run on.
_SMOKE_INVOICE = """<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"><cbc:ID>1</cbc:ID></Invoice>"""


class CompileError(Exception):
    """The sources are not what the compilation needs; the message says why."""


# --------------------------------------------------------------------------
# Sources: a folder, a git work tree or a bare repository, maybe at a revision.


@dataclasses.dataclass
class Source:
    """One checkout of a source repository."""

    label: str
    path: Path
    rev: str | None
    git: list[str] | None  # the git command prefix, or None for a plain folder
    commit: str | None = None
    tags: tuple[str, ...] = ()

    def read(self, relative: str) -> bytes:
        if self.git is None:
            return (self.path / relative).read_bytes()
        if self.rev is not None:
            return _run(self.git + ["show", f"{self.commit}:{relative}"], binary=True)
        # A work tree read as it is: its file must be the committed one.
        data = (self.path / relative).read_bytes()
        committed = _run(self.git + ["show", f"HEAD:{relative}"], binary=True)
        if data != committed:
            raise CompileError(f"{self.path / relative} has local changes; commit them or name a revision with @REV")
        return data

    @property
    def tag(self) -> str | None:
        return self.tags[0] if self.tags else None


def _run(cmd: list[str], *, binary: bool = False):
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise CompileError(f"{' '.join(cmd)}: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout if binary else proc.stdout.decode("utf-8").strip()


def open_source(label: str, spec: str) -> Source:
    """``PATH`` or ``PATH@REV`` -> a Source with its commit and tags found."""
    path_text, rev = spec, None
    if "@" in spec:
        head, _, tail = spec.rpartition("@")
        if head and tail and Path(head).expanduser().exists():
            path_text, rev = head, tail
    path = Path(path_text).expanduser().resolve()
    if not path.is_dir():
        raise CompileError(f"--{label}: {path} is not a folder")
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        git = ["git", f"--git-dir={path}"]
    elif (path / ".git").exists():
        git = ["git", "-C", str(path)]
    else:
        git = None
    source = Source(label, path, rev, git)
    if git is None:
        if rev is not None:
            raise CompileError(f"--{label}: {path} is not a git repository, so @{rev} cannot be read")
        return source
    if git[1].startswith("--git-dir") and rev is None:
        raise CompileError(f"--{label}: {path} is a bare repository: name the release, e.g. {path}@TAG")
    source.commit = _run(git + ["rev-parse", "--verify", f"{rev or 'HEAD'}^{{commit}}"])
    tags = _run(git + ["tag", "--points-at", source.commit]).split()
    # The revision asked for first, if it is a tag.
    source.tags = tuple(sorted(tags, key=lambda t: (t != rev, t)))
    return source


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# What the source files say about themselves.


def leading_comments(sch: bytes) -> list[str]:
    """The comments before the root element: the source's own notices."""
    text = sch.decode("utf-8")
    root = re.search(r"<(?![?!])", text)
    head = text[: root.start()] if root else text
    return [" ".join(c.split()) for c in re.findall(r"<!--(.*?)-->", head, re.S) if c.strip()]


def peppol_release(sch: bytes) -> tuple[str, str | None]:
    """(release, when) from 'Last update: 2025 May release 3.0.19.'"""
    match = re.search(r"(?:Last update:\s*(.*?)\s+)?release\s+(\d+\.\d+\.\d+)", " ".join(leading_comments(sch)))
    if not match:
        raise CompileError(f"no 'release 3.0.x' in the opening comment of {PEPPOL_SCH}")
    return match.group(2), match.group(1) or None


def cen_release(sch: bytes) -> tuple[str, str | None]:
    """(release, last update date) from 'Schematron version 1.3.14.1 - Last update: 2025-04-22'."""
    notes = " ".join(leading_comments(sch))
    match = re.search(r"Schematron version\s+([\d.]+\d)", notes)
    if not match:
        raise CompileError("no 'Schematron version ...' in the opening comment of the CEN schematron")
    date = re.search(r"Last update:\s*(\d{4}-\d{2}-\d{2})", notes)
    return match.group(1), date.group(1) if date else None


def schxslt2_version(pom: bytes) -> str:
    from lxml import etree

    root = etree.fromstring(pom)
    version = root.findtext("{http://maven.apache.org/POM/4.0.0}version") or root.findtext("version")
    if not version:
        raise CompileError("no <version> in SchXslt2's pom.xml")
    return version.strip().removeprefix("v")


# --------------------------------------------------------------------------
# Compiling.


@dataclasses.dataclass
class RuleSet:
    id: str
    title: str
    release: str
    release_date: str | None
    repository: str
    source: Source
    source_path: str
    source_bytes: bytes
    file: str
    also_in: str | None = None
    xslt: str = ""


def _comment_text(text: str) -> str:
    """Text that can stand inside an XML comment."""
    return re.sub(r"-(?=-)", "- ", text).rstrip("-")


def header(rule_set: RuleSet, compiler: dict) -> str:
    src = rule_set.source
    lines = [
        "Compiled by osuus (osuus/einvoice/rules/compile.py) from the official Schematron; do not edit, compile again.",
        f"Rule set: {rule_set.title}, release {rule_set.release}"
        + (f" of {rule_set.release_date}" if rule_set.release_date else ""),
        f"Source: {rule_set.repository} {rule_set.source_path}"
        + (f" at tag {src.tag}" if src.tag else "")
        + (f", commit {src.commit}" if src.commit else "")
        + f" (SHA-256 {_sha256(rule_set.source_bytes)})",
    ]
    if rule_set.also_in:
        lines.append(f"The same file, byte for byte: {rule_set.also_in}")
    lines += [f"Notice of the source: {note}" for note in leading_comments(rule_set.source_bytes)]
    lines.append(
        f"Compiler: SchXslt2 {compiler['version']} ({compiler['repository']}, commit {compiler['commit']}), "
        f"copyright David Maus, MIT licence; run with {compiler['processor']}."
    )
    lines.append("Provenance and terms: PROVENANCE.md beside this file.")
    return "<!--\n" + "".join(f"  {_comment_text(line)}\n" for line in lines) + "-->\n"


def _processor():
    try:
        from saxonche import PySaxonProcessor
    except ImportError:
        raise CompileError("saxonche is not installed: pip install 'osuus[validate]'") from None
    proc = PySaxonProcessor(license=False)
    proc.set_configuration_property("http://saxon.sf.net/feature/allowedProtocols", "file")
    return proc


def compile_rule_sets(rule_sets: list[RuleSet], schxslt: Source, tmp: Path) -> dict:
    """Fill in each rule set's `xslt`; return the compiler's description."""
    proc = _processor()
    version = schxslt2_version(schxslt.read(SCHXSLT2_POM))
    transpiler_path = tmp / "transpile.xsl"
    # SchXslt2's Maven build fills in ${project.version}; do the same.
    transpiler_path.write_bytes(schxslt.read(SCHXSLT2_XSL).replace(b"${project.version}", version.encode()))
    xslt = proc.new_xslt30_processor()
    # Indented output: a new release then shows as a readable diff. Whitespace
    # between the elements of a stylesheet is not significant.
    xslt.set_parameter(f"{{{SCHXSLT_NS}}}debug", proc.make_boolean_value(True))
    transpiler = xslt.compile_stylesheet(stylesheet_file=str(transpiler_path))
    if transpiler is None:
        raise CompileError("SchXslt2's transpile.xsl did not compile")
    compiler = {
        "name": "SchXslt2",
        "version": version,
        "repository": SCHXSLT2_REPOSITORY,
        "tag": schxslt.tag,
        "commit": schxslt.commit,
        "file": SCHXSLT2_XSL,
        "file_sha256": _sha256(schxslt.read(SCHXSLT2_XSL)),
        "licence": TERMS["SchXslt2"],
        "processor": f"{proc.version} (saxonche {importlib.metadata.version('saxonche')})",
        "options": "all patterns (phase #ALL), default location function fn:path(), indented",
    }
    for rule_set in rule_sets:
        sch_path = tmp / f"{rule_set.id}.sch"
        sch_path.write_bytes(rule_set.source_bytes)
        node = proc.parse_xml(xml_file_name=str(sch_path))
        text = transpiler.transform_to_string(xdm_node=node)
        if not text:
            raise CompileError(f"SchXslt2 made nothing of {rule_set.source_path}")
        declaration = re.match(r"<\?xml[^>]*\?>\s*", text)
        start = declaration.end() if declaration else 0
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + header(rule_set, compiler) + text[start:]
        rule_set.xslt = text if text.endswith("\n") else text + "\n"
        _smoke_test(proc, rule_set, tmp)
    return compiler


def _smoke_test(proc, rule_set: RuleSet, tmp: Path) -> None:
    path = tmp / rule_set.file
    path.write_text(rule_set.xslt, encoding="utf-8")
    executable = proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
    report = executable.transform_to_string(xdm_node=proc.parse_xml(xml_text=_SMOKE_INVOICE))
    if not report or f"{{{SVRL_NS}}}schematron-output" not in _root_tag(report):
        raise CompileError(f"the compiled {rule_set.file} did not produce an SVRL report")


def _root_tag(xml: str) -> str:
    from lxml import etree

    return etree.fromstring(xml.encode("utf-8")).tag


# --------------------------------------------------------------------------
# The manifest and PROVENANCE.md.


def manifest(rule_sets: list[RuleSet], compiler: dict, date: str) -> dict:
    return {
        "format": 1,
        "compiled": date,
        "compiler": compiler,
        "rule_sets": [
            {
                "id": r.id,
                "title": r.title,
                "release": r.release,
                "release_date": r.release_date,
                "repository": r.repository,
                "tag": r.source.tag,
                "commit": r.source.commit,
                "source": r.source_path,
                "source_sha256": _sha256(r.source_bytes),
                "also_in": r.also_in,
                "terms": TERMS[r.id],
                "file": r.file,
                "sha256": _sha256(r.xslt.encode("utf-8")),
                "bytes": len(r.xslt.encode("utf-8")),
            }
            for r in rule_sets
        ],
    }


def provenance_table(data: dict) -> str:
    c = data["compiler"]
    rows = [
        "| file | rule set, release | source repository | tag | commit | source file (SHA-256) | terms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in data["rule_sets"]:
        date = f" ({r['release_date']})" if r.get("release_date") else ""
        rows.append(
            f"| `{r['file']}` | {r['title']} {r['release']}{date} | {r['repository']} | `{r['tag']}` | "
            f"`{r['commit']}` | `{r['source']}` (`{r['source_sha256'][:16]}…`) | {r['terms']} |"
        )
    lines = [
        GENERATED_BEGIN,
        "",
        f"Compiled on {data['compiled']} with SchXslt2 {c['version']} ({c['repository']}, tag `{c['tag']}`, "
        f"commit `{c['commit']}`, {c['licence']}) run with {c['processor']}; {c['options']}.",
        "",
        *rows,
        "",
    ]
    for r in data["rule_sets"]:
        if r.get("also_in"):
            lines.append(f"`{r['file']}`: the source is byte for byte the same as {r['also_in']}.")
    lines += ["", "SHA-256 of the compiled files (also in `rules.json`, checked when they are loaded):", ""]
    lines += [f"- `{r['file']}`: `{r['sha256']}` ({r['bytes']} bytes)" for r in data["rule_sets"]]
    lines += ["", GENERATED_END]
    return "\n".join(lines)


def update_provenance(path: Path, table: str) -> str:
    """PROVENANCE.md with its generated part replaced (or appended)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Provenance of the compiled rules\n"
    pattern = re.compile(re.escape(GENERATED_BEGIN) + r".*?" + re.escape(GENERATED_END), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: table, text)
    return text.rstrip("\n") + "\n\n" + table + "\n"


# --------------------------------------------------------------------------
# The command.


def build(peppol: Source, cen: Source | None, schxslt: Source) -> list[RuleSet]:
    peppol_sch = peppol.read(PEPPOL_SCH)
    release, released = peppol_release(peppol_sch)
    if peppol.tag and release not in peppol.tag:
        raise CompileError(f"{PEPPOL_SCH} says release {release}, but the revision is tagged {peppol.tag}")
    bundled = peppol.read(PEPPOL_CEN_SCH)
    peppol_where = f"{PEPPOL_REPOSITORY} {PEPPOL_CEN_SCH}" + (f" at tag {peppol.tag}" if peppol.tag else "")
    if cen is not None:
        cen_sch = cen.read(CEN_SCH)
        if cen_sch != bundled:
            raise CompileError(
                f"CEN's {CEN_SCH} (release {cen_release(cen_sch)[0]}) is not the copy Peppol {release} bundles "
                f"(release {cen_release(bundled)[0]}): check out CEN's matching tag, or leave out --cen"
            )
        cen_source, cen_repository, cen_path, also_in = cen, CEN_REPOSITORY, CEN_SCH, peppol_where
    else:
        cen_sch, cen_source, cen_repository, cen_path, also_in = bundled, peppol, PEPPOL_REPOSITORY, PEPPOL_CEN_SCH, None
    cen_version, cen_date = cen_release(cen_sch)
    if cen is not None and cen.tag and cen_version not in cen.tag:
        raise CompileError(f"{CEN_SCH} says release {cen_version}, but the revision is tagged {cen.tag}")
    return [
        RuleSet("CEN", "CEN EN 16931 UBL rules", cen_version, cen_date, cen_repository, cen_source, cen_path,
                cen_sch, "CEN-EN16931-UBL.xsl", also_in),
        RuleSet("PEPPOL", "Peppol BIS Billing 3.0 rules", release, released, PEPPOL_REPOSITORY, peppol, PEPPOL_SCH,
                peppol_sch, "PEPPOL-EN16931-UBL.xsl"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m osuus.einvoice.rules.compile",
        description=__doc__.split("\n\n")[0],
        epilog="Each SOURCE is PATH or PATH@REV (a tag or commit); see the module's docstring.",
    )
    parser.add_argument("--peppol", required=True, metavar="SOURCE",
                        help="OpenPeppol's peppol-bis-invoice-3, at a release tag (e.g. v3.0.19)")
    parser.add_argument("--cen", metavar="SOURCE",
                        help="CEN's eInvoicing-EN16931 at the release Peppol bundles (e.g. validation-1.3.14.1); "
                             "without it, the CEN rules are compiled from Peppol's bundled copy")
    parser.add_argument("--schxslt2", required=True, metavar="SOURCE", help="SchXslt2 at a release tag (e.g. v1.3.4)")
    parser.add_argument("--out", type=Path, default=RULES_DIR, help="folder to write to (default: %(default)s)")
    parser.add_argument("--date", default=dt.datetime.now(dt.timezone.utc).date().isoformat(),
                        help="the compilation date recorded in the manifest (default: today, UTC)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 0 if the result is byte-identical to the files in --out")
    args = parser.parse_args(argv)
    try:
        peppol = open_source("peppol", args.peppol)
        cen = open_source("cen", args.cen) if args.cen else None
        schxslt = open_source("schxslt2", args.schxslt2)
        rule_sets = build(peppol, cen, schxslt)
        with tempfile.TemporaryDirectory(prefix="osuus-rules-") as tmp:
            compiler = compile_rule_sets(rule_sets, schxslt, Path(tmp))
    except CompileError as exc:
        print(f"cannot compile: {exc}", file=sys.stderr)
        return 2
    for source in (peppol, cen, schxslt):
        if source is not None and source.commit is None:
            print(f"note: {source.path} is no git checkout: no commit is recorded for --{source.label}",
                  file=sys.stderr)
    data = manifest(rule_sets, compiler, args.date)
    out: Path = args.out
    if args.check:
        status = 0
        for r in rule_sets:
            existing = out / r.file
            same = existing.is_file() and existing.read_text(encoding="utf-8") == r.xslt
            print(f"{r.file}: {'identical' if same else 'DIFFERS'} ({r.title} {r.release})")
            status |= 0 if same else 1
        return status
    out.mkdir(parents=True, exist_ok=True)
    for r in rule_sets:
        (out / r.file).write_text(r.xslt, encoding="utf-8")
        print(f"{out / r.file}: {r.title} {r.release}, {len(r.xslt.encode('utf-8'))} bytes")
    (out / MANIFEST_NAME).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    provenance = out / PROVENANCE_NAME
    provenance.write_text(update_provenance(provenance, provenance_table(data)), encoding="utf-8")
    print(f"{out / MANIFEST_NAME}, {provenance}: updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
