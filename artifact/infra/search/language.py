"""How text is analysed for the index, and the version of that analysis kept beside each index.

Both backends cut text into runs of letters and digits, fold case and stem English words with
Porter2 (Snowball English): whoosh with ``whoosh.lang.porter2``, tantivy with its ``en_stem``
tokenizer (rust-stemmers). Each backend stems the words of a query with the same stemmer its
index was written with, so "encrypted", "encrypting" and "encryption" meet. Nothing is dropped
as a stop word, so a control id such as ``A.8.24`` stays the phrase "a 8 24".

``FORMAT`` names this analysis. An index whose recorded format differs (or is missing) was
written with another analysis and would answer wrongly: the backend empties it on open and says
so (``emptied``), and the application fills it again from the database."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from whoosh.lang.porter2 import stem as porter2_stem

from artifact.infra.search.locking import LOCK_NAME

FORMAT = "4"  # 1: lower-cased words, unstemmed; 2: Porter2 stems; 3: documents, versions, words;
# 4: reports name the grantees of their grants without an expiry
FORMAT_NAME = "artifact-format"
log = logging.getLogger(__name__)


def stem(word: str) -> str:
    """The Porter2 stem of one lower-cased word (for snippets; backends stem with their own)."""
    return porter2_stem(word)


def recorded_format(directory: Path) -> str | None:
    try:
        return (directory / FORMAT_NAME).read_text().strip()
    except FileNotFoundError:
        return None


def record_format(directory: Path) -> None:
    path = directory / (FORMAT_NAME + ".tmp")
    path.write_text(FORMAT + "\n")
    path.replace(directory / FORMAT_NAME)


def empty_directory(directory: Path, backend: str) -> None:
    """Remove an index of another format (it is derived data); the caller holds the lock."""
    log.warning(
        "the %s index in %s was written with search format %s, not %s: emptied; it is "
        "filled again from the database (or run `flask search reindex`)",
        backend,
        directory,
        recorded_format(directory) or "1",
        FORMAT,
    )
    for path in directory.iterdir():
        if path.name != LOCK_NAME:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
