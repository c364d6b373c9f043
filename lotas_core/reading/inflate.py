"""Bounded inflation of zip members: never more than the limits, whatever the archive declares.

A zip declares each member's size, but a hostile archive may lie, or declare a size no real file
has (a "zip bomb": 10 GiB of zeros in 10 MB). So a member is refused before any allocation when
it declares more than ``InflateLimits.max_member_bytes`` or a compression ratio above
``max_ratio``, then inflated as a stream, a slice at a time, into a buffer of the declared size:
one byte more than declared, a ratio above the limit so far, or fewer bytes than declared at the
end, and it is refused. Memory never exceeds the declared (and accepted) size, and is taken only
as the member is really inflated.

The limits are settings (``[reading]``, ``Settings.reading``); ``limits_scope`` makes them the
current ones for a selection (``selection.pipeline.select``), ``current_limits`` reads them.
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from lotas_core.errors import ArchiveError

try:  # ISA-L inflates deflate streams 2-3 times faster than zlib, when installed
    from isal.isal_zlib import decompressobj as _decompressobj
    from isal.isal_zlib import error as inflate_error
except ImportError:  # pragma: no cover - depends on the installation
    from zlib import decompressobj as _decompressobj
    from zlib import error as inflate_error

__all__ = [
    "DEFAULT_LIMITS", "InflateLimits", "check_declared", "current_limits", "inflate_deflated",
    "inflate_error", "limits_scope", "size_fr",
]

#: Compressed bytes fed to the inflater at a time, and most output bytes taken at a time: small
#: enough to stay in the CPU cache while the slice is copied into the member's buffer.
IN_STEP = 1 << 18
OUT_STEP = 1 << 20
#: Below this many inflated bytes a member is never refused for its ratio: a tiny file (one RPS
#: line of spaces...) may compress very well without being a bomb.
RATIO_FLOOR = 1 << 20
#: Members compressed less than this are inflated into memory taken at once (``member_buffer``).
EAGER_RATIO = 20


@dataclass(frozen=True)
class InflateLimits:
    """How large a member may be once inflated, and how much larger than compressed.

    The defaults are far above any real PIVOINE archive: a year of RAA of a very large
    establishment is a few million lines of about 100 bytes (a few hundred MB), and fixed-width
    text compresses 3 to 20 times; a zip bomb of zeros compresses about 1,000 times.
    """

    max_member_bytes: int = 2048 << 20
    max_ratio: int = 100


DEFAULT_LIMITS = InflateLimits()
_current: ContextVar[InflateLimits] = ContextVar("lotas_inflate_limits", default=DEFAULT_LIMITS)


def current_limits() -> InflateLimits:
    """The limits in force (the defaults unless a ``limits_scope`` is open)."""
    return _current.get()


@contextlib.contextmanager
def limits_scope(limits: InflateLimits | None) -> Iterator[InflateLimits]:
    """Make ``limits`` the current ones for the ``with`` block (None: keep the current ones).

    A context variable does not follow work into a thread pool: a record source that inflates in
    a worker thread reads ``current_limits()`` first and passes them on.
    """
    if limits is None:
        yield current_limits()
        return
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def size_fr(size: int) -> str:
    """A size in French binary units: ``4,0 Gio``, ``1,8 Mio``, ``1000 octets``."""
    for unit, shift in (("Gio", 30), ("Mio", 20), ("Kio", 10)):
        if size >= 1 << shift:
            return f"{size / (1 << shift):.1f} {unit}".replace(".", ",")
    return f"{size} octets"


def shown_name(name: str) -> str:
    """A member name from a (possibly hostile) zip, safe to print: printable, at most 80
    characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return clean if len(clean) <= 80 else clean[:77] + "..."


def _too_large(archive: str, member: str, size: int, limits: InflateLimits) -> ArchiveError:
    return ArchiveError(
        f"L'archive « {archive} » contient un fichier « {shown_name(member)} » de "
        f"{size_fr(size)} une fois décompressé, au-delà de la limite de lotas "
        f"({size_fr(limits.max_member_bytes)}) : ce n'est pas une sauvegarde PIVOINE ordinaire ; "
        "retirez-la du dossier des archives, ou relevez reading.max_member_mib dans les "
        "paramètres si ce fichier est authentique.",
        f"member {member!r} of {archive} inflates to {size} bytes, above the limit",
    )


def _too_compressed(archive: str, member: str, ratio: float, limits: InflateLimits) -> ArchiveError:
    return ArchiveError(
        f"L'archive « {archive} » contient un fichier « {shown_name(member)} » qui se décompresse "
        f"plus de {limits.max_ratio} fois plus gros qu'il n'est compressé (limite : "
        f"{limits.max_ratio}) : "
        "archive piégée ou endommagée ; retirez-la du dossier des archives, ou relevez "
        "reading.max_compression_ratio dans les paramètres si elle est authentique.",
        f"member {member!r} of {archive} has a compression ratio of {ratio:.0f}, above the limit",
    )


