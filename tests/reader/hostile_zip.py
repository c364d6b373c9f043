"""Hostile zip archives built as streams in a test's folder (never committed): zip bombs of zeros
with true or false declared sizes.

A raw deflate stream of N x 64 MiB of zeros is N copies of one byte-aligned chunk (the
compressor is flushed with ``Z_FULL_FLUSH``, so each chunk stands alone), then an empty final
block: a 10 GiB member costs about 10 MB of disk and a fraction of a second to write.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ZERO_CHUNK = 64 << 20
_FINAL_BLOCK = b"\x03\x00"  # an empty final block (fixed Huffman, end of block)


def zero_chunk() -> bytes:
    """The raw deflate of 64 MiB of zeros, byte-aligned and independent of what precedes it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(bytes(ZERO_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)


def zero_crc(size: int, start: int = 0) -> int:
    """CRC-32 of ``size`` zero bytes (continuing from ``start``)."""
    crc, block = start, bytes(min(size, ZERO_CHUNK))
    done = 0
    while done < size:
        step = min(len(block), size - done)
        crc = zlib.crc32(memoryview(block)[:step], crc)
        done += step
    return crc


def write_zero_bomb(
    path: Path,
    member: str,
    chunks: int,
    *,
    declared: int | None = None,
    head: bytes = b"",
) -> Path:
    """A zip holding one deflated member: ``head`` then ``chunks`` x 64 MiB of zeros.

    ``declared`` is the uncompressed size written in the headers (the true size by default);
    a size of 4 GiB or more uses the zip64 extra field, as real zip writers do. The CRC-32 is
    the true one up to 1 GiB; above, it is left at 0 (the reader must refuse such a member long
    before it could check it).
    """
    real = len(head) + chunks * ZERO_CHUNK
    declared = real if declared is None else declared
    crc = zero_crc(chunks * ZERO_CHUNK, zlib.crc32(head)) if real <= 1 << 30 else 0
    name = member.encode()
    chunk = zero_chunk() if chunks else b""
    with open(path, "wb") as out:
        out.write(_local_header(name, crc, 0, declared))  # sizes patched at the end
        body_start = out.tell()
        if head:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            out.write(compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH))
        for _ in range(chunks):
            out.write(chunk)
        out.write(_FINAL_BLOCK)
        compressed = out.tell() - body_start
        central_start = out.tell()
        out.write(_central_header(name, crc, compressed, declared))
        central_size = out.tell() - central_start
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, central_size, central_start, 0))
        out.seek(0)
        out.write(_local_header(name, crc, compressed, declared))
    return path


def _fields(compressed: int, declared: int) -> tuple[int, int, bytes]:
    """The 32-bit size fields, and the zip64 extra field when the declared size does not fit."""
    if declared < 0xFFFFFFFF:
        return compressed, declared, b""
    return 0xFFFFFFFF, 0xFFFFFFFF, struct.pack("<HHQQ", 0x0001, 16, declared, compressed)


def _local_header(name: bytes, crc: int, compressed: int, declared: int) -> bytes:
    comp32, size32, extra = _fields(compressed, declared)
    version = 45 if extra else 20
    return struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, version, 0, 8, 0, 0x21, crc, comp32, size32, len(name),
        len(extra),
    ) + name + extra


def _central_header(name: bytes, crc: int, compressed: int, declared: int) -> bytes:
    comp32, size32, extra = _fields(compressed, declared)
    version = 45 if extra else 20
    return struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0, 8, 0, 0x21, crc, comp32, size32,
        len(name), len(extra), 0, 0, 0, 0, 0,
    ) + name + extra


def write_encrypted_zip(path: Path, members: dict[str, bytes], password: bytes) -> Path:
    """A zip whose members are deflated then encrypted with the traditional PKWARE cipher
    (what ``zip -P`` writes; ``zipfile`` can read it back with the password)."""
    entries = []
    with open(path, "wb") as out:
        for member, data in members.items():
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed = compressor.compress(data) + compressor.flush()
            crc = zlib.crc32(data)
            header = bytes(range(11)) + bytes([crc >> 24])
            body = _zipcrypto(header + packed, password)
            offset = out.tell()
            name = member.encode()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 8, 0, 0x21, crc, len(body),
                                  len(data), len(name), 0) + name)
            out.write(body)
            entries.append((name, crc, len(body), len(data), offset))
        central_start = out.tell()
        for name, crc, compressed, size, offset in entries:
            out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 8, 0, 0x21, crc,
                                  compressed, size, len(name), 0, 0, 0, 0, 0, offset) + name)
        central_size = out.tell() - central_start
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                              central_size, central_start, 0))
    return path


def _crc_byte(crc: int, byte: int) -> int:
    """One step of the raw CRC-32 (no pre/post inversion), as the PKWARE cipher uses it."""
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def _zipcrypto(plain: bytes, password: bytes) -> bytes:
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = _crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in plain:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)
