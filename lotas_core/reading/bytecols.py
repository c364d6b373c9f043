"""Vectorised conversions of fixed-width byte columns (numpy), used by ``reading.fixedwidth``.

Each function takes a (n, width) uint8 matrix (a column slice of the lines' fixed part) and
works on whole columns at once: digit checks, ``DDMMYYYY`` dates, byte comparisons, and text
fields turned into pandas Categoricals by hashing instead of sorting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Multiplier that mixes the words of a wide field into one hash (golden ratio, 64 bits).
_MIX = np.uint64(0x9E3779B97F4A7C15)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int32)
_ZERO = 48
#: Per-byte constants of the 8-digit date words (``parse_dates``).
_ZEROS = np.uint64(0x3030303030303030)
_SIXES = np.uint64(0x0606060606060606)
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid (year, month, day), in integer arithmetic (H. Hinnant)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_dates(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``DDMMYYYY`` byte matrix (n, 8) to (valid mask, datetime64[D] with NaT where invalid).

    Valid means 8 digits, month 1-12, year >= 1 and a day that exists in that month (29/02 only
    in leap years).

    Each date is read as one little-endian 64-bit word and its digits are checked and combined
    eight at a time (SWAR): a few operations on n words instead of a dozen on n x 8 bytes.
    """
    words = np.ascontiguousarray(matrix, dtype=np.uint8).view("<u8")[:, 0]
    high = words & _HIGH_NIBBLES
    # A byte is a digit when its high nibble is 3 and adding 6 keeps it there ('9' + 6 = '?').
    valid = (high == _ZEROS) & (((words + _SIXES) & _HIGH_NIBBLES) == _ZEROS)
    digits = words - _ZEROS  # byte i holds digit i where valid
    pairs = digits * np.uint64(10) + (digits >> np.uint64(8))  # bytes 0, 2, 4, 6: DD, MM, YY, YY
    day = (pairs & np.uint64(0xFF)).astype(np.int32)
    month = ((pairs >> np.uint64(16)) & np.uint64(0xFF)).astype(np.int32)
    year = ((pairs >> np.uint64(32)) & np.uint64(0xFF)).astype(np.int32) * 100 + (
        (pairs >> np.uint64(48)) & np.uint64(0xFF)
    ).astype(np.int32)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    valid &= month_ok & (year >= 1) & (day >= 1) & (day <= dim)
    days = _days_from_civil(year, np.where(valid, month, 1), day).astype(np.int64)
    days[~valid] = np.iinfo(np.int64).min  # NaT
    return valid, days.view("M8[D]")


def digits_value(matrix: np.ndarray) -> np.ndarray:
    """Right-aligned digit fields to int64; -1 where a character is not a digit."""
    value = np.zeros(len(matrix), np.int64)
    ok = np.ones(len(matrix), bool)
    for col in range(matrix.shape[1]):
        digit = matrix[:, col] - np.uint8(_ZERO)
        ok &= digit <= 9
        value = value * 10 + digit
    return np.where(ok, value, -1)


def equals(matrix: np.ndarray, start: int, expected: bytes) -> np.ndarray:
    """Rows whose bytes ``[start, start+len(expected))`` equal ``expected`` (column by column)."""
    ok = matrix[:, start] == expected[0]
    for i, byte in enumerate(expected[1:], start=1):
        ok &= matrix[:, start + i] == byte
    return ok


def pack(matrix: np.ndarray) -> np.ndarray:
    """Rows of a (n, w) byte matrix as (n, k) unsigned words, zero padded: one uint16 for w <= 2,
    one uint32 for w <= 4, else ceil(w/8) uint64 (small fields stay small in memory)."""
    n, width = matrix.shape
    if width <= 2:
        size, dtype = 2, np.uint16
    elif width <= 4:
        size, dtype = 4, np.uint32
    else:
        size, dtype = -(-width // 8) * 8, np.uint64
    packed = np.zeros((n, size), np.uint8)
    packed[:, :width] = matrix
    return packed.view(dtype)


def categorical_from_words(words: np.ndarray, width: int) -> pd.Categorical:
    """Packed rows (see ``pack``) to a Categorical of their text, trailing spaces removed.

    Fields of 1-2 bytes use a lookup table; wider ones are factorised by hashing their 64-bit
    words (O(n), several times faster than sorting fixed-width byte strings).
    """
    import pandas as pd

    if width <= 2:
        values = words[:, 0].astype(np.intp)
        present = np.zeros(1 << 16, bool)
        present[values] = True
        uniques = np.flatnonzero(present)
        lookup = np.zeros(1 << 16, np.int32)
        lookup[uniques] = np.arange(len(uniques), dtype=np.int32)
        codes = lookup[values]
        samples = uniques.astype(np.uint64)[:, None]
    else:
        codes, rows = _factorize_rows(words)
        samples = words[rows]
    raw = np.ascontiguousarray(samples).view(np.uint8)[:, :width]
    text = np.ascontiguousarray(raw).tobytes().decode("latin-1")
    names = [text[i : i + width].rstrip(" ") for i in range(0, len(text), width)]
    categories = pd.Index(names, dtype=object)
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _representatives(codes: np.ndarray, count: int) -> np.ndarray:
    """One row holding each code (0..count-1): any row will do, it only gives the code's text.

    A scatter (``rep[codes] = rows``) is one pass, several times cheaper than finding first
    appearances with a running maximum.
    """
    rows = np.empty(count, np.intp)
    rows[codes] = np.arange(len(codes), dtype=np.intp)
    return rows


def _factorize_rows(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (by first appearance) of the distinct rows of a (n, k) uint64 array, and one row
    holding each code.

    Several words are first mixed into one hash and factorised once; the result is then checked
    row by row against each code's representative row, and redone word by word if two rows
    collided.
    """
    import pandas as pd

    if words.shape[1] == 1:
        codes, uniques = pd.factorize(words[:, 0])
        return codes, _representatives(codes, len(uniques))
    mixed = words[:, 0].copy()
    for j in range(1, words.shape[1]):
        mixed *= _MIX
        mixed ^= words[:, j] + np.uint64(j)
    codes, uniques = pd.factorize(mixed)
    rows = _representatives(codes, len(uniques))
    representative = rows[codes]
    if all((words[representative, j] == words[:, j]).all() for j in range(words.shape[1])):
        return codes, rows
    codes, uniques = pd.factorize(words[:, 0])
    for j in range(1, words.shape[1]):
        part, parts = pd.factorize(words[:, j])
        codes, uniques = pd.factorize(codes.astype(np.int64) * len(parts) + part)
    return codes, _representatives(codes, len(uniques))


def categorical(matrix: np.ndarray) -> pd.Categorical:
    """A byte matrix (n, w) to a Categorical of its rows as text, trailing spaces removed."""
    return categorical_from_words(pack(matrix), matrix.shape[1])
