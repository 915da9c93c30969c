"""The app's side of the job queue: the Huey instance of an app, its tasks, and the worker.

Tasks run inside an app context whose links are built from ARTIFACT_BASE_URL, each with its
own database session. ``process_event`` handles one outbox event (queued right after the
commit that wrote it; retried with exponential backoff); ``sweep_outbox`` (every minute, and
when the worker starts) takes the events no job has processed; ``daily_scans`` (06:00 UTC, and
when the worker starts) emits the reminders that are due (expiring evidence, reports whose
validity ends), each once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, render_template
from huey import crontab
from huey.api import Huey, TaskWrapper

from artifact.extensions import db
from artifact.infra import queue
from artifact.infra.mail import Mailer
from artifact.kernel import uow
from artifact.models.base import DbSession, utcnow
from artifact.notifications import events
from artifact.notifications.events import Event
from artifact.notifications.services import mails, outbox, subscriptions

log = logging.getLogger(__name__)
EXTENSION = "artifact_queue"
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Jobs:
    huey: Huey
    process_event: TaskWrapper
    sweep_outbox: TaskWrapper
    sweep_now: TaskWrapper
    daily_scans: TaskWrapper


def base_url(app: Flask) -> str:
    return str(app.config.get("BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def _render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    return (
        render_template(f"mail/{template}.txt", **context),
        render_template(f"mail/{template}.html", **context),
    )


def outgoing(app: Flask, session: DbSession) -> mails.Outgoing:
    base = base_url(app)
    secret = str(app.config["SECRET_KEY"])
    return mails.Outgoing(
        mailer=Mailer.from_config(app.config),
        render=_render,
        link=lambda path: base + path,
        unsubscribe_link=lambda user_id, group: (
            f"{base}/unsubscribe/{subscriptions.unsubscribe_token(secret, user_id, group)}"
        ),
        commit=session.commit,
        rollback=session.rollback,
    )


def mail_consumer(session: DbSession, event: Event) -> None:
    """The mails of an event (registered as the first consumer)."""
    mails.send_event_mails(session, event, outgoing(current_app, session))


def _in_context(app: Flask, work: Any) -> Any:
    # A request context on ARTIFACT_BASE_URL: templates' url_for builds the operator's links.
    with app.app_context(), app.test_request_context("/", base_url=base_url(app) + "/"):
        try:
            return work(db.session)
        finally:
            db.session.rollback()


def _process(app: Flask, event_id: str) -> bool:
    return bool(
        _in_context(
            app,
            lambda session: outbox.process_event(
                session,
                event_id,
                events.consumers(),
                session.commit,
                int(app.config.get("QUEUE_RETRY_DELAY") or 10),
            ),
        )
    )


def sweep(app: Flask, grace: timedelta | None = None) -> tuple[int, int]:
    """Process the due outbox events here; (processed, failed)."""
    wait = grace if grace is not None else timedelta(seconds=app.config["OUTBOX_GRACE_SECONDS"])
    ids = _in_context(app, lambda session: outbox.due_events(session, wait))
    done = failed = 0
    for event_id in ids:
        try:
            _process(app, event_id)
            done += 1
        except Exception:  # recorded on the row; the next sweep tries again after its backoff
            failed += 1
    return done, failed


def run_daily_scans(app: Flask) -> int:
    """Emit the reminders due today (each once: they carry a dedupe key); returns how many."""

    def scan(session: DbSession) -> int:
        uow.begin()
        emitted = sum(scanner(session, utcnow().date()) for scanner in events.daily_scans())
        uow.commit(session)
        return emitted

    return int(_in_context(app, scan))


def _build(app: Flask) -> Jobs:
    huey = queue.make_queue(app.config.get("QUEUE_URL"), app.config["DATA_DIR"])
    retries = int(app.config.get("QUEUE_RETRIES") or 0)
    delay = int(app.config.get("QUEUE_RETRY_DELAY") or 10)

    @huey.task(retries=retries, retry_delay=delay, retry_backoff=2, name="process_event")
    def process_event(event_id: str) -> bool:
        return _process(app, event_id)

    @huey.periodic_task(crontab(minute="*"), name="sweep_outbox")
    def sweep_outbox() -> None:
        done, failed = sweep(app)
        if done or failed:
            log.info("outbox sweep: %d processed, %d failed", done, failed)

    @huey.periodic_task(crontab(minute="*"), name="minutely")
    def minutely() -> None:
        """What other features asked to run every minute (webhook tries that are due)."""
        for work in events.minutely():
            try:
                _in_context(app, lambda _session, work=work: work())
            except Exception:  # one failing piece of work does not stop the others
                log.exception("minutely work %s failed", getattr(work, "__name__", work))

    @huey.task(name="sweep_now")
    def sweep_now() -> None:
        """What a previous worker left, without waiting for the grace period."""
        done, failed = sweep(app, grace=timedelta(0))
        log.info("outbox sweep at start: %d processed, %d failed", done, failed)

    @huey.periodic_task(crontab(minute="0", hour="6"), name="daily_scans")
    def daily_scans() -> None:
        emitted = run_daily_scans(app)
        log.info("daily scans: %d reminder(s) emitted", emitted)

    return Jobs(huey, process_event, sweep_outbox, sweep_now, daily_scans)


def jobs_for(app: Flask) -> Jobs:
    """The app's queue and tasks, built at first use (a request that emits nothing opens no
    queue)."""
    jobs: Jobs | None = app.extensions.get(EXTENSION)
    if jobs is None:
        jobs = app.extensions[EXTENSION] = _build(app)
    return jobs


def init_app(app: Flask) -> None:
    events.register_consumer(mail_consumer)

    def enqueue(ids: Iterable[str]) -> None:
        task = jobs_for(app).process_event
        for event_id in ids:
            task(event_id)

    app.extensions["artifact_enqueue_events"] = enqueue
