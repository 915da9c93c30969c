"""The audit trail's witness: a copy of every signed checkpoint kept outside the database.

Like CloudTrail's digest files, it anchors the trail where a database writer cannot reach: with
the witness, deleting checkpoints, cutting off the tail or rewriting the chain shows even when
the database is consistent with itself. ``ARTIFACT_AUDIT_WITNESS`` says where it goes:

- a directory (the default, ``<data dir>/audit-witness/``): one JSON line per checkpoint
  appended to ``checkpoints.jsonl``, opened with ``O_APPEND`` and fsynced; point it at another
  filesystem (or a host the database cannot write to) in production;
- ``syslog`` (the local ``/dev/log``) or ``syslog://HOST[:PORT]`` (UDP): one line per
  checkpoint to the system log, to be forwarded off the machine; it cannot be read back, so
  ``audit verify --witness FILE`` compares with an exported copy.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

FILE_NAME = "checkpoints.jsonl"
SYSLOG_TAG = "artifact-audit-checkpoint"


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


def witness_for(setting: str) -> Witness:
    """The witness a setting names (see the module's docstring). Raises WitnessError."""
    if setting == "syslog":
        return SyslogWitness("/dev/log")
    if setting.startswith("syslog://"):
        parts = urlsplit(setting)
        if not parts.hostname:
            raise WitnessError(f"no host in the audit witness {setting!r}")
        return SyslogWitness((parts.hostname, parts.port or 514))
    if "://" in setting:
        raise WitnessError(
            f"the audit witness {setting!r} is not supported (yet): use a directory or syslog"
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
