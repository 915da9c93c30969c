"""SAML 2.0 Web Browser SSO as a service provider, with pysaml2 (signatures checked by Debian's
xmlsec1). No Flask here: the views hand in the settings and the posted form.

What an answer must pass before anyone is signed in (each refusal has its own ``reason``):

- it parses as XML without a DTD, entities or external references (pysaml2 parses with
  defusedxml; :func:`_safe_tree` does the same for our own reading of it);
- it answers a request we made (``InResponseTo``), one still pending;
- its assertion is signed by the provider's certificate from its metadata
  (``want_assertions_signed``; a signed Response around an unsigned assertion is not enough);
- the assertion is for us (Audience = our entity id), sent to our assertion consumer service
  (Destination and SubjectConfirmationData Recipient), inside its NotBefore/NotOnOrAfter window
  (with ``ARTIFACT_SAML_CLOCK_SKEW`` seconds of slack);
- it is the only assertion in the document, a direct child of the Response, its signature
  references its own ID, and no ID appears twice: the signature-wrapping attacks (a signed
  assertion moved into Extensions or wrapped, an evil unsigned one in its place) fail here even
  if a library version let them through;
- its ID has not been seen before (the caller keeps seen ids until they expire).
"""

from __future__ import annotations

import base64
import binascii
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element  # noqa: S405 (only the type; parsing is defusedxml)

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT

log = logging.getLogger(__name__)

METADATA_PATH = "/sso/saml/metadata"
ACS_PATH = "/sso/saml/acs"
NS_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_DSIG = "http://www.w3.org/2000/09/xmldsig#"
MAX_RESPONSE_BYTES = 256 * 1024

