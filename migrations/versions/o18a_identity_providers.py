"""single sign-on: identity providers, external identities, seen one-time values

Revision ID: o18a
Revises: s004
Create Date: 2026-12-03 07:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'o18a'
down_revision = 's004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'identity_provider',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('protocol', sa.String(length=10), nullable=False),
        sa.Column('organization_id', sa.String(length=32), nullable=True),
        sa.Column('domains', sa.JSON(), nullable=False),
        sa.Column('show_on_sign_in', sa.Boolean(), nullable=False),
        sa.Column('require_sso', sa.Boolean(), nullable=False),
        sa.Column('name_claim', sa.String(length=100), nullable=False),
        sa.Column('group_claim', sa.String(length=100), nullable=False),
        sa.Column('group_roles', sa.JSON(), nullable=False),
        sa.Column('trust_idp_mfa', sa.Boolean(), nullable=False),
        sa.Column('issuer', sa.String(length=2000), nullable=True),
        sa.Column('client_id', sa.String(length=400), nullable=True),
        sa.Column('client_secret_ciphertext', sa.String(length=1000), nullable=True),
        sa.Column('metadata_xml', sa.Text(), nullable=True),
        sa.Column('metadata_url', sa.String(length=2000), nullable=True),
        sa.Column('entity_id', sa.String(length=2000), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.String(length=32), nullable=True),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.CheckConstraint("protocol IN ('oidc', 'saml')",
                           name=op.f('ck_identity_provider_protocol_known')),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='RESTRICT',
                                name=op.f('fk_identity_provider_organization_id_organization')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_identity_provider_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_provider')),
    )
    op.create_index(op.f('ix_identity_provider_organization_id'), 'identity_provider',
                    ['organization_id'])
    op.create_table(
        'external_identity',
        sa.Column('provider_id', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=400), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'], ondelete='RESTRICT',
                                name=op.f('fk_external_identity_provider_id_identity_provider')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='RESTRICT',
                                name=op.f('fk_external_identity_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_external_identity')),
        sa.UniqueConstraint('provider_id', 'subject', name='uq_external_identity_subject'),
        sa.UniqueConstraint('provider_id', 'user_id', name='uq_external_identity_user'),
    )
    op.create_index(op.f('ix_external_identity_user_id'), 'external_identity', ['user_id'])
    op.create_table(
        'sso_seen_value',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('provider_id', sa.String(length=32), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'],
                                name=op.f('fk_sso_seen_value_provider_id_identity_provider')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_sso_seen_value')),
    )
    op.create_index(op.f('ix_sso_seen_value_provider_id'), 'sso_seen_value', ['provider_id'])
    op.create_index(op.f('ix_sso_seen_value_expires_at'), 'sso_seen_value', ['expires_at'])


def downgrade():
    op.drop_table('sso_seen_value')
    op.drop_table('external_identity')
    op.drop_index(op.f('ix_identity_provider_organization_id'), table_name='identity_provider')
    op.drop_table('identity_provider')
