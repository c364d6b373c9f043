"""PIVOINE archive discovery and reading: which zip in the folder, which members in the zip.

PIVOINE names its archives ``<FINESS>.<year>.<month>.<14 digits>.<in|out>.zip``. The timestamp is
``DDMMYYYYhhmmss`` per the PIVOINE manual; pmeasyr reads it as ``YYYYMMDDhhmmss``, so when the
first reading is not a valid date the second is used. Anything else in the folder is ignored.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from lotas_core.errors import ArchiveError
from lotas_core.reading.inflate import (
    InflateLimits,
    check_declared,
    current_limits,
    inflate_deflated,
    inflate_error,
    member_buffer,
    shown_name,
    size_fr,
    wrong_size,
)
from lotas_core.reading.records import ArchiveInfo, ProgressCallback
from lotas_core.reasons import ZIP_REASON_FR, os_reason_fr

ARCHIVE_NAME = re.compile(
    r"^(?P<finess>[0-9A-Za-z]{9})\.(?P<year>\d{4})\.(?P<month>\d{1,2})\."
    r"(?P<ts>\d{14})\.(?P<kind>in|out)\.zip$",
    re.IGNORECASE,
)
#: A member's bytes: a slice of the archive (stored), or the buffer it was inflated into.
Member = bytes | bytearray | mmap.mmap
#: How many other file names an error message lists.
SHOWN_NAMES = 5
_READ_CHUNK = 1 << 24

try:  # ISA-L's CRC-32 is faster than zlib's, when installed
    from isal.isal_zlib import crc32 as _crc32
except ImportError:  # pragma: no cover - depends on the installation
    from zlib import crc32 as _crc32


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
    try:
        return _find_archive(folder, finess, year, month, kind)
    except OSError as exc:  # no right to list or to look into the folder (or its parents)
        raise ArchiveError(
            f"Le dossier des archives PIVOINE « {folder} » n'est pas lisible "
            f"({os_reason_fr(exc)}) : donnez à votre compte le droit de lire et d'ouvrir ce "
            "dossier, ou indiquez-en un autre (paramètre « Emplacement des archives PIVOINE »).",
            f"archive folder {folder} cannot be read: {exc}",
        ) from None


def _find_archive(folder: Path, finess: str, year: int, month: int, kind: str) -> Path:
    if not folder.exists():
        raise ArchiveError(
            f"Le dossier des archives PIVOINE « {folder} » n'existe pas. C'est là que va la "
            "sauvegarde PIVOINE de l'établissement (fichier "
            f"{pattern_fr(finess, year, month, kind)}) : créez ce dossier et copiez-y la "
            "sauvegarde, ou indiquez le dossier qui la contient.",
            f"archive folder {folder} does not exist",
        )
    if not folder.is_dir():
        raise ArchiveError(
            f"« {folder} » n'est pas un dossier : indiquez le dossier qui contient les archives "
            "PIVOINE.",
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


def find_member(names: list[str], suffixes: tuple[str, ...]) -> str | None:
    """The first member whose name ends with one of ``suffixes`` (case-insensitive)."""
    for suffix in suffixes:
        for name in names:
            if name.lower().endswith(suffix):
                return name
    return None


def read_archive(
    path: Path,
    wanted: dict[str, tuple[str, ...]],
    progress: ProgressCallback | None = None,
    limits: InflateLimits | None = None,
) -> tuple[ArchiveInfo, dict[str, Member], list[str]]:
    """The archive's name, size and SHA-256 (recorded with every draw) and the members named by
    suffix (``{"raa": (".rpa.txt", ".raa.txt"), ...}``; keys without a member are absent), with
    all member names, from one pass over the file.

    The archive is read into memory once: its SHA-256 and its members come from the same bytes
    (hashing the file, then unzipping it, read it twice). Holding the compressed bytes costs no
    more than holding a compressed member while it is inflated, which any reader does; only the
    zip directory is read through ``zipfile``. Every member is inflated within ``limits``
    (``reading.inflate``; the current ones when None): an archive file larger than the member
    limit, a member that declares or inflates to more, a compression ratio above the limit, a
    real size other than the declared one, a password or two members of the same name: one
    ``ArchiveError`` naming the file and what to do.
    """
    path = Path(path)
    limits = limits if limits is not None else current_limits()
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limits.max_member_bytes:
                raise ArchiveError(
                    f"L'archive « {path.name} » fait {size_fr(size)}, au-delà de la limite de "
                    f"lotas ({size_fr(limits.max_member_bytes)}) : ce n'est pas une sauvegarde "
                    "PIVOINE ordinaire ; retirez-la du dossier des archives, ou relevez "
                    "reading.max_member_mib dans les paramètres si elle est authentique.",
                    f"archive {path} is {size} bytes, above the limit",
                )
            data = handle.read()
            if not data:
                raise ArchiveError(
                    f"L'archive « {path.name} » est vide (0 octet) : refaites la sauvegarde "
                    "PIVOINE ou retirez ce fichier du dossier.",
                    f"archive {path} is empty",
                )
            sha256 = hashlib.sha256(data).hexdigest()
            members, names = _unzip(handle, data, wanted, progress, path.name, limits)
    except (
        zipfile.BadZipFile, zlib.error, inflate_error, EOFError, NotImplementedError, ValueError
    ) as exc:
        raise ArchiveError(
            f"L'archive « {path.name} » est corrompue : {ZIP_REASON_FR} ; refaites la "
            "sauvegarde PIVOINE ou retirez ce fichier du dossier.",
            f"corrupt archive {path}: {exc}",
        ) from None
    except MemoryError:
        raise ArchiveError(
            f"Mémoire insuffisante pour lire l'archive « {path.name} » : fermez d'autres "
            "programmes, ou abaissez reading.max_member_mib dans les paramètres pour qu'une "
            "archive trop grosse soit refusée plus tôt.",
            f"out of memory reading {path}",
        ) from None
    except OSError as exc:
        raise ArchiveError(
            f"Archive illisible « {path.name} » ({os_reason_fr(exc)}) : vérifiez que le "
            "fichier est lisible par votre compte (droits, disque réseau) puis recommencez.",
            f"unreadable archive {path}: {exc}",
        ) from None
    info = ArchiveInfo(path=path, name=path.name, sha256=sha256, size=len(data))
    return info, members, names


def _unzip(
    handle: BinaryIO,
    data: bytes,
    wanted: dict[str, tuple[str, ...]],
    progress: ProgressCallback | None,
    archive: str,
    limits: InflateLimits,
) -> tuple[dict[str, Member], list[str]]:
    """The wanted members (by key) and every member name of the zip open as ``handle``."""
    with zipfile.ZipFile(handle) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        _refuse_duplicates(archive, [i.filename for i in infos])
        names = [i.filename for i in infos]
        out: dict[str, Member] = {}
        for key, suffixes in wanted.items():
            name = find_member(names, suffixes)
            if name is not None:
                info = zf.getinfo(name)
                out[key] = _read_member(data, zf, info, progress, archive, limits)
    return out, names


def _refuse_duplicates(archive: str, names: list[str]) -> None:
    """Two members of one name (or of names that differ only by case): which one is the RAA?
    ``zipfile`` would silently take the last; lotas refuses the archive."""
    seen: set[str] = set()
    for name in names:
        key = name.casefold()
        if key in seen:
            raise ArchiveError(
                f"L'archive « {archive} » contient plusieurs fichiers nommés "
                f"« {shown_name(name)} » : archive ambiguë (piégée ou mal refaite) ; refaites la "
                "sauvegarde PIVOINE ou retirez ce fichier du dossier des archives.",
                f"archive {archive} has duplicate member names ({name!r})",
            )
        seen.add(key)


def _read_member(
    data: bytes, zf: zipfile.ZipFile, info: zipfile.ZipInfo, progress: ProgressCallback | None,
    archive: str, limits: InflateLimits,
) -> Member:
    """Inflate one member, within ``limits``, into one buffer of its declared size.

    Deflated and stored members are sliced straight from the archive bytes at their local
    header, as ``zipfile`` does, inflated as a bounded stream and checked against their CRC-32;
    other methods go through ``zipfile``, with the same size checks.
    """
    if info.flag_bits & 1:
        raise ArchiveError(
            f"L'archive « {archive} » est protégée par un mot de passe (fichier "
            f"« {shown_name(info.filename)} ») : lotas lit les sauvegardes PIVOINE telles que "
            "PIVOINE les écrit, sans mot de passe ; copiez la sauvegarde d'origine dans le "
            "dossier des archives.",
            f"archive {archive} is encrypted",
        )
    check_declared(archive, info.filename, info.file_size, info.compress_size, limits)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return _read_member_chunks(zf, info, progress, archive)
    header = data[info.header_offset : info.header_offset + 30]
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{info.filename}: bad local header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_length + extra_length
    if start + info.compress_size > len(data):
        raise zipfile.BadZipFile(f"{info.filename}: truncated")
    if progress:
        progress(f"Décompression de {info.filename}", 0.0)
    member: bytes | bytearray | mmap.mmap
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise wrong_size(archive, info.filename, info.file_size)
        member = data[start : start + info.compress_size]
    else:
        with memoryview(data) as view, view[start : start + info.compress_size] as packed:
            member = inflate_deflated(packed, archive, info.filename, info.file_size, limits)
    if _crc32(member) != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename}: bad CRC-32")
    if progress:
        progress(f"Décompression de {info.filename}", 1.0)
    return member


def _read_member_chunks(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, progress: ProgressCallback | None, archive: str
) -> bytearray | mmap.mmap:
    """Inflate one member through ``zipfile`` into a buffer of its declared (and accepted)
    size, allocated once; one byte more or less than declared and it is refused."""
    out = member_buffer(info.file_size, info.compress_size)
    view = memoryview(out)
    pos = 0
    with zf.open(info) as member:
        while chunk := member.read(min(_READ_CHUNK, info.file_size - pos + 1)):
            end = pos + len(chunk)
            if end > len(out):
                raise wrong_size(archive, info.filename, info.file_size)
            view[pos:end] = chunk
            pos = end
            if progress and info.file_size:
                progress(f"Décompression de {info.filename}", pos / info.file_size)
    if pos != len(out):
        raise wrong_size(archive, info.filename, info.file_size)
    return out
