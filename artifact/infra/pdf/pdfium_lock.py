"""One lock for every pdfium call in the process.

PDFium is not thread-safe: two threads may not call it at the same time, not even on different
documents (pypdfium2's documentation, "Incompatibility with Threading"); doing so crashes or
corrupts the process. The development server, a threaded WSGI server or a threaded job worker can
run two uploads at once, so every use of pdfium holds this lock from opening a document to closing
it (a re-entrant lock: a helper may call another)."""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()
