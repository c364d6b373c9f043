"""The vectorised reader and selection against a plain, line-by-line reading of the spec.

``reference`` below is written straight from spec sections 2-4 with Python loops and
``datetime``; it is slow but obvious. Both must agree on the parse report, the funnel and every
row, on demo archives and on randomly damaged lines.
"""

from __future__ import annotations

import random
import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from lotas_core.selection.pipeline import select
from lotas_plugins.psy_sma_2021.demo import write_demo_archive

#: Spec section 2 v2: blocking reasons in checking order, then the warnings of kept lines.
REASONS = ("length", "format", "finess", "date", "ipp")
WARNINGS = ("birth_date", "sequence_start")


def _date(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, "%d%m%Y").date()
    except ValueError:
        return None


def _count(report: dict, table: str, key: str, number: int) -> None:
    report[table][key] = report[table].get(key, 0) + 1
    report["first_lines"].setdefault(key, [])
    if len(report["first_lines"][key]) < 5:
        report["first_lines"][key].append(number)


def _parse(data: bytes, finess: str, kind: str) -> tuple[list[dict], dict]:
    report = {"lines_read": 0, "lines_kept": 0, "skipped": {}, "first_lines": {},
              "kept_with_warning": {}}
    kept = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line:
            continue
        report["lines_read"] += 1
        text = line.decode("latin-1")
        reason = None
        warnings = []
        if kind == "raa":
            nbda = text[90:92]
            if len(text) < 92 or not nbda.isdigit() or len(text) != 92 + 8 * int(nbda):
                reason = "length"
            elif text[18:21] != "P09":
                reason = "format"
            elif text[0:9] != finess:
                reason = "finess"
            elif _date(text[67:75]) is None:
                reason = "date"
            elif not text[21:41].strip(" "):
                reason = "ipp"
            elif _date(text[41:49]) is None:
                warnings.append("birth_date")
        else:
            nbda, nbza = text[148:150], text[150:152]
            if (len(text) < 152 or not nbda.isdigit() or not nbza.isdigit()
                    or len(text) != 152 + 8 * int(nbda) + 23 * int(nbza)):
                reason = "length"
            elif text[18:21] != "P08":
                reason = "format"
            elif text[0:9] != finess:
                reason = "finess"
            elif _date(text[116:124]) is None:
                reason = "date"
            elif not text[21:41].strip(" "):
                reason = "ipp"
            elif _date(text[108:116]) is None:
                warnings.append("sequence_start")
        if reason:
            _count(report, "skipped", reason, number)
            continue
        for warning in warnings:
            _count(report, "kept_with_warning", warning, number)
        report["lines_kept"] += 1
        kept.append({"text": text, "ipp": text[21:41].rstrip(" ")})
    report["skipped"] = {r: report["skipped"][r] for r in REASONS if r in report["skipped"]}
    report["kept_with_warning"] = {w: report["kept_with_warning"][w] for w in WARNINGS
                                   if w in report["kept_with_warning"]}
    report["first_lines"] = {r: report["first_lines"][r] for r in REASONS + WARNINGS
                             if r in report["first_lines"]}
    return kept, report


def reference(raa: bytes, rps: bytes | None, finess: str):
    raa_lines, raa_report = _parse(raa, finess, "raa")
    rps_lines, rps_report = _parse(rps, finess, "rps") if rps is not None else ([], None)
    y0, y1, h2 = date(2019, 1, 1), date(2019, 12, 31), date(2019, 7, 1)
    base: set[str] = set()
    consults: dict[str, list[tuple[date, int]]] = {}
    for order, rec in enumerate(raa_lines):
        t, act = rec["text"], _date(rec["text"][67:75])
        if t[55:57] == "30" and y0 <= act <= y1:
            base.add(rec["ipp"])
            if t[76:79] == "L01" and t[75] == "E" and t[79] in "MX":
                consults.setdefault(rec["ipp"], []).append((act, order))
    stays: dict[str, list[tuple[date, int, str]]] = {}
    fulltime = set()
    for order, rec in enumerate(rps_lines):
        t = rec["text"]
        end = _date(t[116:124])
        start = _date(t[108:116]) or end  # an invalid start: the sequence is [end, end]
        if start <= y1 and end >= y0:
            stays.setdefault(rec["ipp"], []).append((end, order, t))
            if t[55:57] == "01":
                fulltime.add(rec["ipp"])
    funnel = dict(base=len(base), fulltime=0, lt2=0, noh2=0, delay=0, eligible=0)
    rows = []
    for ipp in sorted(base):
        acts = consults.get(ipp, [])
        second = [a for a in acts if a[0] >= h2]
        if ipp in fulltime:
            funnel["fulltime"] += 1
        elif len(acts) < 2:
            funnel["lt2"] += 1
        elif not second:
            funnel["noh2"] += 1
        elif (max(a[0] for a in second) - min(a[0] for a in acts)).days < 90:
            funnel["delay"] += 1
        else:
            funnel["eligible"] += 1
            latest = max(a[0] for a in second)
            ref_order = min(o for d, o in second if d == latest)
            t = raa_lines[ref_order]["text"]
            birth = _date(t[41:49])  # the reference act's own birth date, never another's
            age = None if birth is None else (
                latest.year - birth.year - ((latest.month, latest.day) < (birth.month, birth.day))
            )
            codes = [t[82:90]] + [t[92 + 8 * i: 100 + 8 * i] for i in range(int(t[90:92]))]
            listeda: list[str] = []
            for code in codes:
                if code.strip() and code.strip() not in listeda:
                    listeda.append(code.strip())
            move = ("", "", "", "")
            if ipp in stays:
                _, _, s = max(stays[ipp], key=lambda item: (item[0], item[1]))
                move = (s[85].strip(), s[86].strip(), s[95].strip(), s[96].strip())
            rows.append({
                "IPP": ipp, "SEXE": t[49].strip(), "AGE": age, "DATACTE": latest,
                "LISTEDA": " ".join(listeda), "MODENT": move[0], "PROV": move[1],
                "MODSORT": move[2], "DEST": move[3],
            })
    return funnel, raa_report, rps_report, rows


