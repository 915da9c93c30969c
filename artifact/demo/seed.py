"""The demo data set that ``seed-demo`` loads (idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from artifact.demo import agreements as demo_agreements
from artifact.demo import frameworks as demo_frameworks
from artifact.identity.services import accounts
from artifact.identity.services.lookup import user_by_email
from artifact.kernel.caller import Caller
from artifact.models.base import DbSession


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str
    organization: str | None = None
    org_admin: bool = False
    password: str = ""


DEMO_ACCOUNTS = (
    DemoAccount("admin@artifact.test", "Ada Admin", "admin", "Artifact Demo Co"),
    DemoAccount("staff@artifact.test", "Sam Staff", "staff", "Artifact Demo Co"),
    DemoAccount("reviewer@artifact.test", "Riley Reviewer", "staff", "Artifact Demo Co"),
    DemoAccount("auditor@ledger-audit.test", "Avery Auditor", "auditor", "Ledger & Co Auditors"),
    DemoAccount("alice@acme-health.test", "Alice Acme", "customer", "Acme Health", True),
    DemoAccount("bob@acme-health.test", "Bob Acme", "customer", "Acme Health"),
    DemoAccount("carol@globex.test", "Carol Globex", "customer", "Globex"),
)


def seed(db: DbSession, caller: Caller, password_factory: Callable[[], str]) -> list[DemoAccount]:
    """Create what is missing; give every demo account a fresh random password."""
    made = []
    for account in DEMO_ACCOUNTS:
        password = password_factory()
        user = user_by_email(db, account.email)
        if user is None:
            accounts.create_user(
                db,
                caller,
                email=account.email,
                role=account.role,
                password=password,
                name=account.name,
                organization=account.organization,
                org_admin=account.org_admin,
                create_organization_if_missing=True,
            )
        else:
            accounts.set_password(db, caller, user, password)
        made.append(
            DemoAccount(
                account.email,
                account.name,
                account.role,
                account.organization,
                account.org_admin,
                password,
            )
        )
    demo_agreements.seed(db, caller)
    demo_frameworks.seed(db, caller)
    _seed_catalog(db, caller)
    return made


def _seed_catalog(db: DbSession, caller: Caller) -> None:
    from flask import current_app

    from artifact.demo import catalog as demo_catalog
    from artifact.demo import engagements as demo_engagements
    from artifact.demo import evidence as demo_evidence
    from artifact.infra.storage import store_for

    demo_catalog.seed(db, caller, store_for(current_app))
    demo_evidence.seed(db, caller, store_for(current_app))
    demo_engagements.seed(db, caller)
