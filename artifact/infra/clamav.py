"""A clamd client for the one command uploads need: INSTREAM.

Written here rather than taken from PyPI: the ``clamd`` package was last released in 2014 and
``pyclamd`` in 2017, and the protocol is a few lines (``zINSTREAM\\0``, then chunks each
prefixed by its length as a 4-byte big-endian integer, then a zero length; the answer is
``stream: OK`` or ``stream: NAME FOUND``). The address is a unix socket path or
``tcp://host:port``. Anything but a clear answer raises ScannerUnavailable, so a caller never
mistakes a scanner that is down, slow or misconfigured for a clean file.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

CHUNK = 64 * 1024
_MAX_REPLY = 4096


class ScannerUnavailable(Exception):
    """The scanner could not give a verdict (down, timed out, refused the stream)."""


@dataclass(frozen=True)
class ClamdScanner:
    address: str
    timeout: float = 30.0

    def scan(self, data: bytes) -> str | None:
        """The name of the signature ``data`` matches, or None when clean. Raises
        ScannerUnavailable."""
        reply = self._command(b"zINSTREAM\0", data)
        if reply.endswith(" FOUND"):
            return reply.removeprefix("stream:").removesuffix(" FOUND").strip() or "unknown"
        if reply == "stream: OK":
            return None
        raise ScannerUnavailable(f"clamd answered {reply[:200]!r}")

    def ping(self) -> bool:
        try:
            return self._command(b"zPING\0") == "PONG"
        except ScannerUnavailable:
            return False

    def _command(self, command: bytes, data: bytes | None = None) -> str:
        try:
            with self._connect() as conn:
                conn.sendall(command)
                if data is not None:
                    for start in range(0, len(data), CHUNK):
                        chunk = data[start : start + CHUNK]
                        conn.sendall(struct.pack(">I", len(chunk)) + chunk)
                    conn.sendall(struct.pack(">I", 0))
                return _read_reply(conn)
        except OSError as error:
            raise ScannerUnavailable(
                f"clamd at {self.address} is not reachable: {type(error).__name__}: {error}"
            ) from None

    def _connect(self) -> socket.socket:
        if self.address.startswith("tcp://"):
            parts = urlsplit(self.address)
            if not parts.hostname or not parts.port:
                raise ScannerUnavailable(f"{self.address!r} is not tcp://host:port")
            return socket.create_connection((parts.hostname, parts.port), timeout=self.timeout)
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(self.timeout)
        try:
            conn.connect(self.address)
        except OSError:
            conn.close()
            raise
        return conn


def _read_reply(conn: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < _MAX_REPLY:
        part = conn.recv(_MAX_REPLY)
        if not part:
            break
        reply += part
    if not reply.endswith(b"\0"):
        raise ScannerUnavailable("clamd closed the connection without an answer")
    return reply[:-1].decode("utf-8", "replace").strip()