# AuthnContext classes that say the IdP did more than a password (REFEDS MFA, Microsoft Entra,
# the SAML 2.0 multi-factor classes); ARTIFACT_SAML_MFA_CONTEXTS replaces the list.
DEFAULT_MFA_CONTEXTS = (
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
)
EMAIL_ATTRIBUTES = (
    "mail",
    "email",
    "emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
NAME_ATTRIBUTES = (
    "displayName",
    "name",
    "cn",
    "urn:oid:2.16.840.1.113730.3.1.241",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
)
GROUP_ATTRIBUTES = (
    "groups",
    "memberOf",
    "isMemberOf",
    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
)


class SamlRefused(Exception):
    """The answer is refused; ``reason`` is a short code for the audit trail, the message is
    what the person sees."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class SpSettings:
    base_url: str  # ARTIFACT_BASE_URL, without a trailing slash
    clock_skew: int = 60
    mfa_contexts: Sequence[str] = DEFAULT_MFA_CONTEXTS

    @property
    def entity_id(self) -> str:
        return self.base_url + METADATA_PATH

    @property
    def acs_url(self) -> str:
        return self.base_url + ACS_PATH


@dataclass(frozen=True)
class SamlAssertion:
    """What a verified assertion says, read from the signed assertion element only."""

    assertion_id: str
    in_response_to: str
    issuer: str
    subject: str
    email: str
    name: str
    groups: list[str] = field(default_factory=list)
    mfa: bool = False
    authn_contexts: list[str] = field(default_factory=list)
    expires_at: datetime | None = None


def _xmlsec() -> str:
    binary = shutil.which("xmlsec1")
    if binary is None:  # the server's set-up, not the answer: say so rather than fail
        raise SamlRefused(
            "unavailable", "SAML sign-in is not available here: xmlsec1 is not installed."
        )
    return binary


def sp_config(settings: SpSettings, idp_metadata_xml: str | None = None) -> SPConfig:
    """pysaml2's configuration of our service provider, trusting one IdP's metadata."""
    # pysaml2 logs whole assertions (names, e-mail addresses) when one fails, and NameIDs as
    # it goes: nothing confidential in our logs. The refusal is logged (its reason) and audited.
    logging.getLogger("saml2").setLevel(logging.CRITICAL)
    conf = SPConfig()
    conf.load(
        {
            "entityid": settings.entity_id,
            "xmlsec_binary": _xmlsec(),
            "crypto_backend": "xmlsec1",
            "metadata": {"inline": [idp_metadata_xml]} if idp_metadata_xml else {},
            "accepted_time_diff": settings.clock_skew,
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "name": "Artifact",
                    "endpoints": {
                        "assertion_consumer_service": [(settings.acs_url, BINDING_HTTP_POST)]
                    },
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "authn_requests_signed": False,
                    "allow_unsolicited": False,
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_EMAILADDRESS],
                }
            },
        }
    )
    return conf


def sp_metadata(settings: SpSettings) -> str:
    """Our SP metadata (entity id, assertion consumer service), for the IdP's administrator."""
    text: str = create_metadata_string(
        None, sp_config(settings), None, None, None, None, None, None
    ).decode()
    return text


def idp_entity_id(metadata_xml: str) -> str:
    """The entity id of the IdP described by ``metadata_xml``. Raises SamlRefused("metadata")
    unless it is safe XML describing a SAML 2.0 IdP with a signing certificate and an
    HTTP-Redirect single sign-on service (what our sign-in needs)."""
    root = _safe_tree(metadata_xml.encode(), "metadata")
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    idp = root.find(f"{{{md}}}IDPSSODescriptor")
    if root.tag != f"{{{md}}}EntityDescriptor" or idp is None:
        raise SamlRefused("metadata", "this is not the metadata of a SAML 2.0 identity provider")
    entity_id = root.get("entityID", "")
    if not entity_id:
        raise SamlRefused("metadata", "the identity provider's metadata has no entityID")
    keys = [
        k
        for k in idp.findall(f"{{{md}}}KeyDescriptor")
        if k.get("use") in (None, "signing")
        and k.find(f".//{{{NS_DSIG}}}X509Certificate") is not None
    ]
    if not keys:
        raise SamlRefused("metadata", "the identity provider's metadata has no signing certificate")
    services = [s.get("Binding") for s in idp.findall(f"{{{md}}}SingleSignOnService")]
    if BINDING_HTTP_REDIRECT not in services:
        raise SamlRefused(
            "metadata", "the identity provider offers no HTTP-Redirect single sign-on service"
        )
    return entity_id


def start_login(settings: SpSettings, idp_metadata_xml: str, relay_state: str) -> tuple[str, str]:
    """A new AuthnRequest for the IdP: its id (to check InResponseTo later) and the URL to
    send the browser to (HTTP-Redirect binding)."""
    client = Saml2Client(config=sp_config(settings, idp_metadata_xml))
    request_id, info = client.prepare_for_authenticate(
        entityid=idp_entity_id(idp_metadata_xml),
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
    )
    location = dict(info["headers"])["Location"]
    return str(request_id), str(location)


def decode_response(posted: str) -> bytes:
    """The XML of a posted SAMLResponse (base64); refused when it is not base64 or too big."""
    if not posted or len(posted) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise SamlRefused("malformed", "The identity provider's answer is missing or too large.")
    try:
        return base64.b64decode(posted, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise SamlRefused("malformed", "The identity provider's answer is not base64.") from exc


def in_response_to(xml: bytes) -> str:
    """The InResponseTo of a Response (before anything is verified: only to find our request)."""
    root = _safe_tree(xml, "malformed")
    if root.tag != f"{{{NS_PROTOCOL}}}Response":
        raise SamlRefused("malformed", "The identity provider's answer is not a SAML Response.")
    return root.get("InResponseTo", "")


def verify_response(
    settings: SpSettings,
    idp_metadata_xml: str,
    xml: bytes,
    request_id: str,
    *,
    name_attribute: str | None = None,
    group_attribute: str | None = None,
) -> SamlAssertion:
    """Check the Response to our request ``request_id`` and return what its signed assertion
    says (``name_attribute``, ``group_attribute``: the admin's attribute names, tried first).
    Raises SamlRefused with the reason; never returns an unverified assertion."""
    root = _safe_tree(xml, "malformed")
    _check_structure(root)
    _check_algorithms(root)
    client = Saml2Client(config=sp_config(settings, idp_metadata_xml))
    encoded = base64.b64encode(xml).decode()
    try:
        response = client.parse_authn_request_response(
            encoded, BINDING_HTTP_POST, outstanding={request_id: "/"}
        )
    except Exception as exc:  # noqa: BLE001 (pysaml2 raises many types; each becomes a reason)
        raise _refusal(exc, root) from exc
    if root.get("Destination") not in (None, settings.acs_url):
        raise _elsewhere()  # (pysaml2 answers None instead of raising for this one)
    if response is None or response.assertion is None:
        raise SamlRefused("invalid", "The identity provider's answer holds no assertion.")
    assertion = response.assertion
    _check_confirmations(settings, assertion, request_id)
    # What we read below is the element pysaml2 verified, and the only assertion there is.
    if str(assertion.id) != _only_assertion(root).get("ID"):
        raise _wrapped()
    names = ((name_attribute,) if name_attribute else ()) + NAME_ATTRIBUTES
    groups = ((group_attribute,) if group_attribute else ()) + GROUP_ATTRIBUTES
    found = _read(settings, assertion, request_id, idp_entity_id(idp_metadata_xml), names, groups)
    return found


def _refusal(exc: Exception, root: Element) -> SamlRefused:
    name, lowered = type(exc).__name__, str(exc).lower()
    log.info("SAML response refused: %s", name)
    if "signature" in name.lower() or "signature" in lowered:
        if "missing" in lowered:
            return SamlRefused("unsigned", "The assertion is not signed by the identity provider.")
        return SamlRefused("bad_signature", "The assertion's signature does not verify.")
    if name in ("ResponseLifetimeExceed", "ToEarly") or "lifetime" in lowered or _expired(root):
        return SamlRefused("expired", "The assertion has expired (or is not valid yet).")
    if "not for me" in lowered or "audience" in lowered:
        return SamlRefused("audience", "The assertion is meant for another service.")
    if name == "UnsolicitedResponse" or "unsolicited" in lowered:
        return SamlRefused("unknown_request", "This answer does not match a sign-in we started.")
    if "recipient" in lowered or "destination" in lowered:
        return _elsewhere()
    if name.startswith("Status"):
        return SamlRefused("idp_status", "The identity provider did not sign you in.")
    return SamlRefused("invalid", "The identity provider's answer is not valid.")


def _elsewhere() -> SamlRefused:
    return SamlRefused("recipient", "The answer was sent to another address than ours.")


def _check_confirmations(settings: SpSettings, assertion: Any, request_id: str) -> None:
    """Every subject confirmation of the signed assertion names our ACS as Recipient and our
    request as InResponseTo, so a signed assertion answering another request cannot be
    re-wrapped (the Response around it is not signed) as the answer to this one. pysaml2
    checks both too; this keeps the rule here, next to the rest, whatever its version does."""
    confirmations = (assertion.subject.subject_confirmation if assertion.subject else []) or []
    if not confirmations:
        raise SamlRefused("invalid", "The assertion has no subject confirmation.")
    for confirmation in confirmations:
        data = confirmation.subject_confirmation_data
        if data is None or data.recipient != settings.acs_url:
            raise _elsewhere()
        if data.in_response_to != request_id:
            raise SamlRefused("unknown_request", "This answer does not match a sign-in we started.")


def _expired(root: Element) -> bool:
    """Whether the (already refused) assertion's window has passed: only to name the reason."""
    now = datetime.now(UTC)
    for el in root.iter():
        moment = _parse_instant(el.get("NotOnOrAfter"))
        if moment is not None and moment <= now:
            return True
    return False


def _parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _safe_tree(xml: bytes, reason: str) -> Element:
    try:
        root: Element = SafeET.fromstring(xml, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise SamlRefused(reason, "The XML is malformed or uses forbidden constructs.") from exc
    return root


def _wrapped() -> SamlRefused:
    return SamlRefused("signature_wrapping", "The answer's structure was tampered with.")


# Signature and digest algorithms we accept (SHA-1 is refused: collisions are practical).
SIGNATURE_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
    }
)
DIGEST_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)


