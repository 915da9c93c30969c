"""The audit trail's witness: a copy of every signed checkpoint kept outside the database.

Like CloudTrail's digest files, it anchors the trail where a database writer cannot reach: with
the witness, deleting checkpoints, cutting off the tail or rewriting the chain shows even when
the database is consistent with itself. ``ARTIFACT_AUDIT_WITNESS`` says where it goes:

- a directory (the default, ``<data dir>/audit-witness/``): one JSON line per checkpoint
  appended to ``checkpoints.jsonl``, opened with ``O_APPEND`` and fsynced; point it at another
  filesystem (or a host the database cannot write to) in production;
- ``syslog`` (the local ``/dev/log``) or ``syslog://HOST[:PORT]`` (UDP): one line per
  checkpoint to the system log, to be forwarded off the machine; it cannot be read back, so
  ``audit verify --witness FILE`` compares with an exported copy;
- ``s3://bucket/prefix``: S3 has no append, so one object per checkpoint, keyed by its number
  (``<prefix>checkpoint-00000000000000000042.json``) and written with ``If-None-Match: *``, so
  an object once written is never replaced through us (a store that does not take the
  condition gets a look first, then the write); ``audit verify`` reads them back. Put Object
  Lock (WORM, compliance mode) on the bucket so nobody can replace or delete them either.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from artifact.infra.storage import s3
from artifact.infra.storage.errors import StorageUnavailable

FILE_NAME = "checkpoints.jsonl"
SYSLOG_TAG = "artifact-audit-checkpoint"
S3_OBJECT_PREFIX = "checkpoint-"


class WitnessError(Exception):
    """The witness cannot be written or read; the message says why."""


class Witness(Protocol):
    def describe(self) -> str: ...

    def append(self, record: dict[str, Any]) -> None: ...

    def read(self) -> list[dict[str, Any]] | None:
        """Every record written so far, or None when this witness cannot be read back."""


class FileWitness:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / FILE_NAME

    def describe(self) -> str:
        return str(self.path)

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # one write of one line: appends never interleave
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        return read_file(self.path) if self.path.exists() else []


class SyslogWitness:
    def __init__(self, address: str | tuple[str, int]) -> None:
        self.address = address

    def describe(self) -> str:
        address = self.address
        where = address if isinstance(address, str) else f"{address[0]}:{address[1]}"
        return f"syslog ({where})"

    def append(self, record: dict[str, Any]) -> None:
        handler = logging.handlers.SysLogHandler(
            address=self.address, facility=logging.handlers.SysLogHandler.LOG_AUTH
        )
        try:
            handler.emit(
                logging.makeLogRecord(
                    {
                        "msg": f"{SYSLOG_TAG}: %s",
                        "args": (json.dumps(record, sort_keys=True, separators=(",", ":")),),
                        "levelno": logging.INFO,
                        "levelname": "INFO",
                    }
                )
            )
        finally:
            handler.close()

    def read(self) -> None:
        return None


class S3Witness:
    def __init__(self, client: Any, location: s3.Location) -> None:
        self.client = client
        self.location = location

    def describe(self) -> str:
        return f"{self.location} (one object per checkpoint)"

    def key_of(self, number: int) -> str:
        return f"{self.location.prefix}{S3_OBJECT_PREFIX}{number:020d}.json"

    def append(self, record: dict[str, Any]) -> None:
        body = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        key = self.key_of(int(record["number"]))
        bucket = self.location.bucket
        try:
            try:
                with s3.answering(bucket):
                    self.client.put_object(
                        Bucket=bucket,
                        Key=key,
                        Body=body,
                        IfNoneMatch="*",
                        ContentType="application/json",
                    )
                return
            except StorageUnavailable:
                # e.g. NotImplemented: the store does not take the condition; look first
                if self._exists(key):
                    if self._body(key) == body:
                        return
                    raise WitnessError(
                        f"checkpoint #{record['number']} is already in the witness "
                        f"{self.describe()} with other content"
                    ) from None
                with s3.answering(bucket):
                    self.client.put_object(
                        Bucket=bucket, Key=key, Body=body, ContentType="application/json"
                    )
        except ClientError as error:  # already witnessed: the same record is a retry
            if s3.error_code(error) not in s3.PASSED_ON or self._body(key) != body:
                raise WitnessError(
                    f"checkpoint #{record['number']} is already in the witness "
                    f"{self.describe()} with other content"
                ) from None
        except StorageUnavailable as error:
            raise WitnessError(str(error)) from None

    def _exists(self, key: str) -> bool:
        try:
            with s3.answering(self.location.bucket):
                self.client.head_object(Bucket=self.location.bucket, Key=key)
        except ClientError:
            return False
        return True

    def _body(self, key: str) -> bytes:
        with s3.answering(self.location.bucket):
            return bytes(
                self.client.get_object(Bucket=self.location.bucket, Key=key)["Body"].read()
            )

    def read(self) -> list[dict[str, Any]]:
        start = f"{self.location.prefix}{S3_OBJECT_PREFIX}"
        records = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=start
            )
            with s3.answering(self.location.bucket):
                keys = sorted(
                    str(item["Key"]) for page in pages for item in page.get("Contents", [])
                )
            for key in keys:
                try:
                    record = json.loads(self._body(key))
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    raise WitnessError(f"the witness object {key} is unreadable")
                records.append(record)
        except (StorageUnavailable, ClientError) as error:
            raise WitnessError(
                f"cannot read the audit witness {self.describe()}: {error}"
            ) from None
        return records


def witness_for(setting: str, s3_endpoint: str | None = None) -> Witness:
    """The witness a setting names (see the module's docstring); ``s3_endpoint`` is
    ``ARTIFACT_S3_ENDPOINT_URL`` (None: AWS). Raises WitnessError."""
    if setting.startswith("s3://"):
        try:
            location = s3.parse(setting)
        except ValueError as error:
            raise WitnessError(str(error)) from None
        return S3Witness(s3.client(s3_endpoint), location)
    if setting == "syslog":
        return SyslogWitness("/dev/log")
    if setting.startswith("syslog://"):
        parts = urlsplit(setting)
        if not parts.hostname:
            raise WitnessError(f"no host in the audit witness {setting!r}")
        return SyslogWitness((parts.hostname, parts.port or 514))
    if "://" in setting:
        raise WitnessError(
            f"the audit witness {setting!r} is not supported: use a directory, syslog or "
            "s3://bucket/prefix"
        )
    return FileWitness(Path(setting))


def read_file(path: Path) -> list[dict[str, Any]]:
    """Records from a witness file (or a directory holding one, or a syslog extract whose lines
    carry the tag). A last line cut short by a crash is ignored. Raises WitnessError."""
    if path.is_dir():
        path = path / FILE_NAME
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WitnessError(f"cannot read the audit witness {path}: {error.strerror}") from None
    lines = raw.split("\n")
    complete, last = lines[:-1], lines[-1]
    records = []
    for number, line in enumerate(complete, start=1):
        if SYSLOG_TAG in line:
            line = line.split(f"{SYSLOG_TAG}: ", 1)[-1]
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise WitnessError(f"line {number} of the audit witness {path} is unreadable") from None
        if not isinstance(record, dict):
            raise WitnessError(f"line {number} of the audit witness {path} is unreadable")
        records.append(record)
    del last  # written without its newline: the write was cut off
    return records
