"""The PostgreSQL backend (``ARTIFACT_SEARCH_BACKEND=postgres``): the index is rows of the
application's own database (``search_entry``, made by migration p17a), so every app server sees
an entry as soon as the transaction that wrote it commits.

Text is cut by our analyser (``query.words``: runs of letters and digits, lower-cased) before
PostgreSQL sees it, then stemmed by the ``artifact_english`` configuration (Snowball English, no
stop words, ``unaccent`` where the server has it): a control id such as ``A.8.24`` is the phrase
"a 8 24" on both sides, as in whoosh and tantivy. A query never reaches ``to_tsquery`` as typed:
our parser's tree becomes ``plainto_tsquery``/``phraseto_tsquery`` calls on bound words (phrases
are ``<->``, prefixes ``:*``), and the caller's scope (``Scope``), the filters and the version
condition are clauses of the same statement, which also counts and facets: one round trip.
The text match drives it: the GIN index of ``tsv`` is the only index such a statement can use
(migration p17b dropped those of the scope and attribute arrays: a scope names most of what is
indexed, and the planner, estimating its OR of array overlaps at one row, drove from them and
then matched and ranked every entry in scope), so the scope filters the rows the match found.
Ranking reads ``rank`` (see ``_rank_sql``), not the whole ``tsv``.

A ``tsvector`` keeps positions up to 16,383; a file longer than ``POSITIONS`` words keeps the
rest as words only (``clipped``), and a phrase is then looked for on its pages too. Snippets:
``ts_headline`` over the best page of a document the scope returned (so only one the caller may
download), plain text (our highlighter escapes it and marks the words).

Writes take a transaction-scoped advisory lock per record, so two writers of one record follow
each other; a rebuild takes one lock that writers share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, text

from artifact.infra.search import highlight
from artifact.infra.search import query as q
from artifact.infra.search.backend import (
    FACETS,
    HAS_FILE,
    PAGES_PER_HIT,
    Entry,
    Hit,
    PageHit,
    ResultPage,
    Rule,
    Scope,
)
from artifact.infra.search.suggest import SUGGEST_PREFIX, within

CONFIG = "artifact_english"
POSITIONS = 16_000  # below tsvector's last position (16,383)
MAX_WORDS = 60_000  # distinct words kept of one entry past POSITIONS (tsvector is at most 1 MB)
BATCH = 500
REBUILD_LOCK = 0x41525446  # "ARTF": writers share it, a rebuild takes it alone
HEADLINE = 'StartSel="", StopSel="", MinWords=25, MaxWords=50, ShortWord=0'
log = logging.getLogger(__name__)


def engine_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if "://" in url else url


class NotPostgres(ValueError):
    """The postgres backend was asked for with a database that is not PostgreSQL."""


class Params:
    """Bound parameters of one statement, named in order (the SQL holds names only)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any, cast: str = "") -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"CAST(:{name} AS {cast})" if cast else f":{name}"


def analysed(found: list[str]) -> tuple[str, bool]:
    """The words (of ``q.words``) PostgreSQL stems, and whether positions were cut (see the
    module)."""
    if len(found) <= POSITIONS:
        return " ".join(found), False
    head = found[:POSITIONS]
    seen = set(head)
    tail = [w for w in dict.fromkeys(found[POSITIONS:]) if w not in seen][:MAX_WORDS]
    return " ".join(head + tail), True


def distinct_words(found: list[str]) -> list[str]:
    return list(dict.fromkeys(found))[:MAX_WORDS]


