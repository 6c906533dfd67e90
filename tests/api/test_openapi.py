"""The OpenAPI 3.1 document: valid by a kept validator (openapi-spec-validator), and what the
committed snapshot docs/openapi.json says, so that a change of the API's contract shows in review.

After an intended change, write the snapshot again:
`OSUUS_UPDATE_OPENAPI=1 .venv/bin/python -m pytest tests/api/test_openapi.py`.
"""

from __future__ import annotations

import json
import os

from tests.api.conftest import ROOT

SNAPSHOT = ROOT / "docs" / "openapi.json"


def _document() -> dict:
    from osuus.api.app import openapi_document

    return openapi_document()


def test_the_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    document = _document()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any error


def test_the_document_is_the_committed_snapshot():
    text = json.dumps(_document(), ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("OSUUS_UPDATE_OPENAPI") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.read_text(encoding="utf-8") == text, (
        "the API's OpenAPI document differs from docs/openapi.json: if the change is meant, run "
        "OSUUS_UPDATE_OPENAPI=1 .venv/bin/python -m pytest tests/api/test_openapi.py and commit the file")


def test_every_error_answer_is_problem_details_and_every_post_takes_a_key():
    document = _document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == ["application/problem+json"], (method, path, status)
            names = [p["name"] for p in operation.get("parameters", [])]
            if method == "post" and path.startswith("/api/v1/areas/"):
                assert "Idempotency-Key" in names, (method, path)
            if path.startswith("/api/v1/areas/"):
                assert operation["security"] == [{"bearer": []}], (method, path)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}


def test_money_is_a_decimal_string_in_the_contract():
    schemas = _document()["components"]["schemas"]
    total = schemas["Invoice"]["properties"]["total"]
    assert total["type"] == "string" and total["pattern"] == r"^-?\d+\.\d{2}$"


def test_every_route_is_in_the_guide():
    from osuus.api.app import create_app, route_table
    from osuus.api.settings import Settings

    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    app = create_app(Settings(database_url="sqlite:////nonexistent/osuus.db"))
    missing = [f"{method} {path}" for method, path, _ in route_table(app) if f"`{method} {path}`" not in guide]
    assert not missing, f"docs/api.md does not list: {missing}"
