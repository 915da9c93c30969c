"""HTML to PDF with WeasyPrint, behind a URL fetcher that refuses everything but our own assets.

Documents we render can carry user-supplied text (a typed name, a report title); even if some of
it ever reached the HTML unescaped, it could neither read local files nor reach the network."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
logger = logging.getLogger(__name__)


class SafeFetcher(URLFetcher):
    """Serves files under ``root`` and inline ``data:`` URLs; refuses (and lists) the rest."""

    def __init__(self, root: Path = ASSETS_DIR) -> None:
        super().__init__(timeout=1, allowed_protocols={"file", "data"}, allow_redirects=False)
        self.root = root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme == "file" and not parts.netloc:
            path = Path(url2pathname(parts.path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
        self.refused.append(url)
        logger.warning("PDF rendering refused to fetch %s", url[:200])
        raise ValueError(f"fetching {url[:200]} is not allowed")


def render_pdf(html: str, fetcher: SafeFetcher | None = None) -> bytes:
    """Render an HTML document (already escaped by its template) to PDF bytes."""
    fetcher = fetcher or SafeFetcher()
    document = HTML(string=html, base_url=fetcher.root.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf()