def _row(entry: Entry) -> dict[str, Any]:
    found = q.words(entry.text)  # once per entry: the index build's main Python cost
    stems, clipped = analysed(found)
    counted = entry.counted
    return {
        "key": entry.key,
        "parent": entry.parent,
        "docver": entry.docver,
        "part": entry.part,
        "type": entry.type,
        "kind": f"{entry.part}/{entry.type}",
        "page": entry.page,
        "version": entry.version,
        "current": entry.current,
        "title": entry.title,
        "body": None if counted else entry.text,
        "shown": (entry.text if entry.part == "meta" else entry.shown) if counted else None,
        "scope": list(entry.scope_terms) if counted else None,
        "attrs": list(entry.all_attrs) if counted else None,
        **{name: list(entry.facet_values(name)) for name in FACETS if name != "type"},
        "stems": stems,
        "clipped": clipped,
        "words": " ".join(distinct_words(found)) if counted else None,
    }


# The configuration's name only is formatted in; every value is bound. ``rank``: counted
# entries only (``artifact_rank_vector``, migration p17b; see ``_match``).
_INSERT_SQL = f"""
    INSERT INTO search_entry (key, parent, docver, part, type, kind, page, version, current,
        title, body, shown, scope, attrs, category, series, framework, year, clipped, tsv, rank,
        words)
    SELECT :key, :parent, :docver, :part, :type, :kind, :page, :version, :current, :title,
        :body, :shown, CAST(:scope AS text[]), CAST(:attrs AS text[]),
        CAST(:category AS text[]), CAST(:series AS text[]), CAST(:framework AS text[]),
        CAST(:year AS text[]), :clipped, v.tsv,
        CASE WHEN :part <> 'page' THEN artifact_rank_vector(v.tsv) END,
        CASE WHEN CAST(:words AS text) IS NULL THEN NULL
             ELSE strip(to_tsvector('simple', CAST(:words AS text))) END
    FROM (SELECT to_tsvector('{CONFIG}', :stems) AS tsv) AS v
"""  # noqa: S608
_INSERT = text(_INSERT_SQL)
_WORDS = text(
    "INSERT INTO search_word (word) SELECT w FROM unnest(CAST(:words AS text[])) AS w "
    "ORDER BY w ON CONFLICT DO NOTHING"
)


