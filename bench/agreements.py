"""WeasyPrint time for an acceptance certificate of the demo mutual NDA (target <= 0.5 s).

Prints figures; asserts nothing about time. Runs on a throwaway SQLite database."""

from __future__ import annotations

import logging
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from artifact import create_app  # noqa: E402
from artifact.agreements.services import acceptance as agreements_accept
from artifact.agreements.services import records as agreement_records  # noqa: E402
from artifact.agreements.services.certificate import render_certificate  # noqa: E402
from artifact.demo import agreements as demo_agreements  # noqa: E402
from artifact.extensions import db  # noqa: E402
from artifact.identity.services import accounts  # noqa: E402
from artifact.kernel.caller import (
    OPERATOR,  # noqa: E402
    Caller,  # noqa: E402
)

RUNS = 10
TARGET = 0.5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "ARTIFACT_ENV": "testing",
                "DATA_DIR": tmp,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            logging.disable(logging.INFO)
            upgrade(revision="heads")
            nda = demo_agreements.seed(db.session, OPERATOR)[0]
            user = accounts.create_user(
                db.session,
                OPERATOR,
                email="b@bench.test",
                role="customer",
                password=secrets.token_urlsafe(16),
                organization="Bench Org",
                create_organization_if_missing=True,
            )
            acceptance = agreements_accept.accept(
                db.session,
                Caller.of_user(user, ip_address="192.0.2.1"),
                nda.id,
                version=1,
                typed_name="Bench Person",
                scope="account",
                user_agent="bench/1.0",
            )
            context = agreement_records.certificate_context(acceptance)
            title, chars = nda.title, len(nda.current.text)
            start = time.perf_counter()
            first = render_certificate(context)
            cold = time.perf_counter() - start
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                render_certificate(context)
                times.append(time.perf_counter() - start)
            db.session.remove()
            db.engine.dispose()
    median = statistics.median(times)
    print(f"certificate of {title!r} ({chars} characters of text), {len(first)} bytes")
    print(f"weasyprint first render (cold): {cold:.3f} s")
    print(
        f"weasyprint render over {RUNS} runs: median {median:.3f} s, "
        f"min {min(times):.3f} s, max {max(times):.3f} s (target <= {TARGET} s: "
        f"{'met' if median <= TARGET else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
