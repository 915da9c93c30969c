"""The OpenAPI document as a contract: valid OpenAPI 3.1, and schemathesis finds no failure as
staff (the other roles: test_openapi_contract_*.py; the run itself: runner.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.runner import schemathesis_finds_no_failure

pytestmark = pytest.mark.contract


def test_the_document_is_valid_openapi_3_1(client) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_schemathesis_finds_no_failure_as_staff(database_url: str, tmp_path: Path) -> None:
    schemathesis_finds_no_failure("staff", database_url, tmp_path)
