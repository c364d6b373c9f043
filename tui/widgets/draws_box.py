"""The manual's "Tirages au sort" box: the history list and the draw buttons.

The buttons run the main screen's actions (the same as its keys); the screen fills the list.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, OptionList


class DrawsBox(Horizontal):
    """"Historique des tirages au sort", "Nouveau tirage au sort", "Transmettre vers QUALHAS…"."""

    def on_mount(self) -> None:
        self.border_title = "Tirages au sort"

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box"):
            yield Label("Historique des tirages au sort")
            yield OptionList(id="history", compact=True)
        with Vertical(id="draw-actions"):
            yield Button("Nouveau tirage au sort", id="new-draw", compact=True,
                         action="screen.new_draw")
            yield Button("Transmettre vers QUALHAS le tirage au sort sélectionné",
                         id="transmit", compact=True, action="screen.transmit")
            with Horizontal(id="small-actions"):
                yield Button("Copier", id="copy", compact=True, action="screen.copy")
                yield Button("Exporter…", id="export", compact=True, action="screen.export")
                yield Button("Vérifier", id="verify", compact=True, action="screen.verify")
