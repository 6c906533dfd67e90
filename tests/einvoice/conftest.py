"""Fixtures shared by the e-invoice validation tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def finvoice_xsd(tmp_path_factory) -> Path:
    """Finance Finland's Finvoice 3.0 XSD: the one `finvoice_xsd_path()` finds, else
    fetched once per session into a temporary folder (OSUUS_TESTS_OFFLINE=1 skips instead)."""
    from osuus.einvoice import validate as v

    try:
        return v.finvoice_xsd_path()
    except v.ValidatorUnavailable as exc:
        if os.environ.get("OSUUS_TESTS_OFFLINE"):
            pytest.skip(f"no Finvoice 3.0 XSD and OSUUS_TESTS_OFFLINE is set: {exc}")
        try:
            return v.install_finvoice_xsd(dest=tmp_path_factory.mktemp("finvoice") / v.FINVOICE_XSD_NAME)
        except v.ValidatorUnavailable as fetch_error:
            pytest.skip(f"no Finvoice 3.0 XSD, and it could not be fetched: {fetch_error}")
