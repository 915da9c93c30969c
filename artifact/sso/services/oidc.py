"""OpenID Connect relying party: authorization code flow with PKCE (S256), ``state`` and
``nonce``, the ID token's signature and claims verified (``iss``, ``aud``, ``azp``, ``exp``,
``iat``, ``nonce``), each nonce accepted once.

Authlib's OAuth 2.0 client builds the authorization request and redeems the code; the ID token
is verified with joserfc (the JOSE library Authlib itself moved to). The provider's discovery
document and its JWKS are cached per issuer; a token signed with a key id the cached JWKS does
not hold makes one fresh fetch of the JWKS (key rotation), at most once a minute per issuer."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from artifact.models import IdentityProvider
from artifact.models.base import DbSession
from artifact.sso.services import replay

HTTP_TIMEOUT = 10  # seconds, every request to a provider
METADATA_TTL = 3600  # seconds a discovery document or JWKS is kept
JWKS_REFETCH_MIN = 60  # seconds between two fetches of a JWKS for an unknown key id
CLOCK_LEEWAY = 60  # seconds of clock skew allowed on exp and iat
MAX_TOKEN_AGE = 600  # an ID token issued longer ago than this is refused
SCOPES = "openid email profile"
# Asymmetric signatures only: never "none", never a secret the client also holds.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")


class OidcError(Exception):
    """The provider's answer is refused: ``reason`` is a short code (for the audit trail),
    the message says what was wrong (it never holds a token)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True)