def _check_algorithms(root: Element) -> None:
    """Every signature in the answer uses SHA-2 (pysaml2 would accept SHA-1)."""
    for signed_info in root.iter(f"{{{NS_DSIG}}}SignedInfo"):
        methods = signed_info.findall(f"{{{NS_DSIG}}}SignatureMethod")
        digests = signed_info.findall(f"{{{NS_DSIG}}}Reference/{{{NS_DSIG}}}DigestMethod")
        if (
            len(methods) != 1
            or methods[0].get("Algorithm") not in SIGNATURE_ALGORITHMS
            or not digests
            or any(d.get("Algorithm") not in DIGEST_ALGORITHMS for d in digests)
        ):
            raise SamlRefused(
                "weak_algorithm",
                "The answer is signed with an algorithm we do not accept (SHA-1 or unknown).",
            )


def _check_structure(root: Element) -> None:
    """The signature-wrapping defence, before any signature is checked: exactly one assertion,
    where a Response keeps it, no duplicated ID anywhere, and the assertion's own signature
    (if any: pysaml2 refuses an unsigned one) references that assertion and nothing else."""
    ids = [el.get("ID") for el in root.iter() if el.get("ID") is not None]
    if len(ids) != len(set(ids)):
        raise _wrapped()
    if root.findall(f".//{{{NS_ASSERTION}}}EncryptedAssertion"):
        raise SamlRefused("encrypted", "Encrypted assertions are not supported.")
    assertion = _only_assertion(root)
    signatures = assertion.findall(f".//{{{NS_DSIG}}}Signature")
    if not signatures:
        return
    refs = assertion.findall(
        f"{{{NS_DSIG}}}Signature/{{{NS_DSIG}}}SignedInfo/{{{NS_DSIG}}}Reference"
    )
    if len(signatures) != 1 or [ref.get("URI") for ref in refs] != ["#" + assertion.get("ID", "")]:
        raise _wrapped()


