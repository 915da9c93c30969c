"""Import of the NIST SP 800-53 rev 5.0.1 OSCAL catalog (target: <= 10 s here), and its export.

Runs on a fresh SQLite database in a temporary data directory (or ARTIFACT_DATABASE_URL).
Prints the figures; skips with a message when ../shared/corpus is absent."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CATALOG = (
    ROOT.parent
    / "shared"
    / "corpus"
    / "oscal"
    / "sp800-53r5-catalog"
    / "NIST_SP-800-53_rev5_catalog.v5.0.1.json"
)


def main() -> int:
    if not CATALOG.exists():
        print(f"skipped: {CATALOG} is absent (the shared corpus is not beside this checkout)")
        return 0
    from flask_migrate import upgrade

    from artifact import create_app
    from artifact.extensions import db
    from artifact.frameworks import services as frameworks
    from artifact.kernel.caller import OPERATOR

    with tempfile.TemporaryDirectory() as data_dir:
        url = os.environ.get("ARTIFACT_DATABASE_URL") or f"sqlite:///{data_dir}/bench.db"
        app = create_app(
            {"ARTIFACT_ENV": "testing", "DATA_DIR": data_dir, "SQLALCHEMY_DATABASE_URI": url}
        )
        with app.app_context():
            upgrade(revision="heads")
            started = time.perf_counter()
            result = frameworks.import_file(
                db.session,
                OPERATOR,
                CATALOG,
                "oscal",
                key="bench-800-53",
                max_bytes=64 * 1024 * 1024,
            )
            imported = time.perf_counter() - started
            started = time.perf_counter()
            exported = frameworks.export_oscal(db.session, OPERATOR, "bench-800-53")
            export_seconds = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    print(f"800-53 import: {result.count} requirements in {imported:.2f} s (target <= 10 s)")
    print(
        f"800-53 export (validated against OSCAL 1.2.1): {len(exported) / 1e6:.1f} MB in "
        f"{export_seconds:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
