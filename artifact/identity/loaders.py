"""Who a request comes from: the server-side session behind the cookie, or a Bearer token.
Registered with flask-login by ``init_app``; ``artifact.web.security.current_caller`` turns the
loaded user into the request's caller."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, session

from artifact.extensions import db, login_manager
from artifact.identity.services import sessions, tokens
from artifact.models import User
from artifact.web.security import bearer_token


def _load_user_from_session(user_id: str) -> User | None:
    if bearer_token() is not None:
        return None  # an API call with a token is judged by the token alone
    config = current_app.config
    row = sessions.resolve(
        db.session,
        session.get("sid"),
        idle=config["SESSION_IDLE_TIMEOUT"],
        absolute=config["SESSION_ABSOLUTE_TIMEOUT"],
        touch_after=timedelta(seconds=config["SESSION_TOUCH_SECONDS"]),
    )
    if row is None or row.user.id != user_id:
        session.clear()
        return None
    g.session_row_id = row.id
    g.session_ref = row.id
    g.second_factor = row.second_factor  # read with the session: see require_second_factor
    return row.user


def _load_user_from_token(req: Any) -> User | None:
    raw = bearer_token()
    if raw is None:
        return None
    user = tokens.resolve(db.session, raw)
    if user is not None:
        g.auth_method = "token"
        g.session_ref = "token:" + tokens.token_hash(raw)[:16]
    return user


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user_from_session)
    login_manager.request_loader(_load_user_from_token)
