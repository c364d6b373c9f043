"""Building blocks of synthetic archives (demos, tests, benchmarks): fixed-width lines as numpy
byte matrices, and a zip written atomically, member by member, chunk by chunk.

A campaign plugin makes its own demo archive with these (``Campaign.write_demo_archive``); the
core knows no file format of its own.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from lotas_core.fsutil import atomic_writer

#: The establishment of every demo archive.
DEMO_FINESS = "000000001"


def code_matrix(codes: list[str], width: int) -> np.ndarray:
    """A (len(codes), width) byte matrix of space-padded codes."""
    return np.frombuffer(
        b"".join(code.encode("latin-1").ljust(width) for code in codes), np.uint8
    ).reshape(len(codes), width)


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded ASCII digits of non-negative integers, as a (n, width) byte matrix."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values.astype(np.int64)[:, None] // powers) % 10 + 48).astype(np.uint8)


def date_matrix(days: np.ndarray) -> np.ndarray:
    """``DDMMYYYY`` byte matrix of datetime64[D] values."""
    months = days.astype("M8[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("M8[D]")).astype(np.int64) + 1
    return digit_matrix(day * 1_000_000 + month * 10_000 + year, 8)


def join_lines(mat: np.ndarray, length: np.ndarray) -> bytes:
    """Cut each row of ``mat`` at ``length`` and end it with CRLF; concatenate the rows.

    ``mat`` needs two spare columns after the longest line (they receive the CRLF).
    """
    rows = np.arange(len(mat))
    mat[rows, length] = ord("\r")
    mat[rows, length + 1] = ord("\n")
    keep = np.arange(mat.shape[1])[None, :] < (length + 2)[:, None]
    return mat[keep].tobytes()


def write_zip(
    target: Path, members: Mapping[str, Iterable[bytes]], large: Iterable[str] = ()
) -> Path:
    """Write ``members`` (name -> chunks of bytes) as a zip at ``target``: atomically, readable
    by its owner only (a demo looks like patient data), the same bytes for the same chunks.
    Members named in ``large`` may exceed 4 GiB (zip64 headers)."""
    large = set(large)
    with atomic_writer(Path(target), private=True) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, chunks in members.items():
                with zf.open(name, "w", force_zip64=name in large) as member:
                    for chunk in chunks:
                        member.write(chunk)
    return Path(target)
