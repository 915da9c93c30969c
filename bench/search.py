"""Search benchmark: a synthetic compliance-like corpus (10,000 page entries by default) plus the
real PDFs of ../shared/corpus/files, on each backend.

Prints p50/p95 per query kind for: our API path (policy scope, facets, snippets, JSON), each raw
backend (top 10 and total, no policy), and SQLite FTS5 as an outside reference on the same
entries; then index build throughput and the time from uploading a 300-page PDF to finding its
last page.

    .venv/bin/python bench/search.py                 # about two minutes on 2 cores
    .venv/bin/python bench/search.py --pages 100000  # the scale point

The postgres backend joins the table when ARTIFACT_BENCH_DATABASE_URL names a PostgreSQL server
(postgresql://USER@HOST:PORT/ANY): the run creates a database of its own there and drops it.
With ``--keep NAME`` it uses the database NAME instead and keeps it: a first run builds it, later
runs with the same NAME (and --pages) reuse the built index and only time the queries, for
iterating on the backend (the upload timing is skipped, so the kept database stays as built;
migrations still run, so a new one applies to the kept rows).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pikepdf  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from artifact import create_app, policy  # noqa: E402
from artifact.catalog.services import reports  # noqa: E402
from artifact.extensions import db  # noqa: E402
from artifact.identity.services import accounts  # noqa: E402
from artifact.infra.pdf.text import page_texts  # noqa: E402
from artifact.infra.search import EMBEDDED, Backend, index_for  # noqa: E402
from artifact.infra.search.backend import Entry, Scope  # noqa: E402
from artifact.infra.search.query import Query, parse  # noqa: E402
from artifact.infra.storage import store_for  # noqa: E402
from artifact.kernel import uow  # noqa: E402
from artifact.kernel.caller import OPERATOR, Caller  # noqa: E402
from artifact.models import Grant, Report, User  # noqa: E402
from artifact.search import services as search_service  # noqa: E402
from artifact.search.kinds import file_entries, report_attrs  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
PAGES_PER_REPORT = 100
ROUNDS = 30
COMMON = [
    "security",
    "control",
    "access",
    "policy",
    "system",
    "information",
    "management",
    "risk",
    "audit",
    "monitoring",
    "organization",
    "data",
    "encryption",
    "incident",
    "response",
    "review",
    "evidence",
    "assessment",
    "procedure",
    "network",
    "user",
    "account",
    "privileged",
    "logging",
    "change",
    "vendor",
    "backup",
    "recovery",
    "training",
    "physical",
    "availability",
    "confidentiality",
    "integrity",
]
FAMILIES = ["AC", "AU", "CM", "IA", "IR", "SC", "SI", "PE", "RA", "CA"]
SERIES = ["SOC", "ISO", "PCI", "FEDRAMP", "HIPAA"]
CATEGORIES = ["reports", "certifications", "regulations"]
QUERIES = {  # kind -> (our syntax, SQLite FTS5 syntax)
    "common word": ("security", "security"),
    "rare word": ("quetzalcoatl", "quetzalcoatl"),
    "3-word AND": ("access control policy", "access control policy"),
    "phrase": ('"incident response"', '"incident response"'),
    "prefix": ("encrypt*", "encrypt*"),
    "filter": ("category:certifications audit", "audit"),
    "control id": ("AC-2", '"ac 2"'),
}


def page_text(rng: random.Random, page: int) -> str:
    words = rng.choices(COMMON, k=120)
    for _ in range(4):
        words.insert(rng.randrange(len(words)), f"{rng.choice(FAMILIES)}-{rng.randint(1, 25)}")
    if rng.random() < 0.0005:
        words.insert(rng.randrange(len(words)), "quetzalcoatl")
    words += ["incident", "response"] if page % 3 == 0 else []
    return " ".join(words).capitalize() + "."


def corpus_pages() -> list[str]:
    if not CORPUS.is_dir():
        print(f"(no real PDFs: {CORPUS} is absent)")
        return []
    texts: list[str] = []
    for path in sorted(CORPUS.rglob("*.pdf")):
        try:
            texts.extend(t for t in page_texts(path.read_bytes()) if t.strip())
        except ValueError:
            continue  # the malformed and encrypted samples
    return texts


def seed(pages: int) -> tuple[list[Report], dict[str, str]]:
    """Reports in the database (a third restricted, granted to half of those), one customer."""
    rng = random.Random(7)  # noqa: S311  (a reproducible corpus)
    count = max(1, pages // PAGES_PER_REPORT) + 1
    made = []
    for number in range(count):
        visibility = ("public", "customers", "restricted")[number % 3]
        made.append(
            Report(
                title=f"Report {number} {rng.choice(SERIES)}",
                state="published",
                category=CATEGORIES[number % 3],
                series=SERIES[number % 5],
                visibility=visibility,
                frameworks=["SOC 2"],
                description="",
            )
        )
    db.session.add_all(made)
    db.session.flush()
    customer = accounts.create_user(
        db.session,
        OPERATOR,
        email="bench@example.test",
        role="customer",
        password="bench correct horse staple 42",  # noqa: S106
        organization="Bench",
        create_organization_if_missing=True,
    )
    for report in made[2::6]:
        db.session.add(Grant(report_id=report.id, organization_id=customer.organization_id))
    db.session.commit()
    return made, {"customer": customer.id}


def entries(made: list[Report], pages: int, real: list[str]) -> Iterator[Entry]:
    """Each report's metadata, its file as a whole and its pages (``kinds.file_entries``)."""
    rng = random.Random(11)  # noqa: S311  (a reproducible corpus)
    left = pages
    for index, report in enumerate(made):
        facets = {
            "category": (report.category,),
            "series": (report.series,),
            "framework": ("soc 2",),
            "year": ("2025",),
        }
        batch = (
            real
            if index == len(made) - 1
            else [page_text(rng, p) for p in range(min(PAGES_PER_REPORT, left))]
        )
        left -= 0 if index == len(made) - 1 else len(batch)
        yield from file_entries(
            "report",
            report.id,
            report.title,
            report.title,
            facets,
            [(1, True, batch)],
            report_attrs(report, policy.standing_grantees(db.session, report.id)),
        )


