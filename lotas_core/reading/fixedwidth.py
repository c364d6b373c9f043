"""Fixed-width reader engine: layouts declared as data, every line validated, numpy on raw bytes.

A campaign declares its file formats as ``Layout`` objects (``reading.layouts``, re-exported
here): field name, 1-based start, length, variable parts such as ``NBDA x 8``.
``read_fixed_width`` validates every line of a member file in the order of ``REASONS`` (the first
failing blocking reason is the one counted; warnings keep the line and are counted on kept lines)
and returns the kept lines as a pandas table plus a ``FileReport``.

Why numpy on raw bytes: a PIVOINE RAA file of a large hospital holds millions of lines; a per-line
Python loop, or ``pandas.read_fwf``, is an order of magnitude slower. The bytes are read once, line
boundaries found with one vectorised scan, and the fixed part of each line gathered into an
``(n, width)`` byte matrix whose columns are the fields. Only the few rows that end up in the
result need per-row Python work (``FixedWidthTable.repeat``).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lotas_core.reading.bytecols import (
    categorical,
    categorical_from_words,
    digits_value,
    equals,
    pack,
    parse_dates,
)
from lotas_core.reading.layouts import FIELD_KINDS, Field, Layout, Repeat
from lotas_core.reading.reasons import BLOCKING_REASONS
from lotas_core.reading.records import FIRST_LINES_KEPT, FileReport, ProgressCallback

if TYPE_CHECKING:
    import pandas as pd

#: Skip reasons, in the order lines are checked: a line is counted under the first that fails.
#: Warnings (``Layout.warning_checks``) never skip a line (``reading.reasons``).
REASONS: tuple[str, ...] = BLOCKING_REASONS

__all__ = [
    "BLOCK_LINES", "FIELD_KINDS", "REASONS", "Field", "FixedWidthTable", "Layout", "Repeat",
    "categorical", "parse_dates", "read_fixed_width", "split_lines",
]

#: Lines validated together: big enough for numpy, small enough for the CPU cache.
BLOCK_LINES = 32_768
#: Threads that check blocks of lines at the same time (at most; one when there is one block).
READ_THREADS = min(2, os.cpu_count() or 1)
#: Bytes scanned at a time for line ends.
SCAN_BYTES = 1 << 22

_SPACE, _CR, _LF = 32, 13, 10
#: Bytes no PIVOINE text file holds: control characters other than TAB, LF and CR, and DEL.
_CONTROL = np.zeros(256, bool)
_CONTROL[:32] = True
_CONTROL[[9, 10, 13]] = False
_CONTROL[127] = True
#: How many leading bytes ``FixedWidthTable.looks_binary`` inspects.
BINARY_SAMPLE = 1 << 20


@dataclass
class FixedWidthTable:
    """The valid lines of one file: a pandas table plus what is needed to read variable parts."""

    layout: Layout
    frame: pd.DataFrame
    report: FileReport
    #: The format codes found on lines skipped for ``format``, with their counts.
    format_codes: dict[str, int] = field(default_factory=dict)
    _buffer: np.ndarray | None = field(default=None, repr=False)
    _starts: np.ndarray | None = field(default=None, repr=False)
    _counts: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def looks_binary(self) -> bool:
        """Whether the file holds control characters (NUL...) in its first ``BINARY_SAMPLE``
        bytes: then it is not a text file of any year, and saying so beats "bad length"."""
        if self._buffer is None:
            return False
        return bool(_CONTROL[self._buffer[:BINARY_SAMPLE]].any())

    def values(self, name: str, rows: np.ndarray | list[int]) -> np.ndarray | list[str]:
        """Field ``name`` of ``rows`` (positions in ``frame``) read from the bytes, for fields
        left out of the table: text (trimmed) as a list, dates as datetime64[D], ints as int64."""
        f = self.layout.field(name)
        rows = np.asarray(rows, dtype=np.int64)
        if self._buffer is None or self._starts is None:
            raise ValueError("no bytes kept for this table")
        index = (self._starts[rows] + (f.start - 1))[:, None] + np.arange(f.length)
        matrix = self._buffer[index] if len(rows) else np.zeros((0, f.length), np.uint8)
        if f.kind == "date":
            return parse_dates(matrix)[1]
        if f.kind == "int":
            return digits_value(matrix)
        text = matrix.tobytes().decode("latin-1")
        size = f.length
        return [text[i : i + size].rstrip(" ") for i in range(0, len(text), size)]

    def repeat(self, name: str, rows: np.ndarray | list[int]) -> list[list[str]]:
        """The items of variable part ``name`` (trimmed) for ``rows`` (positions in ``frame``)."""
        if self._buffer is None or self._starts is None:
            return [[] for _ in rows]
        offset = self.layout.fixed_length
        before: list[Repeat] = []
        for rep in self.layout.repeats:
            if rep.name == name:
                break
            before.append(rep)
        else:
            raise KeyError(f"{self.layout.name} has no variable part {name!r}")
        size = rep.item_length
        raw = self._buffer
        rows = np.asarray(rows, dtype=np.int64)
        starts = self._starts[rows] + offset
        for r in before:
            starts = starts + self._counts[r.name][rows] * r.item_length
        counts = self._counts[name][rows]
        lengths = counts * size
        if not lengths.any():
            return [[] for _ in range(len(rows))]
        # One gather and one decode for all rows; then only string slicing per row.
        ends = np.cumsum(lengths)
        index = np.arange(int(ends[-1])) + np.repeat(starts - (ends - lengths), lengths)
        text = raw[index].tobytes().decode("latin-1")
        out: list[list[str]] = []
        pos = 0
        for length in lengths.tolist():
            out.append([text[i : i + size].strip() for i in range(pos, pos + length, size)])
            pos += length
        return out


def split_lines(buffer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts, lengths (without CR/LF) and 1-based line numbers of the non-empty lines."""
    total = len(buffer)
    found = [
        np.flatnonzero(buffer[pos : pos + SCAN_BYTES] == _LF) + pos
        for pos in range(0, total, SCAN_BYTES)
    ]
    newlines = np.concatenate(found) if found else np.zeros(0, np.int64)
    count = len(newlines) + (1 if total and (not len(newlines) or newlines[-1] != total - 1) else 0)
    starts = np.empty(count, np.int64)
    ends = np.empty(count, np.int64)
    if count:
        starts[0] = 0
        starts[1:] = newlines[: count - 1] + 1
        ends[: len(newlines)] = newlines[:count]
        if count > len(newlines):
            ends[-1] = total
    if total:
        ends -= (ends > starts) & (buffer[np.maximum(ends - 1, 0)] == _CR)
    lengths = ends - starts
    numbers = np.arange(1, count + 1, dtype=np.int64)
    nonempty = lengths > 0
    if not nonempty.all():
        return starts[nonempty], lengths[nonempty], numbers[nonempty]
    return starts, lengths, numbers


