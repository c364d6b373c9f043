"""The parse report's reasons, in French: the one table the CLI, the JSON and the screen share.

A line is skipped for its first **blocking** reason (``BLOCKING_REASONS``, in the order lines are
checked) or kept; a kept line may carry **warnings** (PIVOINE's non-blocking controls, spec
section 2 version 2). The keys are the spec's; the labels say what was wrong, for a DIM user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Blocking reasons, in the order lines are checked: a line is counted under the first that fails.
BLOCKING_REASONS: tuple[str, ...] = ("length", "format", "finess", "date", "ipp")
#: Warnings the shipped layouts raise (a layout may declare others; they show under their key).
WARNINGS: tuple[str, ...] = ("birth_date", "sequence_start")

#: French label of every reason and warning key.
REASON_LABELS_FR: dict[str, str] = {
    "length": "longueur incorrecte",
    "format": "code de format inattendu",
    "finess": "autre FINESS",
    "date": "date d'acte ou de fin de séquence invalide",
    "ipp": "IPP vide",
    "birth_date": "date de naissance invalide (AGE vide)",
    "sequence_start": "début de séquence invalide (séquence prise comme [fin, fin])",
}


def reason_label(key: str) -> str:
    """The French label of ``key``; an unknown key (a third-party layout's) is shown as is."""
    return REASON_LABELS_FR.get(key, key)


def in_check_order(counts: Mapping[str, Any]) -> list[tuple[str, int]]:
    """``(key, count)`` pairs in checking order: the blocking reasons, then the warnings, then
    any other key. A report read back from the history has its keys sorted alphabetically."""
    order = {key: i for i, key in enumerate(BLOCKING_REASONS + WARNINGS)}
    keys = sorted(counts, key=lambda key: (order.get(key, len(order)), key))
    return [(key, int(counts[key])) for key in keys]


def reason_labels(report: Mapping[str, Any] | None) -> dict[str, str]:
    """The labels of every reason and warning a report (``ParseReport.to_dict()``) names."""
    keys: dict[str, int] = {}
    for info in ((report or {}).get("files") or {}).values():
        info = info if isinstance(info, Mapping) else vars(info)
        keys.update(dict.fromkeys(info.get("skipped") or {}, 0))
        keys.update(dict.fromkeys(info.get("kept_with_warning") or {}, 0))
    return {key: reason_label(key) for key, _ in in_check_order(keys)}


def file_report_lines(name: str, info: Mapping[str, Any] | Any) -> list[str]:
    """One member file of the parse report, in French: read and kept lines, then one line per
    blocking reason (lines skipped) and per warning (lines kept anyway), with the first line
    numbers."""
    info = info if isinstance(info, Mapping) else vars(info)
    skipped = info.get("skipped") or {}
    warned = info.get("kept_with_warning") or {}
    first = info.get("first_lines") or {}
    member = info.get("member") or name
    lines = [
        f"{name.upper()} « {member} » : {info.get('lines_read', 0)} lignes lues, "
        f"{info.get('lines_kept', 0)} gardées, {sum(int(n) for n in skipped.values())} rejetées"
    ]
    for key, count in in_check_order(skipped):
        lines.append(f"  rejetées, {reason_label(key)} : {count}"
                     f"{_where(first.get(key), int(count))}")
    for key, count in in_check_order(warned):
        lines.append(f"  gardées avec avertissement, {reason_label(key)} : {count}"
                     f"{_where(first.get(key), int(count))}")
    return lines


def report_lines(report: Mapping[str, Any] | None) -> list[str]:
    """The whole parse report (``ParseReport.to_dict()``) as French lines, then its warnings."""
    lines: list[str] = []
    for name, info in ((report or {}).get("files") or {}).items():
        lines.extend(file_report_lines(str(name), info))
    for warning in (report or {}).get("warnings") or []:
        lines.append(f"Avertissement : {warning}")
    return lines


def _where(numbers: list[int] | None, count: int) -> str:
    """`` (lignes 3, 7…)``: the first line numbers, an ellipsis when there are more."""
    if not numbers:
        return ""
    more = "…" if count > len(numbers) else ""
    word = "ligne" if len(numbers) == 1 and not more else "lignes"
    return f" ({word} {', '.join(str(n) for n in numbers)}{more})"