def _batches(rows: Iterable[Entry], size: int = BATCH) -> Iterator[list[Entry]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


class PostgresBackend:
    name = "postgres"
    emptied = False  # the index is rows of the database: never of another format on open

    def __init__(self, url: str, connection: Callable[[], Connection | None] | None = None) -> None:
        """``connection``: the caller's connection to the same database, if it has one now (the
        request's): searches read through it, in its transaction, rather than check out a
        connection of their own (a round trip less: no pre-ping, no second pool)."""
        if not url.startswith("postgresql"):
            raise NotPostgres(
                "ARTIFACT_SEARCH_BACKEND=postgres keeps the index in the database and needs "
                "ARTIFACT_DATABASE_URL to be PostgreSQL (postgresql://...); with SQLite use "
                "whoosh or tantivy"
            )
        self.engine: Engine = create_engine(
            engine_url(url), pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True
        )
        self._fuzzy: bool | None = None
        self._shared = connection

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        shared = self._shared() if self._shared is not None else None
        if shared is not None and _same_database(shared.engine.url, self.engine.url):
            yield shared
            return
        with self.engine.connect() as connection:
            yield connection

    # -- writing ------------------------------------------------------------------------
    def replace(
        self, parents: Iterable[str], entries: Iterable[Entry], keys: Iterable[str] = ()
    ) -> None:
        with self.engine.begin() as connection:
            self.replace_in(connection, parents, entries, keys)

    def replace_in(
        self,
        connection: Connection,
        parents: Iterable[str],
        entries: Iterable[Entry],
        keys: Iterable[str] = (),
    ) -> None:
        """``replace`` inside the caller's transaction (the one that changed the records): the
        entries commit with it, or not at all."""
        parents, keys = sorted(set(parents)), list(keys)
        connection.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": REBUILD_LOCK})
        connection.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended('artifact-search:' || p, 0)) "
                "FROM unnest(CAST(:parents AS text[])) AS p ORDER BY p"
            ),
            {"parents": parents},
        )
        connection.execute(
            text(
                "DELETE FROM search_entry WHERE parent = ANY(CAST(:parents AS text[])) "
                "OR key = ANY(CAST(:keys AS text[]))"
            ),
            {"parents": parents, "keys": keys},
        )
        self._insert(connection, entries)

    def _insert(self, connection: Connection, entries: Iterable[Entry]) -> int:
        count = 0
        for batch in _batches(entries):
            rows = [_row(e) for e in batch]
            connection.execute(_INSERT, rows)
            lexicon = sorted({w for r in rows if r["words"] for w in r["words"].split(" ")})
            if lexicon:
                connection.execute(_WORDS, {"words": lexicon})
            count += len(batch)
        return count

    def rebuild(self, entries: Iterable[Entry]) -> int:
        """One transaction: searches see the old index until it commits."""
        with self.engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REBUILD_LOCK})
            connection.execute(text("DELETE FROM search_entry"))
            connection.execute(text("DELETE FROM search_word"))
            count = self._insert(connection, entries)
        with self.engine.begin() as connection:  # the planner's statistics of the new rows
            connection.execute(text("ANALYZE search_entry"))
        return count

    def indexed_parents(self) -> set[str]:
        """The records with entries: each record's entries are written in one transaction, so
        a record with its metadata entry has them all (``flask migrate-store`` goes on from
        there)."""
        with self.engine.connect() as connection:
            found = connection.execute(
                text("SELECT parent FROM search_entry WHERE part = 'meta'")
            ).scalars()
            return set(found)

    def remove_except(self, parents: Iterable[str]) -> int:
        """Delete the entries of every record not named; returns how many entries."""
        with self.engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REBUILD_LOCK})
            gone = connection.execute(
                text("DELETE FROM search_entry WHERE NOT parent = ANY(CAST(:p AS text[]))"),
                {"p": sorted(set(parents))},
            )
            return int(gone.rowcount or 0)

    # -- reading ------------------------------------------------------------------------
    def search(
        self, query: q.Query, scope: Scope, *, offset: int = 0, limit: int = 10, facets: bool = True
    ) -> ResultPage:
        if scope.nothing:
            return ResultPage(0, [], {name: {} for name in FACETS} if facets else {})
        p = Params()
        where, rank = _match(query, p)
        where.append(scope_sql(scope, p))
        if not query.all_versions:
            where.append("e.current")
        facet_sql = _facets_sql() if facets else "NULL"
        sql = f"""
            WITH m AS MATERIALIZED (
                SELECT e.key, e.parent, e.part, e.version, e.current, e.title, e.shown, e.type,
                       e.category, e.series, e.framework, e.year, {rank} AS score
                FROM search_entry e WHERE {" AND ".join(where)}
            )
            SELECT (SELECT count(*) FROM m) AS total,
                   (SELECT coalesce(json_agg(h), '[]') FROM (
                        SELECT parent, part, version, current, title, shown, score FROM m
                        ORDER BY score DESC, key LIMIT {p.add(limit)} OFFSET {p.add(offset)}
                   ) h) AS hits,
                   {facet_sql} AS facets
        """  # noqa: S608 (names and placeholders only; every value is bound)
        with self._reading() as connection:
            row = connection.execute(text(sql), p.values).one()
        hits = [_hit(h) for h in row.hits]
        counts: dict[str, dict[str, int]] = {}
        if facets:
            counts = {name: {} for name in FACETS}
            for name, value, number in row.facets or []:
                counts[name][value] = int(number)
        return ResultPage(int(row.total), hits, counts)

    def pages(
        self, query: q.Query, docvers: list[str], per: int = PAGES_PER_HIT
    ) -> dict[str, list[PageHit]]:
        p = Params()
        positive = [_tsquery(c, p) for c in query.positive_text]
        if not positive or not docvers:
            return {}
        tsq = " && ".join(positive)
        negative = [
            f"NOT (e.tsv @@ {_tsquery(c.clause, p)})"
            for c in query.clauses
            if isinstance(c, q.Not) and not isinstance(c.clause, q.Filter)
        ]
        sql = f"""
            WITH t AS MATERIALIZED (SELECT {tsq} AS q)
            SELECT d.docver, x.page, x.score, x.n,
                   CASE WHEN x.n = 1 THEN ts_headline('{CONFIG}', x.body, t.q,
                        {p.add(HEADLINE)}) END AS headline
            FROM t, unnest({p.add(docvers, "text[]")}) AS d(docver),
            LATERAL (
                SELECT e.page, e.body, ts_rank(e.tsv, t.q) AS score,
                       row_number() OVER (ORDER BY ts_rank(e.tsv, t.q) DESC, e.page) AS n
                FROM search_entry e
                WHERE e.part = 'page' AND e.docver = d.docver
                  AND e.tsv @@ t.q {"".join(" AND " + n for n in negative)}
                ORDER BY score DESC, e.page LIMIT {p.add(per)}
            ) x
            ORDER BY d.docver, x.n
        """  # noqa: S608 (names and placeholders only; every value is bound)
        out: dict[str, list[PageHit]] = {}
        with self._reading() as connection:
            rows = connection.execute(text(sql), p.values).all()
            marks = highlight.pattern(query)
            missed = [
                r.docver
                for r in rows
                if r.n == 1 and marks is not None and not marks.search(r.headline or "")
            ]
            # ts_headline parses text with PostgreSQL's parser, not ours: where its fragment
            # holds no word of ours (a control id: "A.8.24" is one token to it), the page is
            # given whole and our highlighter finds the window.
            whole: dict[str, str] = {}
            if missed:
                whole = dict(
                    connection.execute(
                        text(
                            "SELECT docver || '#' || page, body FROM search_entry "
                            "WHERE key = ANY(CAST(:keys AS text[]))"
                        ),
                        {
                            "keys": [
                                f"{r.docver}#{r.page}"
                                for r in rows
                                if r.docver in missed and r.n == 1
                            ]
                        },
                    ).all()
                )
        for r in rows:
            shown = whole.get(f"{r.docver}#{r.page}", r.headline or "") if r.n == 1 else ""
            out.setdefault(r.docver, []).append(PageHit(int(r.page), shown, float(r.score)))
        return out

    def suggest(self, word: str, distance: int, scope: Scope, all_versions: bool) -> list[str]:
        """Words of the lexicon that start like ``word`` and lie within ``distance`` edits
        (``levenshtein_less_equal`` narrows them where fuzzystrmatch is installed, then the
        optimal string alignment distance the other backends use decides), kept when an entry
        inside ``scope`` holds them."""
        if scope.nothing or not word:
            return []
        with self._reading() as connection:
            p = Params()
            narrow = ""
            if self._has_fuzzy(connection):
                narrow = (
                    f" AND levenshtein_less_equal(word, {p.add(word)}, {p.add(2 * distance)})"
                    f" <= {p.add(2 * distance)}"
                )
            first = p.add(word[:SUGGEST_PREFIX] + "%")
            sql = (
                f"SELECT word FROM search_word WHERE word LIKE {first} AND length(word) "  # noqa: S608 (placeholders only)
                f"BETWEEN {p.add(len(word) - distance)} AND {p.add(len(word) + distance)}{narrow}"
            )
            found = connection.execute(text(sql), p.values).scalars()
            near = [w for w in found if w != word and within(w, word, distance)]
            if not near:
                return []
            p = Params()
            where = [scope_sql(scope, p)]
            if not all_versions:
                where.append("e.current")
            sql = f"""
                SELECT c FROM unnest({p.add(near, "text[]")}) AS c WHERE EXISTS (
                    SELECT 1 FROM search_entry e
                    WHERE e.part <> 'page' AND e.words @@ plainto_tsquery('simple', c)
                      AND {" AND ".join(where)}
                ) ORDER BY c
            """  # noqa: S608 (names and placeholders only)
            return list(connection.execute(text(sql), p.values).scalars())

    def _has_fuzzy(self, connection: Connection) -> bool:
        if self._fuzzy is None:
            self._fuzzy = bool(
                connection.execute(
                    text("SELECT 1 FROM pg_extension WHERE extname = 'fuzzystrmatch'")
                ).scalar()
            )
            if not self._fuzzy:
                log.info(
                    "fuzzystrmatch is not installed: typo suggestions filter the lexicon in "
                    "Python (slower on a large catalog)"
                )
        return self._fuzzy

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM search_entry")).scalar_one())

    def state(self) -> None:
        """None: the index is in the database, read in each request's own snapshot."""
        return None

    def close(self) -> None:
        self.engine.dispose()


