"""policy generation: one counter every change to what the access policy reads bumps

Answers kept across requests carry the generation they were worked out at; the counter lives
in the database so every worker sees every change.

Revision ID: s004
Revises: s002
Create Date: 2026-12-02 17:30:00

"""
import uuid

import sqlalchemy as sa
from alembic import op

revision = 's004'
down_revision = 's002'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'policy_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('epoch', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_generation')),
    )
    op.bulk_insert(table, [{'id': 1, 'value': 0, 'epoch': uuid.uuid4().hex}])


def downgrade():
    op.drop_table('policy_generation')
