"""Open a zip container (an office document) without trusting what its headers declare.

Sizes in zip headers are the sender's claim: a part declared as 40 kB may inflate to a GiB, and
``zipfile.ZipFile.read`` inflates a whole part in one call before it cuts it to the declared
size. So, before any library opens the archive: the entry count is read from the end record,
every name is checked (no absolute paths, drive letters, backslashes or ``..``), and every part
is inflated in small chunks with a running count of the bytes it really produces, per part and
in total, against the limits (and against its own declared size). Raises InvalidFile.
"""

from __future__ import annotations

import copy
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from artifact.kernel.errors import InvalidFile

CHUNK = 64 * 1024
BOMB = "refused as a possible zip bomb"
_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_DRIVE = re.compile(r"^[A-Za-z]:")
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


@dataclass(frozen=True)
class ZipLimits:
    entries: int = 2_000
    total: int = 100 * 1024 * 1024  # bytes inflated, all parts together
    part: int = 50 * 1024 * 1024  # bytes inflated by one part
    ratio: int = 200  # inflated/compressed past which a part over 1 MB is called a bomb


def inspect_zip(data: bytes, limits: ZipLimits) -> list[str]:
    """The names of the parts of a zip container that keeps within ``limits`` when really
    inflated. Raises InvalidFile saying why it was refused."""
    count = _declared_entries(data)
    if count > limits.entries:
        raise InvalidFile(
            f"the document has too many parts ({count}; at most {limits.entries}): {BOMB}"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            _check_directory(entries, limits)
            total = 0
            for entry in entries:
                total += _inflate(archive, entry, limits, limits.total - total)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error) as error:
        raise InvalidFile(f"the document's zip container is damaged: {str(error)[:150]}") from None
    except NotImplementedError as error:
        raise InvalidFile(f"the document's zip container is not usable: {error}") from None
    return [entry.filename for entry in entries]


def read_part_prolog(data: bytes, name: str, size: int = 4096) -> bytes:
    """The first ``size`` bytes of a part of an archive that passed ``inspect_zip``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(name) as part:
        return part.read(size)


def _declared_entries(data: bytes) -> int:
    """How many entries zipfile would build objects for, counted before it builds any: the
    end record's count or the central-directory signatures, whichever is more (zipfile parses
    every signed entry of the directory, whatever the end record says)."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        raise InvalidFile("the document's zip container is damaged: it has no end record")
    (count,) = struct.unpack_from("<H", data, at + 10)
    return max(int(count), data.count(_CENTRAL))


def _check_directory(entries: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(entries) > limits.entries:
        raise InvalidFile(
            f"the document has too many parts ({len(entries)}; at most {limits.entries}): {BOMB}"
        )
    seen: set[str] = set()
    for entry in entries:
        _check_name(entry.orig_filename)
        if entry.filename in seen:
            raise InvalidFile(f"the document has two parts named {entry.filename[:80]!r}")
        seen.add(entry.filename)
        if entry.compress_type not in _METHODS:
            raise InvalidFile(
                f"the part {entry.filename[:80]!r} uses a compression office documents never "
                "use: refused"
            )
        if entry.flag_bits & 0x1:
            raise InvalidFile("the document is encrypted; upload an unprotected copy")
    declared = sum(entry.file_size for entry in entries)
    if declared > limits.total:
        raise InvalidFile(
            f"the document would expand to {declared // (1024 * 1024)} MB (at most "
            f"{limits.total // (1024 * 1024)} MB): {BOMB}"
        )


def _check_name(name: str) -> None:
    unsafe = (
        not name
        or name.startswith("/")
        or "\\" in name
        or _DRIVE.match(name) is not None
        or any(ord(c) < 32 for c in name)
        or ".." in name.split("/")
    )
    if unsafe:
        raise InvalidFile(
            f"the document has a part named {name[:80]!r}: absolute paths, drive letters, "
            "backslashes and '..' are not accepted in an office document"
        )


def _inflate(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: ZipLimits, left: int) -> int:
    """Inflate ``entry`` chunk by chunk and return the bytes it really produced. zipfile stops a
    part at its declared size, so it is told a size past every limit: the part ends where its
    compressed data does, and the count, not the header, meets the limits."""
    probe = copy.copy(entry)
    probe.file_size = max(limits.part, left) + 1
    produced = 0
    with archive.open(probe) as part:
        while chunk := part.read(CHUNK):
            produced += len(chunk)
            if produced > entry.file_size:
                raise InvalidFile(
                    f"the part {entry.filename[:80]!r} inflates to more than the "
                    f"{entry.file_size} bytes its header declares: {BOMB}"
                )
            if produced > limits.part or produced > left:
                raise InvalidFile(
                    f"the part {entry.filename[:80]!r} inflates past the limit of "
                    f"{min(limits.part, left) // (1024 * 1024)} MB: {BOMB}"
                )
    if produced != entry.file_size:
        raise InvalidFile(
            f"the part {entry.filename[:80]!r} inflates to {produced} bytes, not the "
            f"{entry.file_size} its header declares: the zip container is damaged"
        )
    if produced > 1024 * 1024 and produced / max(entry.compress_size, 1) > limits.ratio:
        raise InvalidFile(
            f"the part {entry.filename[:80]!r} expands "
            f"{int(produced / max(entry.compress_size, 1))} times: {BOMB}"
        )
    return produced
