"""Black-box acceptance of the audit trail: a scripted session verifies; an UPDATE made with the
sqlite3 shell is named by `flask audit verify`; concurrent writers keep the chain gap-free."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import AuditEvent, User
from tests.conftest import post_form, sign_in
from tests.fixtures_catalog import make_pdf


def _scripted_session(app: Flask, admin: User, customer: User) -> None:
    """Sign-ins, a token, an agreement and its acceptance, an upload, a grant, downloads."""
    browser = app.test_client()
    sign_in(browser, customer.email, "a wrong password for sure")
    sign_in(browser, customer.email)
    post_form(browser, "/account/tokens", {"name": "ci"})
    post_form(browser, "/logout")
    admin_browser = app.test_client()
    sign_in(admin_browser, admin.email)
    post_form(admin_browser, "/admin/organizations", {"name": "Initech"})

    boss, reader = _api(app, admin), _api(app, customer)
    nda = boss("post", "/agreements", {"title": "NDA", "kind": "nda", "text": "Keep it."})
    report = boss(
        "post",
        "/reports",
        {
            "title": "SOC 2",
            "category": "reports",
            "visibility": "restricted",
            "terms_agreement_id": nda["id"],
        },
    )
    upload = app.test_client().post(
        f"/api/v1/reports/{report['id']}/versions",
        headers=boss.headers,
        data={"file": (io.BytesIO(make_pdf(3)), "soc2.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    boss("post", f"/reports/{report['id']}/state", {"state": "published"})
    boss("post", "/grants", {"report_id": report["id"], "user": customer.email})
    assert reader.raw("get", f"/reports/{report['id']}/download").status_code == 428
    reader(
        "post",
        f"/agreements/{nda['id']}/accept",
        {"version": 1, "typed_name": "Carla Customer", "scope": "account"},
    )
    assert reader.raw("get", f"/reports/{report['id']}/download").status_code == 200


def _api(app: Flask, user: User) -> Any:
    _token, raw = tokens.create(db.session, OPERATOR, user, "script")
    uow.commit(db.session)
    headers = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        response = call.raw(method, path, body)
        assert response.status_code < 300, (path, response.get_json())
        return response.get_json()

    call.raw = lambda method, path, body=None: getattr(app.test_client(), method)(  # type: ignore[attr-defined]
        "/api/v1" + path, headers=headers, json=body
    )
    call.headers = headers  # type: ignore[attr-defined]
    return call


def _sqlite_file(app: Flask) -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        pytest.skip("the sqlite3 shell acceptance runs on the SQLite file database")
    return Path(str(url.database))


def test_verify_after_a_session_then_an_update_by_the_sqlite3_shell(
    app: Flask, runner, admin: User, customer: User, store
) -> None:
    _scripted_session(app, admin, customer)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {
        "report.version.upload",
        "agreement.accept",
        "report.download",
        "grant.create",
    } <= actions
    assert count >= 8
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(f"ok {count} events")
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        pytest.skip("the sqlite3 shell is not installed")
    db.session.remove()
    db.engine.dispose()
    subprocess.run(
        [sqlite3, str(_sqlite_file(app))],
        input="DROP TRIGGER audit_event_no_update;\n"
        "UPDATE audit_event SET action = 'nothing.happened' WHERE seq = 3;\n",
        text=True,
        check=True,
    )
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "FAILED at seq 3" in bad.output
    assert "altered" in bad.output


def test_audit_export_command(app: Flask, runner, tmp_path: Path, customer: User) -> None:
    sign_in(app.test_client(), customer.email)
    out = tmp_path / "trail"
    result = runner.invoke(args=["audit", "export", str(out)])
    assert result.exit_code == 0, result.output
    check = subprocess.run(
        [sys.executable, "-I", str(out / "verify.py"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    assert check.stdout.startswith("ok ")
    again = runner.invoke(args=["audit", "export", str(out)])
    assert again.exit_code == 1
    assert "not an empty directory" in again.output


WRITER = textwrap.dedent("""
    import sys
    from artifact import create_app
    from artifact.extensions import db
    from artifact.audit.services import chain as audit
    from artifact.audit.services import signing
    from artifact.kernel.caller import Caller

    app = create_app({"ARTIFACT_ENV": "testing", "DATA_DIR": sys.argv[1],
                      "SQLALCHEMY_DATABASE_URI": sys.argv[2]})
    with app.app_context():
        signing.configure(db.session, signing.CheckpointPolicy.from_config(app.config))
        for i in range(int(sys.argv[4])):
            audit.record(db.session, Caller.operator(sys.argv[3]), "load.write", details={"i": i})
            db.session.commit()
""")


def test_two_concurrent_writers_keep_the_chain_gap_free(app: Flask, runner, tmp_path: Path) -> None:
    """Two real processes append at once; every event lands exactly once and the chain holds."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    url = db.engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[2]
    per_writer = 150
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), app.config["DATA_DIR"], url, name, str(per_writer)],
            cwd=root,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("writer-a", "writer-b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    db.session.expire_all()
    seqs = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == list(range(1, 2 * per_writer + 1))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
