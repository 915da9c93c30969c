"""The one search interface both embedded backends implement.

Visibility is never stored in the index: the caller passes a ``Scope`` computed from the policy
at query time, and the backend applies it before it counts, facets or returns anything."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from artifact.infra.search.query import Query, facet_value

FACETS = ("type", "category", "series", "framework", "year")


@dataclass(frozen=True)
class Entry:
    """One searchable entry: a record's metadata, or one page of a file (``page`` >= 1)."""

    type: str  # report, agreement, requirement, evidence
    id: str  # the record's id
    title: str
    text: str
    part: str = "meta"  # "meta" or "file"
    page: int = 0
    category: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    framework: tuple[str, ...] = ()
    year: tuple[str, ...] = ()

    @property
    def parent(self) -> str:
        return parent_key(self.type, self.id)

    @property
    def key(self) -> str:
        return f"{self.parent}#{self.page}"

    @property
    def scope_terms(self) -> tuple[str, ...]:
        """The terms a ``Scope`` names this entry by (see ``Scope.terms``)."""
        return (f"all/{self.type}", f"{self.part}/{self.type}", f"{self.part}/{self.parent}")

    def facet_values(self, name: str) -> tuple[str, ...]:
        if name == "type":
            return (self.type,)
        values: tuple[str, ...] = getattr(self, name)
        return tuple(dict.fromkeys(facet_value(v) for v in values if facet_value(v)))


def parent_key(kind: str, record_id: str) -> str:
    return f"{kind}:{record_id}"


@dataclass(frozen=True)
class Scope:
    """What the caller may see, computed from the policy for each search: whole kinds (their
    metadata and files), kinds whose metadata only, single records' metadata, and the files
    they may download now. An entry is in scope when any of these names it."""

    types: frozenset[str] = frozenset()
    meta_types: frozenset[str] = frozenset()
    meta_parents: frozenset[str] = frozenset()
    file_parents: frozenset[str] = frozenset()
    everything: bool = False  # benchmarks of the raw backend only

    @property
    def nothing(self) -> bool:
        return not (
            self.everything
            or self.types
            or self.meta_types
            or self.meta_parents
            or self.file_parents
        )

    def terms(self) -> list[str]:
        """The scope as terms an entry carries (``Entry.scope_terms``): one set-membership
        filter for the backend, applied before anything is counted."""
        return sorted(
            [f"all/{t}" for t in self.types]
            + [f"meta/{t}" for t in self.meta_types]
            + [f"meta/{p}" for p in self.meta_parents]
            + [f"file/{p}" for p in self.file_parents]
        )


@dataclass(frozen=True)
class Hit:
    type: str
    id: str
    part: str
    page: int
    title: str
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
        """Matching entries inside ``scope``: total, one page of hits, facet counts."""

    def count(self) -> int:
        """How many entries the index holds."""

    def close(self) -> None:
        """Release files and threads."""
