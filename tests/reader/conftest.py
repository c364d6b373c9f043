"""Tiny builders of synthetic RAA P09 / RPS P08 lines and PIVOINE archives, and a selection runner.

Every value is invented; positions follow docs/formats.md (1-based, inclusive).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

FINESS = "000000001"
TIMESTAMP = "31012020093000"


def line_head(
    ipp: str, fa: str, fmt: str, *, finess: str = FINESS, birth: str = "15061980", sexe: str = "1"
) -> str:
    """Positions 1-57, the same in RAA P09 and RPS P08: FINESS twice, format, IPP, birth date,
    sex, post code and forme d'activité (each value cut or padded to its width)."""
    return (
        finess.ljust(9)[:9] * 2 + fmt.ljust(3)[:3] + ipp.ljust(20)[:20] + birth.ljust(8)[:8]
        + sexe.ljust(1)[:1] + "75001" + fa.ljust(2)[:2]
    )


def raa_line(
    ipp: str = "PAT01",
    act: str = "15092019",
    *,
    fa: str = "30",
    lieu: str = "L01",
    nature: str = "E",
    categ: str = "M",
    dp: str = "F200",
    das: Sequence[str] = (),
    fmt: str = "P09",
    nbda: str | None = None,
    **head: str,
) -> str:
    """One RAA P09 line (92 + 8 x NBDA characters); ``head``: ``line_head``'s keywords."""
    line = (
        line_head(ipp, fa, fmt, **head) + "1001" + "75G01" + "1" + act.ljust(8)[:8]
        + nature.ljust(1)[:1] + lieu.ljust(3)[:3] + categ.ljust(1)[:1] + "1" + " " + dp.ljust(8)[:8]
        + (nbda if nbda is not None else f"{len(das):02d}")
        + "".join(da.ljust(8)[:8] for da in das)
    )
    assert len(line) == 92 + 8 * len(das) or nbda is not None
    return line


def rps_line(
    ipp: str = "PAT01",
    start: str = "01022019",
    end: str = "10022019",
    *,
    fa: str = "01",
    modent: str = "8",
    prov: str = " ",
    modsort: str = "8",
    dest: str = " ",
    fmt: str = "P08",
    das: Sequence[str] = (),
    acts: int = 0,
    extra: str = "",
    **head: str,
) -> str:
    """One RPS P08 line (152 + 8 x NBDA + 23 x NBZA characters); ``extra`` breaks the length;
    ``head``: ``line_head``'s keywords."""
    line = (
        line_head(ipp, fa, fmt, **head) + "S0001".ljust(20) + start + modent[:1].ljust(1)
        + prov[:1].ljust(1) + end + modsort[:1].ljust(1) + dest[:1].ljust(1) + "1001" + "75G01"
        + "1" + " " + start + end + "010" + "000" + "000" + "111111" + " " + "F200".ljust(8)
        + f"{len(das):02d}" + f"{acts:02d}"
        + "".join(da.ljust(8) for da in das)
        + ("01022019YYYY010    1101" * acts)
        + extra
    )
    assert len(line) == 152 + 8 * len(das) + 23 * acts + len(extra)
    return line


def write_archive(
    folder: Path,
    raa: Sequence[str] | None,
    rps: Sequence[str] | None = (),
    *,
    finess: str = FINESS,
    timestamp: str = TIMESTAMP,
    eol: str = "\r\n",
    name: str | None = None,
    raa_member: str | None = None,
) -> Path:
    """A PIVOINE in-archive with the given lines; ``None`` leaves the member out."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{finess}.2019.12.{timestamp}.in.zip")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        if raa is not None:
            member = raa_member or f"{finess}.2019.12.rpa.txt"
            zf.writestr(member, "".join(line + eol for line in raa).encode("latin-1"))
        if rps is not None:
            zf.writestr(
                f"{finess}.2019.12.rps.txt", "".join(line + eol for line in rps).encode("latin-1")
            )
    return path


@pytest.fixture
def lotas():
    """A facade with only the campaign plugin (no entry points: other plugins stay out)."""
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.plugin_host.manager import get_plugin_manager
    from lotas_plugins import psy_sma_2021

    pm = get_plugin_manager(load_entry_points=False, extra_plugins=[("psy_sma_2021", psy_sma_2021)])
    return Lotas(pm)


@pytest.fixture
def select_lines(tmp_path: Path, lotas) -> Callable[..., object]:
    """``select_lines(raa, rps=(), **archive_kw)`` writes an archive and runs the selection."""
    from lotas_core.selection.pipeline import select

    counter = {"n": 0}

    def run(raa: Sequence[str], rps: Sequence[str] | None = (), **kwargs: object):
        counter["n"] += 1
        folder = tmp_path / f"archives{counter['n']}"
        write_archive(folder, raa, rps, **kwargs)  # type: ignore[arg-type]
        return select(lotas, "psy_sma_2021", folder, FINESS)

    return run


def consultations(ipp: str, *dates: str, **kwargs: object) -> list[str]:
    """One medical consultation line per date."""
    return [raa_line(ipp, date, **kwargs) for date in dates]  # type: ignore[arg-type]


def eligible_pair(ipp: str = "PAT01") -> list[str]:
    """Two consultations 100 days apart, the second in H2: an eligible patient."""
    return consultations(ipp, "01052019", "09082019")


@pytest.fixture
def build():
    """The line and archive builders, for test modules (which cannot import conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        raa=raa_line,
        rps=rps_line,
        archive=write_archive,
        consultations=consultations,
        eligible_pair=eligible_pair,
        FINESS=FINESS,
        TIMESTAMP=TIMESTAMP,
    )