def _same_database(a: URL, b: URL) -> bool:
    return (a.host, a.port, a.database, a.username) == (b.host, b.port, b.database, b.username)


def _hit(row: dict[str, Any]) -> Hit:
    kind, _sep, record = str(row["parent"]).partition(":")
    return Hit(
        kind,
        record,
        row["part"],
        int(row["version"]),
        bool(row["current"]),
        row["title"],
        row["shown"] or "",
        float(row["score"]),
    )


def _facets_sql() -> str:
    arrays = [name for name in FACETS if name != "type"]
    parts = ["SELECT 'type' AS name, m.type AS value, count(*) AS n FROM m GROUP BY m.type"]
    parts += [  # the facets' own names (FACETS), never a caller's text
        f"SELECT '{name}', v, count(*) FROM m, unnest(m.{name}) AS v GROUP BY v"  # noqa: S608
        for name in arrays
    ]
    union = " UNION ALL ".join(parts)
    return f"(SELECT json_agg(json_build_array(f.name, f.value, f.n)) FROM ({union}) f)"  # noqa: S608


def _tsquery(
    clause: q.Term | q.Phrase | q.Prefix | q.Filter, p: Params, loose: bool = False
) -> str:
    """A text clause as a tsquery expression on bound words (``loose``: a phrase's words in
    any order, the necessary condition a clipped file is first found by)."""
    if isinstance(clause, q.Term):
        return f"plainto_tsquery('{CONFIG}', {p.add(clause.word)})"
    if isinstance(clause, q.Phrase):
        function = "plainto_tsquery" if loose else "phraseto_tsquery"
        return f"{function}('{CONFIG}', {p.add(' '.join(clause.words))})"
    if isinstance(clause, q.Prefix):
        prefix = p.add(clause.stem + ":*")
        return f"(to_tsquery('{CONFIG}', {prefix}) || to_tsquery('simple', {prefix}))"
    raise TypeError("filters are not text")


