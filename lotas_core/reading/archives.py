"""PIVOINE archive discovery and reading: which zip in the folder, which members in the zip.

PIVOINE names its archives ``<FINESS>.<year>.<month>.<14 digits>.<in|out>.zip``. The timestamp is
``DDMMYYYYhhmmss`` per the PIVOINE manual; pmeasyr reads it as ``YYYYMMDDhhmmss``, so when the
first reading is not a valid date the second is used. Anything else in the folder is ignored.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from lotas_core.errors import ArchiveError
from lotas_core.fsutil import file_sha256
from lotas_core.reading.records import ArchiveInfo, ProgressCallback

ARCHIVE_NAME = re.compile(
    r"^(?P<finess>[0-9A-Za-z]{9})\.(?P<year>\d{4})\.(?P<month>\d{1,2})\."
    r"(?P<ts>\d{14})\.(?P<kind>in|out)\.zip$",
    re.IGNORECASE,
)
#: How many other file names an error message lists.
SHOWN_NAMES = 5
_READ_CHUNK = 1 << 24

try:  # ISA-L inflates deflate streams 2-3 times faster than zlib, when installed
    from isal.isal_zlib import crc32 as _crc32
    from isal.isal_zlib import decompress as _inflate
    from isal.isal_zlib import error as _inflate_error
except ImportError:  # pragma: no cover - depends on the installation
    from zlib import crc32 as _crc32
    from zlib import decompress as _inflate
    from zlib import error as _inflate_error


@dataclass(frozen=True)
class ArchiveCandidate:
    """A file whose name is a PIVOINE archive name."""

    path: Path
    finess: str
    year: int
    month: int
    kind: str
    timestamp: datetime


def parse_timestamp(digits: str) -> datetime | None:
    """``DDMMYYYYhhmmss``, else ``YYYYMMDDhhmmss``; None when neither is a valid date."""
    for fmt in ("%d%m%Y%H%M%S", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(digits, fmt)
        except ValueError:
            continue
    return None


def parse_archive_name(name: str) -> ArchiveCandidate | None:
    """The parts of a PIVOINE archive name, or None if ``name`` is not one."""
    match = ARCHIVE_NAME.match(name)
    if not match:
        return None
    stamp = parse_timestamp(match["ts"])
    if stamp is None:
        return None
    return ArchiveCandidate(
        path=Path(name),
        finess=match["finess"].upper(),
        year=int(match["year"]),
        month=int(match["month"]),
        kind=match["kind"].lower(),
        timestamp=stamp,
    )


def pattern_fr(finess: str, year: int, month: int, kind: str = "in") -> str:
    return f"{finess}.{year}.{month}.<horodatage à 14 chiffres>.{kind}.zip"


def find_archive(folder: Path, finess: str, year: int, month: int, kind: str = "in") -> Path:
    """The newest archive of ``finess`` for ``year``/``month`` in ``folder``."""
    folder = Path(folder)
    if not folder.exists():
        raise ArchiveError(
            f"Le dossier des archives PIVOINE « {folder} » n'existe pas : indiquez le bon dossier "
            "(--archives ou paramètre « Emplacement des archives PIVOINE »).",
            f"archive folder {folder} does not exist",
        )
    if not folder.is_dir():
        raise ArchiveError(
            f"« {folder} » n'est pas un dossier : indiquez le dossier qui contient les archives "
            "PIVOINE (--archives).",
            f"archive folder {folder} is not a directory",
        )
    matches: list[ArchiveCandidate] = []
    others: list[str] = []
    for entry in sorted(folder.iterdir()):
        cand = parse_archive_name(entry.name)
        if (
            entry.is_file()
            and cand is not None
            and cand.finess == finess.upper()
            and cand.year == year
            and cand.month == month
            and cand.kind == kind
        ):
            matches.append(ArchiveCandidate(entry, cand.finess, year, month, kind, cand.timestamp))
        else:
            others.append(entry.name + ("/" if entry.is_dir() else ""))  # a folder: "name/"
    if not matches:
        if others:
            shown = ", ".join(others[:SHOWN_NAMES])
            more = f" (et {len(others) - SHOWN_NAMES} autres)" if len(others) > SHOWN_NAMES else ""
            found = f"trouvé à la place : {shown}{more}"
        else:
            found = "le dossier est vide"
        raise ArchiveError(
            f"Aucune archive PIVOINE « {pattern_fr(finess, year, month, kind)} » dans "
            f"« {folder} » ({found}) : vérifiez le FINESS et le dossier des archives.",
            f"no archive matching {finess}.{year}.{month}.<ts>.{kind}.zip in {folder}",
        )
    return max(matches, key=lambda c: (c.timestamp, c.path.name)).path


def archive_info(path: Path) -> ArchiveInfo:
    """Name, size and SHA-256 of the archive file (recorded with every draw)."""
    path = Path(path)
    size = path.stat().st_size
    return ArchiveInfo(path=path, name=path.name, sha256=file_sha256(path), size=size)


def find_member(names: list[str], suffixes: tuple[str, ...]) -> str | None:
    """The first member whose name ends with one of ``suffixes`` (case-insensitive)."""
    for suffix in suffixes:
        for name in names:
            if name.lower().endswith(suffix):
                return name
    return None


def read_members(
    path: Path,
    wanted: dict[str, tuple[str, ...]],
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, bytes | bytearray], list[str]]:
    """Read the members named by suffix: ``{"raa": (".rpa.txt", ".raa.txt"), ...}``.

    Returns the bytes by key (keys without a member are absent) and all member names. A corrupt
    or non-zip file raises ``ArchiveError`` naming it.
    """
    _, members, names = read_archive(path, wanted, progress)
    return members, names


def read_archive(
    path: Path,
    wanted: dict[str, tuple[str, ...]],
    progress: ProgressCallback | None = None,
) -> tuple[ArchiveInfo, dict[str, bytes | bytearray], list[str]]:
    """``archive_info`` and ``read_members`` from one pass over the file.

    The archive is read into memory once: its SHA-256 and its members come from the same bytes
    (hashing the file, then unzipping it, read it twice). Holding the compressed bytes costs no
    more than holding a compressed member while it is inflated, which any reader does; only the
    zip directory is read through ``zipfile``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
            if not data:
                raise ArchiveError(
                    f"L'archive « {path.name} » est vide (0 octet) : refaites la sauvegarde "
                    "PIVOINE ou retirez ce fichier du dossier.",
                    f"archive {path} is empty",
                )
            sha256 = hashlib.sha256(data).hexdigest()
            members, names = _unzip(handle, data, wanted, progress)
    except (
        zipfile.BadZipFile, zlib.error, _inflate_error, EOFError, NotImplementedError, ValueError
    ) as exc:
        raise ArchiveError(
            f"L'archive « {path.name} » est corrompue ou n'est pas un fichier zip ({exc}) : "
            "refaites la sauvegarde PIVOINE ou retirez ce fichier du dossier.",
            f"corrupt archive {path}: {exc}",
        ) from None
    except OSError as exc:
        raise ArchiveError(
            f"Archive illisible « {path.name} » : {exc.strerror or exc}.",
            f"unreadable archive {path}: {exc}",
        ) from None
    info = ArchiveInfo(path=path, name=path.name, sha256=sha256, size=len(data))
    return info, members, names


