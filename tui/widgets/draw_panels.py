"""What the original did not show: the eligibility funnel, the parse report, seed and digest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from lotas_tui.formatting import delivery_lines, funnel_lines, parse_report_lines

if TYPE_CHECKING:
    from lotas_core.transmission.delivery import Delivery

NO_DRAW = "Aucun tirage sélectionné."


class FunnelPanel(VerticalScroll):
    """Counts and bars per exclusion reason, then how the archive was read."""

    def compose(self) -> ComposeResult:
        yield Static(NO_DRAW, id="funnel", markup=False)
        yield Static("", id="parse-report", markup=False)

    def show(self, record: Any, labels: dict[str, str] | None = None) -> None:
        funnel = self.query_one("#funnel", Static)
        report = self.query_one("#parse-report", Static)
        if record is None:
            funnel.update(NO_DRAW)
            report.update("")
            return
        lines = funnel_lines(record.funnel, labels or {})
        funnel.update("Entonnoir d'éligibilité (patients)\n\n" + "\n".join(lines))
        report.update(
            f"\nLecture de l'archive {record.archive_name}\n\n"
            + "\n".join(parse_report_lines(record.parse_report))
        )


def draw_info(record: Any, label: str, title: Callable[[str], str] = str,
              delivery: Delivery | None = None) -> str:
    """The draw's identity: archive, algorithm, seed, population digest, and where its
    transmission stands (``delivery``: a fresher state than the record's, if known)."""
    lines = [
        f"Tirage n° {record.draw_id} - {label}",
        f"Campagne : {record.campaign_id}   Financement : {record.financing}",
        f"Archive : {record.archive_name}",
        f"SHA-256 de l'archive : {record.archive_sha256}",
        f"Algorithme : {record.algorithm}",
        f"Graine : {record.seed}",
        f"Empreinte de la population : {record.population_digest}",
    ]
    notice = getattr(record, "notice", "")
    if notice:
        lines.append(f"Remarque : {notice}")
    from lotas_core.transmission.delivery import summarize

    if delivery is None:
        delivery = summarize(record.draw_id, list(getattr(record, "transmissions", None) or []))
    lines.extend(delivery_lines(delivery, title))
    return "\n".join(lines)


class CheckPanel(VerticalScroll):
    """Seed and digest of the draw, and the "Vérifier" action with its result."""

    def compose(self) -> ComposeResult:
        yield Static(NO_DRAW, id="draw-info", markup=False)
        yield Button("Vérifier", id="verify-check", compact=True, action="screen.verify")
        yield Static("", id="verify-result", markup=False)

    def show(self, record: Any, label: str, title: Callable[[str], str] = str,
             delivery: Delivery | None = None) -> None:
        """Show ``record``; ``title`` names a transport in French ("Connexion directe")."""
        info = self.query_one("#draw-info", Static)
        info.update(NO_DRAW if record is None else draw_info(record, label, title, delivery))
        self.show_result(None, "")

    def show_delivery(self, record: Any, label: str, title: Callable[[str], str],
                      delivery: Delivery) -> None:
        """Refresh the transmission lines only (the "Vérifier" result stays)."""
        self.query_one("#draw-info", Static).update(draw_info(record, label, title, delivery))

    def show_result(self, ok: bool | None, text: str) -> None:
        result = self.query_one("#verify-result", Static)
        result.set_class(ok is True, "-ok")
        result.set_class(ok is False, "-bad")
        prefix = "" if ok is None else "✔ " if ok else "✘ "
        result.update(prefix + text)
