"""Synthetic PIVOINE *in* archives (RAA P09 + RPS P08) of any data year, for demos, tests and
benchmarks.

Everything here is invented: IPPs, dates and codes are drawn from a seeded numpy generator, so the
same ``seed``, ``raa_lines`` and ``year`` always give the same bytes. Lines are built as numpy byte
matrices, chunk by chunk, so that 3,000,000 RAA lines stay fast and small in memory.

The patients follow profiles that exercise every step of the PSY SMA funnel (full-time stay,
fewer than 2 consultations, none in the second half, a short follow-up, eligible) and a few lines
of each parse-report reason are deliberately broken. Years other than 2019 keep the 2019 formats
(P09, P08): the generator serves campaigns that read those layouts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lotas_core.reading.demo import (
    DEMO_FINESS,
    code_matrix,
    date_matrix,
    digit_matrix,
    join_lines,
    write_zip,
)

#: The data year of the default demo archive.
DEMO_YEAR = 2019
#: Lines are generated and compressed this many at a time (bounds memory).
CHUNK_LINES = 200_000
#: The average number of RAA lines per patient.
LINES_PER_PATIENT = 12

_RAA_WIDTH = 92
_RPS_WIDTH = 152
_MAX_DA = 3

# Patient profiles and their share of the patients.
_ELIGIBLE, _FULLTIME, _LT2, _NOH2, _DELAY, _OUTSIDE = range(6)
_PROFILE_SHARES = np.array([0.42, 0.08, 0.20, 0.12, 0.10, 0.08])
#: Probability that a line of a patient of each profile is a medical consultation.
_P_MEDICAL = np.array([0.55, 0.5, 0.02, 0.55, 0.6, 0.0])

_DP_CODES = [
    "F200", "F205", "F209", "F250", "F29", "F310", "F311", "F317", "F321", "F322", "F329",
    "F331", "F332", "F39", "F411", "F412", "F419", "F431", "F432", "F600", "F603", "F609",
    "F840", "F900", "F919", "F929", "F939", "F102", "F121", "F500", "F603", "F700",
]
_DA_CODES = _DP_CODES[:16] + ["Z590", "Z602", "Z630", "Z638", "Z915", "Z864", "Z653", "R458"]
_OTHER_CATEGORIES = list("IPAREESSY")
_OTHER_NATURES = list("DGAR")
_OTHER_LIEUX = [f"L{i:02d}" for i in range(2, 12)]
_UMS = ["1001", "1002", "1003", "1004", "2001", "2002"]
_SECTEURS = ["75G01", "75G02", "75I01", "75G03"]

def demo_timestamp(year: int) -> str:
    """PIVOINE timestamp of a demo archive of ``year`` (``DDMMYYYYhhmmss``): 31 January of the
    next year, 09:30:00."""
    return f"3101{year + 1}093000"


def write_demo_archive(
    folder: Path, raa_lines: int = 20000, seed: int = 1, finess: str = DEMO_FINESS,
    year: int = DEMO_YEAR,
) -> Path:
    """Write ``<finess>.<year>.12.<ts>.in.zip`` (RAA + RPS) into ``folder``; return its path."""
    if raa_lines < 1:
        raise ValueError("raa_lines must be at least 1")
    target = Path(folder) / f"{finess}.{year}.12.{demo_timestamp(year)}.in.zip"
    gen = _Generator(raa_lines, seed, finess, year)

    def rps() -> Iterator[bytes]:  # built after the RAA: random numbers drawn in that order
        yield gen.rps_bytes()

    raa = f"{finess}.{year}.12.rpa.txt"
    return write_zip(target, {raa: gen.raa_chunks(), f"{finess}.{year}.12.rps.txt": rps()},
                     large=[raa])


_table, _digits, _dates = code_matrix, digit_matrix, date_matrix


class _Generator:
    """Patients first, then their lines; the same inputs always give the same bytes."""

    def __init__(self, raa_lines: int, seed: int, finess: str, year: int = DEMO_YEAR) -> None:
        self.n = raa_lines
        self.year = year
        self.day0 = np.datetime64(f"{year}-01-01")
        self.year_days = int((np.datetime64(f"{year + 1}-01-01") - self.day0).astype(np.int64))
        self.rng = np.random.default_rng(seed)
        self.finess = np.frombuffer(finess.encode("ascii"), np.uint8)
        self.patients = max(10, raa_lines // LINES_PER_PATIENT)
        self._make_patients()
        weights = self.rng.gamma(0.9, size=self.patients)
        self.line_patient = self.rng.choice(self.patients, size=self.n, p=weights / weights.sum())
        self._make_broken_lines()

    # -- patients -----------------------------------------------------------------------------

    def _make_patients(self) -> None:
        rng, p = self.rng, self.patients
        self.profile = rng.choice(len(_PROFILE_SHARES), size=p, p=_PROFILE_SHARES)
        self.ipp = self._make_ipps()
        self.birth = np.datetime64("1930-01-01") + rng.integers(0, 31000, size=p)
        self.sex = rng.choice(np.array([49, 50], np.uint8), size=p)
        self.postcode = rng.integers(75001, 95999, size=p)
        # Each patient's window of act dates, by profile.
        start = np.zeros(p, np.int64)
        length = np.full(p, self.year_days, np.int64)
        noh2 = self.profile == _NOH2
        length[noh2] = int((np.datetime64(f"{self.year}-07-01") - self.day0).astype(np.int64))
        delay = self.profile == _DELAY
        start[delay] = rng.integers(165, 290, size=int(delay.sum()))
        length[delay] = rng.integers(20, 75, size=int(delay.sum()))
        self.window_start, self.window_length = start, length

    def _make_ipps(self) -> np.ndarray:
        """Unique 20-character IPPs: most alphanumeric (``0000O1262NOC3CUP8HEH``), some numeric."""
        rng, p = self.rng, self.patients
        alphabet = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)
        ipp = np.empty((p, 20), np.uint8)
        ipp[:, :4] = ord("0")
        index = rng.permutation(p).astype(np.int64)
        powers = 36 ** np.arange(5, -1, -1, dtype=np.int64)
        ipp[:, 4:10] = alphabet[(index[:, None] // powers) % 36]
        ipp[:, 10:] = alphabet[rng.integers(0, 36, size=(p, 10))]
        numeric = rng.random(p) < 0.1  # shorter numeric IPPs, space padded
        ipp[numeric, :10] = _digits(index[numeric] + 4_000_000_000, 10)
        ipp[numeric, 10:] = ord(" ")
        return ipp

    def _make_broken_lines(self) -> None:
        """A few line numbers per parse-report reason, and where the empty line goes."""
        per_reason = min(self.n // 6, 3 + self.n // 20_000)
        picked = self.rng.permutation(self.n)[: 6 * per_reason]
        self.broken = {
            reason: np.sort(picked[i * per_reason : (i + 1) * per_reason])
            for i, reason in enumerate(("length", "format", "finess", "date", "birth_date", "ipp"))
        }
        self.empty_after = int(self.rng.integers(0, self.n))

    def _head(self, pid: np.ndarray, fmt: bytes, width: int) -> np.ndarray:
        """Blank lines of ``width`` bytes with the head RAA and RPS share filled in for patients
        ``pid``: FINESS (twice), format code, IPP, birth date, sex and post code."""
        mat = np.full((len(pid), width), ord(" "), np.uint8)
        mat[:, 0:9] = self.finess
        mat[:, 9:18] = self.finess
        mat[:, 18:21] = np.frombuffer(fmt, np.uint8)
        mat[:, 21:41] = self.ipp[pid]
        mat[:, 41:49] = _dates(self.birth[pid])
        mat[:, 49] = self.sex[pid]
        mat[:, 50:55] = _digits(self.postcode[pid], 5)
        return mat

    # -- RAA ----------------------------------------------------------------------------------

    def raa_chunks(self):
        """The RAA file, CRLF lines, in chunks of bytes."""
        for first in range(0, self.n, CHUNK_LINES):
            last = min(first + CHUNK_LINES, self.n)
            yield self._raa_chunk(first, last)

    def _raa_chunk(self, first: int, last: int) -> bytes:
        rng, m = self.rng, last - first
        pid = self.line_patient[first:last]
        prof = self.profile[pid]
        mat = self._head(pid, b"P09", _RAA_WIDTH + 8 * _MAX_DA + 2)
        mat[:, 57:61] = _table(_UMS, 4)[rng.integers(0, len(_UMS), m)]
        mat[:, 61:66] = _table(_SECTEURS, 5)[rng.integers(0, len(_SECTEURS), m)]
        mat[:, 66] = ord("1")
        # Act date within the patient's window; a few lines fall in 2018 or 2020.
        offset = self.window_start[pid] + (rng.random(m) * self.window_length[pid]).astype(np.int64)
        outside_year = rng.random(m) < 0.02
        offset[outside_year] = np.where(
            rng.random(int(outside_year.sum())) < 0.5,
            rng.integers(-90, 0, int(outside_year.sum())),
            rng.integers(self.year_days, self.year_days + 90, int(outside_year.sum())),
        )
        mat[:, 67:75] = _dates(self.day0 + offset)
        # Medical consultation (FA 30, E, L01, M or X) or one of the other kinds of act.
        medical = rng.random(m) < _P_MEDICAL[prof]
        fa = np.full(m, 30)
        nature = np.full(m, ord("E"), np.uint8)
        lieu = np.full(m, 0)
        categ = np.where(rng.random(m) < 0.8, ord("M"), ord("X")).astype(np.uint8)
        kind = rng.random(m)
        other = ~medical
        cat_other = other & (kind < 0.6)
        categ[cat_other] = _table(_OTHER_CATEGORIES, 1)[
            rng.integers(0, len(_OTHER_CATEGORIES), int(cat_other.sum())), 0
        ]
        nat_other = other & (kind >= 0.6) & (kind < 0.75)
        nature[nat_other] = _table(_OTHER_NATURES, 1)[
            rng.integers(0, 4, int(nat_other.sum())), 0
        ]
        lieu_other = other & (kind >= 0.75) & (kind < 0.9)
        lieu[lieu_other] = rng.integers(1, len(_OTHER_LIEUX) + 1, int(lieu_other.sum()))
        fa_other = (other & (kind >= 0.9)) | (prof == _OUTSIDE)
        fa[fa_other] = rng.choice([31, 32], size=int(fa_other.sum()))
        mat[:, 55:57] = _digits(fa, 2)
        mat[:, 75] = nature
        mat[:, 76:79] = _table(["L01", *_OTHER_LIEUX], 3)[lieu]
        mat[:, 79] = categ
        mat[:, 80] = ord("1") + (categ == ord("X"))
        # Diagnoses: DP then 0-3 DAs (some repeat the DP); blank DP on some non-medical acts.
        dp = rng.integers(0, len(_DP_CODES), m)
        mat[:, 82:90] = _table(_DP_CODES, 8)[dp]
        blank_dp = other & (rng.random(m) < 0.3)
        mat[blank_dp, 82:90] = ord(" ")
        nbda = rng.choice(np.arange(_MAX_DA + 1), size=m, p=[0.55, 0.25, 0.12, 0.08])
        mat[:, 90:92] = _digits(nbda, 2)
        da_table, dp_table = _table(_DA_CODES, 8), _table(_DP_CODES, 8)
        for i in range(_MAX_DA):
            da = da_table[rng.integers(0, len(_DA_CODES), m)]
            same_as_dp = rng.random(m) < 0.1
            da[same_as_dp] = dp_table[dp[same_as_dp]]
            mat[:, 92 + 8 * i : 100 + 8 * i] = da
        length = _RAA_WIDTH + 8 * nbda
        self._break(mat, length, first, last, start_date=67, birth=41)
        data = join_lines(mat, length)
        if first <= self.empty_after < last:  # one empty line, which readers must ignore
            cut = int((length[: self.empty_after - first + 1] + 2).sum())
            data = data[:cut] + b"\r\n" + data[cut:]
        return data

    def _break(
        self, mat: np.ndarray, length: np.ndarray, first: int, last: int,
        start_date: int, birth: int,
    ) -> None:
        """Damage the chosen lines of this chunk, one parse-report reason each."""
        def rows(reason: str) -> np.ndarray:
            picked = self.broken[reason]
            return picked[(picked >= first) & (picked < last)] - first

        length[rows("length")] -= 3
        mat[rows("format"), 18:21] = np.frombuffer(b"P08", np.uint8)
        mat[rows("finess"), 0:9] = np.frombuffer(b"000000002", np.uint8)
        mat[rows("date"), start_date : start_date + 8] = np.frombuffer(
            f"3102{self.year}".encode("ascii"), np.uint8
        )
        mat[rows("birth_date"), birth : birth + 8] = np.frombuffer(b"00001980", np.uint8)
        mat[rows("ipp"), 21:41] = ord(" ")

    # -- RPS ----------------------------------------------------------------------------------

    def rps_bytes(self) -> bytes:
        """The RPS file: full-time stays for the ``fulltime`` profile, other forms for some."""
        rng, p = self.rng, self.patients
        stays = np.zeros(p, np.int64)
        fa = np.zeros(p, np.int64)
        start = np.zeros(p, np.int64)
        full = self.profile == _FULLTIME
        stays[full] = rng.integers(1, 4, int(full.sum()))
        fa[full] = 1
        others = ~full & (rng.random(p) < 0.25)
        stays[others] = rng.integers(1, 3, int(others.sum()))
        fa[others] = rng.choice([20, 20, 20, 21, 23, 2, 3, 4, 5, 6, 7, 1], size=int(others.sum()))
        # FA 01 outside the full-time profile: one stay ended in 2018 (does not exclude).
        old = others & (fa == 1)
        start[old] = -92
        stays[old] = 1
        rows = np.repeat(np.arange(p), stays)
        m = len(rows)
        if m == 0:
            return b""
        seq_in_patient = np.arange(m) - np.repeat(np.cumsum(stays) - stays, stays)
        quarter = (start[rows] // 92) + np.minimum(seq_in_patient, 3)
        y = self.year
        q_start = np.array([f"{y - 1}-10-01", f"{y}-01-01", f"{y}-04-01", f"{y}-07-01",
                            f"{y}-10-01", f"{y + 1}-01-01"], dtype="M8[D]")
        q_len = np.diff(q_start).astype(np.int64)
        q_start = q_start[:-1]
        qi = np.clip(quarter + 1, 0, 4)
        seq_start = q_start[qi] + (rng.random(m) * q_len[qi] * 0.5).astype(np.int64)
        seq_end = seq_start + rng.integers(1, 40, m)
        seq_end = np.minimum(seq_end, q_start[qi] + q_len[qi] - 1)
        pid = rows
        mat = self._head(pid, b"P08", _RPS_WIDTH + 8 * 2 + 23 + 10)
        mat[:, 55:57] = _digits(fa[pid], 2)
        mat[:, 57:77] = ord(" ")
        mat[:, 57:66] = _digits((self.year % 100) * 10_000_000 + np.arange(m), 9)
        mat[:, 77:85] = _dates(seq_start)
        modent = rng.choice(np.frombuffer(b"8886770", np.uint8), size=m)
        mat[:, 85] = modent
        prov = rng.choice(np.frombuffer(b"145", np.uint8), size=m)
        mat[:, 86] = np.where(modent == ord("8"), ord(" "), prov)
        mat[:, 87:95] = _dates(seq_end)
        modsort = rng.choice(np.frombuffer(b"8886779", np.uint8), size=m)
        mat[:, 95] = modsort
        dest = rng.choice(np.frombuffer(b"1467", np.uint8), size=m)
        mat[:, 96] = np.where(np.isin(modsort, np.frombuffer(b"89", np.uint8)), ord(" "), dest)
        mat[:, 97:101] = _table(_UMS, 4)[rng.integers(0, len(_UMS), m)]
        mat[:, 101:106] = _table(_SECTEURS, 5)[rng.integers(0, len(_SECTEURS), m)]
        mat[:, 106] = rng.choice(np.frombuffer(b"11137", np.uint8), size=m)
        mat[:, 108:116] = _dates(seq_start)
        mat[:, 116:124] = _dates(seq_end)
        mat[:, 124:127] = _digits((seq_end - seq_start).astype(np.int64) + 1, 3)
        mat[:, 127:133] = _digits(np.zeros(m, np.int64), 6)
        mat[:, 133:139] = _digits(rng.integers(1, 5, (m, 6)) @ 10 ** np.arange(5, -1, -1), 6)
        mat[:, 140:148] = _table(_DP_CODES, 8)[rng.integers(0, len(_DP_CODES), m)]
        nbda = rng.integers(0, 3, m)
        nbza = (rng.random(m) < 0.1).astype(np.int64)
        mat[:, 148:150] = _digits(nbda, 2)
        mat[:, 150:152] = _digits(nbza, 2)
        da_table = _table(_DA_CODES, 8)
        mat[:, 152:160] = da_table[rng.integers(0, len(_DA_CODES), m)]
        mat[:, 160:168] = da_table[rng.integers(0, len(_DA_CODES), m)]
        # One CCAM act (23 characters) right after the DAs when NBZA == 1.
        act = np.frombuffer(b"        YYYY010    1101", np.uint8).copy()
        acts = np.broadcast_to(act, (m, 23)).copy()
        acts[:, 0:8] = _dates(seq_start)
        col = 152 + 8 * nbda
        for j in range(23):
            mat[np.arange(m), col + j] = np.where(nbza == 1, acts[:, j], mat[np.arange(m), col + j])
        length = _RPS_WIDTH + 8 * nbda + 23 * nbza
        # A few broken RPS lines: a bad length and a bad sequence date.
        few = rng.permutation(m)[: min(m, 4)]
        length[few[:2]] += 5
        mat[few[2:], 116:124] = np.frombuffer(b"99999999", np.uint8)
        return join_lines(mat, length)
