"""Fixtures for frameworks: run the import command and count what is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.models import AuditEvent, Framework, Mapping, Requirement

ISO_SAMPLE = (
    "ref,title,parent\n"
    "A.5,Organizational controls,\n"
    "A.5.1,Policies for information security,A.5\n"
    "A.5.15,Access control,A.5\n"
    "A.8,Technological controls,\n"
    "A.8.5,Secure authentication,A.8\n"
)
OTHER_SAMPLE = "ref,title,parent\nCC6,Logical access,\nCC6.1,Logical access security,CC6\n"


def stored_counts() -> tuple[int, ...]:
    """Frameworks, requirements, mappings and audit events stored now."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Framework, Requirement, Mapping, AuditEvent)
    )


@pytest.fixture
def run_import(runner: Any) -> Callable[..., Any]:
    def run(path: Path, fmt: str, *extra: str) -> Any:
        return runner.invoke(args=["frameworks", "import", str(path), "--format", fmt, *extra])

    return run


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def small_frameworks(
    run_import: Callable[..., Any], write_file: Callable[[str, str | bytes], Path]
) -> None:
    """Two small CSV frameworks: iso-sample and soc-sample."""
    for key, text in (("iso-sample", ISO_SAMPLE), ("soc-sample", OTHER_SAMPLE)):
        result = run_import(write_file(f"{key}.csv", text), "csv", "--key", key)
        assert result.exit_code == 0, result.output


def export_json(runner: Any, key: str) -> dict[str, Any]:
    result = runner.invoke(args=["frameworks", "export", key, "--format", "oscal"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
