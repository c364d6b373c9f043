"""``lotas demo-archive`` and ``lotas eligible``: from PIVOINE archives to eligible patients.

``eligible`` is the command scripts and the benchmark time as a whole process, so it imports
only what it needs (the record source imports pandas while the archive is inflated), and nothing
of the UI or XLSX stacks.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lotas_core.cli.context import CommandContext
from lotas_core.cli.output import emit
from lotas_core.errors import UsageError, os_reason_fr

if TYPE_CHECKING:
    from lotas_core.selection.pipeline import Selection

def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo-archive",
        help="écrit une archive synthétique de la campagne (FINESS 000000001)",
        description="Écrit dans DOSSIER une archive synthétique que la campagne sait lire (pour "
        "PSY SMA 2021 : une archive PIVOINE « in » de 2019, RAA et RPS inventés), pour le FINESS "
        "000000001, et affiche son chemin.",
    )
    demo.add_argument("folder", metavar="DOSSIER", type=Path)
    demo.add_argument("--campaign", default=None, metavar="ID",
                      help="campagne (par défaut : celle des paramètres)")
    demo.add_argument(
        "--raa-lines", type=int, default=20000, metavar="N", help="nombre de lignes RAA (20000)"
    )
    demo.add_argument("--seed", type=int, default=1, metavar="S", help="graine du générateur (1)")
    demo.set_defaults(func=run_demo_archive)

    eligible = subparsers.add_parser(
        "eligible",
        help="liste les patients éligibles d'une archive PIVOINE",
        description="Lit l'archive PIVOINE de l'établissement et écrit les patients éligibles ; "
        "l'entonnoir de sélection est affiché sur la sortie d'erreur.",
    )
    eligible.add_argument("--archives", type=Path, default=None, metavar="DOSSIER",
                          help="dossier des archives PIVOINE (par défaut : celui des paramètres)")
    eligible.add_argument("--finess", default=None, metavar="F",
                          help="FINESS de l'établissement (par défaut : celui des paramètres)")
    eligible.add_argument("--format", choices=("csv", "json"), default="csv")
    eligible.add_argument("--output", type=Path, default=None, metavar="FICHIER",
                          help="fichier de sortie (par défaut : sortie standard)")
    eligible.add_argument("--campaign", default=None, metavar="ID",
                          help="campagne (par défaut : celle des paramètres)")
    eligible.add_argument("--progress", action="store_true",
                          help="affiche l'avancement même hors terminal")
    eligible.set_defaults(func=run_eligible)


def run_demo_archive(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.reading.demo import DEMO_FINESS

    if args.raa_lines < 1:
        raise UsageError(
            f"--raa-lines doit être au moins 1 (reçu : {args.raa_lines}).",
            f"--raa-lines must be >= 1, got {args.raa_lines}",
        )
    folder = Path(args.folder).expanduser()
    campaign = ctx.lotas.campaign(ctx.campaign_id(args.campaign))
    try:
        if folder.exists() and not folder.is_dir():
            raise UsageError(
                f"« {folder} » existe et n'est pas un dossier : choisissez un dossier.",
                f"{folder} is not a directory",
            )
        path = ctx.lotas.ask_campaign(campaign, "write_demo_archive", folder,
                                      finess=DEMO_FINESS, raa_lines=args.raa_lines,
                                      seed=args.seed, returns=Path, passes=(OSError,))
    except OSError as exc:  # /proc/x, a read-only disk, no right on the parent folder...
        raise UsageError(
            f"Impossible d'écrire l'archive de démonstration dans « {folder} » "
            f"({os_reason_fr(exc)}) : choisissez un dossier où votre compte peut écrire.",
            f"cannot write the demo archive in {folder}: {exc}",
        ) from None
    print(path)
    return 0


def run_eligible(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.selection.pipeline import select

    finess = ctx.finess(args.finess)
    campaign_id = ctx.campaign_id(args.campaign)
    folder = ctx.archives(args.archives, campaign_id)
    progress = ProgressPrinter(sys.stderr) if (args.progress or _isatty(sys.stderr)) else None
    try:
        selection = select(ctx.lotas, campaign_id, folder, finess, progress=progress,
                           limits=ctx.settings.reading.limits())
    finally:
        if progress:
            progress.close()
    for warning in selection.report.warnings:
        print(f"lotas: attention : {warning}", file=sys.stderr)
    if args.format == "json":
        emit(json.dumps(selection_json(selection), ensure_ascii=False, indent=2) + "\n",
             args.output)
    else:
        emit(selection_csv(selection), args.output)
        print(funnel_line(selection.funnel, ctx.lotas.funnel_labels(campaign_id)),
              file=sys.stderr)
        for line in report_lines(selection):
            print(line, file=sys.stderr)
    return 0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def patient_records(selection: Selection, iso_dates: bool) -> list[dict[str, object]]:
    """The eligible patients as plain dicts (dates ISO or ``DD/MM/YYYY``)."""
    names = [column.name for column in selection.columns]
    return [dict(zip(names, row, strict=True)) for row in _rows(selection, iso_dates)]


def _rows(
    selection: Selection, iso_dates: bool, spreadsheet: bool = False
) -> list[tuple[object, ...]]:
    """The campaign's columns of each eligible patient: whole numbers as ``int``, dates as
    text; with ``spreadsheet``, text a spreadsheet would run as a formula neutralised."""
    from lotas_core.french import french_date

    patients = selection.patients
    columns = {column.name: patients[column.name].tolist() for column in selection.columns}
    for column in selection.columns:
        values = columns[column.name]
        if column.format == "int":
            # blank when unknown (AGE with an invalid birth date, spec section 2 v2)
            missing = patients[column.name].isna().tolist()
            columns[column.name] = [
                None if gone else int(value) for value, gone in zip(values, missing, strict=True)
            ]
        elif column.format == "date":
            # A year of data has at most 366 distinct dates: format each once.
            text = {day: day.isoformat() if iso_dates else french_date(day) for day in set(values)}
            columns[column.name] = [text[day] for day in values]
    if spreadsheet:
        from lotas_core.draws.spreadsheet import neutralise_column

        for column in selection.columns:  # numbers and dates are never formulas
            if column.format not in ("int", "date"):
                columns[column.name] = neutralise_column(columns[column.name])
    return list(zip(*columns.values(), strict=True))


def selection_csv(selection: Selection) -> str:
    """CSV with the campaign's columns as header, one row per eligible patient sorted by key;
    a cell a spreadsheet would run as a formula is neutralised (``draws.spreadsheet``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.name for column in selection.columns])
    writer.writerows(_rows(selection, iso_dates=False, spreadsheet=True))
    return buffer.getvalue()


