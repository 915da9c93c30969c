"""check-deploy with several app servers (ARTIFACT_NODES > 1): what is still kept on one node
is a failure; keyring files must be the one the shared database was written with."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifact.admin.deploy_checks import deploy_problems
from artifact.admin.services import keys
from artifact.config import ConfigError, load_config
from artifact.extensions import db
from artifact.infra.storage import BlobStore, Keyring
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR

NODE_LOCAL = {
    "SQLite file": "the database is an SQLite file on one node",
    "blobs": "stored files are kept on this node's disk",
    "index": "the search index (whoosh) is embedded in this node's data directory",
    "limiter": "rate limits and sign-in throttling are counted in each process's memory",
    "witness": "the audit witness is a directory on this node",
    "queue": "the job queue is an SQLite file on this node",
}


def _config(tmp_path: Path, **environ: str) -> dict:
    return load_config(
        environ={"ARTIFACT_ENV": "testing", "ARTIFACT_DATA_DIR": str(tmp_path), **environ}
    )


def test_one_node_names_nothing_node_local(tmp_path: Path) -> None:
    problems = deploy_problems(_config(tmp_path))
    assert not [p for p in problems if "ARTIFACT_NODES" in p]


def test_several_nodes_name_every_node_local_piece(tmp_path: Path) -> None:
    problems = [p for p in deploy_problems(_config(tmp_path, ARTIFACT_NODES="3")) if "NODES" in p]
    for what, words in NODE_LOCAL.items():
        assert any(words in p for p in problems), (what, problems)
    assert all(p.startswith("with ARTIFACT_NODES=3 ") for p in problems)
    assert len(problems) == len(NODE_LOCAL)


def test_several_nodes_on_shared_services_name_nothing(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        ARTIFACT_NODES="2",
        ARTIFACT_DATABASE_URL="postgresql://db.internal/artifact",
        ARTIFACT_BLOB_STORE="s3://artifact-blobs/prod",
        ARTIFACT_RATELIMIT_STORAGE="redis://redis.internal:6379/0",
        ARTIFACT_QUEUE_URL="redis://redis.internal:6379/1",
        ARTIFACT_AUDIT_WITNESS="s3://artifact-audit/witness",
        ARTIFACT_SEARCH_BACKEND="postgres",
    )
    assert not [p for p in deploy_problems(config) if "NODES" in p]


@pytest.mark.parametrize("backend", ["whoosh", "tantivy"])
def test_an_embedded_index_with_several_nodes_is_a_failure(tmp_path: Path, backend: str) -> None:
    problems = deploy_problems(
        _config(tmp_path, ARTIFACT_NODES="2", ARTIFACT_SEARCH_BACKEND=backend)
    )
    assert (
        f"with ARTIFACT_NODES=2 the search index ({backend}) is embedded in this node's data "
        "directory; use ARTIFACT_SEARCH_BACKEND=postgres"
    ) in problems


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ARTIFACT_NODES": "0"}, "ARTIFACT_NODES must be at least 1"),
        ({"ARTIFACT_BLOB_STORE": "ftp://x"}, "must be local or s3://bucket/prefix"),
        ({"ARTIFACT_BLOB_STORE": "s3://a"}, "names no valid bucket"),
        ({"ARTIFACT_KEK_PROVIDER": "kms"}, "must be one of file, pkcs11"),
        (
            {"ARTIFACT_KEK_PROVIDER": "pkcs11", "ARTIFACT_PKCS11_MODULE": "/usr/lib/x.so"},
            "needs ARTIFACT_PKCS11_TOKEN, ARTIFACT_PKCS11_PIN",
        ),
    ],
)
def test_scale_settings_are_checked_at_start(tmp_path: Path, environ, message) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, **environ)


def _keyring_lines(app) -> list[str]:
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    return [line for line in result.output.splitlines() if "this node's keyring" in line]


def test_a_node_whose_keyring_is_not_the_shared_one_is_named(app, store, tmp_path) -> None:
    app.config["NODES"] = 2
    keys.rotate(db.session, OPERATOR, store)  # this node rotates: recorded with its fingerprint
    uow.commit(db.session)
    assert _keyring_lines(app) == []

    # another node, with a keyring file of its own, rotates next
    other = Keyring(tmp_path / "node-b" / "keyring.json")
    other.create()
    other.rotate()
    keys.rotate(db.session, OPERATOR, BlobStore(tmp_path / "node-b" / "blobs", other))
    uow.commit(db.session)
    lines = _keyring_lines(app)
    assert len(lines) == 1
    assert "this node's keyring is not the one the shared database was written with" in lines[0]
    assert "(key version 3 is not in the keyring)" in lines[0]


def _signing_lines(app) -> list[str]:
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    return [line for line in result.output.splitlines() if "audit signing key" in line]


def test_a_node_without_the_key_that_signed_the_trail_is_named(app, store, tmp_path) -> None:
    from artifact.audit.services import signing
    from artifact.audit.services import trail as audit_trail

    app.config["NODES"] = 2
    keys.rotate(db.session, OPERATOR, store)  # an event to sign
    audit_trail.checkpoint(db.session, OPERATOR, app.config["DATA_DIR"])
    uow.commit(db.session)
    assert _signing_lines(app) == []

    key = signing.key_path(app.config["DATA_DIR"])
    key.rename(tmp_path / "elsewhere.pem")
    assert "this node has no audit signing key but checkpoint #1 exists" in _signing_lines(app)[0]

    signing.load_or_create_key(app.config["DATA_DIR"])  # another key of this node's own
    lines = _signing_lines(app)
    assert len(lines) == 1
    assert "this node's audit signing key is not the one that signed checkpoint #1" in lines[0]
