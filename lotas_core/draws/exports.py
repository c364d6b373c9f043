"""What a draw becomes outside lotas: the clipboard TSV, CSV, JSON, XLSX and the printable report.

Every file written here may hold IPPs: it is written atomically and readable by its owner only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from lotas_core.draws.history import DrawRecord
from lotas_core.draws.spreadsheet import neutralise_formula, neutralise_row
from lotas_core.errors import UsageError
from lotas_core.french import french_datetime, sizes_footer
from lotas_core.fsutil import atomic_write_bytes
from lotas_core.reasons import os_reason_fr
from lotas_core.selection.columns import RowLayout

#: Formats of ``lotas export``; ``xlsx`` is binary and needs a file. ``csv-excel`` is the CSV a
#: French Excel opens in columns by a double click: ``;`` separator, UTF-8 BOM, CRLF lines.
FORMATS: tuple[str, ...] = ("tsv", "csv", "csv-excel", "json", "xlsx", "html")
#: Name of the XLSX sheet with the draw's parameters.
PARAMETERS_SHEET = "Paramètres"
DRAWN_SHEET = "Tirage"


def table_lines(draw: DrawRecord, layout: RowLayout) -> list[list[str]]:
    """The LOTAS table as text cells, header first, in ``layout``'s columns."""
    return [list(layout.names)] + [
        [column.text(row.get(column.name, "")) for column in layout.columns]
        for row in draw.rows
    ]


def to_tsv(draw: DrawRecord, layout: RowLayout) -> str:
    """Exactly what "copy to clipboard" copies: the LOTAS header line, then one line per row;
    a cell a spreadsheet would run as a formula is neutralised (``spreadsheet``)."""
    return "".join(
        "\t".join(neutralise_formula(cell) for cell in cells) + "\n"
        for cells in table_lines(draw, layout)
    )


def to_csv(draw: DrawRecord, layout: RowLayout) -> str:
    """Comma-separated, UTF-8, same columns, date form and neutralised cells as the TSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(neutralise_row(cells) for cells in table_lines(draw, layout))
    return buffer.getvalue()


def to_csv_excel(draw: DrawRecord, layout: RowLayout) -> bytes:
    """CSV for a French Excel: ``;``-separated, UTF-8 with a BOM (so accents read right),
    CRLF lines. The LOTAS table holds no decimal number (ages and ranks are whole), so no
    decimal comma is needed; dates are ``DD/MM/YYYY`` as in the table. Cells Excel would run
    as a formula are neutralised as in the other CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(neutralise_row(cells) for cells in table_lines(draw, layout))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def footer(draw: DrawRecord) -> str:
    """The manual's footer under the drawn rows (``lotas_core.french.sizes_footer``)."""
    return sizes_footer(len(draw.main_rows), len(draw.reserve_rows))


def to_dict(draw: DrawRecord, layout: RowLayout) -> dict[str, Any]:
    """Everything about a draw, JSON-ready (DATACTE in ISO form)."""
    return {
        "draw_id": draw.draw_id,
        "label": draw.label(),
        "created_at": draw.created_at.isoformat(),
        "finess": draw.finess,
        "financing": draw.financing,
        "campaign_id": draw.campaign_id,
        "archive": {
            "name": draw.archive_name,
            "sha256": draw.archive_sha256,
            "size": draw.archive_size,
        },
        "algorithm": draw.algorithm,
        "seed": draw.seed,
        "population_digest": draw.population_digest,
        "sizes": {"main": draw.sizes.main, "reserve": draw.sizes.reserve},
        "funnel": dict(draw.funnel),
        "parse_report": draw.parse_report,
        "notice": draw.notice,
        "rows": [{col: row.get(col) for col in layout.names} for row in draw.rows],
        "history": {
            "chain_pos": draw.chain_pos,
            "prev_hash": draw.prev_hash,
            "entry_hash": draw.entry_hash,
        },
        "transmissions": list(draw.transmissions),
        # which code made the draw; null for draws recorded before lotas kept it
        "provenance": draw.provenance,
    }


def to_json(draw: DrawRecord, layout: RowLayout) -> str:
    return json.dumps(to_dict(draw, layout), indent=2, ensure_ascii=False) + "\n"


def parameters(
    draw: DrawRecord, labels: Mapping[str, str] | None = None
) -> list[tuple[str, Any]]:
    """The draw's parameters as (French label, value) pairs: XLSX second sheet and report.

    ``labels`` names the funnel steps in French (``Lotas.funnel_labels``); a step it does not
    name (a campaign no longer installed) keeps its key.
    """
    pairs: list[tuple[str, Any]] = [
        ("Identifiant du tirage", draw.draw_id),
        ("FINESS", draw.finess),
        ("Financement", draw.financing),
        ("Campagne", draw.campaign_id),
        ("Date du tirage", french_datetime(draw.created_at.astimezone())),
        ("Archive", draw.archive_name),
        ("SHA-256 de l'archive", draw.archive_sha256),
        ("Taille de l'archive (octets)", draw.archive_size),
        ("Échantillon principal", draw.sizes.main),
        ("Échantillon de réserve", draw.sizes.reserve),
        ("Algorithme", draw.algorithm),
        ("Graine", draw.seed),
        ("Empreinte de la population", draw.population_digest),
        ("Empreinte de l'entrée d'historique", draw.entry_hash),
    ]
    names = labels or {}
    pairs += [(f"Entonnoir : {names.get(key, key)}", value) for key, value in draw.funnel.items()]
    if draw.notice:
        pairs.append(("Remarque", draw.notice))
    pairs += _provenance_pairs(draw.provenance)
    return pairs


