"""Reading import files safely: size limit, UTF-8 text, JSON with positions in errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from artifact.frameworks.services.parsed import Problem


def read_text(path: Path, problem: Problem, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise problem(
                "",
                f"the file is {size:,} bytes, over the import limit of "
                f"{max_bytes:,} bytes (ARTIFACT_FRAMEWORK_IMPORT_MAX_BYTES)",
            )
        data = path.read_bytes()
    except OSError as error:
        raise problem("", f"cannot read the file ({error.strerror})") from error
    if not data.strip():
        raise problem("", "the file is empty")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise problem(f"byte {nul}", "binary data (a NUL byte), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise problem(f"byte {error.start}", "not UTF-8 text") from error


def load_json(path: Path, problem: Problem, max_bytes: int) -> Any:
    text = read_text(path, problem, max_bytes)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise problem(
            f"line {error.lineno} column {error.colno}",
            f"not valid JSON ({error.msg}); is the file truncated or of another format?",
        ) from error
    except RecursionError as error:
        raise problem("", "JSON nested too deeply") from error


def expect(value: Any, kind: type, problem: Problem, where: str, what: str) -> Any:
    """``value`` must be of ``kind``; otherwise a message naming the JSON path."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        found = type(value).__name__ if value is not None else "nothing"
        raise problem(where, f"expected {what}, found {found}")
    return value
