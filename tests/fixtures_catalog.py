"""Fixtures of the catalog: a keyring and blob store, PDFs, reports, API headers."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from artifact.catalog.services import reports, taxonomy
from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.infra.storage import BlobStore, store_for
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import EvidenceVersion, Report, ReportSeries, ReportVersion, User
from artifact.models.base import new_id


def make_pdf(
    pages: int = 2, marker: str = "MARKER-TEXT", size: tuple[float, float] = (612, 792)
) -> bytes:
    """A small real PDF whose every page says ``marker`` (standard Helvetica)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for number in range(1, pages + 1):
        page = pdf.add_blank_page(page_size=size)
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        text = f"BT /F1 14 Tf 72 700 Td ({marker} page {number}) Tj ET".encode()
        page.obj.Contents = pdf.make_stream(text)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


@pytest.fixture
def store(app: Flask) -> BlobStore:
    blob_store = store_for(app)
    if not blob_store.keyring.exists():  # the app fixture makes it, as `flask init` does
        blob_store.keyring.create()
    return blob_store


def ensure_series(*slugs: str) -> None:
    """Series records for ``slugs`` (reports, grants and requests name managed series only)."""
    for slug in slugs:
        if (
            slug
            and db.session.scalar(select(ReportSeries.id).where(ReportSeries.slug == slug)) is None
        ):
            taxonomy.create_series(db.session, OPERATOR, {"name": slug})
    uow.commit(db.session)


@pytest.fixture
def make_report(app: Flask, store: BlobStore) -> Callable[..., Report]:
    def factory(
        title: str = "SOC 2 Type II",
        *,
        visibility: str = "restricted",
        state: str = "published",
        category: str = "reports",
        series: str = "SOC",
        pdf: bytes | None = None,
        **values: Any,
    ) -> Report:
        ensure_series(series)
        report = reports.create_report(
            db.session,
            OPERATOR,
            {
                "title": title,
                "visibility": visibility,
                "category": category,
                "series": series,
                **values,
            },
        )
        if pdf is not None or state != "draft":
            reports.add_version(
                db.session,
                OPERATOR,
                store,
                report.id,
                pdf or make_pdf(marker=title),
                "report.pdf",
                10**8,
            )
        if state != "draft":
            reports.set_state(db.session, OPERATOR, report.id, state)
        uow.commit(db.session)
        return report

    return factory


@contextmanager
def racing_upload() -> Iterator[None]:
    """Inside the block, every new report or evidence version loses a race: just before its
    flush, a version with the same number is written in the same transaction (as a concurrent
    upload would have committed it), so the unique constraint fires at the flush."""

    def race(session: Session, _context: Any, _instances: Any) -> None:
        for obj in list(session.new):
            if isinstance(obj, ReportVersion | EvidenceVersion):
                table = type(obj).__table__
                values = {
                    c.key: getattr(obj, c.key)
                    for c in table.columns
                    if getattr(obj, c.key) is not None
                }
                values.update(id=new_id(), blob_id=secrets.token_hex(16))
                session.connection().execute(table.insert().values(**values))

    event.listen(Session, "before_flush", race)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", race)


@pytest.fixture
def bearer(app: Flask) -> Callable[[User], dict[str, str]]:
    def headers(user: User) -> dict[str, str]:
        _token, raw = tokens.create(db.session, OPERATOR, user, "test")
        uow.commit(db.session)
        return {"Authorization": f"Bearer {raw}"}

    return headers
