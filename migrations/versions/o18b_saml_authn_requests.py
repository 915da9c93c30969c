"""SAML sign-in: the AuthnRequests we sent (InResponseTo must name one, still pending)

Revision ID: o18b
Revises: o18a
Create Date: 2026-12-03 08:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'o18b'
down_revision = 'o18a'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table(
        'saml_authn_request',
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('provider_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finish_key', sa.String(length=64), nullable=True),
        sa.Column('verified', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ['provider_id'], ['identity_provider.id'],
            name=op.f('fk_saml_authn_request_provider_id_identity_provider'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saml_authn_request')),
        sa.UniqueConstraint('finish_key', name=op.f('uq_saml_authn_request_finish_key')),
    )
    op.create_index(
        op.f('ix_saml_authn_request_provider_id'), 'saml_authn_request', ['provider_id']
    )
    op.create_index(
        op.f('ix_saml_authn_request_expires_at'), 'saml_authn_request', ['expires_at']
    )

def downgrade():
    op.drop_index(op.f('ix_saml_authn_request_expires_at'), table_name='saml_authn_request')
    op.drop_index(op.f('ix_saml_authn_request_provider_id'), table_name='saml_authn_request')
    op.drop_table('saml_authn_request')
