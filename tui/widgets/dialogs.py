"""Modal dialogs: yes/no, message, export choice and folder picker (frogmouth's dialogs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, ScreenResultType
from textual.widgets import (
    Button,
    DirectoryTree,
    Footer,
    Input,
    Label,
    RadioSet,
    Static,
)

from lotas_tui.widgets.toggles import Choice, Radio


class Dialog(ModalScreen[ScreenResultType]):
    """A box centred over the dimmed window, with its own footer of keys."""

    DEFAULT_CLASSES = "dialog-screen"


class ConfirmDialog(Dialog[bool]):
    """Ask a yes/no question; dismisses with ``True`` for "Oui"."""

    AUTO_FOCUS = "#no"

    BINDINGS = [
        Binding("o", "answer(True)", "Oui"),
        Binding("n,escape", "answer(False)", "Non"),
    ]

    def __init__(self, title: str, question: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = title
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self._title
            yield Static(self._question, classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Oui", id="yes", variant="primary")
                yield Button("Non", id="no")
        yield Footer(compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class MessageDialog(Dialog[bool]):
    """Show a message (an error, a receipt) until "OK"."""

    AUTO_FOCUS = "#ok"

    BINDINGS = [Binding("escape,enter", "close", "OK")]

    def __init__(self, title: str, text: str, *, error: bool = False) -> None:
        super().__init__()
        self._title = title
        self._text = text
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -error" if self._error else "dialog") as box:
            box.border_title = self._title
            yield Static(self._text, id="dialog-message", classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="error" if self._error else "primary")
        yield Footer(compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(True)


#: Export formats offered by the screen: format key -> (French label, file suffix).
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("CSV", ".csv"),
    "csv-excel": ("CSV pour Excel (« ; », s'ouvre en colonnes)", ".csv"),
    "xlsx": ("Classeur Excel (XLSX)", ".xlsx"),
    "html": ("Rapport HTML", ".html"),
}


def format_for_suffix(suffix: str, chosen: str) -> str:
    """A typed ``.xlsx``/``.html``/``.csv`` wins over the format boxes: the file is what it says
    (``.csv`` keeps the CSV chosen, plain or for Excel)."""
    if EXPORT_FORMATS[chosen][1] == suffix.lower():
        return chosen
    for key, (_, known) in EXPORT_FORMATS.items():
        if known == suffix.lower():
            return key
    return chosen


@dataclass(frozen=True)
class ExportChoice:
    """The format and the file the user chose."""

    fmt: str
    path: Path


class ExportDialog(Dialog[ExportChoice | None]):
    """Choose an export format and a file; the path follows the format's suffix."""

    AUTO_FOCUS = "#export-path"
    BINDINGS = [
        Binding("ctrl+s", "export", "Exporter"),
        Binding("escape", "cancel", "Annuler"),
    ]

    def __init__(self, folder: Path, stem: str) -> None:
        super().__init__()
        self._folder = folder
        self._stem = stem
        #: An existing file the user was warned about: exporting again replaces it.
        self._replace: Path | None = None

    def _path_for(self, fmt: str) -> str:
        return str(self._folder / f"{self._stem}{EXPORT_FORMATS[fmt][1]}")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Exporter le tirage au sort"
            yield Label("Format :")
            with Choice(id="export-format", compact=True):
                for index, (fmt, (label, _)) in enumerate(EXPORT_FORMATS.items()):
                    yield Radio(label, value=index == 0, name=fmt, compact=True)
            yield Label("Fichier :")
            yield Input(self._path_for("csv"), id="export-path", compact=True)
            yield Static("", id="export-error", classes="form-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Exporter", id="export", variant="primary")
                yield Button("Annuler", id="cancel")
        yield Footer(compact=True)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        fmt = event.pressed.name or "csv"
        field = self.query_one("#export-path", Input)
        current = Path(field.value.strip() or self._path_for(fmt))
        field.value = str(current.with_suffix(EXPORT_FORMATS[fmt][1]))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._export()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        self._export()

    def action_export(self) -> None:
        self._export()

    def _export(self) -> None:
        pressed = self.query_one("#export-format", RadioSet).pressed_button
        fmt = (pressed.name if pressed else None) or "csv"
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.query_one("#export-error", Static).update("Indiquez le fichier à écrire.")
            return
        path = Path(text).expanduser()
        fmt = format_for_suffix(path.suffix, fmt)
        error = self.query_one("#export-error", Static)
        if not path.parent.is_dir():
            error.update(f"Le dossier {path.parent} n'existe pas : choisissez un dossier existant.")
            return
        if path.exists() and path != self._replace:
            self._replace = path
            error.update(f"{path.name} existe déjà : exportez de nouveau pour le remplacer.")
            return
        self.dismiss(ExportChoice(fmt, path))

    def action_cancel(self) -> None:
        self.dismiss(None)


class FolderTree(DirectoryTree):
    """A directory tree of folders and the zip archives in them (the PIVOINE backups)."""

    def filter_paths(self, paths):  # type: ignore[no-untyped-def]
        return [
            path for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.name.lower().endswith(".zip"))
        ]


class FolderPicker(Dialog[Path | None]):
    """Pick the PIVOINE archive folder with Textual's ``DirectoryTree``.

    The archives are listed with the folders, and under the tree ``describe(folder)`` says
    which archive a draw would read there (or why none).
    """

    BINDINGS = [
        Binding("ctrl+s", "choose", "Choisir"),
        Binding("backspace", "up", "Dossier parent"),
        Binding("escape", "cancel", "Annuler"),
    ]

    def __init__(self, start: Path, describe: Callable[[Path], str] | None = None) -> None:
        super().__init__()
        self._start = start if start.is_dir() else Path.home()
        self._chosen = self._start
        self._describe = describe or (lambda folder: "")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -tall") as box:
            box.border_title = "Choisir le dossier des archives PIVOINE"
            yield FolderTree(self._start, id="folder-tree")
            yield Static(self._chosen_text(self._chosen), id="folder-chosen", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Choisir", id="choose", variant="primary")
                yield Button("Dossier parent", id="up")
                yield Button("Annuler", id="cancel")
        yield Footer(compact=True)

    def _chosen_text(self, folder: Path) -> str:
        line = self._describe(folder)
        return f"Dossier : {folder}" + (f"\n{line}" if line else "")

    def _choose(self, folder: Path) -> None:
        self._chosen = folder
        self.query_one("#folder-chosen", Static).update(self._chosen_text(folder))

    def on_directory_tree_directory_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        self._choose(event.path)

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        """An archive picked: its folder is the one chosen."""
        self._choose(event.path.parent)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "choose":
            self.action_choose()
        elif event.button.id == "up":
            self.action_up()
        else:
            self.dismiss(None)

    def action_choose(self) -> None:
        self.dismiss(self._chosen)

    def action_up(self) -> None:
        """Show the parent folder (and choose it unless a sub-folder is then selected)."""
        tree = self.query_one(FolderTree)
        parent = Path(tree.path).parent
        tree.path = parent
        self._choose(parent)

    def action_cancel(self) -> None:
        self.dismiss(None)
