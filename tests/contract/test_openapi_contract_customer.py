"""The OpenAPI contract as a customer: see runner.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.runner import schemathesis_finds_no_failure

pytestmark = pytest.mark.contract


def test_schemathesis_finds_no_failure_as_customer(database_url: str, tmp_path: Path) -> None:
    schemathesis_finds_no_failure("customer", database_url, tmp_path)
