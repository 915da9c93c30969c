"""The request as the owner of its unit of work: one commit at the end of a request that
succeeded, a rollback (with the records a failure must keep) for one that did not: an error
status, or a domain error raised on the way even if the view answered with a redirect."""

from __future__ import annotations

from flask import Flask, Response

from artifact.extensions import db
from artifact.kernel import uow


def _begin() -> None:
    uow.begin()


def _finish(response: Response) -> Response:
    if response.status_code < 400 and not uow.failed():
        if uow.has_work(db.session):
            uow.commit(db.session)
        else:
            # A read: nothing to make durable, nothing to run after a commit. Ending the
            # transaction without a COMMIT (SQLite and PostgreSQL alike) saves a round trip.
            db.session.rollback()
    else:
        uow.rollback(db.session)
    return response


def _teardown(error: BaseException | None) -> None:
    if error is not None:
        uow.rollback(db.session)


def init_app(app: Flask) -> None:
    # Registered first, so it runs last among the after-request functions: headers and cookies
    # are set, then the work is committed before a byte of the response goes out.
    uow.track_writes()
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_teardown)
