"""OpenAPI paths and schemas of the identity-provider API (merged into the document)."""

from __future__ import annotations

from typing import Any

from artifact.models.accounts import ROLE_VALUES
from artifact.web.openapi_parts import errors, json_body, json_response, path_id, ref

_STR = {"type": "string"}
_MAYBE_STR = {"type": ["string", "null"]}
_BOOL = {"type": "boolean"}
_DOMAINS = {"type": "array", "items": _STR, "minItems": 1}
_GROUP_ROLES = {
    "type": "object",
    "additionalProperties": {"type": "string", "enum": list(ROLE_VALUES)},
    "description": "group name -> role a new account gets (the highest of its groups); "
    "without a matching group: customer",
}
_PROVIDER_ID = path_id("provider_id")


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


SCHEMAS: dict[str, Any] = {
    "IdentityProvider": _object(
        {
            "id": _STR,
            "name": _STR,
            "protocol": {"type": "string", "enum": ["oidc", "saml"]},
            "organization": _MAYBE_STR,
            "organization_id": _MAYBE_STR,
            "domains": _DOMAINS,
            "require_sso": _BOOL,
            "show_on_sign_in": _BOOL,
            "name_claim": _STR,
            "group_claim": _STR,
            "group_roles": _GROUP_ROLES,
            "trust_idp_mfa": _BOOL,
            "issuer": _MAYBE_STR,
            "client_id": _MAYBE_STR,
            "has_client_secret": {
                "type": "boolean",
                "description": "the client secret is stored (sealed); it is never shown",
            },
            "metadata_url": _MAYBE_STR,
            "has_metadata_xml": _BOOL,
            "entity_id": _MAYBE_STR,
            "created_at": {"type": ["string", "null"], "format": "date-time"},
        }
    ),
}

_CREATE_PROPERTIES: dict[str, Any] = {
    "protocol": {"type": "string", "enum": ["oidc", "saml"]},
    "name": {"type": "string", "maxLength": 200, "description": 'shown as "Sign in with NAME"'},
    "organization": {
        "type": ["string", "null"],
        "description": "the organisation (name or id) whose accounts it signs in and where "
        "new accounts are made; absent for a global provider (new accounts join the "
        "organisation of their verified e-mail domain, if any)",
    },
    "domains": {**_DOMAINS, "description": "e-mail domains it may sign in (others refused)"},
    "require_sso": {
        "type": "boolean",
        "description": "the organisation's members may not sign in with a password",
    },
    "show_on_sign_in": {
        "type": "boolean",
        "description": 'a "Sign in with NAME" button on the public sign-in page (default '
        "false: people find it by typing their work e-mail)",
    },
    "name_claim": {"type": "string", "maxLength": 100, "description": "default `name`"},
    "group_claim": {"type": "string", "maxLength": 100, "description": "default `groups`"},
    "group_roles": _GROUP_ROLES,
    "trust_idp_mfa": {
        "type": "boolean",
        "description": "staff and admins skip our TOTP when the provider asserts multi-factor "
        "sign-in (OIDC `amr` holding `mfa`)",
    },
    "issuer": {
        "type": "string",
        "maxLength": 2000,
        "description": "OIDC: the issuer URL (its discovery document is read from it); "
        "https:// (http:// only to loopback, never in production)",
    },
    "client_id": {"type": "string", "maxLength": 400, "description": "OIDC"},
    "client_secret": {
        "type": "string",
        "maxLength": 600,
        "writeOnly": True,
        "description": "OIDC: stored sealed with the keyring, never returned; absent for a "
        "public client (PKCE only)",
    },
    "metadata_xml": {"type": "string", "description": "SAML: the IdP's metadata"},
    "metadata_url": {"type": "string", "maxLength": 2000, "description": "SAML: or its URL"},
    "entity_id": {"type": "string", "maxLength": 2000, "description": "SAML: the IdP's entity id"},
}

PATHS: dict[str, Any] = {
    "/identity-providers": {
        "get": {
            "operationId": "list_identity_providers",
            "summary": "Identity providers for single sign-on (admin; never a client secret)",
            "responses": {
                "200": json_response(
                    "providers",
                    _object(
                        {
                            "items": {"type": "array", "items": ref("IdentityProvider")},
                            "total": {"type": "integer", "minimum": 0},
                        }
                    ),
                ),
                **errors(401, 403),
            },
        },
        "post": {
            "operationId": "create_identity_provider",
            "summary": "Register an OpenID Connect or SAML identity provider (admin)",
            "description": "OIDC needs `issuer` and `client_id` (and `client_secret` for a "
            "confidential client); register `/sso/oidc/callback` (absolute, from "
            "ARTIFACT_BASE_URL) as its redirect URI. SAML needs `metadata_xml` or "
            "`metadata_url`. A domain signs in through one provider only (409 otherwise).",
            "requestBody": json_body(_CREATE_PROPERTIES, ["protocol", "name", "domains"]),
            "responses": {
                "201": json_response("registered", ref("IdentityProvider")),
                **errors(400, 401, 403, 409),
            },
        },
    },
    "/identity-providers/{provider_id}": {
        "delete": {
            "operationId": "delete_identity_provider",
            "summary": "Stop signing in through a provider (admin); its links stay on record",
            "parameters": [_PROVIDER_ID],
            "responses": {"204": {"description": "deleted"}, **errors(401, 403, 404)},
        },
    },
    "/identity-providers/{provider_id}/links": {
        "post": {
            "operationId": "link_identity",
            "summary": "Link an existing account to the provider's subject (admin)",
            "parameters": [_PROVIDER_ID],
            "requestBody": json_body(
                {
                    "user": {"type": "string", "description": "the account's e-mail or id"},
                    "subject": {
                        "type": "string",
                        "maxLength": 400,
                        "description": "the provider's subject (OIDC `sub`, SAML NameID)",
                    },
                },
                ["user", "subject"],
            ),
            "responses": {
                "201": json_response(
                    "linked",
                    _object({"provider_id": _STR, "user_id": _STR, "subject": _STR}),
                ),
                **errors(400, 401, 403, 404),
            },
        },
    },
}
