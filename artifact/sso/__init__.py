"""Single sign-on: identity providers (OpenID Connect, SAML 2.0), linking and just-in-time
provisioning of accounts, and the sign-in flows."""
