"""Look-ups shared by the account services (kept apart to avoid an import cycle)."""

from __future__ import annotations

from sqlalchemy import select

from artifact.models import User
from artifact.models.base import DbSession


def user_by_email(db: DbSession, email: str) -> User | None:
    cleaned = (email or "").strip().lower()
    if not cleaned or len(cleaned) > 320 or "\x00" in cleaned:  # PostgreSQL refuses NUL
        return None
    return db.scalar(select(User).where(User.email == cleaned))
