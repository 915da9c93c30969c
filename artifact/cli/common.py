"""What every command shares: the command owns its unit of work.

A command runs its services in one transaction and commits once, at its end (then the
after-commit steps run: indexing, mail). Nothing a failed command did is kept, except the
records the services mark as durable (``artifact.kernel.uow``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click
from flask import Flask, current_app

from artifact.extensions import db
from artifact.infra.storage.errors import StorageUnavailable
from artifact.kernel import uow
from artifact.kernel.errors import DomainError
from artifact.models.base import DbSession

P = ParamSpec("P")
R = TypeVar("R")
StartStep = Callable[[DbSession], None]
# Steps that set up the session of every command (the audit trail's checkpoint settings);
# ``create_app`` installs them, so this module needs no feature.
START_STEPS = "artifact_cli_start_steps"


def install_start_steps(app: Flask, *steps: StartStep) -> None:
    app.extensions[START_STEPS] = steps


def unit_of_work(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command`` as one unit of work: commit when it returns; on a domain error roll back
    and exit 1 with its message (nothing half-done); on anything else (a ``ClickException``, an
    exit, a crash) roll back and let it through."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        uow.begin()
        for step in current_app.extensions.get(START_STEPS, ()):
            step(db.session)
        try:
            result = command(*args, **kwargs)
        except DomainError as error:
            uow.rollback(db.session)
            raise click.ClickException(error.message) from error
        except StorageUnavailable as error:  # the bucket or the key token does not answer
            uow.rollback(db.session)
            raise click.ClickException(f"{error}; nothing was changed, try again") from error
        except BaseException:
            uow.rollback(db.session)
            raise
        if uow.failed():  # a domain error was raised and handled on the way: keep nothing
            uow.rollback(db.session)
        else:
            uow.commit(db.session)
        return result

    return run
