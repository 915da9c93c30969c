"""one head: audit, evidence, terms gate

Revision ID: m001
Revises: a001, e001, t001
Create Date: 2026-11-28 19:41:01.023970

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'm001'
down_revision = ('a001', 'e001', 't001')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
