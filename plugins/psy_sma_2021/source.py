"""The record source of the campaign: the PIVOINE *in* archive of 2019 M12, RAA and RPS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lotas_core.archives import archive_info, find_archive, find_member, read_members
from lotas_core.errors import ArchiveError
from lotas_core.fixedwidth import FixedWidthTable, Layout, read_fixed_width, split_lines
from lotas_core.records import ParseReport, ProgressCallback, Records, RecordSource
from lotas_plugins.psy_sma_2021 import params
from lotas_plugins.psy_sma_2021.layouts import RAA_COLUMNS, RAA_P09, RPS_COLUMNS, RPS_P08

if TYPE_CHECKING:
    from lotas_core.campaign import Campaign

#: Warning of the parse report when the archive has no RPS member.
NO_RPS_WARNING = (
    "Aucun fichier RPS (*.rps.txt) dans l'archive : aucun patient n'est exclu pour une "
    "hospitalisation à temps plein."
)


class PivoineInSource(RecordSource):
    """Finds the newest ``<FINESS>.2019.12.<ts>.in.zip`` and reads its RAA P09 and RPS P08."""

    id = params.RECORD_SOURCE_ID

    def __init__(
        self,
        year: int = params.DATA_YEAR,
        month: int = params.PERIOD_MONTH,
        raa_layout: Layout = RAA_P09,
        rps_layout: Layout = RPS_P08,
    ) -> None:
        self.year, self.month = year, month
        self.raa_layout, self.rps_layout = raa_layout, rps_layout

    def read(
        self,
        folder: Path,
        finess: str,
        campaign: Campaign,
        progress: ProgressCallback | None = None,
    ) -> Records:
        path = find_archive(folder, finess, self.year, self.month, "in")
        if progress:
            progress("Décompression de l'archive", 0.0)
        wanted = {"raa": params.RAA_MEMBER_SUFFIXES, "rps": params.RPS_MEMBER_SUFFIXES}
        # Inflating and hashing run outside the GIL: pandas (needed next) is imported meanwhile.
        with ThreadPoolExecutor(max_workers=2) as pool:
            info_future = pool.submit(archive_info, path)
            members_future = pool.submit(_inflate_and_split, path, wanted)
            import pandas  # noqa: F401
            members, names, raa_lines = members_future.result()
            info = info_future.result()
        if progress:
            progress("Décompression de l'archive", 1.0)
        if "raa" not in members:
            listed = ", ".join(names[:8]) or "aucun fichier"
            raise ArchiveError(
                f"L'archive « {path.name} » ne contient pas de fichier RAA (*.rpa.txt ou "
                f"*.raa.txt) ; elle contient : {listed}. Choisissez l'archive PIVOINE « in ».",
                f"archive {path.name} has no RAA member",
            )
        report = ParseReport()
        member_names = {key: find_member(names, wanted[key]) or "" for key in wanted}
        raa = read_fixed_width(
            members.pop("raa"), self.raa_layout, finess=finess, member=member_names["raa"],
            columns=RAA_COLUMNS, progress=progress, stage="Contrôle des lignes RAA",
            lines=raa_lines,
        )
        _check_usable(raa, path.name, "RAA", report)
        report.files["raa"] = raa.report
        parsed: dict[str, FixedWidthTable] = {"raa": raa}
        tables = {"raa": raa.frame}
        if "rps" in members:
            rps = read_fixed_width(
                members.pop("rps"), self.rps_layout, finess=finess, member=member_names["rps"],
                columns=RPS_COLUMNS, progress=progress, stage="Contrôle des lignes RPS",
            )
            _check_usable(rps, path.name, "RPS", report)
            report.files["rps"] = rps.report
            parsed["rps"] = rps
            tables["rps"] = rps.frame
        else:
            report.warnings.append(NO_RPS_WARNING)
        return Records(tables=tables, report=report, archive=info, parsed=parsed)


def _inflate_and_split(
    path: Path, wanted: dict[str, tuple[str, ...]]
) -> tuple[dict[str, bytes | bytearray], list[str], tuple[np.ndarray, ...] | None]:
    """Read the members and find the RAA line ends: large numpy scans, outside the GIL."""
    members, names = read_members(path, wanted)
    raa = members.get("raa")
    lines = split_lines(np.frombuffer(raa, np.uint8)) if raa is not None else None
    return members, names, lines


def _check_usable(table: FixedWidthTable, archive: str, kind: str, report: ParseReport) -> None:
    """A file of another year's format is an error; a file without any valid line, a warning.

    Bad lines are never fatal on their own, but a file that no line of which is valid is worth
    saying so next to the funnel (wrong FINESS, wrong file).
    """
    file_report = table.report
    if file_report.lines_kept:
        return
    layout = table.layout
    if not file_report.lines_read:
        report.warnings.append(f"Le fichier {kind} « {file_report.member} » est vide.")
        return
    codes = table.format_codes
    other = max(codes, key=codes.__getitem__) if codes else None
    if (
        other is not None
        and other != layout.format_code
        and codes[other] * 2 > file_report.lines_read
    ):
        raise ArchiveError(
            f"Le fichier {kind} « {file_report.member} » de l'archive « {archive} » est au format "
            f"« {other} » et non {layout.format_code} (format des données {params.DATA_YEAR}) : "
            f"choisissez l'archive PIVOINE des données {params.DATA_YEAR}.",
            f"{kind} member of {archive} has format {other!r}, expected {layout.format_code}",
        )
    reason = max(file_report.skipped, key=file_report.skipped.__getitem__)
    report.warnings.append(
        f"Aucune ligne {kind} valide dans « {file_report.member} » ({file_report.lines_read} "
        f"lignes rejetées, motif principal : {reason}) : vérifiez le FINESS et l'archive."
    )