class _Plan:
    """Where each checked or wanted field is, computed once per layout and call."""

    def __init__(self, layout: Layout, finess: str, wanted: tuple[str, ...]) -> None:
        self.layout = layout
        self.width = layout.fixed_length
        fmt = layout.field(layout.format_field)
        fin = layout.field(layout.finess_field)
        self.format = (fmt.start - 1, layout.format_code.encode("latin-1"))
        self.finess = (fin.start - 1, finess.encode("latin-1").ljust(fin.length)[: fin.length])
        self.key = layout.field(layout.key_field)
        self.counts = [(rep, layout.field(rep.count_field)) for rep in layout.repeats]
        self.dates = [(layout.field(name), why) for name, why in layout.date_checks]
        self.warning_names: list[str] = []
        for _, why in layout.warning_checks:
            if why not in self.warning_names:
                self.warning_names.append(why)
        if len(self.warning_names) > 8:
            raise ValueError(f"{layout.name}: at most 8 kinds of warning")
        self.warnings = [(layout.field(name), self.warning_names.index(why))
                         for name, why in layout.warning_checks]
        self.wanted = [layout.field(name) for name in wanted]


def _check_block(plan: _Plan, matrix: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """Reason codes (0 = valid) of the rows of ``matrix`` plus what was computed on the way."""
    expected = np.full(len(matrix), plan.width, np.int64)
    bad_length = np.zeros(len(matrix), bool)
    out: dict[str, np.ndarray] = {}
    for rep, f in plan.counts:
        value = digits_value(matrix[:, f.start - 1 : f.stop])
        bad_length |= value < 0
        out["#" + rep.name] = np.maximum(value, 0)
        expected += out["#" + rep.name] * rep.item_length
    bad_length |= lengths != expected
    start, code = plan.format
    bad_format = ~equals(matrix, start, code)
    start, finess = plan.finess
    bad_finess = ~equals(matrix, start, finess)
    bad_date = np.zeros(len(matrix), bool)
    for f, _ in plan.dates:
        ok, out[f.name] = parse_dates(matrix[:, f.start - 1 : f.stop])
        bad_date |= ~ok
    warn = np.zeros(len(matrix), np.uint8)
    for f, bit in plan.warnings:
        ok, out[f.name] = parse_dates(matrix[:, f.start - 1 : f.stop])
        warn |= (~ok).astype(np.uint8) << np.uint8(bit)
    out["warn"] = warn
    key_words = pack(matrix[:, plan.key.start - 1 : plan.key.stop])
    blank = pack(np.full((1, plan.key.length), _SPACE, np.uint8))[0]
    bad_key = (key_words == blank).all(axis=1)
    out["key_words"] = key_words
    reason = np.zeros(len(matrix), np.int8)
    fails = (bad_length, bad_format, bad_finess, bad_date, bad_key)
    for code in range(len(REASONS), 0, -1):  # the first failing reason is assigned last
        reason[fails[code - 1]] = code
    out["reason"] = reason
    return out


def _read_block(
    plan: _Plan, window: np.ndarray | None, starts: np.ndarray, lengths: np.ndarray,
    first: int, last: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Lines ``first``..``last``: the rows long enough to check, their reason codes, their
    warning bits, and the wanted fields (and variable part counts) of the kept ones."""
    rows = first + np.flatnonzero(lengths[first:last] >= plan.width)
    if window is None or not len(rows):
        return rows[:0], np.zeros(0, np.int8), np.zeros(0, np.uint8), {}
    matrix = window[starts[rows]]
    checked = _check_block(plan, matrix, lengths[rows])
    valid = checked["reason"] == 0
    values: dict[str, np.ndarray] = {}
    for f in plan.wanted:
        if f.kind == "date":
            value = checked.get(f.name)
            if value is None:
                value = parse_dates(matrix[:, f.start - 1 : f.stop])[1]
        elif f.kind == "int":
            value = digits_value(matrix[:, f.start - 1 : f.stop])
        elif f is plan.key:
            value = checked["key_words"]
        else:
            value = pack(matrix[:, f.start - 1 : f.stop])
        values[f.name] = value[valid]
    for rep, _ in plan.counts:
        values["#" + rep.name] = checked["#" + rep.name][valid]
    return rows, checked["reason"], checked["warn"], values


@contextmanager
def _block_runner(blocks: int) -> Iterator[Callable[..., Iterator[Any]]]:
    """``map`` in order over the blocks: on ``READ_THREADS`` threads when there are several
    blocks (numpy releases the GIL inside each operation, so blocks check in parallel), else
    in the calling thread."""
    threads = min(READ_THREADS, blocks)
    if threads < 2:
        yield map
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        yield pool.map


def read_fixed_width(
    data: bytes | bytearray | memoryview | mmap.mmap,
    layout: Layout,
    *,
    finess: str,
    member: str,
    columns: tuple[str, ...] | None = None,
    progress: ProgressCallback | None = None,
    stage: str = "",
    lines: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> FixedWidthTable:
    """Validate every line of ``data`` against ``layout``; return the valid ones and the report.

    ``columns`` names the fields to put in the table (all fields when None); the table always
    has ``LINE``, the 1-based line number in the file. Empty lines are ignored: they are neither
    read nor skipped, but line numbers count them, so that they match a text editor's.
    ``lines`` is ``split_lines(data)`` when the caller already computed it (e.g. in a thread).
    Lines are checked in blocks of ``BLOCK_LINES`` so that temporaries stay in the CPU cache.
    """
    buffer = np.frombuffer(data, np.uint8)
    starts, lengths, numbers = lines if lines is not None else split_lines(buffer)
    plan = _Plan(layout, finess, columns if columns is not None else tuple(
        f.name for f in layout.fields))
    width, n = plan.width, len(starts)
    window = None
    if len(buffer) >= width:
        window = np.lib.stride_tricks.as_strided(
            buffer, shape=(len(buffer) - width + 1, width), strides=(1, 1), writeable=False
        )
    reason = np.ones(n, np.int8)  # lines too short to hold the fixed part fail on length
    warn = np.zeros(n, np.uint8)
    parts: dict[str, list[np.ndarray]] = {}
    kept_parts: list[np.ndarray] = []
    bounds = [(first, min(first + BLOCK_LINES, n)) for first in range(0, n, BLOCK_LINES)]

    def check(
        bound: tuple[int, int],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        return _read_block(plan, window, starts, lengths, *bound)

    with _block_runner(len(bounds)) as run:
        for (_, last), (rows, reasons, warns, values) in zip(
            bounds, run(check, bounds), strict=True
        ):
            if len(rows):
                reason[rows] = reasons
                warn[rows] = warns
                kept_parts.append(rows[reasons == 0])
                for name, value in values.items():
                    parts.setdefault(name, []).append(value)
            if progress:
                progress(stage, last / n)

    import pandas as pd

    kept = np.concatenate(kept_parts) if kept_parts else np.zeros(0, np.int64)
    data_columns: dict[str, object] = {}
    for f in plan.wanted:
        chunks = parts.pop(f.name, None)  # freed once concatenated
        if f.kind == "date":
            data_columns[f.name] = np.concatenate(chunks) if chunks else np.zeros(0, "M8[D]")
        elif f.kind == "int":
            data_columns[f.name] = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
        else:
            words = (
                np.concatenate(chunks) if chunks
                else np.zeros((0, -(-f.length // 8)), np.uint64)
            )
            data_columns[f.name] = categorical_from_words(words, f.length)
    data_columns["LINE"] = numbers[kept]
    frame = pd.DataFrame(data_columns, copy=False)
    counts = {
        rep.name: (np.concatenate(parts["#" + rep.name]) if parts.get("#" + rep.name)
                   else np.zeros(0, np.int64))
        for rep, _ in plan.counts
    }
    fmt = layout.field(layout.format_field)
    return FixedWidthTable(
        layout=layout,
        frame=frame,
        report=_report(member, reason, numbers, warn, plan.warning_names),
        format_codes=_format_codes(buffer, starts, lengths, reason, fmt),
        _buffer=buffer,
        _starts=starts[kept],
        _counts=counts,
    )
def _report(
    member: str, reason: np.ndarray, numbers: np.ndarray, warn: np.ndarray, warnings: list[str]
) -> FileReport:
    tally = np.bincount(reason.astype(np.int64), minlength=len(REASONS) + 1)
    report = FileReport(member=member, lines_read=int(len(reason)), lines_kept=int(tally[0]))
    for code, name in enumerate(REASONS, start=1):
        if tally[code]:
            report.skipped[name] = int(tally[code])
            where = np.flatnonzero(reason == code)[:FIRST_LINES_KEPT]
            report.first_lines[name] = [int(x) for x in numbers[where]]
    if warnings and warn.any():
        kept_warn = np.where(reason == 0, warn, np.uint8(0))
        for bit, name in enumerate(warnings):
            hit = (kept_warn >> np.uint8(bit)) & np.uint8(1)
            count = int(np.count_nonzero(hit))
            if count:
                report.kept_with_warning[name] = count
                where = np.flatnonzero(hit)[:FIRST_LINES_KEPT]
                report.first_lines[name] = [int(x) for x in numbers[where]]
    return report


def _format_codes(
    buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray, reason: np.ndarray, fmt: Field
) -> dict[str, int]:
    """Format codes (positions of ``fmt``) of the lines skipped for ``length`` or ``format``.

    A file of another year's layout fails mostly on length; its format code tells which year.
    """
    bad = np.flatnonzero(((reason == 1) | (reason == 2)) & (lengths >= fmt.stop))[:10_000]
    found: dict[str, int] = {}
    for row in bad.tolist():
        start = int(starts[row]) + fmt.start - 1
        code = buffer[start : start + fmt.length].tobytes().decode("latin-1")
        found[code] = found.get(code, 0) + 1
    return found