def _phrase_sql(clause: q.Phrase, p: Params) -> str:
    """A phrase in a counted entry: in its own positions, or, for a file too long for them
    (``clipped``), on one of its pages."""
    phrase = _tsquery(clause, p)
    return (  # placeholders only
        f"(e.tsv @@ {phrase} OR (e.clipped AND EXISTS (SELECT 1 FROM search_entry pg "  # noqa: S608
        f"WHERE pg.part = 'page' AND pg.docver = e.docver AND pg.tsv @@ {phrase})))"
    )


def _filter_sql(clause: q.Filter, p: Params) -> str:
    if clause.field == "type":
        return f"e.type = {p.add(clause.value)}"
    if clause.field not in q.FILTER_FIELDS:
        raise ValueError(f"unknown filter {clause.field!r}")
    return f"e.{clause.field} @> {p.add([clause.value], 'text[]')}"


def _match(query: q.Query, p: Params) -> tuple[list[str], str]:
    """The conditions on counted entries, and the rank expression. The rank is ``ts_rank`` of
    the words OR-ed (each word's frequency): of an AND query, ``ts_rank`` weighs every pair of
    positions of every two words, which costs hundreds of milliseconds on long files."""
    where = ["e.part <> 'page'"]
    loose: list[str] = []
    ranked: list[str] = []
    for clause in query.clauses:
        if isinstance(clause, q.Filter):
            where.append(_filter_sql(clause, p))
        elif isinstance(clause, q.Not):
            inner = clause.clause
            if isinstance(inner, q.Filter):
                where.append(f"NOT ({_filter_sql(inner, p)})")
            elif isinstance(inner, q.Phrase):
                where.append(f"NOT {_phrase_sql(inner, p)}")
            else:
                where.append(f"NOT (e.tsv @@ {_tsquery(inner, p)})")
        else:
            loose.append(_tsquery(clause, p, loose=True))
            if isinstance(clause, q.Phrase):
                where.append(_phrase_sql(clause, p))
                ranked += [_tsquery(q.Term(word), p) for word in clause.words]
            else:
                ranked.append(_tsquery(clause, p))
    if not loose:
        return where, "0.0"
    where.insert(1, f"e.tsv @@ ({' && '.join(loose)})")
    return where, _rank_sql(f"({' || '.join(ranked)})")


