"""search: reports name the grantees of their grants without an expiry

PostgreSQL only (the embedded indexes are rebuilt on open: ``language.FORMAT`` 4).

A customer's scope named every report granted to them by id, an OR that grew with their
grants (167 ids for the bench customer at 100,000 pages) and was walked for every search and
facet count. Each report's counted entries now carry ``to/user:ID`` or ``to/org:ID`` for every
live grant on it without an expiry (``policy.standing_grantees``), so the scope names the
caller's account and organisation instead; grants with an expiry are still named by id at query
time (the index holds nothing that time alone changes). Existing rows are filled here.

Revision ID: p20a
Revises: p17b
Create Date: 2026-12-03 19:00:00

"""
from alembic import op

revision = 'p20a'
down_revision = 'p17b'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(
        """
        UPDATE search_entry e SET attrs = e.attrs || g.keys
        FROM (
            SELECT 'report:' || report_id AS parent,
                   array_agg(DISTINCT 'to/' || CASE WHEN user_id IS NOT NULL
                                                    THEN 'user:' || user_id
                                                    ELSE 'org:' || organization_id END) AS keys
            FROM report_grant
            WHERE report_id IS NOT NULL AND revoked_at IS NULL AND expires_at IS NULL
            GROUP BY report_id
        ) g
        WHERE e.parent = g.parent AND e.part <> 'page' AND e.attrs IS NOT NULL
        """
    )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(
        """
        UPDATE search_entry
        SET attrs = ARRAY(SELECT a FROM unnest(attrs) AS a WHERE a NOT LIKE 'to/%')
        WHERE parent LIKE 'report:%' AND attrs IS NOT NULL
        """
    )
