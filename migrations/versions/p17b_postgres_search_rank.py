"""search in PostgreSQL: the text match drives a search; a small vector ranks

PostgreSQL only; a no-op on SQLite (as p17a).

- Drops the GIN indexes on ``search_entry.attrs`` and ``search_entry.scope``. A caller's scope
  names what the caller may see (typically most of the catalog) as an OR of array overlaps the
  planner estimates at one row: it drove searches from those indexes (two bitmap scans of
  about 60 ms at 100,000 pages) and then checked the text match and ranked every entry in
  scope, and always so once a prepared statement's plan turned generic (the tsquery a
  parameter). Without them the GIN index of ``tsv`` is the only way in, and the scope is a
  filter on the rows the match found.
- Adds ``rank``: for counted entries (metadata and whole files), each lexeme of ``tsv`` with as
  many positions as it has there, numbered 1..n (``artifact_rank_vector``). ``ts_rank`` of an
  OR of words reads only how many positions each word has (and their weights: ours carry
  none), so it ranks exactly as ``tsv`` does; positions 1..n repeat from word to word, so a
  100-page file's vector compresses to about 1.6 KB (``tsv``: about 19 KB read from TOAST).
  Existing rows are filled here; the backend fills it on every write.

Revision ID: p17b
Revises: p17a
Create Date: 2026-12-03 15:00:00

"""
from alembic import op

revision = 'p17b'
down_revision = 'p17a'
branch_labels = None
depends_on = None

# positions 1..256 (a tsvector keeps at most 256 positions of a lexeme)
_NUMBERS = "{" + ",".join(str(n) for n in range(1, 257)) + "}"
RANK_VECTOR = f"""
CREATE OR REPLACE FUNCTION artifact_rank_vector(v tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
        '''' || replace(replace(u.lexeme, '\\', '\\\\'), '''', '''''') || ''''
        || CASE WHEN coalesce(cardinality(u.positions), 0) = 0 THEN ''
                ELSE ':' || array_to_string(
                    ('{_NUMBERS}'::int[])[1:cardinality(u.positions)], ',')
           END,
        ' '), '')::tsvector
    FROM unnest(v) AS u
$$
"""  # noqa: S608 (numbers only)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entry_attrs")
    op.execute("DROP INDEX IF EXISTS ix_search_entry_scope")
    op.execute(RANK_VECTOR)
    op.execute("ALTER TABLE search_entry ADD COLUMN rank tsvector")
    op.execute("UPDATE search_entry SET rank = artifact_rank_vector(tsv) WHERE part <> 'page'")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search_entry DROP COLUMN IF EXISTS rank")
    op.execute("DROP FUNCTION IF EXISTS artifact_rank_vector(tsvector)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_search_entry_scope ON search_entry USING gin (scope) "
        "WHERE part <> 'page'"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_search_entry_attrs ON search_entry USING gin (attrs) "
        "WHERE part <> 'page'"
    )
