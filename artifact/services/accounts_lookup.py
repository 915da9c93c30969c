"""Look-ups shared by the account services (kept apart to avoid an import cycle)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from artifact.models import User


def user_by_email(db: Session, email: str) -> User | None:
    cleaned = (email or "").strip().lower()
    if not cleaned or len(cleaned) > 320:
        return None
    return db.scalar(select(User).where(User.email == cleaned))
