"""SAML sign-in as units of work: start an AuthnRequest (kept in the database); check the answer
to one (``artifact.sso.saml`` verifies the XML; here: which request it answers, whether it was
seen before) and keep what it says under a one-time key; finish in the browser that started it
(its session names the request). Every refusal is an audit event that survives the
rolled-back request."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, select

from artifact.audit.services import chain as audit
from artifact.infra import webhook_http
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound
from artifact.models import IdentityProvider
from artifact.models.base import DbSession, utcnow
from artifact.models.saml import SamlAuthnRequest
from artifact.sso import saml
from artifact.sso.saml import SamlAssertion, SamlRefused, SpSettings
from artifact.sso.services import providers, replay

METADATA_MAX_BYTES = 1024 * 1024
# An assertion without a NotOnOrAfter (pysaml2 then relies on the clock skew alone) is kept
# against replays this long.
DEFAULT_KEEP = timedelta(hours=1)


@dataclass(frozen=True)
class SamlSettings:
    sp: SpSettings
    request_seconds: int = 600
    metadata_ttl: int = 3600
    metadata_timeout: int = 10
    production: bool = True  # metadata URLs: https only, public addresses only


_metadata_cache: dict[str, tuple[float, str]] = {}
_metadata_lock = threading.Lock()


def forget_cached() -> None:
    """Drop the fetched IdP metadata (tests; an admin's change of URL needs none)."""
    with _metadata_lock:
        _metadata_cache.clear()


def provider_metadata(provider: IdentityProvider, settings: SamlSettings) -> str:
    """The IdP metadata of ``provider``: pasted by the admin, or fetched from its URL (kept
    ``metadata_ttl`` seconds per process, so a rotated IdP certificate is picked up).
    Raises SamlRefused("metadata") when there is none usable."""
    if provider.metadata_xml:
        return provider.metadata_xml
    url = provider.metadata_url or ""
    with _metadata_lock:
        cached = _metadata_cache.get(url)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    text = _fetch(url, settings.metadata_timeout, settings.production)
    saml.idp_entity_id(text)  # it must be IdP metadata before it is trusted
    with _metadata_lock:
        _metadata_cache[url] = (time.monotonic() + settings.metadata_ttl, text)
    return text


def _fetch(url: str, timeout: int, production: bool) -> str:
    unavailable = SamlRefused("metadata", "The identity provider's metadata is unavailable.")
    try:
        # Checked again at each fetch, as at registration: in production an https URL whose
        # host resolves to public addresses only (the connection is not pinned to the checked
        # address, as webhook tries are: the URL is an admin's, not any user's).
        webhook_http.check_url(url, production=production)
        if production:
            parts = urlsplit(url)
            webhook_http.resolve_public(parts.hostname or "", parts.port or 443)
    except webhook_http.TargetRefused as exc:
        raise unavailable from exc
    try:
        with httpx.stream(
            "GET", url, timeout=timeout, follow_redirects=False, trust_env=False
        ) as answer:
            if answer.status_code != 200:
                raise unavailable
            body = b""
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > METADATA_MAX_BYTES:
                    raise unavailable
    except httpx.HTTPError as exc:
        raise unavailable from exc
    return body.decode("utf-8", errors="replace")


def start(
    db: DbSession, caller: Caller, provider_id: str, settings: SamlSettings, relay_state: str
) -> tuple[str, str]:
    """A new AuthnRequest to the provider: its id (the browser's session keeps it too) and the
    IdP URL to send the browser to. Raises NotFound (no such SAML provider), SamlRefused
    (its metadata is unusable; recorded)."""
    provider = providers.active_provider(db, provider_id, "saml")
    try:
        request_id, url = saml.start_login(
            settings.sp, provider_metadata(provider, settings), relay_state
        )
    except SamlRefused as refusal:
        record_refusal(db, caller, provider, refusal)
        raise
    now = utcnow()
    db.execute(delete(SamlAuthnRequest).where(SamlAuthnRequest.expires_at < now))
    db.add(
        SamlAuthnRequest(
            id=request_id,
            provider_id=provider.id,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.request_seconds),
        )
    )
    db.flush()
    return request_id, url