def _rank_sql(ranked: str) -> str:
    """``ts_rank(e.tsv, ranked)``, computed on ``e.rank`` (migration p17b: each lexeme with as
    many positions as in ``tsv``, numbered 1..n, about a tenth of the bytes) whenever that gives
    the same number: ``ts_rank`` of an OR of words, or of one word, reads each word's count of
    positions only (and their weights: ours have none), while of an AND or a phrase at the top
    (one word PostgreSQL's parser cuts in two) it weighs the distances between positions, so
    there ``tsv`` ranks as before. The query and that test are uncorrelated subqueries:
    computed once per statement, not once per row."""
    exact = (  # placeholders only
        "(SELECT strpos(x.r::text, ' & ') = 0 AND strpos(x.r::text, ' <') = 0 "  # noqa: S608
        f"FROM (SELECT {ranked} AS r) AS x)"
    )
    return f"ts_rank(CASE WHEN {exact} THEN e.rank ELSE e.tsv END, (SELECT {ranked}))"


def scope_sql(scope: Scope, p: Params) -> str:
    """``scope`` as one condition on counted entries (see ``Scope`` and ``Rule``)."""
    if scope.everything:
        return "true"
    parts = [_rule_sql(rule, p) for rule in scope.rules]
    terms = scope.terms()
    if terms:
        parts.append(f"e.scope && {p.add(terms, 'text[]')}")
    return "(" + " OR ".join(parts) + ")" if parts else "false"


def _groups_sql(groups: tuple[frozenset[str], ...], p: Params) -> str:
    """Each group as an overlap with the entry's attributes. ``&&`` compares each value of its
    left array with the right one's until one matches, so the group is on the left with the
    values of classes first (a visibility matches most entries at once) and single records'
    (``id/``, one per grant: a customer may hold hundreds) last."""
    return (
        " AND ".join(
            f"{p.add(sorted(g, key=lambda v: (v.startswith('id/'), v)), 'text[]')} && e.attrs"
            for g in groups
        )
        or "true"
    )


def _rule_sql(rule: Rule, p: Params) -> str:
    meta = f"e.kind = {p.add('meta/' + rule.type)} AND {_groups_sql(rule.seen, p)}"
    if rule.files is None:
        return f"({meta})"
    with_file = _groups_sql((frozenset({HAS_FILE}), *rule.files), p)
    doc = f"e.kind = {p.add('doc/' + rule.type)} AND {_groups_sql(rule.seen + rule.files, p)}"
    return f"(({meta} AND NOT ({with_file})) OR ({doc}))"
