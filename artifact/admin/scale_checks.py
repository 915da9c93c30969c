"""``check-deploy`` for what the settings alone cannot tell: whether the S3 buckets are private
and the token's keys never extractable (asked of the store and the token), and, with several app
servers (``ARTIFACT_NODES`` > 1), what is still kept on one node."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from artifact.audit.services import signing, verifier
from artifact.infra.app_state import AppState
from artifact.infra.storage import KeyringError, StorageUnavailable, keyring_for, s3
from artifact.models import AuditEvent
from artifact.models.base import DbSession

KEY_EVENTS = ("keys.create", "keys.rotate", "keys.import")


def node_local_problems(config: Mapping[str, Any]) -> list[str]:
    """With ``ARTIFACT_NODES`` > 1: every piece of state that would live on one node only."""
    nodes = int(config.get("NODES") or 1)
    if nodes <= 1:
        return []
    problems = []
    with_nodes = f"with ARTIFACT_NODES={nodes}"
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append(
            f"{with_nodes} the database is an SQLite file on one node; use PostgreSQL "
            "(ARTIFACT_DATABASE_URL)"
        )
    if not str(config.get("BLOB_STORE") or "local").startswith("s3://"):
        problems.append(
            f"{with_nodes} stored files are kept on this node's disk (ARTIFACT_BLOB_STORE="
            "local); use an S3-compatible bucket (ARTIFACT_BLOB_STORE=s3://bucket/prefix) and "
            "move the files there with `flask migrate-store`"
        )
    backend = str(config.get("SEARCH_BACKEND") or "whoosh")
    if backend in ("whoosh", "tantivy"):
        problems.append(
            f"{with_nodes} the search index ({backend}) is embedded in this node's data "
            "directory; use ARTIFACT_SEARCH_BACKEND=postgres"
        )
    if str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory"):
        problems.append(
            f"{with_nodes} rate limits and sign-in throttling are counted in each process's "
            "memory; set ARTIFACT_RATELIMIT_STORAGE=redis://..."
        )
    if not str(config.get("QUEUE_URL") or "").startswith(("redis://", "rediss://")):
        problems.append(
            f"{with_nodes} the job queue is an SQLite file on this node; set "
            "ARTIFACT_QUEUE_URL=redis://... so every node's worker shares it"
        )
    witness = str(config.get("AUDIT_WITNESS") or "")
    if witness and "://" not in witness and witness != "syslog":
        problems.append(
            f"{with_nodes} the audit witness is a directory on this node ({witness}); use "
            "ARTIFACT_AUDIT_WITNESS=s3://bucket/prefix or syslog://HOST"
        )
    return problems


def connected_problems(app: AppState, db: DbSession) -> list[str]:
    """What the bucket(s) and the token say (see the module's docstring)."""
    config = app.config
    problems = []
    endpoint = config.get("S3_ENDPOINT_URL")
    buckets = {
        s3.parse(str(value)).bucket: name
        for name, value in (
            ("ARTIFACT_BLOB_STORE", config.get("BLOB_STORE")),
            ("ARTIFACT_AUDIT_WITNESS", config.get("AUDIT_WITNESS")),
        )
        if str(value or "").startswith("s3://")
    }
    for bucket, name in buckets.items():
        try:
            problems += s3.privacy_problems(s3.client(endpoint), bucket)
        except StorageUnavailable as error:
            problems.append(f"{name}: {error}")
    if config.get("KEK_PROVIDER") == "pkcs11":
        problems += _token_problems(app)
    elif int(config.get("NODES") or 1) > 1:
        problems += _shared_keyring_problems(app, db)
    if int(config.get("NODES") or 1) > 1:
        problems += _signing_key_problems(config, db)
    return problems


def _signing_key_problems(config: Mapping[str, Any], db: DbSession) -> list[str]:
    """Several nodes sign checkpoints of one trail: each must hold the key that signed the
    newest one (else verification would find two keys)."""
    last = signing.last_checkpoint(db)
    if last is None:
        return []
    data_dir = str(config["DATA_DIR"])
    advice = (
        f"copy the audit signing key ({signing.key_path(data_dir).name}) of the node that "
        "signed it into every node's data directory"
    )
    if not signing.key_path(data_dir).exists():
        return [
            f"this node has no audit signing key but checkpoint #{last.number} exists; {advice}"
        ]
    raw = signing.public_key(data_dir).public_bytes(Encoding.Raw, PublicFormat.Raw)
    if verifier.key_id(raw) != last.key_id:
        return [
            f"this node's audit signing key is not the one that signed checkpoint "
            f"#{last.number} (key {last.key_id}); {advice}"
        ]
    return []


def _token_problems(app: AppState) -> list[str]:
    ring = keyring_for(app)
    attributes = getattr(ring, "attributes", None)
    if attributes is None:
        return []
    try:
        versions = ring.versions()
        if not versions:
            return [f"{ring.describe()} holds no key; run `flask --app app init`"]
        found = [(entry.version, attributes(entry.version)) for entry in versions]
    except (KeyringError, StorageUnavailable) as error:
        return [f"ARTIFACT_KEK_PROVIDER=pkcs11: {error}"]
    return [
        f"key version {version} in the token can be extracted or read "
        f"(sensitive={held['sensitive']}, extractable={held['extractable']}); make a new one "
        "with `flask keys rotate`, rewrap, and retire this one"
        for version, held in found
        if held["extractable"] or not held["sensitive"]
    ]


def _shared_keyring_problems(app: AppState, db: DbSession) -> list[str]:
    """Several nodes with keyring files: each must hold the key the shared database last
    recorded (the audit trail names every version made, with its fingerprint)."""
    ring = keyring_for(app)
    last = db.scalar(
        select(AuditEvent)
        .where(AuditEvent.action.in_(KEY_EVENTS), AuditEvent.outcome == "success")
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    if last is None:
        return []
    details = json.loads(last.details or "{}")
    version, fingerprint = int(details.get("version") or 0), str(details.get("fingerprint"))
    try:
        current = ring.current()
        mine = ring.get(version)
    except KeyringError as error:
        return [
            f"this node's keyring is not the one the shared database was written with ({error}); "
            "deploy the same keyring file to every node, or use ARTIFACT_KEK_PROVIDER=pkcs11"
        ]
    if mine.fingerprint != fingerprint or current.version != version:
        return [
            f"this node's keyring differs from the one the shared database was written with "
            f"(key version {version} should be current with fingerprint {fingerprint}); deploy "
            "the same keyring file to every node, or use ARTIFACT_KEK_PROVIDER=pkcs11"
        ]
    return []
