"""Writers are serialised across processes and threads with ``flock`` on a lock file in the
index directory. The kernel releases the lock when its holder dies, so a crashed writer never
leaves a lock that blocks the next one (the file itself may stay; it means nothing)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

LOCK_NAME = "artifact-writer.lock"
T = TypeVar("T")


class IndexBusy(RuntimeError):
    """Another writer held the index for longer than the timeout."""


@contextmanager
def writer_lock(directory: Path, timeout: float = 60.0) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusy("the search index is busy; try again") from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def retry(
    action: Callable[[], T], busy: tuple[type[BaseException], ...], timeout: float = 30.0
) -> T:
    """Run ``action``, retrying while the backend's own lock says another writer is active
    (a writer outside our lock file, or a lock the backend still holds after a crash)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return action()
        except busy:
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
