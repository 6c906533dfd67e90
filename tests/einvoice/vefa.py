"""The official rule unit tests' format, and running them on osuus's compiled rules.

OpenPeppol (``rules/unit-UBL-*/``) and CEN (``test/Invoice-unit-UBL/``,
``test/CreditNote-unit-UBL/``) write their rule unit tests as VEFA validator
test sets::

    <testSet xmlns="http://difi.no/xsd/vefa/validator/1.0" configuration="peppolbis-en16931-base-3.0-ubl">
      <assert><scope>PEPPOL-EN16931-R001</scope></assert>
      <test>
        <assert><error>PEPPOL-EN16931-R001</error></assert>
        <Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">...</Invoice>
      </test>
    </testSet>

Each test's document is a fragment (not schema-valid), run through the
rule set(s) its configuration names, without the UBL schema. Expectations:
``<success>ID</success>``: rule ID does not fire; ``<error>ID</error>``: it
fires as an error (flag ``fatal`` or ``error``), ``number="N"`` times if
given; ``<warning>ID</warning>``: it fires with flag ``warning``. (A
``number`` on ``success`` counts passed checks, which SVRL does not report:
only "no failure" is checked then.)

osuus's own test sets in ``data/unit/`` use the same format.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from lxml import etree

VEFA = "http://difi.no/xsd/vefa/validator/1.0"

#: Which compiled rule sets a configuration runs, in order.
CONFIGURATIONS = {
    "tc434-ubl": ("CEN",),
    "peppolbis-en16931-base-3.0-ubl": ("PEPPOL",),
    "peppolbis-en16931-01-3.0-ubl-invoice": ("CEN", "PEPPOL"),
    "peppolbis-en16931-01-3.0-ubl-creditnote": ("CEN", "PEPPOL"),
}


@dataclasses.dataclass
class Expectation:
    kind: str  # success, error, fatal, warning
    rule: str
    number: int | None


@dataclasses.dataclass
class Case:
    file: Path
    index: int  # 1-based, in the file
    line: int
    configuration: str
    scope: tuple[str, ...]
    expectations: list[Expectation]
    document: str  # the document element, serialised

    @property
    def name(self) -> str:
        return f"{self.file.name}#{self.index} (line {self.line})"

    @property
    def rule_sets(self) -> tuple[str, ...]:
        return CONFIGURATIONS[self.configuration]


def read_test_set(path: Path) -> list[Case]:
    root = etree.parse(str(path)).getroot()
    configuration = root.get("configuration")
    scope = tuple(s.text.strip() for s in root.findall(f"{{{VEFA}}}assert/{{{VEFA}}}scope") if s.text)
    cases = []
    for index, test in enumerate(root.findall(f"{{{VEFA}}}test"), 1):
        expectations = []
        for assert_ in test.findall(f"{{{VEFA}}}assert"):
            for el in assert_:
                kind = etree.QName(el).localname
                if kind in ("success", "error", "fatal", "warning") and el.text and el.text.strip():
                    number = el.get("number")
                    expectations.append(Expectation(kind, el.text.strip(), int(number) if number else None))
        documents = [el for el in test if isinstance(el.tag, str) and etree.QName(el).namespace != VEFA]
        if len(documents) != 1:
            raise ValueError(f"{path}: test {index} has {len(documents)} documents")
        cases.append(Case(path, index, test.sourceline or 0, configuration, scope, expectations,
                          etree.tostring(documents[0], encoding="unicode")))
    return cases


def run(case: Case, validate) -> list:
    """The findings of the case's rule sets on its document (`validate` is osuus.einvoice.validate)."""
    findings = []
    for name in case.rule_sets:
        findings += validate._run_xslt(name, case.document)
    return findings


def mismatches(case: Case, findings) -> list[str]:
    """What the findings get wrong against the case's expectations (empty: all agree)."""
    errors = Counter(f.code for f in findings if f.severity.value in ("fatal", "error"))
    fatals = Counter(f.code for f in findings if f.severity.value == "fatal")
    warnings = Counter(f.code for f in findings if f.severity.value == "warning")
    crashed = [f for f in findings if f.code == "XSLT"]
    if crashed:
        return [f"{case.name}: the rules did not run: {crashed[0].message}"]
    wrong = []
    for e in case.expectations:
        if e.kind == "success":
            fired = errors[e.rule] + warnings[e.rule]
            if fired:
                wrong.append(f"{case.name}: {e.rule} expected to pass, fired {fired} time(s)")
            continue
        counter = {"error": errors, "fatal": fatals, "warning": warnings}[e.kind]
        count = counter[e.rule]
        if count == 0 or (e.number is not None and count != e.number):
            expected = f"{e.number} time(s)" if e.number is not None else "at least once"
            wrong.append(f"{case.name}: {e.rule} expected as {e.kind} {expected}, fired {count} time(s)"
                         f" (all: {sorted(set(f.code for f in findings))})")
    return wrong