def _provenance_pairs(provenance: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """Which code made the draw, in a few cells (``draws.provenance``; absent in old draws)."""
    if not provenance:
        return [("Provenance", "non enregistrée (tirage antérieur)")]

    def who(item: dict[str, Any]) -> str:
        name = item.get("distribution") or item.get("plugin") or item.get("name") or "?"
        return f"{name} {item['version']}" if item.get("version") else str(name)

    campaign = provenance.get("campaign") or {}
    return [
        ("Version de lotas", provenance.get("lotas_version")),
        ("Campagne (plugin)", f"{campaign.get('id')} ({who(campaign)})"),
        ("Empreinte des paramètres", campaign.get("parameters_sha256")),
        ("Règles appliquées", ", ".join(f"{rule.get('id')} ({who(rule)})"
                                        for rule in provenance.get("rules") or [])),
        ("Plugins chargés", ", ".join(f"{item.get('name')} ({who(item)})"
                                      for item in provenance.get("plugins") or [])),
    ]


def xlsx_bytes(draw: DrawRecord, layout: RowLayout,
               labels: Mapping[str, str] | None = None) -> bytes:
    """An XLSX workbook: typed drawn rows (numbers, real dates, IPP as text) + parameters."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = DRAWN_SHEET
    sheet.append(list(layout.names))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, row in enumerate(draw.rows, start=2):
        for col_index, column in enumerate(layout.columns, start=1):
            cell = sheet.cell(row=index, column=col_index)
            value = row.get(column.name)
            try:
                if column.format == "int" and value in (None, ""):  # e.g. AGE, birth unknown
                    cell.value = None
                elif column.format == "int":
                    cell.value = int(value)
                    cell.number_format = "0"
                elif column.format == "date":
                    cell.value = date.fromisoformat(str(value))
                    cell.number_format = "DD/MM/YYYY"
                else:
                    _text_cell(cell, value)
            except (TypeError, ValueError):  # an edited history row: shown as it is, as text
                _text_cell(cell, value)
    sheet.freeze_panes = "A2"
    params = book.create_sheet(PARAMETERS_SHEET)
    params.append(["Paramètre", "Valeur"])
    for cell in params[1]:
        cell.font = Font(bold=True)
    for label, value in parameters(draw, labels):
        params.append([label, None])
        target = params.cell(row=params.max_row, column=2)
        if isinstance(value, int):
            target.value = value
        else:
            _text_cell(target, value)
    params.column_dimensions["A"].width = 36
    params.column_dimensions["B"].width = 70
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(cell: Any, value: Any) -> None:
    """A text cell that stays text: never read as a formula or a number by the spreadsheet."""
    cell.value = "" if value is None else str(value)
    cell.data_type = "s"
    cell.number_format = "@"


def render(draw: DrawRecord, fmt: str, layout: RowLayout,
           labels: Mapping[str, str] | None = None) -> bytes:
    """The bytes of ``draw`` in ``fmt`` (one of ``FORMATS``), in ``layout``'s columns
    (``Lotas.row_layout``); ``labels`` name the report's funnel steps (``Lotas.funnel_labels``)."""
    if fmt == "xlsx":
        return xlsx_bytes(draw, layout, labels)
    if fmt == "csv-excel":
        return to_csv_excel(draw, layout)
    if fmt == "html":
        from lotas_core.draws.proces_verbal import html_report

        return html_report(draw, layout, labels).encode("utf-8")
    renderers = {"tsv": to_tsv, "csv": to_csv, "json": to_json}
    if fmt not in renderers:
        raise UsageError(
            f"Format d'export inconnu : « {fmt} ». Formats possibles : {', '.join(FORMATS)}.",
            f"unknown export format {fmt!r}",
        )
    return renderers[fmt](draw, layout).encode("utf-8")


def check_output_path(path: Path) -> Path:
    """``path`` if a file can be written there, checked before any work.

    The folder must already exist: a typo in a folder name must not silently create a tree
    holding patient identifiers somewhere unexpected.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise UsageError(
            f"Impossible d'écrire {target} : c'est un dossier ; indiquez un nom de fichier, par "
            f"exemple {target / 'tirage.csv'}.",
            f"output path {target} is a directory",
        )
    if not target.parent.is_dir():
        raise UsageError(
            f"Impossible d'écrire {target} : le dossier {target.parent} n'existe pas ; "
            "créez-le ou choisissez un autre fichier.",
            f"output folder {target.parent} does not exist",
        )
    return target


def export(
    draw: DrawRecord, fmt: str, path: Path, layout: RowLayout,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Write ``draw`` as ``fmt`` to ``path`` atomically, mode 0600."""
    target = check_output_path(path)
    data = render(draw, fmt, layout, labels)
    try:
        return atomic_write_bytes(target, data, private=True)
    except OSError as exc:
        raise UsageError(
            f"Impossible d'écrire {path} ({os_reason_fr(exc)}) : choisissez un autre fichier.",
            f"cannot write export {path}: {exc}",
        ) from None
