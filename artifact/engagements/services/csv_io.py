"""The request list (PBC) as CSV, the form auditors exchange: an export that a spreadsheet opens
safely, and an import that checks every row and stores nothing when one is bad.

Columns: ``ref`` (``PBC-3``), ``title``, ``description``, ``requirements`` (names such as
``iso27001-2022:A.5.15``, separated by ``;``), ``due_on`` (YYYY-MM-DD), ``sample_size``, then what
the company answered: ``status``, ``owner``, ``evidence``. An import reads the first six (only
``title`` is required); the answer columns are accepted and ignored, so an exported list
imports as it is. A row whose ``ref`` names a request already on this engagement's list is left
as it is (re-importing a list adds no duplicates); any other row becomes a new request.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from artifact.audit.services import chain as audit
from artifact.engagements.services import requests as engagement_requests
from artifact.engagements.services.records import get_engagement
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, Unprocessable, ValidationFailed
from artifact.models.base import DbSession
from artifact.models.engagements import (
    REQUEST_STATUS_LABELS,
    EngagementRequest,
    EngagementState,
)

COLUMNS = (
    "ref",
    "title",
    "description",
    "requirements",
    "due_on",
    "sample_size",
    "status",
    "owner",
    "evidence",
)
ANSWER_COLUMNS = frozenset({"status", "owner", "evidence"})
# Header spellings a spreadsheet may carry for the same columns.
ALIASES = {
    "id": "ref",
    "reference": "ref",
    "request": "ref",
    "requirement_refs": "requirements",
    "requirement": "requirements",
    "due": "due_on",
    "due_date": "due_on",
    "sample": "sample_size",
    "evidence_attached": "evidence",
}
MAX_ROWS = 1000
MAX_BYTES = 2 * 1024 * 1024
MAX_LISTED_ERRORS = 20
TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection); the
# export prefixes such a cell with an apostrophe, and the import takes it off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")
_REF = re.compile(r"^(?:PBC-)?(\d{1,9})$", re.IGNORECASE)
_SPLIT = re.compile(r"[;,\n]+")


def request_ref(request: EngagementRequest) -> str:
    return f"PBC-{request.number}"


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def row_of(request: EngagementRequest) -> list[str]:
    """One request as the cells of its CSV row."""
    evidence = "; ".join(
        f"{a.evidence.title} (v{a.version.number}, sha256 {a.version.sha256})"
        for a in request.attachments
    )
    values = (
        request_ref(request),
        request.title,
        request.description,
        "; ".join(request.requirement_refs or ()),
        request.due_on.isoformat() if request.due_on else "",
        request.sample_size if request.sample_size is not None else "",
        REQUEST_STATUS_LABELS.get(request.status, request.status),
        request.owner.email if request.owner else "",
        evidence,
    )
    return [csv_cell(value) for value in values]


def render(requests: Iterable[EngagementRequest]) -> str:
    """The CSV text (a header, then one row per request, CRLF line ends, every cell quoted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for request in requests:
        writer.writerow(row_of(request))
    return buffer.getvalue()


def export_requests(db: DbSession, caller: Caller, engagement_id: str) -> tuple[str, str]:
    """(file name, CSV text) of the engagement's request list, as an audit event. Raises
    NotFound (also when the caller may not see the engagement)."""
    engagement, requests = engagement_requests.list_requests(
        db, caller, engagement_id, record=False
    )
    audit.record(
        db,
        caller,
        "engagement.requests.export",
        target_type="engagement",
        target_id=engagement.id,
        details={"engagement_id": engagement.id, "requests": len(requests)},
    )
    return f"{engagement.name} requests.csv", render(requests)


@dataclass(frozen=True)
class RequestRow:
    line: int
    ref: int | None
    values: dict[str, object]


@dataclass
class RowErrors:
    problems: list[str] = field(default_factory=list)

    def add(self, line: int | None, message: str) -> None:
        self.problems.append(f"line {line}: {message}" if line else message)

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        shown = self.problems[:MAX_LISTED_ERRORS]
        more = len(self.problems) - len(shown)
        raise ValidationFailed(
            "nothing was imported: "
            + "; ".join(shown)
            + (f"; and {more} more problem{'s' if more > 1 else ''}" if more else "")
        )


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"the CSV file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            f"the file is not UTF-8 text (byte {error.start + 1}); save it as CSV UTF-8"
        ) from error
    if not text.strip():
        raise ValidationFailed("the CSV file is empty: it needs a header row and one row a request")
    return text