def verify(
    db: DbSession, caller: Caller, settings: SamlSettings, posted: str
) -> tuple[IdentityProvider, SamlAssertion, str]:
    """Check a posted SAMLResponse (no session needed: it comes cross-site) and keep what its
    assertion says for the finishing step. Returns the provider, the assertion and the one-time
    key of :func:`finish`. Raises SamlRefused (recorded durably)."""
    provider: IdentityProvider | None = None
    try:
        xml = saml.decode_response(posted)
        request = _pending_request(db, saml.in_response_to(xml))
        provider = providers.active_provider(db, request.provider_id, "saml")
        metadata = provider_metadata(provider, settings)
        assertion = saml.verify_response(
            settings.sp,
            metadata,
            xml,
            request.id,
            name_attribute=provider.name_claim,
            group_attribute=provider.group_claim,
        )
        keep_until = assertion.expires_at or utcnow() + DEFAULT_KEEP
        if not replay.first_use(db, provider, "assertion", assertion.assertion_id, keep_until):
            raise SamlRefused("replayed", "This sign-in answer was already used.")
        if request.consumed_at is not None:
            raise SamlRefused("replayed", "This sign-in was already answered.")
    except NotFound as exc:
        refusal = SamlRefused("unknown_provider", "This identity provider is not set up here.")
        record_refusal(db, caller, provider, refusal)
        raise refusal from exc
    except SamlRefused as refusal:
        record_refusal(db, caller, provider, refusal)
        raise
    key = secrets.token_urlsafe(32)
    request.consumed_at = utcnow()
    request.finish_key = _digest(key)
    request.verified = {
        "subject": assertion.subject,
        "email": assertion.email,
        "name": assertion.name,
        "groups": list(assertion.groups),
        "mfa": assertion.mfa,
    }
    db.flush()
    return provider, assertion, key


@dataclass(frozen=True)
class Verified:
    """What a verified assertion said, for the sign-in."""

    subject: str
    email: str
    name: str
    groups: list[str]
    mfa: bool


def finish(
    db: DbSession, caller: Caller, key: str, started_here: list[str]
) -> tuple[IdentityProvider, Verified, str]:
    """The verified answer behind the one-time ``key``, if this browser started its sign-in
    (``started_here``: the request ids its session holds). Returns the provider, what the
    assertion said and the request id. Raises SamlRefused (recorded durably)."""
    request = db.scalar(select(SamlAuthnRequest).where(SamlAuthnRequest.finish_key == _digest(key)))
    if request is None or request.verified is None or request.expires_at <= utcnow():
        refusal = SamlRefused("unknown_request", "This sign-in is no longer valid: start again.")
        record_refusal(db, caller, None, refusal)
        raise refusal
    try:
        provider = providers.active_provider(db, request.provider_id, "saml")
    except NotFound as exc:
        refusal = SamlRefused("unknown_provider", "This identity provider is not set up here.")
        record_refusal(db, caller, None, refusal)
        raise refusal from exc
    if request.id not in started_here:
        refusal = SamlRefused(
            "other_browser", "This sign-in was started in another browser: start again here."
        )
        record_refusal(db, caller, provider, refusal)
        raise refusal
    said = request.verified
    request.finish_key = None
    request.verified = None
    db.flush()
    groups = said.get("groups")
    verified = Verified(
        subject=str(said.get("subject", "")),
        email=str(said.get("email", "")),
        name=str(said.get("name", "")),
        groups=[str(g) for g in groups] if isinstance(groups, list) else [],
        mfa=said.get("mfa") is True,
    )
    return provider, verified, request.id


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _pending_request(db: DbSession, request_id: str) -> SamlAuthnRequest:
    request = db.get(SamlAuthnRequest, request_id) if request_id else None
    if request is None or request.expires_at <= utcnow():
        raise SamlRefused(
            "unknown_request", "This answer does not match a sign-in we started (or it expired)."
        )
    return request


def record_refusal(
    db: DbSession, caller: Caller, provider: IdentityProvider | None, refusal: SamlRefused
) -> None:
    """``sso.refused`` with the reason code, written so it survives the rollback of the
    request (the message is not recorded: it may quote the provider)."""
    details = {"reason": refusal.reason, "protocol": "saml"}
    if provider is not None:
        details["provider"] = provider.id
    uow.durable(
        db,
        lambda session: audit.record(
            session,
            caller,
            "sso.refused",
            target_type="identity_provider" if provider is not None else None,
            target_id=provider.id if provider is not None else None,
            outcome="denied",
            details=details,
        ),
    )
