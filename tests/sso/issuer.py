"""A second, tiny OpenID issuer on loopback that mints the ID tokens a certified provider never
would (another audience, expired, signed by a stranger's key, an old nonce) and rotates its
signing key on demand. It is a real HTTP counterpart (discovery, JWKS, authorization and token
endpoints, PKCE checked), not a stand-in for any part of Artifact."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

CLIENT_ID = "artifact-test-client"
CLIENT_SECRET = "issuer-secret-" + "y" * 16


@dataclass
class BadIssuer:
    issuer: str = ""
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", {"kid": "k1"}))
    # What the next ID token does wrong: None, "audience", "expired", "signature", "old_nonce"
    # ("reuse": the same token again).
    mode: str | None = None
    email: str = "tess@acme.test"
    jwks_fetches: int = 0
    nonces: list[str] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    last_token: str | None = None
    first_challenge: str = ""

    def rotate(self, kid: str) -> None:
        """A new signing key (the old one leaves the JWKS)."""
        self.key = ECKey.generate_key("P-256", {"kid": kid})

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "tess-subject",
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": self.email,
            "email_verified": True,
            "name": "Tess Issuer",
        }
        key = self.key
        if self.mode == "audience":
            claims["aud"] = "someone-else"
        elif self.mode == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif self.mode == "signature":  # same kid, a stranger's key
            key = ECKey.generate_key("P-256", {"kid": self.key.kid})
        elif self.mode == "old_nonce" and self.nonces:
            claims["nonce"] = self.nonces[0]
        if self.mode == "reuse" and self.last_token:
            return self.last_token
        header = {"alg": "ES256", "kid": key.kid}
        token = jwt.encode(header, claims, key)
        self.last_token = token
        return token


def _handler(state: BadIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                base = state.issuer
                self._json(
                    {
                        "issuer": base,
                        "authorization_endpoint": base + "/authorize",
                        "token_endpoint": base + "/token",
                        "jwks_uri": base + "/jwks",
                        "response_types_supported": ["code"],
                        "id_token_signing_alg_values_supported": ["ES256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_post"],
                    }
                )
            elif url.path == "/jwks":
                state.jwks_fetches += 1
                self._json(KeySet([state.key]).as_dict(private=False))
            elif url.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                code = secrets.token_urlsafe(16)
                state.codes[code] = query
                state.nonces.append(query["nonce"])
                state.first_challenge = state.first_challenge or query["code_challenge"]
                target = (
                    query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            request = state.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if (
                request is None
                or form.get("client_secret") != state.client_secret
                or request.get("code_challenge_method") != "S256"
                or request.get("code_challenge") != challenge
            ):
                self._json({"error": "invalid_grant"}, 400)
                return
            self._json(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": state.id_token(request["nonce"]),
                }
            )

    return Handler


@contextmanager
def running_bad_issuer(redirect_uri: str) -> Iterator[BadIssuer]:
    state = BadIssuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
