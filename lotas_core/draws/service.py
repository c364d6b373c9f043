"""Making, storing and re-checking a draw: selection + sample sizes + lotas-draw/1 + history.

The CLI and the UI both call ``make_draw`` and ``verify_draw``; neither knows how the pieces fit.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lotas_core.draws.algorithm import (
    ALGORITHM,
    DrawResult,
    draw,
    new_seed,
    parse_seed,
    population_digest,
)
from lotas_core.draws.history import DrawRecord, History
from lotas_core.draws.provenance import compare as compare_provenance
from lotas_core.draws.provenance import draw_provenance
from lotas_core.errors import UsageError, os_reason_fr
from lotas_core.fsutil import file_sha256
from lotas_core.reading.records import ProgressCallback
from lotas_core.selection.columns import RowLayout
from lotas_core.settings import require_finess

if TYPE_CHECKING:
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.selection.campaign import Campaign
    from lotas_core.selection.pipeline import Selection
    from lotas_core.settings import Settings

log = logging.getLogger(__name__)


def open_history(settings: Settings) -> History:
    """The history database of these settings (``<data_dir>/history.sqlite3``)."""
    return History(settings.history_path)


def make_draw(
    lotas: Lotas,
    settings: Settings,
    *,
    folder: Path | None = None,
    finess: str | None = None,
    seed: bytes | None = None,
    progress: ProgressCallback | None = None,
    campaign_id: str | None = None,
) -> tuple[DrawRecord, Selection]:
    """Select the eligible patients of ``campaign_id`` (default: the settings' campaign), draw
    them with lotas-draw/1 and store the draw."""
    from lotas_core.selection.pipeline import select

    finess = require_finess(finess or settings.finess)
    campaign = lotas.campaign(campaign_id or settings.campaign)
    folder = Path(folder) if folder is not None else lotas.archive_folder(settings, campaign.id)
    selection = select(lotas, campaign.id, folder, finess, progress,
                       limits=settings.reading.limits())
    keys = selection.eligible_keys
    count = len(set(keys))
    if count == 0:
        funnel = ", ".join(f"{key} {value}" for key, value in selection.funnel.items())
        raise UsageError(
            f"Aucun patient éligible dans l'archive {selection.archive.name} : aucun tirage n'a "
            f"été fait (entonnoir : {funnel}). Vérifiez l'archive et le FINESS.",
            "no eligible patient; no draw made",
        )
    sizes = lotas.sample_sizes(campaign, count)
    result = draw(keys, seed if seed is not None else new_seed(), sizes.main, sizes.reserve)
    notice = lotas.ask_campaign(campaign, "size_notice", count, sizes, returns=str)
    if notice:
        log.info("small population: %d eligible patients, all drawn", count)
    record = open_history(settings).add_draw(
        finess=finess,
        financing=settings.financing,
        campaign_id=campaign.id,
        archive_name=selection.archive.name,
        archive_sha256=selection.archive.sha256,
        archive_size=selection.archive.size,
        sizes=sizes,
        funnel=dict(selection.funnel),
        parse_report=selection.report.to_dict(),
        algorithm=result.algorithm,
        seed=result.seed_hex,
        population_digest=result.digest_hex,
        rows=draw_rows(selection, result, lotas.row_layout(campaign.id)),
        notice=notice,
        provenance=draw_provenance(lotas, campaign),
    )
    return record, selection


def draw_rows(selection: Selection, result: DrawResult, layout: RowLayout
              ) -> list[dict[str, Any]]:
    """The rows of the drawn patients in ``layout``'s columns, rank 1 first: ``int`` columns
    as numbers, ``date`` columns as ISO text, the others as text (blank when missing)."""
    by_key: dict[str, dict[str, Any]] = {}
    for record in selection.patients.to_dict("records"):
        by_key.setdefault(str(record[selection.key_column]), record)
    rows = []
    for rank, key in enumerate(result.ranked, start=1):
        patient = by_key[key]
        row: dict[str, Any] = {
            "NUMTAS": rank,
            "TYPECH": "P" if rank <= len(result.main) else "R",
        }
        for column in layout.columns[2:]:
            value = patient.get(column.name, "")
            if column.format == "int":  # blank (AGE with an invalid birth date, spec 2 v2)
                row[column.name] = None if _blank(value) else int(value)
            elif column.format == "date":
                row[column.name] = _iso_date(value)
            else:
                row[column.name] = "" if _blank(value) else str(value)
        rows.append(row)
    return rows


def _blank(value: Any) -> bool:
    """None, NaN, NaT and pd.NA all mean an empty cell."""
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _iso_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date().isoformat()
    return str(value)


# -- verification ---------------------------------------------------------------------------------


class Differences(list[str]):
    """What ``verify_draw`` found, in French; ``notes`` say what changed without making a
    difference (a newer lotas or plugin version)."""

    def __init__(self, items: list[str], notes: list[str] | None = None) -> None:
        super().__init__(items)
        self.notes = list(notes or [])


def verify_draw(
    lotas: Lotas, settings: Settings, draw_id: str, folder: Path | None = None
) -> Differences:
    """Re-read the recorded archive, re-run selection and draw; the differences, in French.

    An empty list means the draw is reproduced exactly. Messages name the column and the rank
    (NUMTAS) that differ, never an IPP. The draw's provenance is compared first: when its rules
    or its campaign's parameters differ from those installed now, that is the one difference
    (redoing the selection with other rules would only list its consequences).
    """
    history = open_history(settings)
    record = history.get(draw_id)
    differences = list(history.check_entry(draw_id))
    campaign = lotas.campaign(record.campaign_id)  # the draw's own campaign
    comparison = compare_provenance(record.provenance, draw_provenance(lotas, campaign))
    if comparison.blocking:
        return Differences(differences + [comparison.blocking])  # the one line says it all
    return Differences(_redo(lotas, settings, record, campaign, folder, differences),
                       comparison.notes)


def _redo(lotas: Lotas, settings: Settings, record: DrawRecord, campaign: Campaign,
          folder: Path | None, differences: list[str]) -> list[str]:
    """Re-read the archive, re-run selection and draw, and compare with ``record``."""
    from lotas_core.selection.pipeline import select

    draw_id = record.draw_id
    folder = Path(folder) if folder is not None else lotas.archive_folder(settings, campaign.id)
    archive = folder / record.archive_name
    try:
        if not archive.is_file():
            raise UsageError(
                f"Archive {record.archive_name} introuvable dans {folder} : indiquez le dossier "
                "qui la contient.",
                "recorded archive not found",
            )
        sha = file_sha256(archive)
    except OSError as exc:  # no right on the folder or the file
        raise UsageError(
            f"Archive {record.archive_name} illisible dans {folder} ({os_reason_fr(exc)}) : "
            "vérifiez que votre compte peut lire ce dossier et ce fichier, ou indiquez-en une "
            "copie.",
            f"recorded archive unreadable: {exc}",
        ) from None
    if sha != record.archive_sha256:
        differences.append(
            f"Archive {record.archive_name} : SHA-256 {sha} au lieu de {record.archive_sha256} "
            "(le fichier a changé depuis le tirage)."
        )
    if record.algorithm != ALGORITHM:
        return differences + [f"Algorithme « {record.algorithm} » inconnu de cette version."]
    # Only the recorded archive: a newer one in the folder must not replace it.
    with tempfile.TemporaryDirectory(prefix="lotas-verify-") as tmp:
        shutil.copy2(archive, Path(tmp) / archive.name)
        selection = select(lotas, record.campaign_id, Path(tmp), record.finess,
                           limits=settings.reading.limits())
        # The report may name the folder it read: put the user's folder back in its place.
        report = json.loads(
            json.dumps(selection.report.to_dict()).replace(
                json.dumps(str(Path(tmp)))[1:-1], json.dumps(str(folder))[1:-1]
            )
        )
    differences += _compare_dict("Entonnoir", record.funnel, selection.funnel)
    if report != record.parse_report:
        differences.append("Rapport de lecture de l'archive différent de celui du tirage.")
    keys = selection.eligible_keys
    digest = population_digest(keys).hex()
    if digest != record.population_digest:
        differences.append(
            f"Empreinte de la population : {digest} au lieu de {record.population_digest}."
        )
    count = len(set(keys))
    if count:
        expected = lotas.sample_sizes(campaign, count)
        if expected != record.sizes:
            differences.append(
                f"Tailles : {expected.main} + {expected.reserve} attendues, "
                f"{record.sizes.main} + {record.sizes.reserve} enregistrées."
            )
    if record.sizes.total > count:
        return differences + [
            f"Seulement {count} patients éligibles : impossible de refaire un tirage de "
            f"{record.sizes.total}."
        ]
    try:
        seed = parse_seed(str(record.seed))
    except UsageError:
        shown = str(record.seed)[:80]
        return differences + [
            f"Graine enregistrée « {shown} » illisible (64 chiffres hexadécimaux attendus) : "
            "le tirage ne peut pas être refait."
        ]
    result = draw(keys, seed, record.sizes.main, record.sizes.reserve)
    layout = lotas.row_layout(campaign.id)
    differences += compare_rows(record.rows, draw_rows(selection, result, layout), layout)
    log.info("verified draw %s: %d difference(s)", draw_id, len(differences))
    return differences


def compare_rows(recorded: list[dict[str, Any]], recomputed: list[dict[str, Any]],
                 layout: RowLayout) -> list[str]:
    """Row by row, column by column; identifying values (IPP) are never shown."""
    differences = []
    if len(recorded) != len(recomputed):
        differences.append(f"Nombre de lignes : {len(recomputed)} au lieu de {len(recorded)}.")
    for index, (old, new) in enumerate(zip(recorded, recomputed, strict=False), start=1):
        for column in layout.names:
            if old.get(column) == new.get(column):
                continue
            if column in layout.identifying:
                differences.append(
                    f"Ligne NUMTAS {index} : le patient tiré diffère ({column})."
                )
            else:
                differences.append(
                    f"Ligne NUMTAS {index} : {column} « {new.get(column)} » au lieu de "
                    f"« {old.get(column)} »."
                )
    return differences


def _compare_dict(label: str, recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [
        f"{label} : {key} = {now.get(key)} au lieu de {recorded.get(key)}."
        for key in list(recorded) + [k for k in now if k not in recorded]
        if recorded.get(key) != now.get(key)
    ]