def wrong_size(archive: str, member: str, declared: int) -> ArchiveError:
    """A member whose real size differs from the size its archive declares."""
    return ArchiveError(
        f"L'archive « {archive} » est endommagée ou piégée : le fichier « {shown_name(member)} » "
        f"ne fait pas la taille que l'archive annonce ({declared} octets) ; refaites la "
        "sauvegarde PIVOINE ou retirez ce fichier du dossier des archives.",
        f"member {member!r} of {archive}: real size differs from the declared {declared} bytes",
    )


def check_declared(
    archive: str, member: str, declared: int, compressed: int, limits: InflateLimits
) -> None:
    """Refuse, before any allocation, a member that declares too much."""
    if declared > limits.max_member_bytes:
        raise _too_large(archive, member, declared, limits)
    if declared > RATIO_FLOOR and declared > limits.max_ratio * compressed:
        raise _too_compressed(archive, member, declared / max(compressed, 1), limits)


def member_buffer(size: int, compressed: int) -> bytearray | mmap.mmap:
    """A zero-filled writable buffer of ``size`` bytes for a member of ``compressed`` bytes.

    Ordinary text (``size`` at most ``EAGER_RATIO`` times ``compressed``) gets a ``bytearray``,
    the fastest to fill. A member that declares more gets an anonymous map, whose memory is
    committed only as it is written: if it holds less than it declares, or turns out to be a
    bomb and is refused half-way, it never costs the memory it declared.
    """
    if size <= EAGER_RATIO * max(compressed, 1) or size < RATIO_FLOOR:
        return bytearray(size)
    return mmap.mmap(-1, size)


def inflate_deflated(
    packed: memoryview, archive: str, member: str, declared: int, limits: InflateLimits
) -> bytes | bytearray | mmap.mmap:
    """Inflate a raw deflate stream that must give exactly ``declared`` bytes, as a bounded
    stream. ``check_declared`` must have accepted ``declared``.

    Ordinary text (compressed at most ``EAGER_RATIO`` times) is inflated in one call whose
    output is capped at ``declared + 1`` bytes: one byte more than declared is enough to refuse
    the member, and the output never exceeds what was accepted (the fastest way, no copy). A
    member that declares more is inflated a slice at a time into ``member_buffer`` with the
    ratio checked after every slice (``_inflate_slices``). Raises ``ArchiveError`` for a member
    larger or smaller than declared or whose ratio goes above the limit, and ``inflate_error``
    for a corrupt stream.
    """
    if declared > EAGER_RATIO * max(len(packed), 1) and declared >= RATIO_FLOOR:
        return _inflate_slices(packed, archive, member, declared, limits)
    inflater = _decompressobj(-15)
    out = inflater.decompress(packed, declared + 1)
    if len(out) > declared:
        raise wrong_size(archive, member, declared)
    if not inflater.eof:
        if inflater.decompress(inflater.unconsumed_tail, 1):  # output the stream still holds
            raise wrong_size(archive, member, declared)
        if not inflater.eof:
            raise inflate_error(f"{member}: truncated deflate stream")
    if len(out) != declared:
        raise wrong_size(archive, member, declared)
    return out


def _inflate_slices(
    packed: memoryview, archive: str, member: str, declared: int, limits: InflateLimits
) -> bytearray | mmap.mmap:
    """``inflate_deflated`` a slice at a time, the ratio checked after each slice."""
    out = member_buffer(declared, len(packed))
    view = memoryview(out)
    inflater = _decompressobj(-15)
    pos = 0
    for first in range(0, len(packed), IN_STEP):
        chunk = packed[first : first + IN_STEP]
        pending: bytes | memoryview = chunk
        while pending:
            # One byte more than room is enough to see a member larger than declared.
            piece = inflater.decompress(pending, min(declared - pos + 1, OUT_STEP))
            end = pos + len(piece)
            if end > declared:
                raise wrong_size(archive, member, declared)
            view[pos:end] = piece
            pos = end
            rest = inflater.unconsumed_tail
            consumed = first + len(chunk) - len(rest)
            if pos > RATIO_FLOOR and pos > limits.max_ratio * consumed:
                raise _too_compressed(archive, member, pos / max(consumed, 1), limits)
            if not piece and len(rest) == len(pending):
                break  # nothing consumed, nothing produced: the stream has ended
            pending = rest
        if inflater.eof:
            break
    if not inflater.eof:
        tail = inflater.decompress(b"", declared - pos + 1)  # output the stream still holds
        if pos + len(tail) > declared:
            raise wrong_size(archive, member, declared)
        view[pos : pos + len(tail)] = tail
        pos += len(tail)
        if not inflater.eof:
            raise inflate_error(f"{member}: truncated deflate stream")
    view.release()
    if pos != declared:
        raise wrong_size(archive, member, declared)
    return out
