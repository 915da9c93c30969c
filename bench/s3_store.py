"""S3-store download throughput as a ratio to the local store (prints figures; asserts
nothing, no target yet).

The same encrypted blob is stored in the local store and in an S3-compatible bucket on
loopback (moto's server mode, a Python process: a real MinIO or S3 endpoint is faster, so this
is a floor), then read back through each store's streaming, authenticated download (ranged GETs
for S3). Uploads are timed too. Size: BENCH_S3_MB (default 32).

Set BENCH_S3_ENDPOINT (and the AWS_* credentials, BENCH_S3_BUCKET) to measure a real endpoint
such as a local MinIO instead of moto."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artifact.infra.storage import BlobStore, Keyring, s3  # noqa: E402
from artifact.infra.storage.s3store import S3BlobStore  # noqa: E402

MB = int(os.environ.get("BENCH_S3_MB", "32"))
ROUNDS = 3


def best_of(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextlib.contextmanager
def endpoint() -> Iterator[str]:
    configured = os.environ.get("BENCH_S3_ENDPOINT")
    if configured:
        yield configured
        return
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def drain(chunks: Iterator[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, endpoint() as url:
        work = Path(folder)
        plain = work / "plain.bin"
        plain.write_bytes(secrets.token_bytes(MB * 1024 * 1024))
        ring = Keyring(work / "keys" / "keyring.json")
        ring.create()
        local = BlobStore(work / "blobs", ring)
        bucket = os.environ.get("BENCH_S3_BUCKET") or f"artifact-bench-{secrets.token_hex(4)}"
        client = s3.client(url)
        if not os.environ.get("BENCH_S3_BUCKET"):
            client.create_bucket(Bucket=bucket)
        remote = S3BlobStore(client, s3.parse(f"s3://{bucket}/bench"), ring)

        def put(store: BlobStore) -> str:
            with plain.open("rb") as source:
                return store.put(source).id

        local_put = best_of(lambda: put(local), 1)
        remote_put = best_of(lambda: put(remote), 1)
        local_id, remote_id = put(local), put(remote)
        local_get = best_of(lambda: drain(local.read_chunks(local_id)))
        remote_get = best_of(lambda: drain(remote.read_chunks(remote_id)))
        # the same ranged GETs without decrypting: what the endpoint itself gives
        raw_get = best_of(lambda: remote.ciphertext_sha256(remote_id))
        where = "moto on loopback" if not os.environ.get("BENCH_S3_ENDPOINT") else url
        print(f"S3 store ({where}) against the local store, {MB} MB blob, best of {ROUNDS}:")
        print(f"  upload    local {MB / local_put:8.1f} MB/s   S3 {MB / remote_put:8.1f} MB/s")
        print(f"  download  local {MB / local_get:8.1f} MB/s   S3 {MB / remote_get:8.1f} MB/s")
        print(f"  ranged GETs alone (hashed, not decrypted) {MB / raw_get:8.1f} MB/s")
        print(f"  S3-store download throughput: {local_get / remote_get:.2f}x the local store's")
        print(f"  (the S3 store reaches {raw_get / remote_get:.2f}x of what its endpoint serves)")


if __name__ == "__main__":
    main()
