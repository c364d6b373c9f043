"""Pure text helpers of the screens (no textual import), so they are easy to test and reuse."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lotas_core.french import french_time
from lotas_core.reading.reasons import in_check_order, reason_label

if TYPE_CHECKING:
    from pydantic import ValidationError


def sizes_of(sizes: Any) -> tuple[int, int]:
    """``(main, reserve)`` from a ``SampleSizes`` or a mapping with the same keys."""
    if isinstance(sizes, Mapping):
        return int(sizes.get("main", 0)), int(sizes.get("reserve", 0))
    return int(getattr(sizes, "main", 0)), int(getattr(sizes, "reserve", 0))


def bar(count: int, total: int, width: int = 20) -> str:
    """A proportional bar of block characters (at least one block for a non-zero count)."""
    if total <= 0 or count <= 0:
        return ""
    blocks = max(1, round(width * count / total))
    return "█" * min(width, blocks)


def ordered_funnel(funnel: Mapping[str, int], labels: Mapping[str, str]) -> list[tuple[str, int]]:
    """Funnel steps in the order of ``labels``; steps it does not know go before eligible."""
    keys = [key for key in labels if key in funnel and key != "eligible"]
    keys += sorted(k for k in funnel if k not in keys and k != "eligible")
    keys += ["eligible"]
    return [(key, int(funnel[key])) for key in keys if key in funnel]


def funnel_lines(funnel: Mapping[str, int], labels: Mapping[str, str],
                 width: int = 20) -> list[str]:
    """One line per funnel step: label, count and a bar relative to the base population."""
    total = int(funnel.get("base", 0)) or max((int(v) for v in funnel.values()), default=0)
    label_width = max((len(labels.get(key, key)) for key in funnel), default=0)
    lines = []
    for key, count in ordered_funnel(funnel, labels):
        label = labels.get(key, key)
        share = f"{100 * count / total:5.1f} %" if total else ""
        lines.append(f"{label:<{label_width}} {count:>7} {share:>7}  {bar(count, total, width)}")
    return lines


def parse_report_lines(report: Mapping[str, Any] | None) -> list[str]:
    """The parse report as short French lines: per file read / kept / skipped per reason, then
    the lines kept with each warning (labels from the core's one table)."""
    if not report:
        return ["(aucun rapport de lecture)"]
    lines: list[str] = []
    for name, info in (report.get("files") or {}).items():
        info = info if isinstance(info, Mapping) else vars(info)
        skipped = info.get("skipped") or {}
        lines.append(str(info.get("member") or name))
        lines.append(
            f"  lues : {info.get('lines_read', 0)}  retenues : {info.get('lines_kept', 0)}  "
            f"ignorées : {sum(int(n) for n in skipped.values())}"
        )
        for reason, count in in_check_order(skipped):
            lines.append(f"    {reason_label(reason)} : {count}")
        for warning, count in in_check_order(info.get("kept_with_warning") or {}):
            lines.append(f"    gardées avec avertissement, {reason_label(warning)} : {count}")
    for warning in report.get("warnings") or []:
        lines.append(f"Avertissement : {warning}")
    return lines or ["(aucun fichier lu)"]


def display_path(path: Path | str | None) -> str:
    """A folder as shown in the screen: under the home folder it starts with ``~``."""
    if path is None:
        return ""
    text = str(path)
    home = os.path.expanduser("~")
    if home and home != "/" and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home):]
    return text


def receipt_title(receipt: Any) -> str:
    """The title of the dialog after a transmission: delivered, or only handed off."""
    if getattr(receipt, "final", True):
        return "Transmission réussie"
    return "Tirage remis, en attente de transmission à QUALHAS"


def receipt_text(receipt: Any, transport_title: str) -> str:
    """What the screen says after a transmission: the receipt, its digest, the transport.

    A hand-off (e.g. to the e-POP relay) is never called "transmis à QUALHAS": the draw waits
    there, and the screen follows it until QUALHAS's receipt comes back.
    """
    if getattr(receipt, "final", True):
        head = ("Le tirage au sort a été transmis à QUALHAS.\n\n"
                f"Accusé de réception : {receipt.receipt}\n")
    else:
        state = getattr(receipt, "handoff_fr", "") or "remis, en attente de transmission"
        head = (f"Le tirage au sort a été {state}.\n\n"
                f"Accusé de dépôt : {receipt.receipt}\n")
    text = head + f"SHA-256 : {receipt.sha256}\nTransport : {transport_title}"
    if getattr(receipt, "duplicate", False):
        text += "\n\nCe tirage avait déjà été reçu : voici l'accusé de réception d'origine."
    if not getattr(receipt, "final", True):
        text += ("\n\nlotas suit sa transmission : son état s'affiche dans l'historique des "
                 "tirages et dans « Contrôle du tirage ».")
    return text


def delivery_lines(delivery: Any, title: Callable[[str], str] = str) -> list[str]:
    """A draw's transmission in "Contrôle du tirage": state, receipts, times."""
    if delivery.state == "not_sent":
        return ["Pas encore transmis à QUALHAS."]
    lines = [f"Transmission ({title(delivery.transport or '?')}) : {delivery.label_fr}"]
    if delivery.handoff:
        lines.append(f"  Accusé de dépôt : {delivery.handoff.get('receipt', '?')} "
                     f"(le {french_time(delivery.sent_at)})")
    if delivery.receipt:
        lines.append(f"  Accusé de réception QUALHAS : {delivery.receipt.get('receipt', '?')} "
                     f"(le {french_time(delivery.delivered_at)})")
    if delivery.pending and delivery.reason_fr:
        lines.append(f"  Dernière tentative : {delivery.reason_fr}")
    if delivery.refresh_error_fr:
        lines.append(f"  État non actualisé : {delivery.refresh_error_fr}")
    return lines





class FieldError(ValueError):
    """A French sentence about one form field, with that field's selector (to focus it)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


#: A transport's options model (plugin code) failed otherwise than by refusing a value.
OPTIONS_MODEL_FAILED_FR = (
    "Le plugin de ce transport a échoué en vérifiant ses options ({kind}) : corrigez-le ou "
    "désactivez-le (disabled_plugins) ; LOTAS_DEBUG=1 affiche le détail."
)


def validation_error_fr(error: ValidationError) -> str:
    """The first problem of a pydantic ``ValidationError`` as the form's French sentence
    (``lotas_core.french.validation_problem`` reads the error)."""
    from lotas_core.french import validation_problem

    where, reason = validation_problem(error)
    return f"Paramètre « {where} » invalide : {reason}."


def parse_port(text: str) -> int:
    """A TCP port from the form, or ``ValueError`` with the French reason (1-65535)."""
    value = text.strip()
    if not value.isdigit():
        raise ValueError(
            f"N° de port invalide « {value} » : un nombre entre 1 et 65535 est attendu."
        )
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError(
            f"N° de port invalide « {value} » : il doit être compris entre 1 et 65535."
        )
    return port
