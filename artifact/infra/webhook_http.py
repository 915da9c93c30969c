"""Outgoing webhooks over HTTP, signed as the Standard Webhooks specification says.

- ``new_secret()``: ``whsec_`` + base64 of 32 random bytes; the key is the decoded part.
- ``signature(secret, msg_id, timestamp, body)``: ``v1,`` + base64 HMAC-SHA256 of
  ``{msg_id}.{timestamp}.{body}``.
- ``check_url(url, ...)``: the rules for a receiver's URL (https; http only to loopback outside
  production; no credentials); ``resolve_public(host, port)``: the addresses a host name
  resolves to, refused if any is not a public unicast address (no SSRF into private networks).
- ``post(...)``: one POST, no redirects followed, connected to the address that was checked
  (the Host header and TLS server name stay the URL's host), so a DNS answer that changes
  between the check and the connection cannot redirect it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
URL_MAX = 2000


class TargetRefused(ValueError):
    """The URL or the address it resolves to may not receive webhooks (the message says why)."""


@dataclass(frozen=True)
class Outcome:
    """What one try got: a status code (None when no answer came), its duration, an error."""

    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: its base64-decoded part."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("not a whsec_ secret")
    return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "Artifact-Webhooks/1",
    }


def is_public(address: str) -> bool:
    """A global unicast address (not private, loopback, link-local, shared, reserved,
    multicast or unspecified; an IPv4-mapped IPv6 address is judged as its IPv4 address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, production: bool) -> None:
    """Raises TargetRefused unless ``url`` may receive webhooks: https (http only to a loopback
    host, and never in production), a host, no user name or password, at most 2,000
    characters. In production a literal address must be public."""
    if len(url) > URL_MAX:
        raise TargetRefused(f"the URL is longer than {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number in range raises here
    except ValueError as error:
        raise TargetRefused("the URL cannot be read") from error
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("the URL must start with https://")
    if not parts.hostname:
        raise TargetRefused("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry a user name or password")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise TargetRefused("the URL must not hold spaces or control characters")
    host = parts.hostname.lower()
    if parts.scheme == "http":
        if production:
            raise TargetRefused("the URL must use https:// in production")
        if host not in LOOPBACK_NAMES:
            raise TargetRefused(
                "http:// is allowed only to a loopback host (127.0.0.1, ::1, localhost)"
            )
    if production:
        literal = literal_address(host)
        if literal is not None and not is_public(literal):
            raise TargetRefused("the URL points at a private, loopback or link-local address")
        if host == "localhost" or host.endswith(".localhost"):
            raise TargetRefused("the URL points at a loopback host")


def literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve_public(host: str, port: int) -> str:
    """The first address ``host`` resolves to; raises TargetRefused when it does not resolve or
    when any of its addresses is not public (a name that also points inward is refused)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"the host {host} does not resolve") from error
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"the host {host} does not resolve")
    for address in addresses:
        if not is_public(address):
            raise TargetRefused(f"the host {host} resolves to a non-public address")
    return addresses[0]


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    production: bool,
) -> Outcome:
    """One POST; never raises for what the network or the receiver does (the Outcome says).
    In production the host is resolved here, refused if not public, and the connection goes
    to that very address."""
    started = time.monotonic()
    try:
        check_url(url, production=production)
        target, extensions, headers = _pinned(url, headers) if production else (url, {}, headers)
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST", target, content=body, headers=headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            response.close()  # the body is not read: the status says it all
        return Outcome(response.status_code, _since(started), None)
    except TargetRefused as error:
        return Outcome(None, _since(started), f"refused: {error}")
    except httpx.TimeoutException:
        return Outcome(None, _since(started), f"no answer within {timeout:g} s")
    except httpx.HTTPError as error:
        return Outcome(None, _since(started), f"{type(error).__name__}: {error}"[:300])


def _pinned(url: str, headers: dict[str, str]) -> tuple[str, dict[str, object], dict[str, str]]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = literal_address(host)
    address = literal if literal is not None else resolve_public(host, port)
    if literal is not None and not is_public(literal):
        raise TargetRefused("the URL points at a non-public address")
    shown = f"[{address}]" if ":" in address else address
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions: dict[str, object] = {} if literal is not None else {"sni_hostname": host}
    return target, extensions, {**headers, "host": host_header}


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
