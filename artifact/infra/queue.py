"""The job queue: Huey, on SQLite in the data directory (one machine, nothing to run beside
the app) or on Redis when ARTIFACT_QUEUE_URL names one (several app nodes and workers).

Why Huey: it embeds (SQLite storage, no broker to install for ``make run`` and the tests), it
scales out on Redis with the same code, it brings retries with exponential backoff, delayed
and periodic tasks and a consumer with thread workers in one small dependency. RQ needs Redis
even on a laptop and has no periodic tasks of its own; Celery needs a broker and a separate
beat process and is far heavier than what mail and webhooks need.

This module knows nothing of Flask: ``make_queue`` builds the Huey instance, the notifications
feature registers its tasks on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey

QUEUE_NAME = "artifact"
SQLITE_FILE = "queue.db"


def make_queue(url: str | None, data_dir: str | Path, name: str = QUEUE_NAME) -> Huey:
    """A Huey instance: Redis for ``redis://``/``rediss://`` URLs, else SQLite (the given
    ``sqlite:///PATH`` or ``DATA_DIR/queue.db``)."""
    if url and url.startswith(("redis://", "rediss://")):
        import redis

        # Connection failures must come back quickly: a request enqueues after its commit
        # and should not hang on a queue that is down (the outbox keeps the work).
        pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        return RedisHuey(name, connection_pool=pool, utc=True, results=False)
    path = url[len("sqlite:///") :] if url and url.startswith("sqlite:///") else None
    filename = Path(path) if path else Path(data_dir) / SQLITE_FILE
    filename.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # No results are kept: nothing reads them, and the outbox and mail record are the state.
    return SqliteHuey(name, filename=str(filename), utc=True, timeout=10, results=False)


@dataclass(frozen=True)
class QueuedJob:
    """A job waiting in the queue (now, or scheduled for a retry or later)."""

    id: str
    name: str
    args: tuple[Any, ...]
    retries_left: int
    eta: datetime | None


def _job(task: Any) -> QueuedJob:
    return QueuedJob(
        id=str(task.id),
        name=str(task.name).rsplit(".", 1)[-1],
        args=tuple(task.args or ()),
        retries_left=int(task.retries or 0),
        eta=task.eta,
    )


def pending_jobs(huey: Huey, limit: int = 100) -> list[QueuedJob]:
    return [_job(task) for task in huey.pending(limit)]


def scheduled_jobs(huey: Huey, limit: int = 100) -> list[QueuedJob]:
    return [_job(task) for task in huey.scheduled(limit)]


def run_pending(huey: Huey, limit: int = 10_000) -> int:
    """Run the jobs now in the queue on this thread (``flask worker --drain``, tests), with
    the scheduled ones that are due (retries whose delay has passed); a retry that fails again
    goes back to the schedule. Returns how many ran."""
    for task in huey.read_schedule():
        huey.enqueue(task)
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran
