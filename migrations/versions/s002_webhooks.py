"""webhooks: endpoints, deliveries and their tries

Revision ID: s002
Revises: s001
Create Date: 2026-12-02 17:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 's002'
down_revision = 's001'
branch_labels = None
depends_on = None

_STATUS = "status IN ('pending', 'succeeded', 'failed', 'cancelled')"


def upgrade():
    op.create_table(
        'webhook_endpoint',
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret_ciphertext', sa.String(length=400), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_reason', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.String(length=32), nullable=True),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_webhook_endpoint_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint')),
    )
    op.create_table(
        'webhook_delivery',
        sa.Column('endpoint_id', sa.String(length=32), nullable=False),
        sa.Column('event_id', sa.String(length=100), nullable=False),
        sa.Column('event_type', sa.String(length=50), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.CheckConstraint(_STATUS, name=op.f('ck_webhook_delivery_status_known')),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], ondelete='RESTRICT',
                                name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
        sa.UniqueConstraint('endpoint_id', 'event_id', name='uq_webhook_delivery_event'),
    )
    op.create_index(op.f('ix_webhook_delivery_endpoint_id'), 'webhook_delivery', ['endpoint_id'])
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['status', 'next_attempt_at'])
    op.create_table(
        'webhook_attempt',
        sa.Column('delivery_id', sa.String(length=32), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('succeeded', sa.Boolean(), nullable=False),
        sa.Column('response_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id'], ondelete='RESTRICT',
                                name=op.f('fk_webhook_attempt_delivery_id_webhook_delivery')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt')),
        sa.UniqueConstraint('delivery_id', 'number', name='uq_webhook_attempt_number'),
    )
    op.create_index(op.f('ix_webhook_attempt_delivery_id'), 'webhook_attempt', ['delivery_id'])


def downgrade():
    op.drop_index(op.f('ix_webhook_attempt_delivery_id'), table_name='webhook_attempt')
    op.drop_table('webhook_attempt')
    op.drop_index('ix_webhook_delivery_due', table_name='webhook_delivery')
    op.drop_index(op.f('ix_webhook_delivery_endpoint_id'), table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_endpoint')
