"""Artifact: a self-hosted compliance artifact repository and trust portal."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from flask import Flask

from artifact.config import TEMPLATE_FOLDER, load_config, prepare_data_dir


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    config = load_config(test_config)
    prepare_data_dir(config)  # 0700 directory, 0600 SQLite file, in every mode
    app = Flask(
        __name__,
        template_folder=str(TEMPLATE_FOLDER),
        instance_path=config["DATA_DIR"],
        instance_relative_config=False,
    )
    app.config.update(config)
    _register_extensions(app)
    _register_jobs(app)
    _register_request_hooks(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_template_globals(app)
    _register_cli(app)
    return app


def _register_extensions(app: Flask) -> None:
    from artifact.config import PROJECT_ROOT
    from artifact.extensions import csrf, db, limiter, login_manager, migrate, passwords
    from artifact.infra import dbping
    from artifact.web import ratelimit

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":  # a file does not drop
            dbping.ping_when_idle(db.engine, app.config.get("DB_PING_IDLE_SECONDS", 10.0))
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    passwords.init_app(app)
    ratelimit.init_app(app)  # first: its after-request hook must run after the limiter's
    limiter.init_app(app)
    # The postgres search backend reads through the request's own connection (one round trip
    # per statement, no second pool; see infra.search.postgres_backend).
    app.extensions["artifact_search_connection"] = _session_connection


def _session_connection() -> Any:
    from flask import has_app_context

    from artifact.extensions import db

    return db.session.connection() if has_app_context() else None


def _register_jobs(app: Flask) -> None:
    """The job queue: committed outbox events are queued for the worker; its daily scans come
    from the features that know what is due."""
    from artifact.catalog.services import reminders as report_reminders
    from artifact.engagements.services import mails as engagement_mails
    from artifact.engagements.services import reminders as engagement_reminders
    from artifact.evidence.services import reminders as evidence_reminders
    from artifact.notifications import events, jobs
    from artifact.webhooks import jobs as webhook_jobs
    from artifact.webhooks.services import dispatch as webhook_dispatch

    jobs.init_app(app)
    events.register_daily_scan(report_reminders.emit_validity_ending)
    events.register_daily_scan(evidence_reminders.emit_expiring)
    events.register_daily_scan(engagement_reminders.emit_due)
    engagement_mails.register()  # the request list's mails, built by the notifications worker
    # Webhooks hear every public event through the outbox; due tries run every minute.
    events.register_consumer(webhook_dispatch.outbox_consumer)
    events.register_minutely(webhook_jobs.deliver_due)


def _register_request_hooks(app: Flask) -> None:
    """The request owns its unit of work; who calls comes from identity; what the shared web
    layer sees (refusals, rate-limit breaches) is recorded by the audit feature."""
    from artifact.audit import hooks as audit_hooks
    from artifact.identity import loaders
    from artifact.web import input_guard, recorders, security, transaction

    transaction.init_app(app)
    input_guard.init_app(app)  # its limits; security runs it first thing in each request
    # Before anything that may append an event: the checkpoint settings of the request.
    app.before_request(audit_hooks.configure_request_signing)
    security.init_app(app)
    loaders.init_app(app)
    recorders.install(app, denial=audit_hooks.record_denial, breach=audit_hooks.record_breach)


# Each feature's part of the JSON API: its routes register on the shared blueprint when the
# module is imported, and its ``openapi`` module describes them.
API_MODULES = (
    "agreements",
    "analytics",
    "audit",
    "catalog",
    "engagements",
    "evidence",
    "frameworks",
    "identity",
    "notifications",
    "search",
    "sso",
    "webhooks",
)
# The catalog's pages: two modules on one blueprint (browsing, and the staff forms).
CATALOG_PAGE_MODULES = ("artifact.catalog.views.browse", "artifact.catalog.views.staff")
# The engagements' pages (engagements, and one request's), on one blueprint; and their
# request-list CSV operations, an API part of their own.
ENGAGEMENT_PAGE_MODULES = (
    "artifact.engagements.views.engagements",
    "artifact.engagements.views.requests",
)
EXTRA_API_PARTS = (("artifact.engagements.api_csv", "artifact.engagements.openapi_csv"),)


def _register_blueprints(app: Flask) -> None:
    """Every feature's pages, and the JSON API with its OpenAPI document."""
    from artifact import sso as sso_setup
    from artifact.admin import views as admin
    from artifact.agreements.views import admin as agreements_admin
    from artifact.agreements.views import agreements
    from artifact.analytics import views as analytics
    from artifact.audit import views as audit
    from artifact.catalog.views import blueprint as catalog
    from artifact.catalog.views import feed, home
    from artifact.engagements.views import blueprint as engagements
    from artifact.evidence import views as evidence
    from artifact.frameworks import views as frameworks
    from artifact.identity.views import account, auth, email_links, mfa
    from artifact.notifications import views as notifications
    from artifact.search import views as search
    from artifact.sso import admin_views as sso_admin
    from artifact.sso import oidc_views as sso_oidc
    from artifact.sso import saml_views as sso_saml
    from artifact.sso import views as sso
    from artifact.web import files, openapi
    from artifact.web.json_api import api
    from artifact.webhooks import views as webhooks_admin

    for feature in API_MODULES:
        importlib.import_module(f"artifact.{feature}.api")
    parts = [importlib.import_module(f"artifact.{feature}.openapi") for feature in API_MODULES]
    for handlers, described in EXTRA_API_PARTS:
        importlib.import_module(handlers)
        parts.append(importlib.import_module(described))
    openapi.init_app(app, parts)
    for module in (*CATALOG_PAGE_MODULES, *ENGAGEMENT_PAGE_MODULES):
        importlib.import_module(module)
    for blueprint in (
        home.bp,
        auth.bp,
        account.bp,
        admin.bp,
        catalog.bp,
        feed.bp,
        agreements.bp,
        agreements_admin.bp,
        frameworks.bp,
        evidence.bp,
        api,
        mfa.bp,
        email_links.bp,
        audit.bp,
        search.bp,
        webhooks_admin.bp,
        notifications.bp,
        analytics.bp,
        sso.bp,
        sso_oidc.bp,
        sso_saml.bp,
        sso_admin.bp,
        engagements.bp,
    ):
        app.register_blueprint(blueprint)
    sso_setup.init_app(app)
    files.init_app(app)


