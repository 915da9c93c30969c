"""Key versions: `keys retire VERSION` refuses while anything depends on it, `keys rewrap`
moves every data key and sealed secret to the current version (in batches, resumable), and a
missing key version makes a staff sign-in fail with a clear message, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.models import MfaCredential, ReportVersion
from tests.conftest import PASSWORD, sign_in


def _drop_version(app: Flask, version: int) -> None:
    """Take a key version out of the keyring file by hand (a keyring restored without it)."""
    ring = store_for(app).keyring
    document = json.loads(ring.path.read_text())
    document["keys"] = [k for k in document["keys"] if k["version"] != version]
    ring.path.write_text(json.dumps(document))


def _sealed_versions() -> set[str]:
    db.session.expire_all()
    sealed = db.session.scalars(select(MfaCredential.secret_ciphertext)).all()
    return {s.split(":")[1] for s in sealed if s}


def _blob_versions(app: Flask) -> set[int]:
    store = store_for(app)
    blob_ids = db.session.scalars(select(ReportVersion.blob_id)).all()
    return {store.kek_version(b) for b in blob_ids}


def test_a_missing_key_version_makes_staff_sign_in_fail_clearly(
    app: Flask, client, staff, runner
) -> None:
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    _drop_version(app, 1)  # the TOTP secret of staff is sealed under version 1
    response = sign_in(client, staff.email)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "second factor cannot be checked" in page
    assert "administrator" in page


def test_a_recovery_code_still_signs_in_while_the_key_version_is_missing(
    app: Flask, client, staff, runner
) -> None:
    """The way back in that needs no key: the recovery codes (stored hashed) still work."""
    from tests.conftest import RECOVERY_CODES, post_form

    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    _drop_version(app, 1)
    first = post_form(client, "/login", {"email": staff.email, "password": PASSWORD})
    assert first.headers["Location"] == "/login/mfa"
    code = RECOVERY_CODES[staff.email].pop()
    second = post_form(client, "/login/mfa", {"code": code}, token_from="/login/mfa")
    assert second.status_code == 302, second.get_data(as_text=True)
    assert client.get("/api/v1/me").get_json()["email"] == staff.email


def test_retire_refuses_the_current_version_and_what_data_still_needs(
    app: Flask, runner, make_report, staff
) -> None:
    make_report("SOC 3", visibility="public")  # its file is wrapped by version 1
    current = runner.invoke(args=["keys", "retire", "1"])
    assert current.exit_code == 1
    assert "key version 1 is the current version and cannot be retired" in current.output
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    needed = runner.invoke(args=["keys", "retire", "1"])
    assert needed.exit_code == 1
    assert "still needed by 1 stored file(s) and 1 sealed secret(s)" in needed.output
    assert "flask keys rewrap" in needed.output
    assert [k.version for k in store_for(app).keyring.versions()] == [1, 2]
    unknown = runner.invoke(args=["keys", "retire", "7"])
    assert unknown.exit_code == 1
    assert "key version 7 is not in the keyring" in unknown.output


def test_rewrap_moves_everything_then_retire_leaves_it_all_readable(
    app: Flask, runner, client, make_report, make_evidence, staff, store
) -> None:
    report_id = make_report("SOC 2 Type II", visibility="public").id
    evidence_id, staff_email = make_evidence().id, staff.email
    before = {
        v.blob_id: store.read_bytes(v.blob_id) for v in db.session.scalars(select(ReportVersion))
    }
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    assert _blob_versions(app) == {1}
    assert _sealed_versions() == {"1"}
    files = len(list(store.blob_ids()))  # the report's and the evidence's
    secrets = len(db.session.scalars(select(MfaCredential)).all())  # staff and the reviewer
    assert (files, secrets) == (2, 2)
    db.session.remove()
    result = runner.invoke(args=["keys", "rewrap", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "rewrapped 2 stored file(s) and 2 sealed secret(s) under key version 2" in result.output
    assert _blob_versions(app) == {2}
    assert _sealed_versions() == {"2"}
    again = runner.invoke(args=["keys", "rewrap"])  # nothing left: a no-op
    assert "rewrapped 0 stored file(s) and 0 sealed secret(s)" in again.output
    retired = runner.invoke(args=["keys", "retire", "1"])
    assert retired.exit_code == 0, retired.output
    assert [k.version for k in store.keyring.versions()] == [2]
    for blob_id, data in before.items():
        assert store.read_bytes(blob_id) == data
    staff_client = app.test_client()
    assert sign_in(staff_client, staff_email).status_code == 302
    assert staff_client.get(f"/evidence/{evidence_id}/download").status_code == 200
    assert client.get(f"/catalog/{report_id}/download").status_code == 200


def test_rewrap_is_crash_safe_and_resumable(
    app: Flask, runner, make_report, staff, store, monkeypatch
) -> None:
    for title in ("SOC 3", "ISO 27001", "PCI DSS AOC"):
        make_report(title, visibility="public")
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    blob_ids = list(store.blob_ids())
    originals = {b: store.read_bytes(b) for b in blob_ids}
    real_replace = __import__("os").replace
    calls = {"n": 0}

    def crash_on_second(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr("artifact.infra.storage.blobs.os.replace", crash_on_second)
    db.session.remove()
    crashed = runner.invoke(args=["keys", "rewrap", "--batch", "1"])
    assert crashed.exit_code != 0
    monkeypatch.undo()
    # The first batch (a file and the secret) is committed; the file being written when it
    # crashed is untouched and no partial file is left.
    assert sorted(store.kek_version(b) for b in blob_ids) == [1, 1, 2]
    assert not [p for p in Path(store.root).rglob("*.part")]
    assert {b: store.read_bytes(b) for b in blob_ids} == originals
    resumed = runner.invoke(args=["keys", "rewrap", "--batch", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert "rewrapped 2 stored file(s) and 0 sealed secret(s)" in resumed.output
    assert {store.kek_version(b) for b in blob_ids} == {2}
    assert _sealed_versions() == {"2"}
    assert {b: store.read_bytes(b) for b in blob_ids} == originals


def test_destroy_after_rewrap_still_makes_the_file_unrecoverable(app: Flask, store) -> None:
    import io

    info = store.put(io.BytesIO(b"confidential" * 1000))
    store.keyring.rotate()
    assert store.rewrap(info.id)
    assert store.kek_version(info.id) == 2
    store.destroy(info.id)
    assert not store.exists(info.id)