def _header(cells: list[str]) -> list[str]:
    names = []
    for cell in cells:
        name = re.sub(r"[\s-]+", "_", cell.strip().lower())
        name = ALIASES.get(name, name)
        if name not in COLUMNS:
            raise ValidationFailed(
                f"the header names an unknown column {cell.strip()[:60]!r}; the columns are "
                + ", ".join(COLUMNS)
            )
        if name in names:
            raise ValidationFailed(f"the header names the column {name} twice")
        names.append(name)
    if "title" not in names:
        raise ValidationFailed(
            "the header has no title column (the columns are " + ", ".join(COLUMNS) + ")"
        )
    return names


def _delimiter(first_line: str) -> str:
    """Comma, or the semicolon or tab some spreadsheets write instead."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"the due date {text[:40]!r} is not a date (use YYYY-MM-DD)") from None


def _row(line: int, cells: dict[str, str]) -> RequestRow:
    """One data row checked for form (what the service checks, scope and text rules, comes
    after). Raises ValueError with the reason."""
    title = cells.get("title", "").strip()
    if not title:
        raise ValueError("the title is empty")
    if len(title) > TITLE_MAX:
        raise ValueError(f"the title is longer than {TITLE_MAX} characters")
    description = cells.get("description", "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValueError(f"the description is longer than {DESCRIPTION_MAX} characters")
    ref_text = cells.get("ref", "").strip()
    ref = None
    if ref_text:
        match = _REF.match(ref_text)
        if match is None:
            raise ValueError(f"the ref {ref_text[:40]!r} is not a request ref (PBC-N) or empty")
        ref = int(match.group(1))
    due_text = cells.get("due_on", "").strip()
    size_text = cells.get("sample_size", "").strip()
    sample_size = None
    if size_text:
        if not size_text.isdigit() or int(size_text) < 1:
            raise ValueError(f"the sample size {size_text[:20]!r} is not a whole number above 0")
        sample_size = int(size_text)
    requirements = [name.strip() for name in _SPLIT.split(cells.get("requirements", ""))]
    values: dict[str, object] = {
        "title": title,
        "description": description,
        "requirements": [name for name in requirements if name],
    }
    if due_text:
        values["due_on"] = _date(due_text)
    if sample_size is not None:
        values["sample_size"] = sample_size
    return RequestRow(line, ref, values)


def parse(data: bytes) -> list[RequestRow]:
    """The rows of a request-list CSV, each checked; raises ValidationFailed naming every bad
    line (and nothing is imported)."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]))
    errors = RowErrors()
    try:
        names = _header(next(reader))
        rows: list[RequestRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, as spreadsheets leave at the end
            line = reader.line_num
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed(f"the CSV file has more than {MAX_ROWS} requests")
            if len(cells) > len(names):
                errors.add(line, f"{len(cells)} cells where the header names {len(names)}")
                continue
            try:
                rows.append(_row(line, {n: _uncell(c) for n, c in zip(names, cells, strict=False)}))
            except ValueError as error:
                errors.add(line, str(error))
    except csv.Error as error:
        raise ValidationFailed(f"line {reader.line_num}: not readable as CSV ({error})") from None
    errors.raise_if_any()
    if not rows:
        raise ValidationFailed("the CSV file has a header but no requests")
    return rows


@dataclass(frozen=True)
class ImportResult:
    created: list[EngagementRequest]
    unchanged: list[str]


def import_requests(db: DbSession, caller: Caller, engagement_id: str, data: bytes) -> ImportResult:
    """Add the CSV's requests to the engagement's list: every row is checked (its form here,
    its scope and text by the service that adds one request), and when any row is bad nothing
    is stored and ValidationFailed names each bad line. Rows whose ref is already on the list
    are left as they are. Raises NotFound (also when the caller may not see the engagement),
    PermissionDenied, ValidationFailed."""
    engagement = get_engagement(db, caller, engagement_id, "engagement.request.create")
    if engagement.state == EngagementState.CLOSED:
        raise Conflict("the engagement is closed: its request list changes no more")
    rows = parse(data)
    existing = {request.number for request in engagement.requests}
    errors = RowErrors()
    created: list[EngagementRequest] = []
    unchanged: list[str] = []
    for row in rows:
        if row.ref is not None and row.ref in existing:
            unchanged.append(f"PBC-{row.ref}")
            continue
        try:
            created.append(
                engagement_requests.create_request(db, caller, engagement_id, row.values)
            )
        except (ValidationFailed, Unprocessable) as error:
            errors.add(row.line, error.message)
    errors.raise_if_any()
    audit.record(
        db,
        caller,
        "engagement.requests.import",
        target_type="engagement",
        target_id=engagement.id,
        details={
            "engagement_id": engagement.id,
            "created": len(created),
            "unchanged": len(unchanged),
        },
    )
    return ImportResult(created, unchanged)
