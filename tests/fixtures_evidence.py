"""Fixtures of evidence: sample files of every accepted type, hostile files, evidence items."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from artifact.evidence import services as evidence
from artifact.extensions import db
from artifact.infra.storage import BlobStore
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import Evidence, User
from artifact.models.base import utcnow
from tests.fixtures_catalog import make_pdf

WALK = (
    "source_framework,source_id,target_framework,target_id,relationship\n"
    "iso-sample,A.5.15,soc-sample,CC6.1,subset\n"
)


def today() -> date:
    return utcnow().date()


def make_png(width: int = 40, height: int = 20) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def make_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def make_xlsx(extra: Callable[[zipfile.ZipFile], None] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["user", "last review"])
    workbook.active.append(["alice", "2025-01-01"])
    out = io.BytesIO()
    workbook.save(out)
    return _with_extra(out.getvalue(), extra)


def make_docx(extra: Callable[[zipfile.ZipFile], None] | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Access review minutes (test).")
    out = io.BytesIO()
    document.save(out)
    return _with_extra(out.getvalue(), extra)


def _with_extra(data: bytes, extra: Callable[[zipfile.ZipFile], None] | None) -> bytes:
    if extra is None:
        return data
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        extra(archive)
    return out.getvalue()


def zeros_entry(name: str, megabytes: int) -> Callable[[zipfile.ZipFile], None]:
    """A part of ``megabytes`` MB of zeros: a few hundred KB compressed."""

    def add(archive: zipfile.ZipFile) -> None:
        chunk = b"\x00" * (1024 * 1024)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as part:
            for _ in range(megabytes):
                part.write(chunk)

    return add


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A 1-bit greyscale PNG of width x height pixels of zeros: ~100 KB that would decode to
    hundreds of megapixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 1000) for _ in range(height // 1000)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def blob_files(store: BlobStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []


@pytest.fixture
def reviewer(make_user: Callable[..., User]) -> User:
    """A second staff member, who may approve what ``staff`` uploaded."""
    return make_user("staff", email="reviewer@example.test")


@pytest.fixture
def evidence_frameworks(small_frameworks: None, run_import: Any, write_file: Any) -> None:
    """iso-sample and soc-sample, with iso-sample:A.5.15 a subset of soc-sample:CC6.1."""
    result = run_import(write_file("walk.csv", WALK), "crosswalk")
    assert result.exit_code == 0, result.output


@pytest.fixture
def make_evidence(
    app: Flask, store: BlobStore, staff: User, reviewer: User
) -> Callable[..., Evidence]:
    """Evidence uploaded by ``staff``; ``state="approved"`` has ``reviewer`` approve it."""

    def factory(
        title: str = "Access review Q1",
        *,
        requirements: Any = (),
        data: bytes | None = None,
        filename: str = "review.txt",
        effective_date: date | None = None,
        expires_on: date | None = None,
        state: str = "draft",
        by: User | None = None,
    ) -> Evidence:
        # Evidence approved and expired since: approved while current, then time "passes"
        # (the stored expiry moves into the past, as it would on a later day).
        passed = state != "draft" and expires_on is not None and expires_on < today()
        values = {
            "title": title,
            "requirements": list(requirements),
            "effective_date": effective_date or today() - timedelta(days=10),
            "expires_on": None if passed else expires_on,
        }
        item = evidence.create_evidence(
            db.session,
            Caller.of_user(by or staff),
            store,
            values,
            data or b"reviewed: alice, bob\n",
            filename,
        )
        if state in ("in_review", "approved"):
            evidence.submit(db.session, Caller.of_user(by or staff), item.id)
        if state == "approved":
            evidence.approve(db.session, Caller.of_user(reviewer), item.id)
        if passed:
            item.expires_on = expires_on
        uow.commit(db.session)
        return item

    return factory


__all__ = ["make_pdf"]
