"""reports as records: managed categories and series, issue date, validity, listing, bridge letters

Categories and series become records staff manage. Reports, grants and access requests keep the
slugs in their columns; the category CHECK gives way to a foreign key to report_category.slug.
The four categories are seeded, and a series record is made from every distinct series value
found in reports, grants and access requests.

Revision ID: r001
Revises: n001
Create Date: 2026-12-02 14:00:00

"""
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = 'r001'
down_revision = 'n001'
branch_labels = None
depends_on = None

CATEGORIES = (
    ('certifications', 'Certifications and attestations',
     'Certificates and attestations of compliance (valid until the end of their period).'),
    ('reports', 'Reports',
     'Attestation reports such as SOC 1, SOC 2 and SOC 3 (read as current for 12 months after '
     'their period ends).'),
    ('regulations', 'Regulations', 'How we address regulations such as GDPR and HIPAA.'),
    ('agreements', 'Agreements', 'Agreements and terms.'),
)
_OLD_CHECK = "category IN ('certifications', 'reports', 'regulations', 'agreements')"


def _taxonomy_table(name, slug_length):
    return op.create_table(
        name,
        sa.Column('slug', sa.String(length=slug_length), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
        sa.UniqueConstraint('slug', name=op.f(f'uq_{name}_slug')),
    )


def _existing_series(bind):
    """Every distinct series value in use, exactly as stored (grants match reports exactly)."""
    found = set()
    for table in ('report', 'report_grant', 'access_request'):
        rows = bind.execute(sa.text(f'SELECT DISTINCT series FROM {table}'))  # noqa: S608
        found |= {row[0] for row in rows if row[0] and row[0].strip()}
    return sorted(found, key=lambda s: (s.casefold(), s))


def upgrade():
    now = datetime.now(UTC)
    categories = _taxonomy_table('report_category', 20)
    series = _taxonomy_table('report_series', 80)
    op.bulk_insert(categories, [
        {'id': uuid.uuid4().hex, 'slug': slug, 'name': name, 'description': description,
         'position': position, 'created_at': now}
        for position, (slug, name, description) in enumerate(CATEGORIES, start=1)
    ])
    op.bulk_insert(series, [
        {'id': uuid.uuid4().hex, 'slug': value, 'name': value[:80], 'description': '',
         'position': position, 'created_at': now}
        for position, value in enumerate(_existing_series(op.get_bind()), start=1)
    ])
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('valid_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('listing', sa.String(length=10), nullable=False,
                                      server_default='listed'))
        batch_op.add_column(sa.Column('bridges_report_id', sa.String(length=32), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_report_category_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_listing_known'),
                                         "listing IN ('listed', 'hidden')")
        batch_op.create_index(batch_op.f('ix_report_bridges_report_id'), ['bridges_report_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_report_bridges_report_id_report'),
                                    'report', ['bridges_report_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_report_category_report_category'),
                                    'report_category', ['category'], ['slug'],
                                    ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_report_category_report_category'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_report_bridges_report_id_report'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_report_bridges_report_id'))
        batch_op.drop_constraint(batch_op.f('ck_report_listing_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_category_known'), _OLD_CHECK)
        batch_op.drop_column('bridges_report_id')
        batch_op.drop_column('listing')
        batch_op.drop_column('valid_until')
        batch_op.drop_column('issued_on')
    op.drop_table('report_series')
    op.drop_table('report_category')
