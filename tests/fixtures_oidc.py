"""A real OpenID provider on loopback: node's `oidc-provider` (tests/idp/oidc/provider.js, at
the version its package-lock.json pins, installed by `make test` with `npm ci`).

CI sets SSO_REQUIRED=1: there a missing Node.js or oidc-provider fails the tests instead of
skipping them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

IDP_DIR = Path(__file__).resolve().parent / "idp" / "oidc"
REQUIRED = os.environ.get("SSO_REQUIRED") == "1"
CLIENT_ID = "artifact"
CLIENT_SECRET = "artifact-test-secret-" + "x" * 12


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason}; SSO_REQUIRED=1 says the SSO tests must run", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def sign_in_at_idp(
        self,
        browser: requests.Session,
        authorize_url: str,
        *,
        email: str,
        name: str = "",
        groups: str = "",
        mfa: bool = False,
        email_verified: bool = True,
    ) -> str:
        """Follow the authorization request to the provider's sign-in page, sign in there as a
        person would, and return the URL the provider sends the browser back to (ours)."""
        response = browser.get(authorize_url, allow_redirects=False, timeout=10)
        while response.is_redirect and response.headers["Location"].startswith(("/", self.issuer)):
            target = urljoin(response.url, response.headers["Location"])
            response = browser.get(target, allow_redirects=False, timeout=10)
        assert response.status_code == 200, response.text
        assert "Test IdP" in response.text
        form = {
            "login": email,
            "name": name,
            "groups": groups,
            "mfa": "1" if mfa else "",
            "email_verified": "1" if email_verified else "0",
        }
        response = browser.post(response.url, data=form, allow_redirects=False, timeout=10)
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(self.issuer):
                return target
            response = browser.get(target, allow_redirects=False, timeout=10)
        raise AssertionError(f"the provider did not send the browser back: {response.text}")


@contextmanager
def running_oidc_provider(
    redirect_uris: list[str], post_logout_uris: list[str]
) -> Iterator[OidcProvider]:
    """Start provider.js on a free loopback port; stop it on exit."""
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js is absent, so the OpenID Connect tests are skipped")
    if not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
        unavailable(
            "oidc-provider is not installed (make test runs `npm ci --prefix tests/idp/oidc`)"
        )
    port = free_port()
    env = {
        **os.environ,
        "IDP_PORT": str(port),
        "IDP_REDIRECT_URIS": ",".join(redirect_uris),
        "IDP_POST_LOGOUT_URIS": ",".join(post_logout_uris),
        "IDP_CLIENT_SECRET": CLIENT_SECRET,
    }
    process = subprocess.Popen(  # noqa: S603 - our own script, by absolute path
        [str(node), str(IDP_DIR / "provider.js")],
        cwd=IDP_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    watcher = threading.Thread()
    try:
        assert process.stdout is not None
        ready = threading.Event()
        lines: list[str] = []

        def watch() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("listening "):
                    ready.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        if not ready.wait(20):
            raise RuntimeError(f"the OpenID provider did not start: {''.join(lines)}")
        yield OidcProvider(issuer=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if watcher.ident is not None:  # started: it ends at the output's end
            watcher.join(5)
        if process.stdout is not None:
            process.stdout.close()


def provider_body(idp: Any, **fields: Any) -> dict[str, Any]:
    """The admin API body registering ``idp`` (an OidcProvider or a test issuer)."""
    return {
        "protocol": "oidc",
        "name": "Acme Login",
        "organization": "Acme Health",
        "domains": ["acme.test"],
        "issuer": idp.issuer,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
        **fields,
    }
