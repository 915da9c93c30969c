"""``flask worker``: the job queue's consumer (mail, webhooks, periodic sweeps and scans)."""

from __future__ import annotations

import logging
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from artifact.infra import queue
from artifact.notifications import events, jobs


@click.command("worker")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="worker threads")
@click.option(
    "--drain",
    is_flag=True,
    help="process every queued job and unprocessed outbox event once, then exit (cron, tests)",
)
@with_appcontext
def worker_command(workers: int | None, drain: bool) -> None:
    """Run the job queue's consumer until stopped (SIGINT stops after running jobs, SIGTERM at
    once; an interrupted job is found again by the outbox sweep)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = jobs.jobs_for(app)
    if drain:
        ran = queue.run_pending(found.huey)
        done, failed = jobs.sweep(app, grace=timedelta(0))
        emitted = jobs.run_daily_scans(app)
        ran += queue.run_pending(found.huey)
        for work in events.minutely():  # e.g. the webhook tries that are now due
            work()
        click.echo(
            f"ran {ran} job(s); swept {done} event(s), {failed} failed; {emitted} reminder(s)"
        )
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # What a previous worker left (killed mid-job, or the queue was down): at once, not in a
    # minute; then the reminders due today.
    found.sweep_now()
    found.daily_scans()
    count = workers or int(app.config.get("QUEUE_WORKERS") or 2)
    click.echo(f"worker: {count} thread(s) on {type(found.huey).__name__}", err=True)
    found.huey.create_consumer(workers=count, periodic=True, worker_type="thread").run()
