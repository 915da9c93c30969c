"""reports: the agreement a download needs (terms gate); merges catalog and agreements

Revision ID: t001
Revises: c001, g001
Create Date: 2026-11-28 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 't001'
down_revision = ('c001', 'g001')
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_agreement_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_terms_agreement_id'), ['terms_agreement_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_report_terms_agreement_id_agreement'),
                                    'agreement', ['terms_agreement_id'], ['id'],
                                    ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_report_terms_agreement_id_agreement'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_report_terms_agreement_id'))
        batch_op.drop_column('terms_agreement_id')
