"""Key-encryption keys in a PKCS#11 token (SoftHSM2): generated inside it, never extractable,
sealing data keys and TOTP seeds in the token; rotation keeps older files readable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from artifact.extensions import db
from artifact.identity.services.mfa import _PURPOSE
from artifact.infra import secretbox
from artifact.infra.storage import keyring_for, store_for
from artifact.infra.storage.hsm import LABEL_PREFIX, Pkcs11Keyring, _library
from artifact.models import MfaCredential, ReportVersion
from tests.conftest import MFA_SECRETS, corpus_path
from tests.fixtures_catalog import upload_version

PDF = ("files", "fedramp-public-domain", "pdf", "CSP_Penetration_Test_Guidance.pdf")


@pytest.fixture
def app(make_s3_app, pkcs11_settings) -> Flask:
    app = make_s3_app(**pkcs11_settings)
    keyring_for(app).create()  # as `flask init` does
    with app.app_context():
        yield app


def _cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _upload_and_fetch(client, staff, bearer, make_report, data: bytes, title: str) -> str:
    report = make_report(title, state="draft")
    response = upload_version(client, bearer(staff), report.id, data)
    assert response.status_code == 201, response.get_json()
    original = client.get(f"/api/v1/reports/{report.id}/versions/1/original", headers=bearer(staff))
    assert original.status_code == 200
    assert hashlib.sha256(original.data).hexdigest() == hashlib.sha256(data).hexdigest()
    return report.id


def test_upload_and_download_with_the_key_in_the_token(
    app, client, staff, bearer, make_report
) -> None:
    data = corpus_path(*PDF).read_bytes()
    _upload_and_fetch(client, staff, bearer, make_report, data, "Pen test guidance")
    version = db.session.query(ReportVersion).one()
    assert store_for(app).kek_version(version.blob_id) == 1
    # no keyring file: the key is only in the token
    assert not (Path(app.config["DATA_DIR"]) / "keys" / "keyring.json").exists()
    # the staff member's TOTP seed is sealed by the token too, and opens to what they enrolled
    sealed = db.session.query(MfaCredential).filter_by(user_id=staff.id).one().secret_ciphertext
    assert (
        secretbox.open_sealed(keyring_for(app), _PURPOSE, staff.id, sealed)
        == (MFA_SECRETS[staff.email])
    )
    with pytest.raises(ValueError, match="does not open"):
        secretbox.open_sealed(keyring_for(app), _PURPOSE, "someone-else", sealed)


def test_rotation_makes_a_new_key_in_the_token_and_old_files_stay_readable(
    app, client, staff, bearer, make_report
) -> None:
    first = corpus_path(*PDF).read_bytes()
    old = _upload_and_fetch(client, staff, bearer, make_report, first, "Before rotation")
    rotated = _cli(app, "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "key version 2 is now current (fingerprint kcv-" in rotated.output
    second = first + b"\n% a later edition\n"
    _upload_and_fetch(client, staff, bearer, make_report, second, "After rotation")
    store = store_for(app)
    versions = {v.report_id: v for v in db.session.query(ReportVersion)}
    assert store.kek_version(versions[old].blob_id) == 1
    assert {store.kek_version(v.blob_id) for v in versions.values()} == {1, 2}
    assert store.read_bytes(versions[old].blob_id) == first

    status = _cli(app, "keys", "status")
    assert status.exit_code == 0, status.output
    assert f"PKCS#11 token {app.config['PKCS11_TOKEN']!r}" in status.output
    assert status.output.count("(in the token, never extractable)") == 2
    assert "version 2  generated" in status.output

    # rewrap, then retire version 1: its key is destroyed in the token, the file still opens
    assert _cli(app, "keys", "rewrap").exit_code == 0
    retired = _cli(app, "keys", "retire", "1")
    assert retired.exit_code == 0, retired.output
    assert [k.version for k in keyring_for(app).versions()] == [2]
    assert store.read_bytes(versions[old].blob_id) == first


def test_the_key_is_sensitive_and_never_extractable(app, pkcs11_settings) -> None:
    """Asked of the token itself, in a session of our own (logged in already: the login
    belongs to the process, and the app's session made it)."""
    token = _library(pkcs11_settings["PKCS11_MODULE"]).get_token(
        token_label=pkcs11_settings["PKCS11_TOKEN"]
    )
    with token.open(rw=True) as session:
        keys = [
            k
            for k in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
            if str(k.label).startswith(LABEL_PREFIX)
        ]
        assert len(keys) == 1
        key = keys[0]
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.ALWAYS_SENSITIVE] is True
        with pytest.raises(p11.AttributeSensitive):
            key[Attribute.VALUE]
        # nor can it be wrapped out under a key of the caller's choosing
        from pkcs11 import KeyType

        wrapper = session.generate_key(KeyType.AES, 256, template={Attribute.WRAP: True})
        with pytest.raises((p11.KeyUnextractable, p11.KeyNotWrappable)):
            wrapper.wrap_key(key, mechanism=Mechanism.AES_KEY_WRAP)


def test_check_deploy_finds_nothing_wrong_with_the_token_keys(app) -> None:
    lines = [line for line in _cli(app, "check-deploy").output.splitlines() if "token" in line]
    assert lines == []


def test_a_wrong_pin_is_a_clear_error(pkcs11_settings) -> None:
    """(A token no session of this process has logged in to yet.)"""
    ring = Pkcs11Keyring(pkcs11_settings["PKCS11_MODULE"], pkcs11_settings["PKCS11_TOKEN"], "0000")
    from artifact.infra.storage import KeyringError

    with pytest.raises(KeyringError, match="refuses the PIN"):
        ring.current()
    assert "0000" not in repr(ring)


def test_init_makes_the_first_key_in_the_token_and_says_so(make_s3_app, pkcs11_settings) -> None:
    refused = make_s3_app(**{**pkcs11_settings, "PKCS11_PIN": "0000"})
    with refused.app_context():
        result = refused.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 1
    assert "refuses the PIN (ARTIFACT_PKCS11_PIN)" in result.output
    assert "Traceback" not in result.output

    app = make_s3_app(**pkcs11_settings)
    with app.app_context():
        first = app.test_cli_runner().invoke(args=["init"])
        assert first.exit_code == 0, first.output
        assert f"keyring created: PKCS#11 token {pkcs11_settings['PKCS11_TOKEN']!r}" in first.output
        again = app.test_cli_runner().invoke(args=["init"])
        assert "keyring ready: PKCS#11 token" in again.output
        assert [k.version for k in keyring_for(app).versions()] == [1]
