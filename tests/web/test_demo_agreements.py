"""The demo seeds a sample mutual NDA and BAA once; seeding again changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from artifact.extensions import db
from artifact.models import Agreement, AgreementVersion


def test_seed_demo_publishes_sample_agreements_once(runner) -> None:
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    seeded = {a.kind: a for a in db.session.scalars(select(Agreement))}
    assert set(seeded) == {"nda", "baa"}
    assert len(db.session.scalars(select(AgreementVersion)).all()) == 2
    for agreement in seeded.values():
        assert agreement.current.text.startswith("SAMPLE ONLY. NOT LEGAL ADVICE.")
