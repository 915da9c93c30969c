"""Demo frameworks and a small crosswalk from ``documents/frameworks`` (idempotent)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from artifact.config import DOCUMENTS_FOLDER
from artifact.frameworks import services as frameworks
from artifact.kernel.caller import Caller
from artifact.models import Framework
from artifact.models.base import DbSession

FOLDER = DOCUMENTS_FOLDER / "frameworks"
MAX_BYTES = 1024 * 1024
# (file, key, title, category)
DEMO_FRAMEWORKS = (
    (
        "iso27001-2022-annex-a.csv",
        "iso27001-2022",
        "ISO/IEC 27001:2022 Annex A (sample)",
        "framework",
    ),
    ("soc2-tsc-2017.csv", "soc2-tsc-2017", "SOC 2 trust services criteria (sample)", "framework"),
    ("gdpr-articles.csv", "gdpr", "GDPR: Regulation (EU) 2016/679 (sample)", "regulation"),
    ("hipaa-part164.csv", "hipaa", "HIPAA 45 CFR Part 164 (sample)", "regulation"),
)
CROSSWALK = "demo-crosswalk.csv"


def seed(db: DbSession, caller: Caller, folder: Path = FOLDER) -> list[str]:
    """Import each demo framework whose key is not taken yet, then the demo crosswalk (whose
    rows already present are skipped). Returns what was done, one line each."""
    done = []
    for name, key, title, category in DEMO_FRAMEWORKS:
        if db.scalar(select(Framework.id).where(Framework.key == key)) is not None:
            continue
        result = frameworks.import_file(
            db,
            caller,
            folder / name,
            "csv",
            key=key,
            title=title,
            category=category,
            max_bytes=MAX_BYTES,
        )
        done.append(f"{key}: {result.count} requirements")
    result = frameworks.import_file(
        db, caller, folder / CROSSWALK, "crosswalk", tolerant=True, max_bytes=MAX_BYTES
    )
    if result.count:
        done.append(f"crosswalk: {result.count} mappings")
    return done
