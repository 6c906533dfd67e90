"""The official Peppol BIS Billing 3 and CEN EN 16931 rules, compiled to XSLT.

This folder holds, shipped with osuus:

* ``CEN-EN16931-UBL.xsl``: CEN/TC 434's EN 16931 rules bound to UBL, the
  release that Peppol BIS Billing bundles;
* ``PEPPOL-EN16931-UBL.xsl``: OpenPeppol's Peppol BIS Billing 3.0 rules;
* ``rules.json``: the manifest: for each file its rule-set release, source
  repository, tag, commit and SHA-256, the compiler and the date
  (`osuus validate --version` prints it);
* ``PROVENANCE.md``: the same in words, with the licences and terms.

The stylesheets are made by `osuus.einvoice.rules.compile` from checkouts of
the official sources; never edit them by hand: compile again
(``python -m osuus.einvoice.rules.compile --help``).

Nothing here imports saxonche or lxml: reading the manifest is cheap.
"""

from __future__ import annotations

import json
from pathlib import Path

#: This folder: where the shipped stylesheets and their manifest are.
RULES_DIR = Path(__file__).resolve().parent
#: The manifest's file name, in the same folder as the stylesheets.
MANIFEST_NAME = "rules.json"
#: The ids of the rule sets, in the order a Peppol document runs through them.
RULE_SET_IDS = ("CEN", "PEPPOL")


def read_manifest(folder: Path | None = None) -> dict:
    """The manifest of the stylesheets in `folder` (by default the shipped ones).

    Raises OSError when the file is missing, ValueError when it is not JSON.
    """
    path = (folder or RULES_DIR) / MANIFEST_NAME
    return json.loads(path.read_text(encoding="utf-8"))