def timed(action: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    action()  # warm
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def fts5(all_entries: list[Entry]) -> dict[str, tuple[float, float]]:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE f USING fts5(text, category UNINDEXED, tokenize='unicode61')")
    # Metadata and pages, as our entries were before documents were counted: each page row
    # carries its report's category.
    category = {e.parent: e.category[0] for e in all_entries if e.part == "meta" and e.category}
    con.executemany(
        "INSERT INTO f VALUES (?, ?)",
        ((e.text, category.get(e.parent, "")) for e in all_entries if e.part != "doc"),
    )
    con.commit()
    out = {}
    for kind, (_ours, theirs) in QUERIES.items():
        where = "f MATCH ?" + (" AND category = 'certifications'" if kind == "filter" else "")

        def run(where: str = where, theirs: str = theirs) -> None:
            con.execute(
                f"SELECT rowid FROM f WHERE {where} ORDER BY rank LIMIT 10",  # noqa: S608
                (theirs,),
            ).fetchall()
            con.execute(f"SELECT count(*) FROM f WHERE {where}", (theirs,)).fetchone()  # noqa: S608

        out[kind] = timed(run)
    return out


def big_pdf(pages: int = 300) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    rng = random.Random(3)  # noqa: S311  (a reproducible corpus)
    for number in range(1, pages + 1):
        page = pdf.add_blank_page(page_size=(612, 792))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        lines = [" ".join(rng.choices(COMMON, k=12)) for _ in range(40)]
        if number == pages:
            lines[-1] = "axolotlfinale last page"
        ops = "".join(
            f"BT /F1 9 Tf 50 {760 - 18 * i} Td ({line}) Tj ET\n" for i, line in enumerate(lines)
        )
        page.obj.Contents = pdf.make_stream(ops.encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


POSTGRES_URL = os.environ.get("ARTIFACT_BENCH_DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith("postgresql")


def run_backend(
    name: str, pages: int, real: list[str], pdf: bytes, keep: str = ""
) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-search-{name}-"))
    if name != "postgres":
        return _run_backend(name, f"sqlite:///{work / 'bench.db'}", work, pages, real, pdf)
    base = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    database = keep or f"artifact_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        url = base.set(database=database).render_as_string(hide_password=False)
        return _run_backend(name, url, work, pages, real, pdf, keep=bool(keep))
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def built(pages: int) -> tuple[list[Report], dict[str, str]] | None:
    """A kept database's reports (in the order ``seed`` made them) and customer, when its index
    was built for ``pages``; None when it is to be built."""
    customer = db.session.scalar(db.select(User).where(User.email == "bench@example.test"))
    count = max(1, pages // PAGES_PER_REPORT) + 1
    made = sorted(db.session.scalars(db.select(Report)), key=lambda r: int(r.title.split()[1]))
    if customer is None or len(made) != count:
        if customer is not None or made:
            raise SystemExit("--keep: that database holds another bench size; drop it first")
        return None
    return made, {"customer": customer.id}


def _run_backend(
    name: str, url: str, work: Path, pages: int, real: list[str], pdf: bytes, keep: bool = False
) -> dict[str, object]:
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(work),
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_BACKEND": name,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        store_for(app).keyring.create()
        reused = built(pages) if keep else None
        made, users = reused or seed(pages)
        all_entries = list(entries(made, pages, real))
        index = index_for(app)
        build = 0.0
        if reused is None:
            started = time.perf_counter()
            index.rebuild(iter(all_entries))
            build = time.perf_counter() - started
        customer_row = db.session.get(User, users["customer"])
        assert customer_row is not None
        customer = Caller.of_user(customer_row)
        api, raw, bare = {}, {}, {}
        for kind, (ours, _theirs) in QUERIES.items():
            query = parse(ours)
            # "raw": the backend doing the same work as the API path (top 10 documents, total,
            # facets, their best pages) with no policy, no snippets, no JSON; "bare": the
            # backend's top 10 and total only (what "raw" meant before documents were counted).
            raw[kind] = timed(lambda q=query: same_work(index, q))
            bare[kind] = timed(
                lambda q=query: index.search(q, Scope(everything=True), facets=False)
            )
            api[kind] = timed(
                lambda text=ours: search_service.search(db.session, customer, index, text).as_json()
            )
        ingest = 0.0 if keep else ingest_time(app, pdf, made[0].id)
        index.close()
        db.session.remove()
        db.engine.dispose()
        return {
            "entries": len(all_entries),
            "build": build,
            "api": api,
            "raw": raw,
            "bare": bare,
            "ingest": ingest,
            "fts_entries": all_entries,
        }


def same_work(index: Backend, query: Query) -> None:
    found = index.search(query, Scope(everything=True))
    index.pages(query, [h.docver for h in found.hits if h.part == "doc"])


def ingest_time(app: object, pdf: bytes, report_id: str) -> float:
    """Upload (store, commit, extract, index) until the last page is found."""
    started = time.perf_counter()
    reports.add_version(
        db.session,
        OPERATOR,
        store_for(app),
        report_id,  # type: ignore
        pdf,
        "big.pdf",
        10**9,
    )
    uow.commit(db.session)  # as the request does: the index follows the commit
    found = search_service.search(db.session, OPERATOR, index_for(app), "axolotlfinale")  # type: ignore
    elapsed = time.perf_counter() - started
    assert [h.pages for h in found.hits] == [(300,)], (found.total, found.hits)
    return elapsed


def load() -> str:
    """The load average, as `uptime` prints it (other work on the machine skews every time)."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def targets(
    name: str,
    result: dict[str, Any],
    reference: dict[str, tuple[float, float]],
    pages: int,
) -> None:
    """Issue 15's targets, PASS/FAIL: through our API on tantivy, the worst kind's p95 <= 10 ms
    at 10,000 pages and <= 25 ms at 100,000; API <= 1.5x raw + 1 ms per kind (p50); at 100,000
    pages >= 3x faster than SQLite FTS5 on every kind (p50). Whoosh: p95 <= 50 ms at 10,000.
    Postgres (issue 17): p95 <= 50 ms at 100,000 pages (printed against the same bar at any
    size)."""
    api, raw = result["api"], result["raw"]
    worst_kind = max(api, key=lambda k: api[k][1])
    worst = api[worst_kind][1]
    if name == "tantivy":
        limit = 10.0 if pages <= 10_000 else 25.0
        print(
            f"{verdict(worst <= limit)} tantivy worst api p95 {worst:.1f} ms ({worst_kind}); "
            f"target <= {limit:.0f} ms at {pages:,} pages"
        )
    elif name == "postgres":
        print(
            f"{verdict(worst <= 50.0)} postgres worst api p95 {worst:.1f} ms ({worst_kind}); "
            f"target <= 50 ms at 100,000 pages (this run: {pages:,} pages)"
        )
    else:
        print(
            f"{verdict(worst <= 50.0)} whoosh worst api p95 {worst:.1f} ms ({worst_kind}); "
            "target <= 50 ms (else check-deploy names tantivy past 5,000 entries)"
        )
    over = {k: api[k][0] - (1.5 * raw[k][0] + 1.0) for k in QUERIES}
    detail = ", ".join(f"{k} {api[k][0]:.1f} vs {1.5 * raw[k][0] + 1.0:.1f}" for k in QUERIES)
    print(f"{verdict(max(over.values()) <= 0)} {name} api <= 1.5x raw + 1 ms (p50): {detail}")
    if pages >= 100_000:
        speed = {k: reference[k][0] / max(api[k][0], 0.001) for k in QUERIES}
        detail = ", ".join(f"{k} {v:.1f}x" for k, v in speed.items())
        print(f"{verdict(min(speed.values()) >= 3)} {name} api vs SQLite FTS5 (p50): {detail}")
        # Where FTS5 is as fast as the backend's own top 10 with no policy ("bare"), no path
        # through that backend can be 3x faster: say so beside the FAIL, with the figures.
        bare = result["bare"]
        for kind in QUERIES:
            if speed[kind] < 3 and reference[kind][0] < 3 * bare[kind][0]:
                print(
                    f"  {kind}: SQLite FTS5 answers in {reference[kind][0]:.2f} ms and bare "
                    f"{name} (top 10 and total, no policy) in {bare[kind][0]:.2f} ms: 3x faster "
                    "than FTS5 is out of reach for any path through this backend"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    default = [*EMBEDDED, "postgres"] if ON_POSTGRES else list(EMBEDDED)
    parser.add_argument("--backends", default=",".join(default))
    parser.add_argument(
        "--keep",
        metavar="NAME",
        default="",
        help="postgres: build into database NAME and keep it; reuse it when already built",
    )
    args = parser.parse_args()
    if "postgres" in args.backends.split(",") and not ON_POSTGRES:
        parser.error("postgres needs ARTIFACT_BENCH_DATABASE_URL=postgresql://USER@HOST:PORT/x")
    real = corpus_pages()
    pdf = big_pdf()
    print(
        f"corpus: {args.pages} synthetic pages + {len(real)} pages of real PDFs; "
        f"{ROUNDS} rounds per query, times in ms (p50 / p95)"
    )
    results = {
        name: run_backend(name, args.pages, real, pdf, args.keep)
        for name in args.backends.split(",")
    }
    reference = fts5(next(iter(results.values()))["fts_entries"])  # type: ignore[arg-type]
    names = list(results)
    print(f"load average (uptime): {load()}")
    header = f"{'query kind':<14}" + "".join(
        f"{'api ' + n:>18}{'raw ' + n:>18}{'bare ' + n:>18}" for n in names
    )
    print(header + f"{'sqlite fts5':>18}")
    for kind in QUERIES:
        row = f"{kind:<14}"
        for name in names:
            for part in ("api", "raw", "bare"):
                p50, p95 = results[name][part][kind]  # type: ignore[index]
                row += f"{p50:>10.1f} /{p95:>6.1f}"
        print(row + f"{reference[kind][0]:>10.1f} /{reference[kind][1]:>6.1f}")
    for name in names:
        targets(name, results[name], reference, args.pages)
    for name in names:
        r = results[name]
        if not r["build"]:
            print(f"{name}: reused a kept index of {r['entries']} entries")
            continue
        upload = f"{r['ingest']:.2f} s" if r["ingest"] else "not timed (--keep)"
        print(
            f"{name}: built {r['entries']} entries in {r['build']:.1f} s "
            f"({r['entries'] / r['build']:.0f} entries/s); "  # type: ignore[operator]
            f"300-page PDF upload to searchable: {upload}"
        )


if __name__ == "__main__":
    main()