def _only_assertion(root: Element) -> Element:
    everywhere = root.findall(f".//{{{NS_ASSERTION}}}Assertion")
    children = root.findall(f"{{{NS_ASSERTION}}}Assertion")
    if len(everywhere) != 1 or len(children) != 1:
        raise _wrapped()
    return children[0]


def _attributes(assertion: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            texts = [str(v.text).strip() for v in attribute.attribute_value or [] if v.text]
            for key in (attribute.name, attribute.friendly_name):
                if key:
                    values.setdefault(str(key).lower(), []).extend(texts)
    return values


def _first(values: dict[str, list[str]], names: Sequence[str]) -> list[str]:
    for name in names:
        found = values.get(name.lower())
        if found:
            return found
    return []


def _read(
    settings: SpSettings,
    assertion: Any,
    request_id: str,
    issuer: str,
    name_attributes: Sequence[str],
    group_attributes: Sequence[str],
) -> SamlAssertion:
    name_id = assertion.subject.name_id if assertion.subject else None
    subject = str(name_id.text).strip() if name_id is not None and name_id.text else ""
    if name_id is None or not subject:
        raise SamlRefused("invalid", "The assertion names no subject.")
    values = _attributes(assertion)
    emails = _first(values, EMAIL_ATTRIBUTES)
    if not emails and name_id.format == NAMEID_FORMAT_EMAILADDRESS:
        emails = [subject]
    contexts = [
        str(s.authn_context.authn_context_class_ref.text).strip()
        for s in assertion.authn_statement or []
        if s.authn_context is not None and s.authn_context.authn_context_class_ref is not None
    ]
    names = _first(values, name_attributes)
    return SamlAssertion(
        assertion_id=str(assertion.id),
        in_response_to=request_id,
        issuer=issuer,
        subject=subject,
        email=(emails[0] if emails else "").strip().lower(),
        name=names[0] if names else "",
        groups=_first(values, group_attributes),
        mfa=any(c in settings.mfa_contexts for c in contexts),
        authn_contexts=contexts,
        expires_at=_expiry(assertion),
    )


def _expiry(assertion: Any) -> datetime | None:
    """The latest moment the assertion may be used (kept that long against replays)."""
    moments = []
    if assertion.conditions is not None and assertion.conditions.not_on_or_after:
        moments.append(assertion.conditions.not_on_or_after)
    for confirmation in (assertion.subject.subject_confirmation if assertion.subject else []) or []:
        data = confirmation.subject_confirmation_data
        if data is not None and data.not_on_or_after:
            moments.append(data.not_on_or_after)
    parsed = [p for p in (_parse_instant(str(m)) for m in moments) if p is not None]
    return max(parsed) if parsed else None
