"""Domain errors raised by services and mapped to HTTP in one place (web/errors.py)."""

from __future__ import annotations

from artifact.kernel import uow


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        # Whatever a view makes of the error, the unit of work it belongs to is rolled back.
        uow.mark_failed()
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    code = "not_found"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class PermissionDenied(DomainError):
    code = "forbidden"


class ValidationFailed(DomainError):
    code = "invalid"


class Unprocessable(DomainError):
    """Well formed, but naming something that cannot be used here (an unknown framework, a
    user who is not an auditor of the firm): 422."""

    code = "unprocessable"


class Conflict(DomainError):
    code = "conflict"


class TermsRequired(DomainError):
    code = "terms_required"


class TooLarge(DomainError):
    code = "too_large"


class QuotaExceeded(TooLarge):
    """Storing the file would take a storage quota past its limit."""

    code = "quota_exceeded"


class UnsupportedType(DomainError):
    """The content is not of an accepted type (decided by the bytes, not the name)."""

    code = "unsupported_media_type"


class InvalidFile(DomainError):
    """The content has the right type but is damaged, encrypted or otherwise unusable."""

    code = "invalid_file"


class IntegrityFailure(DomainError):
    """Stored bytes failed their integrity check; nothing of them is served."""

    code = "integrity_failed"


class Unavailable(DomainError):
    """A service the operation depends on (the virus scanner) gives no answer: refused rather
    than done without it."""

    code = "unavailable"


class Throttled(DomainError):
    """Too many attempts; ``retry_after`` (seconds) says when to try again."""

    code = "throttled"
