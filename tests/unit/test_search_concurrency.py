"""The index under several writing processes, after crashes, and across segment merges (the
postgres backend in the PostgreSQL pass, on the test's database)."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from artifact.infra.search import open_backend
from artifact.infra.search.backend import Entry, Scope
from artifact.infra.search.locking import writer_lock
from artifact.infra.search.query import parse
from tests.fixtures_search import BACKEND_PARAMS

EVERYTHING = Scope(everything=True)
WORKERS, COMMITS = 4, 12


def _entry(worker: int, number: int) -> Entry:
    return Entry("report", f"w{worker}n{number}", "t", f"shared words token{worker}x{number}")


def _write_many(name: str, directory: str, url: str, worker: int) -> None:
    backend = open_backend(name, Path(directory), url)
    for number in range(COMMITS):
        entry = _entry(worker, number)
        backend.replace([entry.parent], [entry])
    backend.close()


def _rewrite_one(name: str, directory: str, url: str, worker: int) -> None:
    backend = open_backend(name, Path(directory), url)
    for number in range(COMMITS):
        entry = Entry("report", "same", "t", f"same record token{worker}x{number}")
        backend.replace([entry.parent], [entry])
    backend.close()


def _crash_while_writing(name: str, directory: str, url: str) -> None:
    backend = open_backend(name, Path(directory), url)
    if name == "postgres":
        entry = _entry(0, 0)
        with backend.engine.begin() as connection:  # type: ignore[attr-defined]
            backend.replace_in(connection, [entry.parent], [entry])  # type: ignore[attr-defined]
            os.kill(os.getpid(), signal.SIGKILL)  # its locks are held, its rows not committed
    with writer_lock(Path(directory)):
        writer = (
            backend._ix.writer()
            if name == "whoosh"  # type: ignore[attr-defined]
            else backend._writer()
        )  # type: ignore[attr-defined]
        writer.add_document  # noqa: B018  (the writer and both locks are held here)
        os.kill(os.getpid(), signal.SIGKILL)


def _run(target: object, *args: object) -> list[int | None]:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=a) for a in args]  # type: ignore[arg-type]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    return [process.exitcode for process in processes]


def _url(name: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("database_url")) if name == "postgres" else ""


@pytest.mark.slow
@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_concurrent_writers_lose_no_update(
    tmp_path: Path, name: str, request: pytest.FixtureRequest
) -> None:
    url = _url(name, request)
    exits = _run(_write_many, *[(name, str(tmp_path), url, worker) for worker in range(WORKERS)])
    assert exits == [0] * WORKERS
    backend = open_backend(name, tmp_path, url)
    assert backend.count() == WORKERS * COMMITS
    found = backend.search(parse("shared"), EVERYTHING, limit=100, facets=False)
    assert found.total == WORKERS * COMMITS
    assert len({hit.id for hit in found.hits}) == WORKERS * COMMITS
    for worker in range(WORKERS):
        for number in range(COMMITS):
            hits = backend.search(parse(f"token{worker}x{number}"), EVERYTHING).hits
            assert [h.id for h in hits] == [f"w{worker}n{number}"]
    backend.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_writers_of_one_record_follow_each_other(
    tmp_path: Path, name: str, request: pytest.FixtureRequest
) -> None:
    url = _url(name, request)
    exits = _run(_rewrite_one, *[(name, str(tmp_path), url, worker) for worker in range(WORKERS)])
    assert exits == [0] * WORKERS
    backend = open_backend(name, tmp_path, url)
    found = backend.search(parse("same record"), EVERYTHING, limit=10)
    assert [h.id for h in found.hits] == ["same"]
    assert backend.count() == 1
    backend.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_a_crashed_writer_leaves_no_lock_behind(
    tmp_path: Path, name: str, request: pytest.FixtureRequest
) -> None:
    url = _url(name, request)
    open_backend(name, tmp_path, url).close()
    assert _run(_crash_while_writing, (name, str(tmp_path), url)) == [-signal.SIGKILL]
    backend = open_backend(name, tmp_path, url)
    assert backend.search(parse("token0x0"), EVERYTHING).total == 0  # it never committed
    entry = _entry(0, 0)
    backend.replace([entry.parent], [entry])
    assert backend.search(parse("token0x0"), EVERYTHING).total == 1
    backend.close()


@pytest.mark.parametrize("name", BACKEND_PARAMS)
def test_no_duplicates_after_many_commits_and_merges(
    tmp_path: Path, name: str, request: pytest.FixtureRequest
) -> None:
    backend = open_backend(name, tmp_path, _url(name, request))
    for round_ in range(30):
        entries = [Entry("report", f"r{i}", "t", f"stable round{round_}") for i in range(5)]
        backend.replace([e.parent for e in entries], entries)
        found = backend.search(parse("stable"), EVERYTHING, limit=50)  # a searcher per round
        assert sorted(h.id for h in found.hits) == [f"r{i}" for i in range(5)]
        assert found.total == 5
        assert found.facets["type"] == {"report": 5}
    assert backend.search(parse("round3"), EVERYTHING).total == 0
    assert backend.search(parse("round29"), EVERYTHING).total == 5
    backend.close()
