"""What the S3-compatible pieces share (the blob store, the audit witness): parsing
``s3://bucket/prefix``, one boto3 client per endpoint with short timeouts, and turning the
client's failures into our errors. Endpoint, region and credentials: ``ARTIFACT_S3_ENDPOINT_URL``
(MinIO, Ceph; none for AWS S3) and boto3's usual chain (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, a profile or an instance role)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from artifact.infra.storage.errors import StorageUnavailable

# A store that does not take a conditional write (older Ceph, some appliances) says so.
NOT_IMPLEMENTED = frozenset({"NotImplemented", "501"})
# What a caller acts on: no such object, or a conditional request whose condition failed.
PASSED_ON = frozenset({"NoSuchKey", "404", "NotFound", "PreconditionFailed", "412"})
_clients: dict[str | None, Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Location:
    bucket: str
    prefix: str  # "" or ends with "/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse(url: str) -> Location:
    """``s3://bucket`` or ``s3://bucket/some/prefix``. Raises ValueError."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket or not all(c.isalnum() or c in "-._" for c in bucket):
        raise ValueError(f"no valid bucket name in {url!r}")
    prefix = prefix.strip("/")
    if ".." in prefix.split("/"):
        raise ValueError(f"the prefix of {url!r} must not contain '..'")
    return Location(bucket, f"{prefix}/" if prefix else "")


def client(endpoint_url: str | None) -> Any:
    """A boto3 S3 client for ``endpoint_url`` (None: AWS), shared by the threads of a process.
    Timeouts are short, so an unreachable store answers 503 quickly rather than hanging a
    worker."""
    with _lock:
        found = _clients.get(endpoint_url)
        if found is None:
            config = Config(
                connect_timeout=3,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                signature_version="s3v4",
            )
            found = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)
            _clients[endpoint_url] = found
        return found


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def answering(what: str) -> Iterator[None]:
    """Connection failures and refusals of the store raise StorageUnavailable naming ``what``
    (the bucket); a ClientError the caller can act on (404, 412) passes through."""
    try:
        yield
    except ClientError as error:
        if error_code(error) in PASSED_ON:
            raise
        raise StorageUnavailable(
            f"the object store refused the request for {what} ({error_code(error) or 'error'})",
            error_code(error),
        ) from None
    except BotoCoreError as error:
        raise StorageUnavailable(
            f"the object store for {what} does not answer ({type(error).__name__})"
        ) from None


_PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "every AWS account",
}
_BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def privacy_problems(s3_client: Any, bucket: str) -> list[str]:
    """What makes ``bucket`` less private than S3's default: an ACL granting everyone (or every
    AWS account) anything, a bucket policy that allows everyone, Block Public Access off or
    unset (where the store reports it). Raises StorageUnavailable when the bucket cannot be
    reached at all."""
    problems = []
    with answering(bucket):
        s3_client.head_bucket(Bucket=bucket)
    acl = _ask(s3_client.get_bucket_acl, bucket)
    for grant in (acl or {}).get("Grants", []):
        who = _PUBLIC_GROUPS.get(str(grant.get("Grantee", {}).get("URI", "")))
        if who:
            problems.append(
                f"the bucket {bucket}'s ACL grants {grant.get('Permission')} to {who}; "
                "remove the grant (objects are never served from the bucket directly)"
            )
    policy = _ask(s3_client.get_bucket_policy, bucket, "NoSuchBucketPolicy")
    if policy and policy is not _MISSING and _allows_everyone(str(policy.get("Policy") or "")):
        problems.append(
            f'the bucket {bucket}\'s policy allows everyone (Principal "*"); remove that statement'
        )
    block = _ask(s3_client.get_public_access_block, bucket, "NoSuchPublicAccessBlockConfiguration")
    if block is _MISSING:
        problems.append(
            f"Block Public Access is not set on the bucket {bucket}; turn all four settings on"
        )
    elif block:
        settings = block.get("PublicAccessBlockConfiguration", {})
        off = [name for name in _BLOCK_SETTINGS if not settings.get(name)]
        if off:
            problems.append(
                f"Block Public Access on the bucket {bucket} has {', '.join(off)} off; "
                "turn all four on"
            )
    return problems


_MISSING: dict[str, Any] = {"missing": True}


def _ask(call: Any, bucket: str, absent: str = "") -> dict[str, Any] | None:
    """The answer; ``_MISSING`` when the store says the setting is absent (``absent``), None
    when the store does not report it (MinIO answers NotImplemented for some)."""
    try:
        answer: dict[str, Any] = call(Bucket=bucket)
    except ClientError as error:
        return _MISSING if absent and error_code(error) == absent else None
    except BotoCoreError as error:
        raise StorageUnavailable(
            f"the object store for {bucket} does not answer ({type(error).__name__})"
        ) from None
    return answer


def _allows_everyone(document: str) -> bool:
    try:
        statements = json.loads(document).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if statement.get("Condition"):
            continue  # narrowed (a VPC, an account, an address): not everyone
        if principal == "*" or (
            isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))
        ):
            return True
    return False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
