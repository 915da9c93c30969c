"""A real S3 API on loopback for the tests: moto's server mode in its own process on a free port
(one per session), a fresh private bucket per test, and an app whose blobs live in it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from artifact import create_app
from artifact.extensions import db
from artifact.infra.storage import s3, store_for

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "artifact-test",
    "AWS_SECRET_ACCESS_KEY": "artifact-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1; ``stop()`` makes the endpoint unreachable."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto's S3 server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="session")
def aws_credentials() -> Iterator[None]:
    """Test credentials in boto3's usual environment variables (never a real account's)."""
    saved = {name: os.environ.get(name) for name in (*CREDENTIALS, "AWS_PROFILE")}
    os.environ.update(CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def moto_endpoint(aws_credentials: None) -> Iterator[str]:
    server = MotoServer()
    yield server.endpoint
    server.stop()


def make_bucket(endpoint: str, private: bool = True) -> str:
    name = f"artifact-test-{uuid.uuid4().hex[:12]}"
    client = s3.client(endpoint)
    client.create_bucket(Bucket=name)
    if private:
        client.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    return name


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> str:
    return make_bucket(moto_endpoint)


def objects(endpoint: str, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object in the bucket under ``prefix``, by key, with its bytes."""
    client = s3.client(endpoint)
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
            found[item["Key"]] = body.read()
    return found


@pytest.fixture
def make_s3_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """An app like the ``app`` fixture's, with the settings given (e.g. an S3 blob store)."""
    from tests.conftest import IsolatedClient

    made: list[Flask] = []

    def factory(**settings: Any) -> Flask:
        app = create_app(
            {
                "ARTIFACT_ENV": "testing",
                "DATA_DIR": str(tmp_path / "data"),
                "SQLALCHEMY_DATABASE_URI": database_url,
                **settings,
            }
        )
        app.test_client_class = IsolatedClient
        made.append(app)
        return app

    yield factory
    for app in made:
        search = app.extensions.pop("artifact_search", None)
        if search is not None:
            search.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def s3_app(
    make_s3_app: Callable[..., Flask], moto_endpoint: str, s3_bucket: str
) -> Iterator[Flask]:
    """The app with its blobs in ``s3://<s3_bucket>/blobs/`` (and its keyring, as init makes)."""
    app = make_s3_app(BLOB_STORE=f"s3://{s3_bucket}/blobs", S3_ENDPOINT_URL=moto_endpoint)
    store_for(app).keyring.create()
    with app.app_context():
        yield app
