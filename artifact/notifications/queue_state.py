"""What admins see of the job queue: queued and scheduled jobs (from Huey), unprocessed outbox
events with their last error, and sends that failed (from the database)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from artifact.infra import queue
from artifact.models.base import DbSession
from artifact.notifications.jobs import jobs_for
from artifact.notifications.services import outbox


def _job(job: queue.QueuedJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "name": job.name,
        "args": [str(a) for a in job.args],
        "retries_left": job.retries_left,
        "eta": job.eta.isoformat() if job.eta else None,
    }


def queue_state(app: Flask, session: DbSession) -> dict[str, Any]:
    found = jobs_for(app)
    reachable, error = True, None
    try:
        pending = queue.pending_jobs(found.huey)
        scheduled = queue.scheduled_jobs(found.huey)
    except Exception as exc:  # the queue is down: say so, the outbox still shows the work
        reachable, error, pending, scheduled = False, type(exc).__name__, [], []
    state = outbox.overview(session)
    return {
        "backend": type(found.huey).__name__,
        "reachable": reachable,
        "error": error,
        "queued": [_job(j) for j in pending],
        "scheduled": [_job(j) for j in scheduled],
        "outbox": {
            "unprocessed_total": state["unprocessed_total"],
            "processed_total": state["processed_total"],
            "unprocessed": [
                {
                    "id": row.id,
                    "type": row.event_type,
                    "created_at": row.created_at.isoformat(),
                    "attempts": row.attempts,
                    "next_attempt_at": row.next_attempt_at.isoformat()
                    if row.next_attempt_at
                    else None,
                    "last_error": row.last_error,
                }
                for row in state["unprocessed"]
            ],
        },
        "sends": state["sends"],
        "failed_sends": [
            {
                "event_id": s.event_id,
                "recipient": s.recipient,
                "kind": s.kind,
                "status": s.status,
                "at": s.at.isoformat(),
                "attempts": s.attempts,
                "error": s.error,
            }
            for s in state["failed_sends"]
        ],
    }
