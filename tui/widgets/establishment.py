"""The two boxes at the top of the LOTAS window: the establishment and the archive folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, RadioButton

from lotas_tui.formatting import display_path
from lotas_tui.messages import FinessChanged
from lotas_tui.widgets.toggles import Box, Choice, Radio

#: The manual's words for the default-folder box, and a shorter form where they would be cut
#: (at 80 columns the box is 42 cells wide inside: "(recommandé)" would lose its end).
DEFAULT_FOLDER_LABEL = "Utiliser l'emplacement par défaut (recommandé)"
SHORT_DEFAULT_FOLDER_LABEL = "Emplacement par défaut (recommandé)"
#: What a checkbox draws before its label ("[X] ").
BOX_PREFIX_CELLS = 4


class EstablishmentBar(Horizontal):
    """"Identification établissement" and "Emplacement des archives PIVOINE"."""

    def __init__(self, settings: Any, archive_folder: Callable[[Any], Path], **kwargs: Any
                 ) -> None:
        """``archive_folder(settings)`` is the folder searched with those settings (its default
        depends on the campaign)."""
        super().__init__(**kwargs)
        self._settings = settings
        self._archive_folder = archive_folder

    def default_folder(self) -> Path:
        """The recommended archive folder of the current settings."""
        archives = self._settings.archives.model_copy(update={"use_default": True})
        return self._archive_folder(self._settings.model_copy(update={"archives": archives}))

    def compose(self) -> ComposeResult:
        settings = self._settings
        with Vertical(id="identification", classes="box") as box:
            box.border_title = "Identification établissement"
            with Horizontal(classes="line"):
                yield Label("FINESS : ", classes="field-label")
                yield Input(settings.finess or "", id="finess", max_length=9, compact=True,
                            placeholder="9 caractères")
            with Choice(id="financing", compact=True):
                yield Radio("DGF", value=settings.financing != "OQN", id="fin-dgf",
                                  compact=True)
                yield Radio("OQN", value=settings.financing == "OQN", id="fin-oqn",
                                  compact=True)
        with Vertical(id="archives", classes="box") as box:
            box.border_title = "Emplacement des archives PIVOINE"
            yield Box(DEFAULT_FOLDER_LABEL, settings.archives.use_default, id="use-default",
                      compact=True)
            with Horizontal(classes="line"):
                yield Input(display_path(self._archive_folder(settings)), id="archive-path",
                            compact=True, disabled=settings.archives.use_default)
                yield Button("…", id="pick-folder", compact=True, action="screen.pick_folder",
                             disabled=settings.archives.use_default)

    def on_resize(self) -> None:
        """Keep the default-folder label whole: the short form when the manual's is too wide."""
        box = self.query_one("#use-default", Checkbox)
        inside = self.query_one("#archives").content_region.width
        fits = inside >= len(DEFAULT_FOLDER_LABEL) + BOX_PREFIX_CELLS
        box.label = DEFAULT_FOLDER_LABEL if fits else SHORT_DEFAULT_FOLDER_LABEL

    # -- reading -------------------------------------------------------------------------------

    def finess(self) -> str:
        return self.query_one("#finess", Input).value.strip().upper()

    def financing(self) -> str:
        return "OQN" if self.query_one("#fin-oqn", RadioButton).value else "DGF"

    def folder_text(self) -> str:
        return self.query_one("#archive-path", Input).value.strip()

    def applied_to(self, settings: Any) -> Any:
        """``settings`` with what the boxes show (FINESS not checked here)."""
        use_default = self.query_one("#use-default", Checkbox).value
        archives = settings.archives.model_copy(update={"use_default": use_default})
        if not use_default:
            text = self.folder_text()
            archives = archives.model_copy(
                update={"path": Path(text).expanduser() if text else None}
            )
        return settings.model_copy(update={
            "finess": self.finess() or None, "financing": self.financing(), "archives": archives
        })

    # -- writing -------------------------------------------------------------------------------

    def show_settings(self, settings: Any) -> None:
        self._settings = settings
        self.query_one("#finess", Input).value = settings.finess or ""
        self.query_one("#fin-oqn", RadioButton).value = settings.financing == "OQN"
        self.query_one("#fin-dgf", RadioButton).value = settings.financing != "OQN"
        self.query_one("#use-default", Checkbox).value = settings.archives.use_default
        self.query_one("#archive-path", Input).value = display_path(
            self._archive_folder(settings)
        )

    @property
    def save_state(self) -> str:
        return str(self.query_one("#archives").border_subtitle or "")

    def show_save_state(self, text: str) -> None:
        """Say on the boxes' lower border whether what they show is saved (the narrow FINESS
        box keeps the end: "non enregistré")."""
        self.query_one("#archives").border_subtitle = text
        self.query_one("#identification").border_subtitle = text.split(" : ")[-1]

    def choose_folder(self, path: Path) -> None:
        """A folder picked in the dialog: the default box is unticked."""
        self.query_one("#use-default", Checkbox).value = False
        self.query_one("#archive-path", Input).value = display_path(path)

    @on(Checkbox.Changed, "#use-default")
    def _use_default_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#archive-path", Input).disabled = event.value
        self.query_one("#pick-folder", Button).disabled = event.value
        if event.value:
            path = display_path(self.default_folder())
            self.query_one("#archive-path", Input).value = path

    @on(Input.Changed, "#finess")
    def _finess_changed(self, event: Input.Changed) -> None:
        event.stop()
        # Every change: an incomplete FINESS shows no history rather than the previous one's.
        self.post_message(FinessChanged(event.value.strip().upper()))
