"""A real SAML 2.0 identity provider on loopback for the tests: pysaml2's IdP
(``saml2.server.Server``, signing with Debian's xmlsec1) behind a small WSGI app, with a
self-signed RSA key and certificate made at test time.

It serves its metadata (``/idp/metadata``), takes AuthnRequests at ``/idp/sso`` (HTTP-Redirect
binding), shows a login form (the browser test fills it) and answers with an auto-posting form
that carries the signed ``SAMLResponse`` to the service provider's assertion consumer service.
Tests that need a hostile or unusual answer ask :meth:`SamlIdP.answer` for it directly: the
XML is still made and signed by pysaml2's IdP, only its parameters differ (which audience,
how long it lives, whether the assertion is signed, which AuthnContext)."""

from __future__ import annotations

import datetime as dt
import html
import secrets
import shutil
import threading
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT
from saml2.assertion import Policy
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

PASSWORD_AC = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MFA_AC = "https://refeds.org/profile/mfa"


def self_signed(directory: Path, common_name: str) -> tuple[Path, Path]:
    """An RSA-2048 key and a self-signed certificate for it, as PEM files in ``directory``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "idp.key", directory / "idp.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@dataclass
class IdpUser:
    password: str
    email: str
    name: str
    groups: list[str] = field(default_factory=list)
    subject: str = ""


@dataclass
class Answer:
    """What the IdP sends the browser back with: where to post, and what."""

    acs_url: str
    saml_response: str  # base64, as posted
    relay_state: str
    xml: str


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class SamlIdP:
    """pysaml2's IdP on ``127.0.0.1:port``; add service providers with :meth:`trust_sp`."""

    def __init__(self, directory: Path, entity_id: str | None = None) -> None:
        self.directory = directory
        self.key_file, self.cert_file = self_signed(directory, "Artifact test IdP")
        self.users: dict[str, IdpUser] = {}
        self._pending: dict[str, dict[str, Any]] = {}
        self._server = make_server(
            "127.0.0.1", 0, self.wsgi, server_class=_Threading, handler_class=_Quiet
        )
        # Named "localhost" while the app under test is 127.0.0.1 (or the test client's
        # "localhost" without a port): in a browser the IdP is another site, as in life, so
        # our SameSite=Lax session cookie does not come with the answer it posts.
        self.base_url = f"http://localhost:{self._server.server_port}"
        # ``entity_id``: pose as another IdP (same name, its own key: a forger's).
        self.entity_id = entity_id or self.base_url + "/idp/metadata"
        self.idp = Server(config=self._config())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _config(self) -> IdPConfig:
        conf = IdPConfig()
        conf.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "crypto_backend": "xmlsec1",
                "key_file": str(self.key_file),
                "cert_file": str(self.cert_file),
                "metadata": {},
                "service": {
                    "idp": {
                        "name": "Artifact test IdP",
                        "endpoints": {
                            "single_sign_on_service": [
                                (self.base_url + "/idp/sso", BINDING_HTTP_REDIRECT)
                            ]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "sign_assertion": True,
                        "signing_algorithm": SIG_RSA_SHA256,
                        "digest_algorithm": DIGEST_SHA256,
                        "sign_response": False,
                    }
                },
            }
        )
        return conf

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- set-up by the tests ---------------------------------------------------------------

    @property
    def metadata_xml(self) -> str:
        data = create_metadata_string(None, self.idp.config, 4, None, None, None, None, None)
        return data.decode() if isinstance(data, bytes) else str(data)

    def trust_sp(self, metadata_xml: str) -> None:
        """Know a service provider from its metadata (entity id, ACS URLs)."""
        self.idp.metadata.load("inline", metadata_xml)

    def add_user(
        self, username: str, email: str, name: str, groups: list[str] | None = None
    ) -> IdpUser:
        user = IdpUser(
            password="idp-" + secrets.token_hex(4),
            email=email,
            name=name,
            groups=list(groups or []),
            subject="subj-" + secrets.token_hex(8),
        )
        self.users[username] = user
        return user

    # -- the protocol ------------------------------------------------------------------------

    def parse_request(self, login_url: str) -> dict[str, Any]:
        """The AuthnRequest the service provider sent the browser to us with."""
        query = parse_qs(urlsplit(login_url).query)
        request = self.idp.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        message = request.message
        return {
            "id": message.id,
            "sp": message.issuer.text,
            "acs_url": message.assertion_consumer_service_url,
            "relay_state": query.get("RelayState", [""])[0],
        }

    def answer(
        self,
        login_url: str,
        user: IdpUser,
        *,
        audience: str | None = None,
        lifetime_minutes: int = 5,
        sign_assertion: bool = True,
        sign_response: bool = False,
        authn_class: str = PASSWORD_AC,
        in_response_to: str | None = None,
        destination: str | None = None,
        parsed: dict[str, Any] | None = None,
        sha1: bool = False,
    ) -> Answer:
        """A Response to the AuthnRequest in ``login_url`` for ``user``, made and signed by
        pysaml2's IdP; the keyword arguments make the unusual ones the refusal tests need."""
        req = parsed or self.parse_request(login_url)
        sp = audience or req["sp"]
        identity = {"mail": [user.email], "displayName": [user.name], "groups": user.groups}
        response = self.idp.create_authn_response(
            identity,
            in_response_to or req["id"],
            destination or req["acs_url"],
            sp,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user.subject),
            authn={"class_ref": authn_class, "authn_auth": self.entity_id},
            sign_assertion=sign_assertion,
            sign_response=sign_response,
            sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
            release_policy=Policy(
                {"default": {"lifetime": {"minutes": lifetime_minutes}}},
                self.idp.metadata,
            ),
        )
        xml = str(response)
        return Answer(
            acs_url=req["acs_url"],
            saml_response=b64encode(xml.encode()).decode(),
            relay_state=req["relay_state"],
            xml=xml,
        )

    # -- the WSGI app (what a browser meets) -----------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/idp/metadata":
            return self._send(start_response, self.metadata_xml, "application/samlmetadata+xml")
        if path == "/idp/sso" and method == "GET":
            url = self.base_url + path + "?" + environ.get("QUERY_STRING", "")
            token = secrets.token_urlsafe(16)
            self._pending[token] = {"url": url}
            return self._send(start_response, _login_form(token, ""), "text/html")
        if path == "/idp/login" and method == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
            pending = self._pending.get(form.get("token", ""))
            user = self.users.get(form.get("username", ""))
            if pending is None:
                return self._send(start_response, "unknown request", "text/plain", "400 Bad")
            if user is None or not secrets.compare_digest(user.password, form.get("password", "")):
                return self._send(
                    start_response,
                    _login_form(form["token"], "Wrong username or password."),
                    "text/html",
                )
            del self._pending[form["token"]]
            answer = self.answer(pending["url"], user)
            return self._send(start_response, _post_form(answer), "text/html")
        return self._send(start_response, "not found", "text/plain", "404 Not Found")

    @staticmethod
    def _send(
        start_response: Any, body: str, ctype: str, status: str = "200 OK"
    ) -> Iterator[bytes]:
        data = body.encode()
        start_response(
            status,
            [("Content-Type", f"{ctype}; charset=utf-8"), ("Content-Length", str(len(data)))],
        )
        return iter([data])


def _login_form(token: str, error: str) -> str:
    message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    return (
        "<!doctype html><html lang=en><title>Test IdP sign-in</title><h1>Test IdP</h1>"
        f"{message}<form method=post action=/idp/login>"
        f'<input type=hidden name=token value="{html.escape(token)}">'
        "<label>Username <input name=username id=username></label>"
        "<label>Password <input type=password name=password id=password></label>"
        "<button type=submit>Sign in</button></form></html>"
    )


def _post_form(answer: Answer) -> str:
    return (
        "<!doctype html><html lang=en><title>Signing in</title>"
        '<body onload="document.forms[0].submit()">'
        f'<form method=post action="{html.escape(answer.acs_url)}">'
        f'<input type=hidden name=SAMLResponse value="{answer.saml_response}">'
        f'<input type=hidden name=RelayState value="{html.escape(answer.relay_state)}">'
        "<noscript><button type=submit>Continue</button></noscript></form></body></html>"
    )