class Flow:
    """What the browser's session keeps between the redirect and the callback."""

    provider_id: str
    state: str
    nonce: str
    code_verifier: str
    started: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider_id,
            "state": self.state,
            "nonce": self.nonce,
            "verifier": self.code_verifier,
            "started": self.started,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Flow | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                str(data["provider"]),
                str(data["state"]),
                str(data["nonce"]),
                str(data["verifier"]),
                float(data["started"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


_lock = threading.Lock()
_metadata: dict[str, tuple[float, Metadata]] = {}
_jwks: dict[str, tuple[float, KeySet, bool]] = {}  # fetched at, keys, for an unknown kid


def forget_cached() -> None:
    """Drop every cached discovery document and JWKS (tests; an admin's changed provider)."""
    with _lock:
        _metadata.clear()
        _jwks.clear()


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise OidcError(
            "provider_unreachable", f"the provider's {what} could not be read"
        ) from error
    if not isinstance(body, dict):
        raise OidcError("provider_unreachable", f"the provider's {what} is not a JSON object")
    return body


def metadata(issuer: str) -> Metadata:
    """The provider's discovery document (cached); its ``issuer`` must be the one configured."""
    now = time.monotonic()
    with _lock:
        cached = _metadata.get(issuer)
    if cached is not None and now - cached[0] < METADATA_TTL:
        return cached[1]
    doc = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document")
    if str(doc.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise OidcError("issuer_mismatch", "the discovery document names another issuer")
    try:
        found = Metadata(
            issuer=str(doc["issuer"]),
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            userinfo_endpoint=doc.get("userinfo_endpoint"),
            end_session_endpoint=doc.get("end_session_endpoint"),
            token_auth_methods=tuple(
                doc.get("token_endpoint_auth_methods_supported") or ("client_secret_basic",)
            ),
        )
    except KeyError as error:
        raise OidcError("provider_unreachable", f"the discovery document lacks {error}") from None
    with _lock:
        _metadata[issuer] = (now, found)
    return found


def _fetch_jwks(meta: Metadata, *, for_unknown_kid: bool = False) -> KeySet:
    try:
        keys = KeySet.import_key_set(_get_json(meta.jwks_uri, "JWKS"))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as error:
        raise OidcError("provider_unreachable", "the provider's JWKS cannot be read") from error
    with _lock:
        _jwks[meta.issuer] = (time.monotonic(), keys, for_unknown_kid)
    return keys


def _key_for(meta: Metadata, kid: str | None) -> KeySet:
    """The provider's keys, holding ``kid``: fetched again once if the cached set lacks it (at
    most once a minute: a stream of tokens with made-up key ids cannot hammer the provider)."""
    now = time.monotonic()
    with _lock:
        cached = _jwks.get(meta.issuer)
    if cached is None or now - cached[0] >= METADATA_TTL:
        return _fetch_jwks(meta)
    fetched_at, keys, for_unknown_kid = cached
    if kid is None or any(k.kid == kid for k in keys.keys):
        return keys
    if for_unknown_kid and now - fetched_at < JWKS_REFETCH_MIN:
        return keys
    return _fetch_jwks(meta, for_unknown_kid=True)


def begin(
    provider: IdentityProvider, client_secret: str | None, redirect_uri: str
) -> tuple[str, Flow]:
    """The provider's authorization URL for a new sign-in, and the flow to keep."""
    meta = metadata(_issuer(provider))
    flow = Flow(
        provider_id=provider.id,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        started=time.time(),
    )
    client = _client(provider, client_secret, redirect_uri, meta)
    url, _state = client.create_authorization_url(
        meta.authorization_endpoint,
        state=flow.state,
        nonce=flow.nonce,
        code_verifier=flow.code_verifier,
    )
    return str(url), flow


def _issuer(provider: IdentityProvider) -> str:
    if not provider.issuer or not provider.client_id:
        raise OidcError("misconfigured", "this provider has no issuer or client id")
    return provider.issuer


def _client(
    provider: IdentityProvider, client_secret: str | None, redirect_uri: str, meta: Metadata
) -> OAuth2Session:
    method = "none"
    if client_secret is not None:
        method = (
            "client_secret_basic"
            if "client_secret_basic" in meta.token_auth_methods
            else "client_secret_post"
        )
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=client_secret,
        token_endpoint_auth_method=method,
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=HTTP_TIMEOUT,
    )


def finish(
    db: DbSession,
    provider: IdentityProvider,
    client_secret: str | None,
    redirect_uri: str,
    flow: Flow,
    code: str,
) -> dict[str, Any]:
    """Redeem the code (with the PKCE verifier), verify the ID token, spend its nonce, and
    return the claims (the ID token's, completed from the userinfo endpoint for the same
    subject). Raises OidcError."""
    meta = metadata(_issuer(provider))
    client = _client(provider, client_secret, redirect_uri, meta)
    try:
        token = client.fetch_token(meta.token_endpoint, code=code, code_verifier=flow.code_verifier)
    except Exception as error:  # noqa: BLE001 - Authlib raises its own errors and requests'
        raise OidcError("token_refused", "the provider did not redeem the code") from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("no_id_token", "the provider's answer holds no ID token")
    claims = verify_id_token(id_token, provider=provider, meta=meta, nonce=flow.nonce)
    if not replay.first_use(
        db, provider, "nonce", flow.nonce, datetime.fromtimestamp(int(claims["exp"]), UTC)
    ):
        raise OidcError("nonce_replayed", "this sign-in's nonce was already used")
    access_token = token.get("access_token")
    if meta.userinfo_endpoint and isinstance(access_token, str) and "email" not in claims:
        claims = {**_userinfo(meta.userinfo_endpoint, access_token, claims["sub"]), **claims}
    return claims


def _userinfo(url: str, access_token: str, subject: str) -> dict[str, Any]:
    try:
        response = requests.get(
            url, timeout=HTTP_TIMEOUT, headers={"Authorization": f"Bearer {access_token}"}
        )
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError) as error:
        raise OidcError(
            "provider_unreachable", "the provider's userinfo could not be read"
        ) from error
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise OidcError("userinfo_mismatch", "the userinfo answer is about another subject")
    return info


def verify_id_token(
    id_token: str,
    *,
    provider: IdentityProvider,
    meta: Metadata,
    nonce: str,
    now: int | None = None,
) -> dict[str, Any]:
    """The ID token's claims once its signature (by a key of the provider's JWKS) and its
    claims check out. Raises OidcError."""
    try:
        header = jws.extract_compact(id_token.encode()).protected
    except (JoseError, ValueError) as error:
        raise OidcError("bad_id_token", "the ID token cannot be read") from error
    if header.get("alg") not in ALGORITHMS:
        raise OidcError("bad_signature", "the ID token is not signed with an allowed algorithm")
    keys = _key_for(meta, header.get("kid"))
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError) as error:
        raise OidcError("bad_signature", "the ID token's signature does not verify") from error
    claims = dict(token.claims)
    current = int(time.time()) if now is None else now
    registry = JWTClaimsRegistry(
        now=current,
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": meta.issuer},
        sub={"essential": True},
        aud={"essential": True, "value": provider.client_id or ""},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        reason = {"iss": "wrong_issuer", "aud": "wrong_audience", "nonce": "nonce_mismatch"}
        claim = getattr(error, "claim", "") or ""
        code = reason.get(claim, "expired" if claim in ("exp", "iat") else "bad_claims")
        raise OidcError(code, f"the ID token's {claim or 'claims'} did not check out") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise OidcError("wrong_audience", "the ID token was issued to another party (azp)")
    if int(claims["iat"]) < current - MAX_TOKEN_AGE - CLOCK_LEEWAY:
        raise OidcError("expired", "the ID token was issued too long ago")
    return claims


def assertion_of(provider: IdentityProvider, claims: dict[str, Any]) -> dict[str, Any]:
    """What ``complete_sso_sign_in`` takes, read from verified claims."""
    name = claims.get(provider.name_claim)
    groups = claims.get(provider.group_claim)
    amr = claims.get("amr")
    return {
        "subject": str(claims["sub"]),
        "email": str(claims.get("email") or ""),
        "email_verified": claims.get("email_verified") is True,
        "name": name if isinstance(name, str) else None,
        "groups": [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else [],
        "mfa": isinstance(amr, list) and "mfa" in amr,
    }


def logout_url(provider: IdentityProvider, post_logout_redirect_uri: str) -> str | None:
    """RP-initiated logout at the provider, when it offers it (from the cached discovery)."""
    try:
        meta = metadata(_issuer(provider))
    except OidcError:
        return None
    if not meta.end_session_endpoint:
        return None
    from urllib.parse import urlencode

    query = urlencode(
        {"client_id": provider.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    )
    separator = "&" if "?" in meta.end_session_endpoint else "?"
    return f"{meta.end_session_endpoint}{separator}{query}"
