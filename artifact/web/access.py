"""View decorators that ask the one policy; they decide nothing themselves."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from artifact import policy
from artifact.kernel.errors import NotFound
from artifact.web.security import current_caller

F = TypeVar("F", bound=Callable[..., Any])


def require(action: str) -> Callable[[F], F]:
    """Allow the view only when the policy grants ``action`` to the caller."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            policy.enforce(policy.decide(current_caller(), action))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def require_hidden(action: str) -> Callable[[F], F]:
    """Like ``require``, for things whose existence is hidden from those who may not use them
    (evidence): any denial but 'sign in' answers 404."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            decision = policy.decide(current_caller(), action)
            if not decision and decision.reason != policy.Reason.SIGN_IN:
                raise NotFound("not found")
            policy.enforce(decision)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def require_per_object(action: str) -> Callable[[F], F]:
    """For an operation on one object whose service asks the policy about that object: only
    a caller who must sign in first (401) or is disabled is stopped here; the service answers
    404 for what the caller may not see and 403 for what they see but may not do."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            decision = policy.decide(current_caller(), action)
            if decision.reason in (policy.Reason.SIGN_IN, policy.Reason.DISABLED):
                policy.enforce(decision)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