def _members(path: Path) -> tuple[bytes, bytes | None]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        raa = zf.read(next(n for n in names if n.endswith(".rpa.txt")))
        rps_name = next((n for n in names if n.endswith(".rps.txt")), None)
        return raa, (zf.read(rps_name) if rps_name else None)


def _compare(lotas, folder: Path, path: Path) -> None:
    sel = select(lotas, "psy_sma_2021", folder, "000000001")
    raa, rps = _members(path)
    funnel, raa_report, rps_report, rows = reference(raa, rps, "000000001")
    assert sel.funnel == funnel
    got = sel.report.to_dict()["files"]
    for key, expected in (("raa", raa_report), ("rps", rps_report)):
        if expected is None:
            assert key not in got
            continue
        assert {k: got[key][k] for k in expected} == expected
    got_rows = [
        {k: (None if v is pd.NA else v) for k, v in row.items()}  # a blank AGE is NA
        for row in sel.patients.to_dict("records")
    ]
    assert got_rows == rows
    return sel


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demo_archives_agree_with_the_reference(tmp_path, lotas, seed):
    path = write_demo_archive(tmp_path, raa_lines=4000, seed=seed)
    _compare(lotas, tmp_path, path)


def _mutate(line: str, rng: random.Random) -> str:
    """Damage or vary one line the way real files do (or leave it alone)."""
    choice = rng.randrange(14)
    pos = rng.randrange(len(line))
    if choice == 0:
        return line[:pos]
    if choice == 1:
        return line + rng.choice(["X", "        ", "12345678"])
    if choice == 2:
        return line[:pos] + rng.choice("0123456789 AZaz-+\x00\xe9") + line[pos + 1:]
    if choice == 3:
        return line[:18] + rng.choice(["P08", "P09", "P10", "P14"]) + line[21:]
    if choice == 4:
        return rng.choice(["000000002", "00000000 "]) + line[9:]
    if choice == 5:
        return line[:21] + rng.choice([" " * 20, "pat01".ljust(20), " PAT01".ljust(20)]) + line[41:]
    bad_dates = ["31022019", "        ", "00000000", "1506198X", "29022019"]
    if choice == 6:  # the birth date (a warning in RAA lines, unchecked in RPS lines)
        return line[:41] + rng.choice(bad_dates) + line[49:]
    if choice == 7 and len(line) >= 124:  # the RPS sequence start (a warning), or the end
        cut = rng.choice([108, 108, 116])
        return line[:cut] + rng.choice(bad_dates) + line[cut + 8:]
    return line


def _damaged_archive(folder: Path, build, seed: int) -> Path:
    rng = random.Random(seed)
    ipps = ["PAT01", "PAT02", "pat01", "PAT03", " PAT01", "PAT04  X"]
    days = ["31122018", "01012019", "15062019", "30062019", "01072019", "29092019", "29092019",
            "31122019", "01012020", "29022019", "29022020"]
    raa = []
    for _ in range(300):
        line = build.raa(
            rng.choice(ipps), rng.choice(days),
            fa=rng.choice(["30", "30", "30", "31"]), lieu=rng.choice(["L01", "L01", "L02"]),
            nature=rng.choice("EEEG"), categ=rng.choice("MMXI"),
            birth=rng.choice(["29022000", "01071980", "15091975", "31121999"]),
            sexe=rng.choice("12"), dp=rng.choice(["F200", "F32", "", "Z590"]),
            das=rng.sample(["F200", "Z590", "F32", "", "R45"], rng.randrange(4)),
        )
        raa.append(_mutate(line, rng))
    rps = []
    for _ in range(40):
        line = build.rps(
            rng.choice(ipps), rng.choice(days[:5]), rng.choice(days[3:]),
            fa=rng.choice(["01", "02", "20", "07"]), modent=rng.choice("678"),
            prov=rng.choice(" 14"), modsort=rng.choice("6789"), dest=rng.choice(" 14"),
            das=rng.sample(["F200", "Z590"], rng.randrange(3)), acts=rng.randrange(2),
        )
        rps.append(_mutate(line, rng))
    eol = rng.choice(["\r\n", "\n"])
    raa.insert(rng.randrange(len(raa)), "")  # an empty line
    return build.archive(folder, raa, rps, eol=eol)


@pytest.mark.parametrize("seed", range(8))
def test_damaged_lines_agree_with_the_reference(tmp_path, lotas, build, seed):
    path = _damaged_archive(tmp_path, build, seed)
    _compare(lotas, tmp_path, path)


def test_damaged_lines_exercise_every_reason_and_warning(tmp_path, build):
    """The seeds above are worth something only if they meet every case of spec section 2."""
    seen: set[str] = set()
    blank_ages = 0
    for seed in range(8):
        raa, rps = _members(_damaged_archive(tmp_path / str(seed), build, seed))
        _, raa_report, rps_report, rows = reference(raa, rps, "000000001")
        for report in (raa_report, rps_report):
            seen |= set(report["skipped"]) | {f"warn:{w}" for w in report["kept_with_warning"]}
        blank_ages += sum(row["AGE"] is None for row in rows)
    assert seen == set(REASONS) | {f"warn:{w}" for w in WARNINGS}
    assert blank_ages >= 1
