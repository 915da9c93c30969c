"""notifications: the transactional outbox, the record of sent mail, subscriptions

Revision ID: s001
Revises: s007
Create Date: 2026-12-02 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 's001'
down_revision = 's007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_event',
        sa.Column('event_type', sa.String(length=60), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_event_dedupe_key')),
    )
    op.create_index(op.f('ix_outbox_event_event_type'), 'outbox_event', ['event_type'])
    op.create_index(op.f('ix_outbox_event_created_at'), 'outbox_event', ['created_at'])
    op.create_index(op.f('ix_outbox_event_processed_at'), 'outbox_event', ['processed_at'])
    op.create_table(
        'mail_send',
        sa.Column('event_id', sa.String(length=32), nullable=False),
        sa.Column('recipient', sa.String(length=320), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ['event_id'], ['outbox_event.id'], name=op.f('fk_mail_send_event_id_outbox_event')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_send')),
        sa.UniqueConstraint('event_id', 'recipient', 'kind', name='uq_mail_send_once'),
    )
    op.create_index(op.f('ix_mail_send_event_id'), 'mail_send', ['event_id'])
    op.create_index(op.f('ix_mail_send_at'), 'mail_send', ['at'])
    op.create_table(
        'subscription',
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('all_reports', sa.Boolean(), nullable=False),
        sa.Column('series', sa.JSON(), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('muted', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'],
            name=op.f('fk_subscription_user_id_user_account'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription')),
        sa.UniqueConstraint('user_id', name=op.f('uq_subscription_user_id')),
    )


def downgrade():
    op.drop_table('subscription')
    op.drop_index(op.f('ix_mail_send_at'), table_name='mail_send')
    op.drop_index(op.f('ix_mail_send_event_id'), table_name='mail_send')
    op.drop_table('mail_send')
    op.drop_index(op.f('ix_outbox_event_processed_at'), table_name='outbox_event')
    op.drop_index(op.f('ix_outbox_event_created_at'), table_name='outbox_event')
    op.drop_index(op.f('ix_outbox_event_event_type'), table_name='outbox_event')
    op.drop_table('outbox_event')
