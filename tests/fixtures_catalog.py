"""Fixtures of the catalog: a keyring and blob store, PDFs, reports, API headers."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

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

QPDF = "qpdf-malformed-and-encrypted"
# What a reader cannot open of qpdf's test inputs, and why; the rest (repaired damage, broken
# streams, encryption that needs no password) is accepted. The two files with a header only
# qpdf's recovery finds are also files pdfium cannot open.
QPDF_REFUSED = {
    "bad1.pdf": "not a PDF",
    "issue-141a.pdf": "not a PDF",
    "issue-147.pdf": "not a PDF",
    "issue-335b.pdf": "not a PDF",
    "bad-direct-root.pdf": "not a PDF",
    "fuzz-16214.pdf": "not a PDF",
    "encrypted-40-bit-R3.pdf": "protected by a password",
    "enc-XI-R6_V5_U=attachment_encrypted-attachments.pdf": "protected by a password",
    # qpdf decrypts it without a password, but readers (pdfium) ask for one
    "bad-encryption-length.pdf": "protected by a password",
}


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


def make_active_pdf(pages: int = 2) -> bytes:
    """A PDF carrying active content of every kind copies must not carry, and a URI link that
    they keep: document-level JavaScript, JavaScript on open, a Launch link, page and
    annotation additional actions (/AA), an embedded file (in the name tree and as an
    attachment annotation), an XFA form and a RichMedia annotation."""
    from pikepdf import Array, Dictionary, Name, String

    pdf = pikepdf.open(io.BytesIO(make_pdf(pages, marker="ACTIVE-CONTENT")))
    js = Dictionary(S=Name.JavaScript, JS=String("app.alert('document');"))
    attachment = pdf.make_stream(b"MZ pretend executable")
    attachment.Type = Name.EmbeddedFile
    filespec = pdf.make_indirect(
        Dictionary(Type=Name.Filespec, F=String("payload.exe"), EF=Dictionary(F=attachment))
    )
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("doc"), pdf.make_indirect(js)])),
        EmbeddedFiles=Dictionary(Names=Array([String("payload.exe"), filespec])),
    )
    pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String("app.alert('open');"))
    pdf.Root.AcroForm = Dictionary(Fields=Array(), XFA=pdf.make_stream(b"<xdp:xdp/>"))
    first = pdf.pages[0].obj
    first.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String("app.alert('page');")))
    rect = Array([72, 600, 300, 620])
    first.Annots = Array(
        [
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Link,
                    Rect=rect,
                    A=Dictionary(S=Name.URI, URI=String("https://example.com/trust")),
                )
            ),
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Link,
                Rect=Array([72, 560, 300, 580]),
                A=Dictionary(S=Name.Launch, F=String("calc.exe")),
                AA=Dictionary(E=Dictionary(S=Name.JavaScript, JS=String("app.alert(1);"))),
            ),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.FileAttachment,
                    Rect=Array([72, 520, 90, 540]),
                    FS=filespec,
                )
            ),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.RichMedia,
                    Rect=Array([72, 400, 300, 500]),
                    RichMediaContent=Dictionary(Assets=Dictionary()),
                )
            ),
        ]
    )
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def active_content_left(data: bytes) -> list[str]:
    """What of the active content ``make_active_pdf`` carries is still in ``data``: every
    object qpdf finds, and every dictionary written inside one, is looked at. The URI links
    copies keep are listed as ``URI <address>``."""
    found: set[str] = set()
    keys = {"/JS", "/AA", "/EmbeddedFiles", "/XFA", "/EF", "/RichMediaContent", "/OpenAction"}
    names = {"/JavaScript", "/Launch", "/FileAttachment", "/RichMedia", "/EmbeddedFile"}

    def look(obj: Any) -> None:
        if isinstance(obj, pikepdf.Array):
            for item in obj:
                if isinstance(item, pikepdf.Object) and not item.is_indirect:
                    look(item)
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            return
        for key in sorted(obj.keys()):
            value = obj.get(key)
            if key in keys:
                found.add(key)
            if key == "/Names" and isinstance(value, pikepdf.Dictionary):
                found.update({"/JavaScript"} & set(value.keys()))
            if isinstance(value, pikepdf.Name) and str(value) in names:
                found.add(str(value))
            if key == "/A" and isinstance(value, pikepdf.Dictionary):
                kind = value.get("/S")
                found.add(f"URI {value.get('/URI')}" if kind == pikepdf.Name.URI else str(kind))
            if isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
                look(value)

    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            look(obj)
    return sorted(found)


def page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def upload_version(client, headers, report_id: str, data: bytes, name: str = "report.pdf", **form):
    """Upload a version through the API: multipart ``file`` (its name sent as RFC 5987
    ``filename*``) and the ``form`` fields, built in memory (werkzeug's test client spools big
    bodies to a file it never closes)."""
    boundary = "----artifact-intake-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in form.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f"filename*=UTF-8''{quote(name, safe='')}\r\nContent-Type: application/pdf\r\n\r\n"
    ).encode()
    body = b"".join(parts) + head + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post(
        f"/api/v1/reports/{report_id}/versions",
        headers=headers,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


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