def _unzip(
    handle: BinaryIO,
    data: bytes,
    wanted: dict[str, tuple[str, ...]],
    progress: ProgressCallback | None,
) -> tuple[dict[str, bytes | bytearray], list[str]]:
    """The wanted members (by key) and every member name of the zip open as ``handle``."""
    with zipfile.ZipFile(handle) as zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        out: dict[str, bytes | bytearray] = {}
        for key, suffixes in wanted.items():
            name = find_member(names, suffixes)
            if name is not None:
                out[key] = _read_member(data, zf, zf.getinfo(name), progress)
    return out, names


def _read_member(
    data: bytes, zf: zipfile.ZipFile, info: zipfile.ZipInfo, progress: ProgressCallback | None
) -> bytes | bytearray:
    """Inflate one member in one call when possible (one allocation, no copy of the result).

    Deflated and stored members are sliced straight from the archive bytes at their local
    header, as ``zipfile`` does, and checked against their CRC-32; other methods (and encrypted
    members, which ``zipfile`` refuses with a clear error) go through ``zipfile``.
    """
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
        return _read_member_chunks(zf, info, progress)
    header = data[info.header_offset : info.header_offset + 30]
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{info.filename}: bad local header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_length + extra_length
    if start + info.compress_size > len(data):
        raise zipfile.BadZipFile(f"{info.filename}: truncated")
    if progress:
        progress(f"Décompression de {info.filename}", 0.0)
    if info.compress_type == zipfile.ZIP_STORED:
        member: bytes = data[start : start + info.compress_size]
    else:
        with memoryview(data) as view, view[start : start + info.compress_size] as packed:
            member = _inflate(packed, -15, max(info.file_size, 1))
    if len(member) != info.file_size or _crc32(member) != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename}: bad CRC-32 or size")
    if progress:
        progress(f"Décompression de {info.filename}", 1.0)
    return member


def _read_member_chunks(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, progress: ProgressCallback | None
) -> bytearray:
    """Inflate one member through ``zipfile`` into a buffer allocated once."""
    out = bytearray(info.file_size)
    view = memoryview(out)
    pos = 0
    with zf.open(info) as member:
        while chunk := member.read(_READ_CHUNK):
            end = pos + len(chunk)
            if end > len(out):
                raise zipfile.BadZipFile(f"{info.filename}: size larger than declared")
            view[pos:end] = chunk
            pos = end
            if progress and info.file_size:
                progress(f"Décompression de {info.filename}", pos / info.file_size)
    if pos != len(out):
        raise zipfile.BadZipFile(f"{info.filename}: truncated")
    return out
