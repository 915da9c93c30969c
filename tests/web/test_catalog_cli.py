"""Key commands and the demo catalog."""

from __future__ import annotations

import base64
import json
import secrets
import stat

from sqlalchemy import select

from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.models import AuditEvent, Report
from tests.fixtures_catalog import page_texts


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_init_creates_the_keyring_once(app, runner) -> None:
    store_for(app).keyring.path.unlink()  # the app fixture made one, as init does: start bare
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "keyring created" in first.output
    ring = store_for(app).keyring
    assert stat.S_IMODE(ring.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ring.path.parent.stat().st_mode) == 0o700
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0
    assert "keyring ready" in again.output
    assert len(_events("keys.create")) == 1


def test_init_refuses_to_replace_a_lost_keyring(app, runner, make_report, store) -> None:
    make_report("Public ISO", visibility="public")
    store.keyring.path.unlink()
    result = runner.invoke(args=["init"])
    assert result.exit_code == 1
    assert "restore it from your backup" in result.output
    assert not store.keyring.exists()


def test_keys_status_rotate_import(app, runner, store, tmp_path) -> None:
    status = runner.invoke(args=["keys", "status"])
    assert status.exit_code == 0
    assert "version 1" in status.output
    assert "current" in status.output
    key = store.keyring.current().key
    assert base64.b64encode(key).decode() not in status.output
    assert key.hex() not in status.output
    rotated = runner.invoke(args=["keys", "rotate"])
    assert "key version 2 is now current" in rotated.output
    byok = tmp_path / "byok.key"
    byok.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    imported = runner.invoke(args=["keys", "import", str(byok)])
    assert imported.exit_code == 0, imported.output
    assert "version 3" in imported.output
    bad = tmp_path / "bad.key"
    bad.write_text("too short")
    refused = runner.invoke(args=["keys", "import", str(bad)])
    assert refused.exit_code == 1
    assert "256 bits" in refused.output
    assert [json.loads(e.details)["version"] for e in _events("keys.rotate")] == [2]
    assert [json.loads(e.details)["source"] for e in _events("keys.import")] == ["imported"]
    assert store.keyring.current().version == 3


def test_seed_demo_imports_the_catalog_idempotently(app, client, runner, make_user, bearer) -> None:
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    titles = set(db.session.scalars(select(Report.title)))
    assert len(titles) == 8
    assert all("(sample)" in t for t in titles)
    public = client.get("/api/v1/reports").get_json()
    assert public["total"] == 5
    from artifact.identity.services.lookup import user_by_email

    alice, carol = (
        user_by_email(db.session, e) for e in ("alice@acme-health.test", "carol@globex.test")
    )
    soc2 = db.session.scalar(select(Report).where(Report.title.like("SOC 2%2025%")))
    gated = client.get(f"/api/v1/reports/{soc2.id}/download", headers=bearer(alice))
    assert gated.status_code == 428  # the demo SOC 2 needs the demo NDA first
    nda = gated.get_json()["error"]
    accepted = client.post(
        f"/api/v1/agreements/{nda['agreement_id']}/accept",
        headers=bearer(alice),
        json={"version": nda["version"], "typed_name": "Alice Acme", "scope": "account"},
    )
    assert accepted.status_code == 201, accepted.get_json()
    ok = client.get(f"/api/v1/reports/{soc2.id}/download", headers=bearer(alice))
    assert ok.status_code == 200
    texts = page_texts(ok.data)
    assert all(alice.email in t for t in texts)
    assert "SAMPLE" in texts[1]
    assert (
        client.get(f"/api/v1/reports/{soc2.id}/download", headers=bearer(carol)).status_code == 404
    )
    iso9001 = client.get("/api/v1/reports?q=9001").get_json()["items"][0]
    assert (iso9001["state"], iso9001["status"]) == ("published", "expired")
