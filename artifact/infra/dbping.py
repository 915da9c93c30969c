"""Checking pooled database connections before use, only when they have been idle.

SQLAlchemy's ``pool_pre_ping`` checks a server connection at every checkout: one more round
trip on every request, when a connection used a moment ago is alive all but always. Here a
connection is pinged at checkout only if it has sat idle in the pool for ``idle_seconds``
(the case where a server restart, a failover or a firewall's idle timeout has dropped it); a
dead one is replaced before the request sees it, and a failed ping drops every pooled
connection older than it (the server went away for all of them). A connection that dies while
busy fails its statement as before, and the pool replaces it for the next request."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event, exc

_IDLE_SINCE = "artifact_idle_since"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Install the check on ``engine``'s pool (once per engine)."""
    if engine.pool.__dict__.get("_artifact_ping"):
        return
    engine.pool.__dict__["_artifact_ping"] = True
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError("an idle pooled connection failed its check") from error

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)
