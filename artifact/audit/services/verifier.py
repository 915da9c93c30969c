"""Verify an Artifact audit trail: the hash chain and the signed checkpoints.

This module is the one implementation of verification. The app calls it on rows read from the
database; ``flask audit export`` copies this very file into the export as ``verify.py``, so an
auditor can run ``python verify.py EXPORT_DIR`` with nothing but Python 3.11+ and the
``cryptography`` package. Keep it free of imports from the rest of Artifact.

An event's hash is SHA-256 over its predecessor's hash, a newline and the canonical JSON of the
event; a checkpoint is an Ed25519 signature over the head (sequence number and hash) that also
carries the previous checkpoint's signature, so checkpoints form a chain of their own.

The witness is a copy of every checkpoint kept outside the database (``witness.jsonl`` in an
export). The database alone cannot show a deleted tail with its newest checkpoint, deleted
checkpoints, or a chain rewritten after its checkpoints were deleted: the witness can. Every
witnessed checkpoint must be in the database unchanged and the event it signed must still
carry the hash it signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS_HASH = "0" * 64
CHECKPOINT_DOMAIN = b"artifact-audit-checkpoint-v1\n"
EVENT_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_email",
    "ip_address",
    "session_ref",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "details",
)
CHECKPOINT_FIELDS = ("number", "event_seq", "event_hash", "created_at", "prev_signature", "key_id")


def canonical(fields: Mapping[str, Any], names: Iterable[str]) -> bytes:
    payload = {name: fields[name] for name in names}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        prev_hash.encode("ascii") + b"\n" + canonical(event, EVENT_FIELDS)
    ).hexdigest()


def checkpoint_message(checkpoint: Mapping[str, Any]) -> bytes:
    return CHECKPOINT_DOMAIN + canonical(checkpoint, CHECKPOINT_FIELDS)


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class Result:
    ok: bool
    events: int
    checkpoints: int
    first_bad_seq: int | None = None
    message: str = ""

    def line(self) -> str:
        if self.ok and self.events == 0:
            return f"ok: the audit trail is empty, nothing to verify yet ({self.message})"
        if self.ok:
            return f"ok {self.events} events ({self.checkpoints} checkpoints, {self.message})"
        if self.first_bad_seq is None:
            return f"FAILED: {self.message}"
        return f"FAILED at seq {self.first_bad_seq}: {self.message}"


def _checkpoint_problems(
    checkpoints: list[Mapping[str, Any]], public_key: Any
) -> tuple[int, str] | None:
    """The first broken checkpoint as (event seq, reason), or None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    expected_key = key_id(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    prev_signature, prev_seq = "", 0
    for number, cp in enumerate(checkpoints, start=1):
        seq = int(cp["event_seq"])
        if cp["number"] != number:
            return seq, f"checkpoint #{number} is missing (found #{cp['number']})"
        if cp["key_id"] != expected_key:
            return seq, f"checkpoint #{number} was signed by another key ({cp['key_id']})"
        try:
            public_key.verify(base64.b64decode(cp["signature"]), checkpoint_message(cp))
        except (InvalidSignature, ValueError):
            return seq, f"checkpoint #{number} has an invalid signature"
        if cp["prev_signature"] != prev_signature:
            return seq, f"checkpoint #{number} does not carry the signature of #{number - 1}"
        if seq <= prev_seq:
            return seq, f"checkpoint #{number} goes backwards (seq {seq} after {prev_seq})"
        prev_signature, prev_seq = cp["signature"], seq
    return None


def verify(
    events: Iterable[Mapping[str, Any]],
    checkpoints: Iterable[Mapping[str, Any]],
    public_key: Any,
    witness: Iterable[Mapping[str, Any]] | None = None,
) -> Result:
    """Walk the events in the order given (ascending seq) against the checkpoints, then compare
    with the ``witness`` (the checkpoints written outside the database) when there is one."""
    cps = sorted(checkpoints, key=lambda cp: int(cp["number"]))
    witnessed = None if witness is None else list(witness)
    wanted = {int(w["event_seq"]) for w in witnessed or ()}
    hashes: dict[int, str] = {}
    cp_problem = _checkpoint_problems(cps, public_key)
    stop_at = cp_problem[0] if cp_problem else None
    signed = {int(cp["event_seq"]): cp for cp in cps}
    expected, prev, last_cp_seq = 1, GENESIS_HASH, 0
    for event in events:
        seq = int(event["seq"])
        if stop_at is not None and expected >= stop_at:
            break
        problem = _event_problem(event, seq, expected, prev, signed, last_cp_seq)
        if problem:
            return Result(False, expected - 1, len(cps), problem[0], problem[1])
        prev = str(event["hash"])
        if seq in wanted:
            hashes[seq] = prev
        if seq in signed:
            last_cp_seq = seq
        expected += 1
    last = expected - 1
    if cp_problem:
        return Result(False, last, len(cps), cp_problem[0], cp_problem[1])
    if cps and int(cps[-1]["event_seq"]) > last:
        return Result(
            False,
            last,
            len(cps),
            last + 1,
            f"events {last + 1} to {cps[-1]['event_seq']} are missing: checkpoint "
            f"#{cps[-1]['number']} signed seq {cps[-1]['event_seq']} but the trail "
            f"ends at {last}",
        )
    tail = f"signed up to seq {cps[-1]['event_seq']}" if cps else "none signed yet"
    if witnessed is None:
        return Result(True, last, len(cps), None, tail)
    return _compare_witness(last, cps, witnessed, hashes, public_key, tail)


def _witness_record_problem(
    witnessed: list[Mapping[str, Any]], public_key: Any
) -> tuple[int, str] | list[Mapping[str, Any]]:
    """The witness's checkpoints by number (each signed by our key, no two differing for one
    number), or the first problem."""
    from cryptography.exceptions import InvalidSignature

    by_number: dict[int, Mapping[str, Any]] = {}
    for record in witnessed:
        number, seq = int(record["number"]), int(record["event_seq"])
        try:
            public_key.verify(base64.b64decode(record["signature"]), checkpoint_message(record))
        except (InvalidSignature, ValueError):
            return seq, f"the witness's checkpoint #{number} has an invalid signature"
        earlier = by_number.get(number)
        if earlier is not None and earlier["signature"] != record["signature"]:
            return seq, f"the witness holds two different checkpoints #{number}"
        by_number[number] = record
    return [by_number[n] for n in sorted(by_number)]


def _compare_witness(
    last: int,
    cps: list[Mapping[str, Any]],
    witnessed: list[Mapping[str, Any]],
    hashes: Mapping[int, str],
    public_key: Any,
    tail: str,
) -> Result:
    """Every witnessed checkpoint is in the database unchanged, and so is the event it signed;
    the first that is not is named."""
    checked = _witness_record_problem(witnessed, public_key)
    if isinstance(checked, tuple):
        return Result(False, last, len(cps), checked[0], checked[1])
    in_db = {int(cp["number"]): cp for cp in cps}
    previous_seq = 0
    for record in checked:
        number, seq = int(record["number"]), int(record["event_seq"])
        if seq > last:
            return Result(
                False,
                last,
                len(cps),
                last + 1,
                f"events {last + 1} to {seq} are missing: the witness's checkpoint #{number} "
                f"signed seq {seq} but "
                + (f"the trail ends at {last}" if last else "there are no events"),
            )
        if hashes.get(seq) != record["event_hash"]:
            return Result(
                False,
                last,
                len(cps),
                previous_seq + 1,
                f"event {seq} differs from the witness's checkpoint #{number}: the chain was "
                f"rewritten from some event in seq {previous_seq + 1} to {seq} on",
            )
        stored = in_db.get(number)
        if stored is None:
            return Result(
                False,
                last,
                len(cps),
                seq,
                f"checkpoint #{number} (signing seq {seq}) is in the witness but missing from "
                "the database",
            )
        if any(stored[name] != record[name] for name in (*CHECKPOINT_FIELDS, "signature")):
            return Result(
                False, last, len(cps), seq, f"checkpoint #{number} differs from the witness's"
            )
        previous_seq = seq
    unwitnessed = sorted(set(in_db) - {int(r["number"]) for r in checked})
    note = f"witnessed up to checkpoint #{checked[-1]['number']}" if checked else "none witnessed"
    if unwitnessed:
        note += f"; not in the witness: checkpoint #{unwitnessed[0]}" + (
            f" to #{unwitnessed[-1]}" if len(unwitnessed) > 1 else ""
        )
    return Result(True, last, len(cps), None, f"{tail}, {note}")


def _event_problem(
    event: Mapping[str, Any],
    seq: int,
    expected: int,
    prev: str,
    signed: Mapping[int, Mapping[str, Any]],
    last_cp_seq: int,
) -> tuple[int, str] | None:
    if seq > expected:
        return expected, f"event {expected} is missing (next is {seq})"
    if seq < expected:
        return expected, f"events are out of order (seq {seq} where {expected} belongs)"
    if event["prev_hash"] != prev:
        return seq, f"event {seq} does not link to event {seq - 1} (prev_hash differs)"
    if event_hash(prev, event) != event["hash"]:
        return seq, f"event {seq} was altered (its hash does not match its content)"
    cp = signed.get(seq)
    if cp is not None and cp["event_hash"] != event["hash"]:
        return seq, (
            f"event {seq} differs from signed checkpoint #{cp['number']}: the chain "
            f"after seq {last_cp_seq} was rewritten"
        )
    return None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def verify_export(directory: Path) -> Result:
    """Verify an export made by ``flask audit export`` (events.jsonl, checkpoints.jsonl,
    public_key.pem, and witness.jsonl when the witness could be copied)."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public_key = load_pem_public_key((directory / "public_key.pem").read_bytes())
    witness = directory / "witness.jsonl"
    return verify(
        _read_jsonl(directory / "events.jsonl"),
        _read_jsonl(directory / "checkpoints.jsonl"),
        public_key,
        _read_jsonl(witness) if witness.exists() else None,
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: python {argv[0]} EXPORT_DIR", file=sys.stderr)
        return 2
    result = verify_export(Path(argv[1]))
    print(result.line())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
