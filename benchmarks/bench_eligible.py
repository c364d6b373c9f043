"""Benchmark ``lotas eligible`` as a whole process, against a plain ``pandas.read_fwf`` reader.

Usage::

    python benchmarks/bench_eligible.py                  # 100k, 1M and 3M RAA lines
    python benchmarks/bench_eligible.py --sizes 1000000 --runs 7
    python benchmarks/bench_eligible.py --quick          # 100k only, for a smoke test

Archives are written by ``lotas demo-archive`` into ``benchmarks/out/<lines>/`` (gitignored) and
reused. Each measurement is a fresh process started by a small wrapper that reports the child's
wall time and peak RSS (``resource.getrusage(RUSAGE_CHILDREN)``), so imports count, as they do for
a user. The baseline reads the same RAA member with ``pandas.read_fwf`` and applies the same line
checks (length, format, FINESS, dates, IPP) with pandas, also as a whole process; it does less
than ``lotas eligible`` (no RPS, no selection), so the ratio is conservative.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
FINESS = "000000001"

#: Runs the command in argv[1:], prints {"wall": seconds, "rss_kb": peak, "cpu": user + system
#: seconds} of that child (CPU time moves less than wall time on a machine shared with others).
WRAPPER = r"""
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
if proc.returncode:
    sys.stderr.write(proc.stderr.decode(errors="replace"))
    sys.exit(proc.returncode)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "rss_kb": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime}))
"""

#: The baseline: the same reading of the RAA member with pandas.read_fwf and pandas checks.
BASELINE = r"""
import io, sys, zipfile
import pandas as pd
folder, finess = sys.argv[1], sys.argv[2]
path = next(p for p in __import__("pathlib").Path(folder).iterdir() if p.name.endswith(".in.zip"))
with zipfile.ZipFile(path) as zf:
    name = next(n for n in zf.namelist() if n.endswith(".rpa.txt"))
    data = zf.read(name)
specs = {"FINESS": (0, 9), "FORMAT": (18, 21), "IPP": (21, 41), "DTNAIS": (41, 49),
         "SEXE": (49, 50), "FORMACT": (55, 57), "DATE_ACTE": (67, 75), "NATURE": (75, 76),
         "LIEU": (76, 79), "CATEG": (79, 80), "DP": (82, 90), "NBDA": (90, 92),
         "REST": (92, 10000)}
df = pd.read_fwf(io.BytesIO(data), colspecs=list(specs.values()), names=list(specs),
                 dtype=str, header=None, encoding="latin-1", keep_default_na=False,
                 skip_blank_lines=True, delimiter="\r")
lengths = pd.Series(data.decode("latin-1").splitlines()).str.len()
lengths = lengths[lengths > 0].reset_index(drop=True)
nbda = pd.to_numeric(df["NBDA"], errors="coerce")
ok = lengths.eq(92 + 8 * nbda) & nbda.notna()
ok &= df["FORMAT"].eq("P09") & df["FINESS"].eq(finess)
act = pd.to_datetime(df["DATE_ACTE"], format="%d%m%Y", errors="coerce")
birth = pd.to_datetime(df["DTNAIS"], format="%d%m%Y", errors="coerce")
ok &= act.notna() & birth.notna() & df["IPP"].str.strip().ne("")
valid = df[ok.to_numpy()].assign(DATE_ACTE=act[ok], DTNAIS=birth[ok])
print(len(valid), file=sys.stderr)
"""


def lotas_command() -> list[str]:
    return [sys.executable, "-m", "lotas_core.cli.main"]


def ensure_archive(lines: int) -> Path:
    folder = OUT / f"{lines}"
    if not any(folder.glob("*.in.zip")):
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        subprocess.run([*lotas_command(), "demo-archive", str(folder), "--raa-lines", str(lines)],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"  archive {lines:>9,} lignes écrite en {time.perf_counter() - start:.1f} s",
              flush=True)
    return folder


def measure(command: list[str], runs: int) -> dict[str, float]:
    walls, peaks, cpus = [], [], []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", WRAPPER, *command],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"échec de {' '.join(command)} :\n{proc.stderr}")
        result = json.loads(proc.stdout)
        walls.append(result["wall"])
        peaks.append(result["rss_kb"] / 1024)
        cpus.append(result["cpu"])
    return {"median": statistics.median(walls), "min": min(walls), "max": max(walls),
            "rss_mb": max(peaks), "cpu_median": statistics.median(cpus), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--runs", type=int, default=7, help="runs of lotas eligible per size")
    parser.add_argument("--baseline-max", type=int, default=1_000_000,
                        help="largest size also timed with read_fwf (slow)")
    parser.add_argument("--quick", action="store_true", help="100k lines, 3 runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs = [100_000], 3
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cœurs, charge {load:.2f}")
    results = []
    for lines in args.sizes:
        folder = ensure_archive(lines)
        # Written to a real file, as a user would (atomic write with fsync), never to /dev/null.
        eligible = [*lotas_command(), "eligible", "--archives", str(folder), "--finess", FINESS,
                    "--format", "csv", "--output", str(OUT / f"eligible-{lines}.csv")]
        ours = measure(eligible, args.runs)
        row = {"lines": lines, "lotas": ours}
        if lines <= args.baseline_max:
            row["read_fwf"] = measure([sys.executable, "-c", BASELINE, str(folder), FINESS], 1)
        results.append(row)
        base = row.get("read_fwf")
        ratio = f"{base['median'] / ours['median']:.1f}x" if base else "-"
        base_text = f"{base['median']:.2f} s ({base['rss_mb']:.0f} Mo)" if base else "-"
        print(
            f"{lines:>9,} lignes RAA : lotas eligible médiane {ours['median']:.2f} s "
            f"(min {ours['min']:.2f}, max {ours['max']:.2f}, {ours['runs']} runs), "
            f"CPU médiane {ours['cpu_median']:.2f} s, "
            f"pic {ours['rss_mb']:.0f} Mo | read_fwf {base_text} | ratio {ratio}",
            flush=True,
        )
    if len(results) > 1:
        # Linear growth: a fixed start-up cost plus the same cost per line between sizes.
        slopes = []
        for a, b in zip(results, results[1:], strict=False):
            per_million = (b["lotas"]["median"] - a["lotas"]["median"]) / (b["lines"] - a["lines"])
            slopes.append(f"{a['lines']:,} -> {b['lines']:,} : {per_million * 1e6:.2f} s")
        print("coût marginal par million de lignes : " + " ; ".join(slopes))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"charge en fin de mesure : {load:.2f}")
    (OUT / "last.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
