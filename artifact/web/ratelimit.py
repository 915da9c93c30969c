"""Rate limits (Flask-Limiter) and how a breach is answered and recorded.

Other features apply the limits here as decorators, e.g. the download route:

    from artifact.web.ratelimit import download_budget

    @api.get("/reports/<report_id>/download")
    @download_budget
    @require(...)
    def download(...): ...
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from artifact.extensions import limiter
from artifact.web import recorders

DEDUPE_SECONDS = 60


def first_in_window(name: str, seconds: int = DEDUPE_SECONDS) -> bool:
    """True for the first call with ``name`` in a window, using the rate-limit storage, so a
    flood of denials or breaches yields one audit event per window, not thousands."""
    try:
        return limiter.storage.incr(f"artifact-dedupe/{name}", seconds) == 1
    except Exception:  # storage down: record rather than lose the event
        current_app.logger.warning("rate-limit storage unreachable; not de-duplicating")
        return True


def allow(limit_value: str, scope: str, key: str) -> bool:
    """Count one use of ``key`` against every limit in ``limit_value`` (e.g. "3 per 15
    minutes; 10 per day"), in the rate-limit storage; False, counting nothing, when one of
    them is used up. For limits on something other than the request's source (the address a
    reset mail goes to)."""
    items = parse_many(limit_value)
    if not all(limiter.limiter.test(item, scope, key) for item in items):
        return False
    for item in items:
        limiter.limiter.hit(item, scope, key)
    return True


def user_or_ip() -> str:
    """Signed-in callers are budgeted per account (wherever they come from), others per IP."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


def _on_breach(limit: RequestLimit) -> Any:
    recorders.report_breach(limit)
    return None  # the 429 page / JSON comes from web/errors.py


sign_in_limit = limiter.limit(
    lambda: current_app.config["RATELIMIT_SIGN_IN"],
    methods=["POST"],
    scope="sign-in",
    on_breach=_on_breach,
)
# Re-entering the password on the account pages (change password, start or change the second
# factor): one budget per user across those pages; only refused attempts count.
reauth_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_REAUTH"],
    scope="password-reentry",
    key_func=user_or_ip,
    methods=["POST"],
    deduct_when=lambda response: response.status_code >= 400,
    on_breach=_on_breach,
)
reset_limit = limiter.limit(
    lambda: current_app.config["RATELIMIT_RESET"],
    methods=["POST"],
    scope="account-mail",
    on_breach=_on_breach,
)
# One budget per caller shared by every route that hands out a file (reports and evidence,
# pages and API, originals, HEAD too): ``shared_limit`` keys on the scope alone, where
# ``limit`` would add the endpoint and give each route a budget of its own.
download_budget = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_DOWNLOADS"],
    scope="download",
    key_func=user_or_ip,
    on_breach=_on_breach,
)


def retry_after_only_on_throttled(response: Response) -> Response:
    """Flask-Limiter sends ``Retry-After`` on every limited response, allowed ones too (with the
    time until the window resets); it means "come back later" only on a 429 (and on the 503 of
    a limit store that does not answer)."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    elif g.get("retry_after") is not None:
        # The app's own refusal (the sign-in backoff) knows its wait better than the limiter's
        # window, which the limiter wrote over it.
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def init_app(app: Flask) -> None:
    """Call before ``limiter.init_app``: after-request hooks run in reverse order, so this one
    runs after the limiter has added its headers."""
    app.after_request(retry_after_only_on_throttled)
