"""The OpenAPI document as a contract a generated client can trust: openapi-python-client (a
real client generator) builds a Python client from the served document without a warning, and
that client, with a staff token, lists the demo's reports, creates one, uploads a PDF, publishes
it and downloads the stamped copy over loopback."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import pkgutil
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import pytest
from flask_migrate import upgrade

from artifact import create_app
from artifact.demo import seed as demo
from artifact.demo.catalog import load_manifest
from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.identity.services.lookup import user_by_email
from artifact.infra.pdf.render import render_pdf
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from tests.fixtures_catalog import page_texts
from tests.live_server import serve

pytestmark = pytest.mark.contract

PACKAGE = "artifact_generated_client"
# No post-hooks: the defaults run whatever `ruff` is on PATH over the output, and tidying it is
# not what this test checks. The tool parses only JSON, text and octet-stream bodies and skips
# the responses of any other type; its content_type_overrides setting, made for binary types
# such as ours, has it send and read a PDF, and send a CSV request list, as bytes.
CONFIG = (
    "post_hooks: []\ncontent_type_overrides:\n"
    "  application/pdf: application/octet-stream\n"
    "  text/csv: application/octet-stream\n"
)
TITLE = "Generated client report"
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def generator() -> str:
    tool = Path(sys.executable).with_name("openapi-python-client")
    if not tool.exists():
        pytest.skip("openapi-python-client is not installed (make test installs the test extras)")
    return str(tool)


def _seed(data_dir: Path, database_url: str) -> str:
    """The demo on the suite's database; returns an API token of the demo's staff member."""
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(data_dir),
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        demo.seed(db.session, OPERATOR, password_factory=lambda: secrets.token_urlsafe(12))
        staff = user_by_email(db.session, "staff@artifact.test")
        _token, raw = tokens.create(db.session, OPERATOR, staff, "generated client")
        uow.commit(db.session)
        db.session.remove()
        db.engine.dispose()
    return raw


def _generate(document: dict[str, Any], work: Path) -> None:
    """Run the generator on ``document``; any warning (an operation, response or schema the
    client would lack) fails, with the tool's explanation."""
    (work / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    (work / "config.yaml").write_text(CONFIG, encoding="utf-8")
    result = subprocess.run(  # noqa: S603 (our own tool, fixed arguments)
        [
            generator(),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
            "--fail-on-warning",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.fixture
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` on ``sys.path`` while the test runs, and the generated package forgotten
    afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def _import_all() -> ModuleType:
    """The generated package with every module imported: the whole client must build."""
    package = importlib.import_module(PACKAGE)
    for module in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        importlib.import_module(module.name)
    return package


class Operation:
    """One generated operation, found by the operationId the document gives it (the generator
    names each function's module after it, under the operation's tag)."""

    def __init__(self, document: dict[str, Any], method: str, path: str) -> None:
        operation_id = document["paths"][path][method].get("operationId")
        assert operation_id is not None, f"{method.upper()} {path} has no operationId"
        assert SNAKE_CASE.fullmatch(operation_id), f"{method.upper()} {path}: {operation_id!r}"
        api = importlib.import_module(f"{PACKAGE}.api")
        found = [
            m.name
            for m in pkgutil.walk_packages(api.__path__, f"{PACKAGE}.api.")
            if m.name.endswith(f".{operation_id}")
        ]
        assert len(found) == 1, f"{operation_id}: generated as {found}"
        self.module = importlib.import_module(found[0])

    @property
    def body(self) -> Any:
        """The request body model the generated function asks for."""
        return get_type_hints(self.module.sync)["body"]

    def __call__(self, **arguments: Any) -> Any:
        """The parsed answer (a documented status the generated code could not parse, or an
        undocumented one, raises)."""
        return self.module.sync(**arguments)

    def detailed(self, **arguments: Any) -> Any:
        return self.module.sync_detailed(**arguments)


def test_a_generated_client_lists_uploads_and_downloads(
    database_url: str, importable: Path
) -> None:
    data_dir = importable / "data"
    token = _seed(data_dir, database_url)
    marker = f"Generated-client upload {secrets.token_hex(4)}"
    pdf = render_pdf(f"<h1>{marker}</h1><p>Uploaded through the generated client.</p>")
    with serve(data_dir, SQLALCHEMY_DATABASE_URI=database_url) as server:
        with server.app.test_client() as local:
            document = local.get("/api/v1/openapi.json").get_json()
        _generate(document, importable)
        package = _import_all()
        models = importlib.import_module(f"{PACKAGE}.models")
        types = importlib.import_module(f"{PACKAGE}.types")
        client = package.AuthenticatedClient(
            base_url=f"{server.url}/api/v1",
            token=token,
            raise_on_unexpected_status=True,
            httpx_args={"trust_env": False},
        )
        with client:
            list_reports = Operation(document, "get", "/reports")
            listed = list_reports(client=client)
            assert isinstance(listed, models.ReportList), listed
            titles = {report.title for report in listed.items}
            assert {entry["title"] for entry in load_manifest()} <= titles

            create_report = Operation(document, "post", "/reports")
            created = create_report(
                client=client,
                body=create_report.body.from_dict({"title": TITLE, "category": "reports"}),
            )
            assert isinstance(created, models.Report), created
            assert (created.title, created.state) == (TITLE, "draft")

            upload_version = Operation(document, "post", "/reports/{report_id}/versions")
            uploaded = upload_version(
                client=client,
                report_id=created.id,
                body=upload_version.body(
                    file=types.File(io.BytesIO(pdf), "upload.pdf", "application/pdf")
                ),
            )
            assert uploaded is not None, "the upload's 201 answer has no schema"
            assert not isinstance(uploaded, models.Error), uploaded
            assert (uploaded.number, uploaded.sha256) == (1, hashlib.sha256(pdf).hexdigest())

            set_state = Operation(document, "post", "/reports/{report_id}/state")
            published = set_state(
                client=client,
                report_id=created.id,
                body=set_state.body.from_dict({"state": "published"}),
            )
            assert isinstance(published, models.Report), published
            assert published.state == "published"
            assert [version.number for version in published.versions] == [1]

            relisted = list_reports(client=client)
            assert TITLE in {report.title for report in relisted.items}

            download = Operation(document, "get", "/reports/{report_id}/download")
            downloaded = download.detailed(client=client, report_id=created.id)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.content.startswith(b"%PDF")
    # What sync() hands a program: the file itself, not None.
    assert isinstance(downloaded.parsed, types.File), downloaded.parsed
    assert downloaded.parsed.payload.read() == downloaded.content
    receipt = downloaded.headers["x-artifact-receipt"]
    assert re.fullmatch(r"[0-9a-f]{20}", receipt)
    text = "\n".join(page_texts(downloaded.content))
    assert marker in text
    assert receipt in text
