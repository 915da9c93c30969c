"""OIDC client secrets and key versions: `keys retire` refuses while a client secret needs the
version, `keys rewrap` seals it again under the current one, and it still opens afterwards."""

from __future__ import annotations

from flask import Flask

from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.sso.services import providers
from tests.sso.test_provisioning import make_provider


def test_a_client_secret_follows_key_rotation(app: Flask, runner) -> None:
    provider_id = make_provider(app).id
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    refused = runner.invoke(args=["keys", "retire", "1"])
    assert refused.exit_code != 0
    assert "still needed by 0 stored file(s) and 1 sealed secret(s)" in refused.output
    db.session.remove()
    result = runner.invoke(args=["keys", "rewrap"])
    assert result.exit_code == 0, result.output
    assert "and 1 sealed secret(s) under key version 2" in result.output
    assert runner.invoke(args=["keys", "retire", "1"]).exit_code == 0
    provider = providers.active_provider(db.session, provider_id)
    assert (provider.client_secret_ciphertext or "").startswith("kr1:2:")
    assert providers.client_secret(store_for(app).keyring, provider) == "s3cret-value"