def _register_error_handlers(app: Flask) -> None:
    from artifact.web import errors

    errors.init_app(app)


def _register_template_globals(app: Flask) -> None:
    from artifact.web.templating import init_app

    init_app(app)


def _register_cli(app: Flask) -> None:
    """Every feature's commands; each runs as one unit of work (``artifact.cli.common``)."""
    from artifact.admin.cli import (
        check_deploy_command,
        init_command,
        keys_cli,
        migrate_store_command,
    )
    from artifact.audit import hooks as audit_hooks
    from artifact.audit.cli import audit_cli
    from artifact.backup.cli import backup_command, restore_command
    from artifact.catalog.cli import trace_command
    from artifact.cli import common
    from artifact.demo.cli import seed_demo_command
    from artifact.engagements.cli import engagements_cli
    from artifact.frameworks.cli import frameworks_cli
    from artifact.identity.cli import tokens_cli, users_cli
    from artifact.notifications.cli import worker_command
    from artifact.search.cli import search_cli
    from artifact.webhooks.cli import webhooks_cli

    common.install_start_steps(app, audit_hooks.configure_command_signing)
    for command in (
        init_command,
        users_cli,
        tokens_cli,
        frameworks_cli,
        seed_demo_command,
        keys_cli,
        trace_command,
        audit_cli,
        check_deploy_command,
        migrate_store_command,
        search_cli,
        backup_command,
        restore_command,
        webhooks_cli,
        worker_command,
        engagements_cli,
    ):
        app.cli.add_command(command)
