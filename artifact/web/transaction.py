"""The request as the owner of its unit of work: one commit at the end of a request that
succeeded, a rollback (with the records a failure must keep) for one that did not."""

from __future__ import annotations

from flask import Flask, Response

from artifact.extensions import db
from artifact.kernel import uow


def _finish(response: Response) -> Response:
    if response.status_code < 400:
        uow.commit(db.session)
    else:
        uow.rollback(db.session)
    return response


def _teardown(error: BaseException | None) -> None:
    if error is not None:
        uow.rollback(db.session)


def init_app(app: Flask) -> None:
    # Registered first, so it runs last among the after-request functions: headers and cookies
    # are set, then the work is committed before a byte of the response goes out.
    app.after_request(_finish)
    app.teardown_request(_teardown)
