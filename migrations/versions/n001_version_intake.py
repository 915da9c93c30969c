"""report versions: release notes, qpdf's warnings at upload, the active content removed

Revision ID: n001
Revises: m001
Create Date: 2026-12-02 14:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'n001'
down_revision = 'm001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('release_notes', sa.Text(), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('pdf_warnings', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('removed_content', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.drop_column('removed_content')
        batch_op.drop_column('pdf_warnings')
        batch_op.drop_column('release_notes')
