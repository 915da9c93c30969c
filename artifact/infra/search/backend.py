"""The one search interface both embedded backends implement.

Who may see what is never stored in the index (no grants, no acceptances): the caller passes a
``Scope`` computed from the policy at query time, naming kinds, records, or classes of the
attributes a record's entries carry (``Rule``), and the backend applies it before it counts,
facets or returns anything."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from artifact.infra.search.query import Query, facet_value

FACETS = ("type", "category", "series", "framework", "year")


PARTS = ("meta", "doc", "page")
PAGES_PER_HIT = 10  # the best pages a hit names


@dataclass(frozen=True)
class Entry:
    """One searchable entry, of three parts:

    - ``meta``: a record's metadata (``page`` 0); ``has_file`` when the record has a file,
      whose ``doc`` entries then carry that metadata too;
    - ``doc``: one version of a record's file as a whole (every page; the current version's
      also holds the metadata), what a search ranks, counts and facets when the caller may
      download that file;
    - ``page``: one page of one version of a file (``page`` >= 1), asked only for the best pages
      of the documents a search returned.

    Exactly one counted entry (meta or doc) of a record version is in any caller's scope, so
    totals and facets count documents."""

    type: str  # report, agreement, requirement, evidence
    id: str  # the record's id
    title: str
    text: str
    part: str = "meta"
    page: int = 0
    version: int = 0  # the file's version number (0: metadata)
    current: bool = True  # the record's current version (metadata is always current)
    has_file: bool = False  # meta only: the record has a file (its doc entries exist)
    shown: str = ""  # doc only: the metadata text a snippet falls back to (no page matched)
    # Counted entries: attributes a ``Rule`` selects by (a report's state, visibility, listing,
    # series, category, agreement, id), as "name/value"; a meta entry with a file adds HAS_FILE.
    attrs: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    framework: tuple[str, ...] = ()
    year: tuple[str, ...] = ()

    @property
    def parent(self) -> str:
        return parent_key(self.type, self.id)

    @property
    def docver(self) -> str:
        """The document a page belongs to (one version of a record's file)."""
        return f"{self.parent}@{self.version}"

    @property
    def key(self) -> str:
        if self.part == "meta":
            return f"{self.parent}#0"
        if self.part == "doc":
            return self.docver
        return f"{self.docver}#{self.page}"

    @property
    def all_attrs(self) -> tuple[str, ...]:
        return self.attrs + ((HAS_FILE,) if self.part == "meta" and self.has_file else ())

    @property
    def counted(self) -> bool:
        return self.part != "page"

    @property
    def scope_terms(self) -> tuple[str, ...]:
        """The terms a ``Scope`` names this entry by (see ``Scope.terms``). A page carries those
        of its document (kept in a field of their own, for suggestions only)."""
        full = (f"all/{self.type}", f"file/{self.parent}")
        if self.part != "meta":
            return full
        meta = (f"meta/{self.type}", f"meta/{self.parent}")
        return meta if self.has_file else meta + full

    def facet_values(self, name: str) -> tuple[str, ...]:
        if name == "type":
            return (self.type,)
        values: tuple[str, ...] = getattr(self, name)
        return tuple(dict.fromkeys(facet_value(v) for v in values if facet_value(v)))


def parent_key(kind: str, record_id: str) -> str:
    return f"{kind}:{record_id}"


HAS_FILE = "file/yes"
Groups = tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Rule:
    """Records of ``type`` chosen by their attributes (``Entry.attrs``) rather than one by one:
    an entry meets a tuple of groups when each group names one of its attributes. Metadata
    of records meeting ``seen``; files (doc entries) of those also meeting ``files`` (None:
    no files). A metadata entry counts only where its record's file does not."""

    type: str
    seen: Groups
    files: Groups | None = None


@dataclass(frozen=True)
class Scope:
    """What the caller may see, computed from the policy for each search: whole kinds (their
    metadata and files), kinds whose metadata only, single records' metadata, and the files
    they may download now. Its size is what the caller may see (kinds, and the records named
    one by one), never the number of indexed pages: the filter applies to the counted
    entries only (one per document)."""

    types: frozenset[str] = frozenset()
    meta_types: frozenset[str] = frozenset()
    meta_parents: frozenset[str] = frozenset()
    file_parents: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()
    everything: bool = False  # benchmarks of the raw backend and `search status` only

    @property
    def nothing(self) -> bool:
        return not (
            self.everything
            or self.rules
            or self.types
            or self.meta_types
            or self.meta_parents
            or self.file_parents
        )

    def terms(self) -> list[str]:
        """The scope as terms an entry carries (``Entry.scope_terms``): one set-membership
        filter for the backend, applied before anything is counted. A record whose file is
        in scope is found by its doc entries (which hold its metadata), never also by its
        metadata entry: each document counts once."""
        return sorted(
            [f"all/{t}" for t in self.types]
            + [f"meta/{t}" for t in self.meta_types]
            + [f"meta/{p}" for p in self.meta_parents - self.file_parents]
            + [f"file/{p}" for p in self.file_parents]
        )


@dataclass(frozen=True)
class Hit:
    """One document: a record's metadata entry, or one version of its file."""

    type: str
    id: str
    part: str  # meta or doc
    version: int
    current: bool
    title: str
    text: str  # the metadata text shown when no page matched
    score: float

    @property
    def docver(self) -> str:
        return f"{parent_key(self.type, self.id)}@{self.version}"


@dataclass(frozen=True)
class PageHit:
    page: int
    text: str
    score: float


@dataclass
class ResultPage:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class Backend(Protocol):
    name: str
    # True when opening found an index of another analysis (``language.FORMAT``) and emptied
    # it: the application fills it again from the database (``search.indexer.index``).
    emptied: bool

    def replace(
        self, parents: Iterable[str], entries: Iterable[Entry], keys: Iterable[str] = ()
    ) -> None:
        """Delete every entry of ``parents`` and the entries ``keys``, then add ``entries``,
        in one commit."""

    def rebuild(self, entries: Iterable[Entry]) -> int:
        """Empty the index and load ``entries``; returns how many."""

    def search(
        self, query: Query, scope: Scope, *, offset: int = 0, limit: int = 10, facets: bool = True
    ) -> ResultPage:
        """Matching documents inside ``scope`` (current versions unless
        ``query.all_versions``): total, one page of hits, facet counts."""

    def pages(
        self, query: Query, docvers: list[str], per: int = PAGES_PER_HIT
    ) -> dict[str, list[PageHit]]:
        """The best ``per`` matching pages of each document named (``Hit.docver``, documents
        a scoped search returned), best first."""

    def suggest(self, word: str, distance: int, scope: Scope, all_versions: bool) -> list[str]:
        """Words as written (unstemmed) within ``distance`` edits of ``word`` in entries
        inside ``scope``: from up to a few of the best matching entries' text."""

    def count(self) -> int:
        """How many entries the index holds."""

    def state(self) -> Hashable | None:
        """A token that changes whenever what searches find may change (a commit by any
        process), so a page rendered from a search can be kept under it; None when the
        backend cannot tell (then nothing built from a search is kept)."""

    def close(self) -> None:
        """Release files and threads."""
