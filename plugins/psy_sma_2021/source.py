"""The record source of a PSY SMA campaign: the PIVOINE *in* archive of the data year (M12 for
2021: 2019), its RAA and RPS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lotas_core.errors import ArchiveError
from lotas_core.reading.archives import Member, find_archive, find_member, read_archive
from lotas_core.reading.fixedwidth import FixedWidthTable, read_fixed_width, split_lines
from lotas_core.reading.inflate import InflateLimits, current_limits
from lotas_core.reading.layouts import Layout
from lotas_core.reading.reasons import reason_label
from lotas_core.reading.records import (
    ArchiveInfo,
    ParseReport,
    ProgressCallback,
    Records,
    RecordSource,
)
from lotas_plugins.psy_sma_2021.layouts import RAA_COLUMNS, RAA_P09, RPS_COLUMNS, RPS_P08
from lotas_plugins.psy_sma_2021.params import (
    PSY_SMA_2021,
    RAA_MEMBER_SUFFIXES,
    RPS_MEMBER_SUFFIXES,
    PsySmaParams,
)

if TYPE_CHECKING:
    from lotas_core.selection.campaign import Campaign

#: Warning of the parse report when the archive has no RPS member.
NO_RPS_WARNING = (
    "Aucun fichier RPS (*.rps.txt) dans l'archive : aucun patient n'est exclu pour une "
    "hospitalisation à temps plein."
)


class PivoineInSource(RecordSource):
    """Finds the newest ``<FINESS>.<year>.<month>.<ts>.in.zip`` (2019 and 12 for PSY SMA 2021)
    and reads its RAA and RPS with the given layouts (P09 and P08 by default)."""

    def __init__(
        self,
        params: PsySmaParams = PSY_SMA_2021,
        raa_layout: Layout = RAA_P09,
        rps_layout: Layout = RPS_P08,
    ) -> None:
        self.id = params.source_id  # type: ignore[misc]
        self.year, self.month = params.data_year, params.period_month
        self.raa_layout, self.rps_layout = raa_layout, rps_layout

    def locate(self, folder: Path, finess: str) -> Path | None:
        return find_archive(folder, finess, self.year, self.month, "in")

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
        wanted = {"raa": RAA_MEMBER_SUFFIXES, "rps": RPS_MEMBER_SUFFIXES}
        # Hashing, inflating and finding line ends run outside the GIL: pandas (needed next) is
        # imported meanwhile, on the other core.
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The current limits are read here: a context variable does not follow the thread.
            future = pool.submit(_inflate_and_split, path, wanted, current_limits())
            import pandas  # noqa: F401
            info, members, names, raa_lines = future.result()
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
        _check_usable(raa, path.name, "RAA", report, self.year)
        report.files["raa"] = raa.report
        parsed: dict[str, FixedWidthTable] = {"raa": raa}
        tables = {"raa": raa.frame}
        if "rps" in members:
            rps = read_fixed_width(
                members.pop("rps"), self.rps_layout, finess=finess, member=member_names["rps"],
                columns=RPS_COLUMNS, progress=progress, stage="Contrôle des lignes RPS",
            )
            _check_usable(rps, path.name, "RPS", report, self.year)
            report.files["rps"] = rps.report
            parsed["rps"] = rps
            tables["rps"] = rps.frame
        else:
            report.warnings.append(NO_RPS_WARNING)
        return Records(tables=tables, report=report, archive=info, parsed=parsed)


def _inflate_and_split(
    path: Path, wanted: dict[str, tuple[str, ...]], limits: InflateLimits
) -> tuple[ArchiveInfo, dict[str, Member], list[str], tuple[np.ndarray, ...] | None]:
    """Read the archive (hash and members, one pass, within ``limits``) and find the RAA line
    ends: large operations that run outside the GIL, while the caller imports pandas."""
    info, members, names = read_archive(path, wanted, limits=limits)
    raa = members.get("raa")
    lines = split_lines(np.frombuffer(raa, np.uint8)) if raa is not None else None
    return info, members, names, lines


def _check_usable(
    table: FixedWidthTable, archive: str, kind: str, report: ParseReport, year: int
) -> None:
    """Refuse a file that cannot be this campaign's; warn about one without any valid line.

    Bad lines are never fatal on their own. But a file that is not text (binary garbage), a file
    of another year's format and an empty RAA (no RAA, no patient) are bad input: one clear
    error. A text file of the right format without any valid line (another FINESS in every
    line...) is read as such, and a warning says so next to the funnel.
    """
    file_report = table.report
    if file_report.lines_kept:
        return
    layout, member = table.layout, file_report.member
    where = f"Le fichier {kind} « {member} » de l'archive « {archive} »"
    if not file_report.lines_read:
        if kind == "RAA":
            raise ArchiveError(
                f"{where} est vide : refaites la sauvegarde PIVOINE ou choisissez une autre "
                "archive.",
                f"{kind} member of {archive} is empty",
            )
        report.warnings.append(f"Le fichier {kind} « {member} » est vide.")
        return
    if table.looks_binary():
        raise ArchiveError(
            f"{where} n'est pas un fichier texte (contenu binaire ou endommagé) : refaites la "
            "sauvegarde PIVOINE ou choisissez une autre archive.",
            f"{kind} member of {archive} is binary",
        )
    codes = table.format_codes
    other = max(codes, key=codes.__getitem__) if codes else None
    if (
        other is not None
        and other != layout.format_code
        and codes[other] * 2 > file_report.lines_read
    ):
        raise ArchiveError(
            f"{where} est au format « {other} » et non {layout.format_code} (format des données "
            f"{year}) : choisissez l'archive PIVOINE des données {year}.",
            f"{kind} member of {archive} has format {other!r}, expected {layout.format_code}",
        )
    reason = max(file_report.skipped, key=file_report.skipped.__getitem__)
    report.warnings.append(
        f"Aucune ligne {kind} valide dans « {member} » ({file_report.lines_read} "
        f"lignes rejetées, motif principal : {reason_label(reason)}) : vérifiez le FINESS et "
        "l'archive."
    )
