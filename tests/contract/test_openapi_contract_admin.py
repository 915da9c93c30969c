"""The OpenAPI contract as a admin: see runner.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.runner import schemathesis_finds_no_failure

pytestmark = pytest.mark.contract


def test_schemathesis_finds_no_failure_as_admin(database_url: str, tmp_path: Path) -> None:
    schemathesis_finds_no_failure("admin", database_url, tmp_path)