def selection_json(selection: Selection) -> dict[str, object]:
    """``{"funnel", "parse_report", "patients"}`` with ISO dates."""
    return {
        "funnel": dict(selection.funnel),
        "parse_report": report_json(selection.report.to_dict()),
        "patients": patient_records(selection, iso_dates=True),
    }


def report_json(report: dict[str, object]) -> dict[str, object]:
    """The parse report with ``labels``: the French label of each reason and warning it names."""
    from lotas_core.reading.reasons import reason_labels

    return {**report, "labels": reason_labels(report)}


def funnel_line(funnel: dict[str, int], labels: dict[str, str] | None = None) -> str:
    """``entonnoir : vus en 2019 (base) 1200 ; exclus : … 40 ; éligibles 800`` (French labels)."""
    names = labels or {}
    return "entonnoir : " + " ; ".join(
        f"{names.get(key, key)} {value}" for key, value in funnel.items())


def report_lines(selection: Selection) -> list[str]:
    """The parse report in French: per file, lines read and kept, lines skipped per blocking
    reason and lines kept with each warning (labels from ``reading.reasons``)."""
    from lotas_core.reading.reasons import file_report_lines

    lines = [f"archive : {selection.archive.name}"]
    for name, report in selection.report.files.items():
        lines.extend(file_report_lines(name, report))
    return lines


class ProgressPrinter:
    """``progress(stage, fraction)`` on a stream: one rewritten line on a terminal, else a line
    per stage."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = _isatty(stream)
        self.last: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        percent = int(max(0.0, min(1.0, fraction)) * 100)
        if self.last is not None:
            same_stage = self.last[0] == stage
            if same_stage and (not self.tty or percent - self.last[1] < 5) and percent != 100:
                return
            if same_stage and not self.tty:
                return
        self.last = (stage, percent)
        if self.tty:
            self.stream.write(f"\r\x1b[K{stage} : {percent} %")
        else:
            self.stream.write(f"{stage}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.last is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
