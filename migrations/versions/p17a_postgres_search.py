"""search in PostgreSQL: the entries of the search index as rows (ARTIFACT_SEARCH_BACKEND=postgres)

PostgreSQL only; a no-op on SQLite (the embedded backends keep their index in the data
directory). Creates:

- the text search configuration ``artifact_english``: PostgreSQL's English configuration with a
  Snowball English stemmer that drops no stop word (a control id such as ``A.8.24`` must stay
  the phrase "a 8 24"), behind ``unaccent`` when that extension can be created here (else
  without it: accents then count);
- ``fuzzystrmatch`` when it can be created (typo suggestions narrow candidates with
  ``levenshtein_less_equal``; without it they are filtered in Python);
- ``search_entry``: one row per entry (``artifact.infra.search.backend.Entry``) with a
  ``tsvector`` of its stems (GIN), the unstemmed words of counted entries (GIN, for
  suggestions), and the scope, attribute and facet arrays the policy scope and filters match;
- ``search_word``: the lexicon of words as written, the candidates of typo suggestions.

Revision ID: p17a
Revises: e19a
Create Date: 2026-12-03 08:00:00

"""
from alembic import op
from sqlalchemy import text

revision = 'p17a'
down_revision = 'e19a'
branch_labels = None
depends_on = None

STEMS = (
    "asciiword", "word", "asciihword", "hword", "hword_asciipart", "hword_part",
)


def _try_extension(bind, name):
    """Create ``name`` if this server offers it and the role may (a trusted extension, or a
    superuser); False otherwise, leaving the transaction usable."""
    offered = bind.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = :n"), {"n": name}
    ).scalar()
    if not offered:
        return False
    savepoint = bind.begin_nested()
    try:
        bind.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}"'))
    except Exception:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    unaccent = _try_extension(bind, "unaccent")
    _try_extension(bind, "fuzzystrmatch")
    op.execute(
        "CREATE TEXT SEARCH DICTIONARY artifact_english_stem "
        "(TEMPLATE = snowball, Language = english)"
    )
    op.execute("CREATE TEXT SEARCH CONFIGURATION artifact_english (COPY = english)")
    stem = "unaccent, artifact_english_stem" if unaccent else "artifact_english_stem"
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION artifact_english ALTER MAPPING FOR "
        f"{', '.join(STEMS)} WITH {stem}"
    )
    if unaccent:
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION artifact_english ALTER MAPPING FOR numword, "
            "numhword WITH unaccent, simple"
        )
    op.execute(
        """
        CREATE TABLE search_entry (
            key text PRIMARY KEY,
            parent text NOT NULL,
            docver text NOT NULL,
            part text NOT NULL,
            type text NOT NULL,
            kind text NOT NULL,
            page integer NOT NULL,
            version integer NOT NULL,
            current boolean NOT NULL,
            title text NOT NULL,
            body text,
            shown text,
            scope text[],
            attrs text[],
            category text[],
            series text[],
            framework text[],
            year text[],
            clipped boolean NOT NULL DEFAULT false,
            tsv tsvector NOT NULL,
            words tsvector
        )
        """
    )
    op.execute("CREATE INDEX ix_search_entry_parent ON search_entry (parent)")
    op.execute(
        "CREATE INDEX ix_search_entry_page_docver ON search_entry (docver) WHERE part = 'page'"
    )
    # Two GIN indexes on the stems: a search walks the counted entries' (one per document),
    # never the pages' (found by document, through the docver index, then their own).
    op.execute(
        "CREATE INDEX ix_search_entry_tsv ON search_entry USING gin (tsv) WHERE part <> 'page'"
    )
    op.execute(
        "CREATE INDEX ix_search_entry_page_tsv ON search_entry USING gin (tsv) "
        "WHERE part = 'page'"
    )
    op.execute(
        "CREATE INDEX ix_search_entry_words ON search_entry USING gin (words) "
        "WHERE part <> 'page'"
    )
    op.execute(
        "CREATE INDEX ix_search_entry_scope ON search_entry USING gin (scope) "
        "WHERE part <> 'page'"
    )
    op.execute(
        "CREATE INDEX ix_search_entry_attrs ON search_entry USING gin (attrs) "
        "WHERE part <> 'page'"
    )
    op.execute('CREATE TABLE search_word (word text COLLATE "C" PRIMARY KEY)')


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS search_word")
    op.execute("DROP TABLE IF EXISTS search_entry")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS artifact_english")
    op.execute("DROP TEXT SEARCH DICTIONARY IF EXISTS artifact_english_stem")
