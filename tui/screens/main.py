"""The LOTAS window: establishment, archive folder, draws history, the drawn table and its footer.

Layout and words follow the manual (``docs/ui.md``); the panels behind the table (funnel,
parse report, seed and digest) are what this successor adds. Long work runs in thread workers
that only post messages (``lotas_tui.messages``); widgets change only in handlers, on the UI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    OptionList,
    RadioSet,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from lotas_core.french import sizes_footer
from lotas_tui.clipboard import copy_notice, copy_with_commands
from lotas_tui.formatting import receipt_text, receipt_title, sizes_of
from lotas_tui.messages import (
    Copied,
    DeliveriesRefreshed,
    DrawDone,
    ExportDone,
    FinessChanged,
    ReadProgress,
    TransmitDone,
    VerifyDone,
)
from lotas_tui.widgets.dialogs import (
    ConfirmDialog,
    ExportChoice,
    ExportDialog,
    FolderPicker,
    MessageDialog,
)
from lotas_tui.widgets.draw_panels import CheckPanel, FunnelPanel
from lotas_tui.widgets.draw_table import DrawTable
from lotas_tui.widgets.draws_box import DrawsBox
from lotas_tui.widgets.establishment import EstablishmentBar
from lotas_tui.widgets.progress_row import ProgressRow

if TYPE_CHECKING:
    from lotas_core.draws.history import DrawRecord
    from lotas_core.selection.columns import RowLayout
    from lotas_core.settings import Settings
    from lotas_core.transmission.delivery import Delivery
    from lotas_tui.app import LotasApp

TABS = ("tab-table", "tab-funnel", "tab-check")
#: How often the screen asks the relay about draws still waiting to reach QUALHAS (seconds).
DELIVERY_REFRESH_S = 60.0
#: Workers during which the progress row shows.
BUSY_GROUPS = ("draw", "verify", "transmit")
ENDED = (WorkerState.ERROR, WorkerState.CANCELLED, WorkerState.SUCCESS)
#: The history list's state of a draw never sent (the core's short label for it is empty).
NOT_SENT_SHORT = "non transmis"
#: The id of the "Quitter ?" question (a second Ctrl+C answers it).
QUIT_DIALOG = "quit-confirm"
#: What the boxes' lower border says about saving (``MainScreen.save_form``).
SAVE_DONE = "enregistré"
SAVE_WAITING = "FINESS incomplet : non enregistré"
SAVE_DEMO = "démonstration : non enregistré"
SAVE_FAILED = "non enregistré"
SAVE_NOTHING = ""
#: How long a notice stays (top right, over the boxes, never over Quitter or the key bar).
NOTICE_SECONDS = 5
#: Said when a draw is copied; ``{columns}`` are the campaign's identifying columns (IPP).
CLIPBOARD_NOTICE = (
    "Le presse-papier contient des identifiants de patients ({columns}) : collez-les dans un "
    "fichier protégé, puis videz-le."
)


def identifying_names(layout: RowLayout) -> str:
    """The identifying columns of a campaign's rows, as the screen names them ("IPP")."""
    return ", ".join(sorted(layout.identifying)) or "identifiants"


class MainScreen(Screen[None]):
    """The main LOTAS window."""

    AUTO_FOCUS = "#new-draw"
    BINDINGS = [
        Binding("n", "new_draw", "Nouveau"),
        Binding("t", "transmit", "Transmettre"),
        Binding("c", "copy", "Copier"),
        Binding("e", "export", "Exporter"),
        Binding("v", "verify", "Vérifier"),
        Binding("d", "next_tab", "Onglet", show=False),
        Binding("o", "pick_folder", "Dossier", show=False),
        Binding("p", "settings", "Paramètres", show=False),
        Binding("f2", "settings_key", "Paramètres", key_display="F2"),
        Binding("q", "quit_app", "Quitter"),
        # In a text field letters are typed, not actions: the key bar then says how to leave.
        Binding("escape", "focus_table", "Quitter le champ", key_display="Échap"),
    ]
    #: Actions of a letter key: hidden from the key bar while a text field has the cursor.
    LETTER_ACTIONS = frozenset({
        "new_draw", "transmit", "copy", "export", "verify", "next_tab", "pick_folder", "settings",
        "quit_app",
    })

    def __init__(self) -> None:
        super().__init__(id="main")
        self.current: Any = None
        self._records: dict[str, Any] = {}
        #: "Quitter" was confirmed during a long task: exit when the last one ends.
        self._quit_when_idle = False
        #: The last states asked of the relay (they carry "why it still waits").
        self._live: dict[str, Delivery] = {}

    @property
    def lotas_app(self) -> LotasApp:
        return self.app  # type: ignore[return-value]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The key bar follows the focus: letters outside a text field, Échap inside one."""
        in_field = isinstance(self.focused, Input)
        if action in self.LETTER_ACTIONS:
            return not in_field
        if action == "focus_table":
            return in_field
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        settings = self.lotas_app.settings
        with Horizontal(id="title-bar"):
            yield Static(self.lotas_app.window_title, id="title", markup=False)
            yield Button("Paramétrage", id="open-settings", compact=True, action="screen.settings")
        yield EstablishmentBar(settings, self.lotas_app.archive_folder, id="top-row")
        yield DrawsBox(id="draws", classes="box")
        yield ProgressRow(id="progress-row")
        with TabbedContent(id="details", initial="tab-table"):
            with TabPane("Tirage", id="tab-table"):
                yield DrawTable(id="draw-table")
            with TabPane("Éligibilité et lecture de l'archive", id="tab-funnel"):
                yield FunnelPanel(id="funnel-panel")
            with TabPane("Contrôle du tirage", id="tab-check"):
                yield CheckPanel(id="check-panel")
        with Horizontal(id="status-bar"):
            yield Static("", id="draw-footer", markup=False)
            yield Button("Quitter", id="quit", compact=True, action="screen.quit_app")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload_history()
        self.refresh_deliveries()
        self.set_interval(DELIVERY_REFRESH_S, self.refresh_deliveries)
        self._say_where_the_backup_goes()

    def _say_where_the_backup_goes(self) -> None:
        """A first run: the archive folder does not exist yet; say what goes there."""
        folder = Path(self.lotas_app.archive_folder(self.lotas_app.settings))
        if folder.exists():
            return
        text = (f"Le dossier des archives PIVOINE {folder} n'existe pas encore : c'est là que va "
                "la sauvegarde PIVOINE de l'établissement (fichier « .in.zip »). Créez-le et "
                "copiez-y la sauvegarde, ou choisissez un autre dossier (touche o).")
        line = self.archive_line(folder)
        if "n'existe pas" in line:
            text = line + " (Autre dossier : touche o.)"
        self.notify(text, title="Dossier des archives absent", severity="warning",
                    timeout=3 * NOTICE_SECONDS, markup=False)

    # -- reading the form ----------------------------------------------------------------------

    def form_finess(self) -> str:
        return self.query_one(EstablishmentBar).finess()

    def form_settings(self) -> Any:
        """The app's settings with what the screen shows (not saved: "Paramétrage" saves)."""
        return self.query_one(EstablishmentBar).applied_to(self.lotas_app.settings)

    def apply_settings(self, settings: Any) -> None:
        """Show new settings (after "Paramétrage" saved them)."""
        self.query_one(EstablishmentBar).show_settings(settings)
        self.reload_history()

    def on_finess_changed(self, message: FinessChanged) -> None:
        self.query_one("#title", Static).update(self.lotas_app.title_for(message.finess))
        self.reload_history()
        self.save_form()

    @on(RadioSet.Changed, "#financing")
    @on(Checkbox.Changed, "#use-default")
    @on(Input.Submitted, "#archive-path")
    @on(Input.Blurred, "#archive-path")
    def _establishment_changed(self) -> None:
        self.save_form()

    def save_form(self) -> None:
        """The rule for the main window: what it shows is saved as soon as it is valid.

        FINESS, DGF/OQN and the archive folder go to the settings file at each valid change (an
        incomplete FINESS waits); the demonstration saves nothing. The boxes' lower border
        says which happened.
        """
        from lotas_core.settings import save_settings, validate_finess

        app = self.lotas_app
        bar = self.query_one(EstablishmentBar)
        finess = self.form_finess()
        if finess:
            try:
                validate_finess(finess)
            except ValueError:
                bar.show_save_state(SAVE_WAITING)
                return
        settings = self.form_settings()
        if settings == app.settings:
            # Nothing new (the window opening, an unchanged field left, a value put back).
            if bar.save_state:
                bar.show_save_state(SAVE_NOTHING if app.demo else SAVE_DONE)
            return
        if app.demo:
            bar.show_save_state(SAVE_DEMO)
            return
        try:
            path = save_settings(settings, app.config_file)
        except OSError as exc:
            from lotas_core.reasons import os_reason_fr

            bar.show_save_state(SAVE_FAILED)
            app.show_error_text(f"Paramètres non enregistrés : {os_reason_fr(exc)}.")
            return
        app.settings = settings
        app.config_file = path
        app.config_found = True
        bar.show_save_state(SAVE_DONE)

    # -- history and the shown draw ------------------------------------------------------------

    def reload_history(self, select_id: Any = None) -> None:
        """List the draws of the FINESS shown, newest first, and show the selected one."""
        settings = self.lotas_app.settings
        finess = self.form_finess()
        from lotas_core.errors import LotasError

        try:
            records = (
                self.lotas_app.backend.list_draws(settings, finess, settings.campaign)
                if len(finess) == 9 else []
            )
        except LotasError as exc:  # e.g. an unreadable history database
            self.lotas_app.show_error(exc)
            records = []
        history = self.query_one("#history", OptionList)
        self._records = {str(record.draw_id): record for record in records}
        history.set_options(
            Option(self._entry_text(record), id=str(record.draw_id)) for record in records
        )
        if not records:
            self.show_draw(None)
            return
        wanted = str(select_id) if select_id is not None else None
        if wanted is None and self.current is not None:
            wanted = str(self.current.draw_id)
        index = history.get_option_index(wanted) if wanted in self._records else 0
        history.highlighted = index
        self.show_draw(records[index])

    def delivery_of(self, record: DrawRecord) -> Delivery:
        """The draw's transmission state: the relay's last answer if it agrees with the
        history (it adds why the draw still waits), else the history's."""
        stored = self.lotas_app.backend.delivery(record)
        live = self._live.get(str(record.draw_id))
        return live if live is not None and live.state == stored.state else stored

    def _entry_text(self, record: DrawRecord) -> str:
        """The history list's line: the manual's label, then the transmission state."""
        # Every line says its state, "non transmis" included (one line each, even at 80 columns).
        short = self.delivery_of(record).short_label_fr or NOT_SENT_SHORT
        return f"{self.lotas_app.entry_label(record)}  {short}"

    def refresh_deliveries(self) -> None:
        """Ask the relay about the draws still waiting to reach QUALHAS (in a worker)."""
        pending = [draw_id for draw_id, record in self._records.items()
                   if self.lotas_app.backend.delivery(record).pending]
        if pending and not self._worker_busy("delivery"):
            self.run_refresh_deliveries(self.lotas_app.settings, pending)

    @work(thread=True, exclusive=True, exit_on_error=False, group="delivery")
    def run_refresh_deliveries(self, settings: Settings, draw_ids: list[str]) -> None:
        deliveries = self.lotas_app.backend.refresh_deliveries(
            settings, draw_ids, self.lotas_app.credentials_for(settings.transport.name))
        self.post_message(DeliveriesRefreshed(deliveries))

    def on_deliveries_refreshed(self, message: DeliveriesRefreshed) -> None:
        """New states: list them again; same states: only the shown draw's lines (so that a
        "Vérifier" result on screen stays)."""
        self._live.update(message.deliveries)
        moved = any(
            draw_id in self._records
            and self.lotas_app.backend.delivery(self._records[draw_id]).state != delivery.state
            for draw_id, delivery in message.deliveries.items()
        )
        if moved:
            self.reload_history()
        elif self.current is not None and str(self.current.draw_id) in message.deliveries:
            self.query_one("#check-panel", CheckPanel).show_delivery(
                self.current, self.lotas_app.entry_label(self.current),
                self.lotas_app.transport_title, self.delivery_of(self.current))

    @on(OptionList.OptionHighlighted, "#history")
    def _history_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        record = self._records.get(str(event.option.id))
        if record is not None and record is not self.current:
            self.show_draw(record)

    def show_draw(self, record: Any) -> None:
        """Fill the table, the footer and the detail panels with one draw (or clear them)."""
        self.current = record
        self.query_one("#draw-table", DrawTable).show(record, self.lotas_app.row_layout(record))
        footer = "" if record is None else sizes_footer(*sizes_of(record.sizes))
        self.query_one("#draw-footer", Static).update(footer)
        labels = None if record is None else self.lotas_app.funnel_labels(record.campaign_id)
        self.query_one("#funnel-panel", FunnelPanel).show(record, labels)
        label = "" if record is None else self.lotas_app.entry_label(record)
        delivery = None if record is None else self.delivery_of(record)
        self.query_one("#check-panel", CheckPanel).show(record, label,
                                                        self.lotas_app.transport_title, delivery)

    def _require_draw(self) -> Any:
        if self.current is None:
            self.notify("Aucun tirage sélectionné : faites d'abord un tirage au sort.",
                        severity="warning")
        return self.current

    # -- the draw ------------------------------------------------------------------------------

    def _worker_busy(self, group: str) -> bool:
        return any(w.group == group and not w.is_finished for w in self.app.workers)

    def action_new_draw(self) -> None:
        if self._worker_busy("draw"):
            self.notify("Un tirage au sort est déjà en cours.", severity="warning")
            return
        settings = self.form_settings()
        finess = self.form_finess()
        from lotas_core.settings import validate_finess

        def fix_finess(_: Any) -> None:
            self.query_one("#finess").focus()

        if not finess:
            self.lotas_app.show_error_text(
                "Indiquez le FINESS de l'établissement (9 caractères : 2 chiffres ou 2A/2B, puis "
                "7 chiffres) dans « Identification établissement ».", then=fix_finess
            )
            return
        try:
            finess = validate_finess(finess)
        except ValueError as exc:
            self.lotas_app.show_error_text(f"{exc} (reçu : « {finess} »).", then=fix_finess)
            return
        self.query_one(ProgressRow).busy("draw", "Lecture de l'archive…", 0.0)
        self.run_draw(settings, self.lotas_app.archive_folder(settings), finess,
                      self.lotas_app.draw_seed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="draw")
    def run_draw(self, settings: Any, folder: Path, finess: str, seed: bytes | None) -> None:
        def progress(stage: str, fraction: float) -> None:
            self.post_message(ReadProgress(stage, fraction))

        record, selection = self.lotas_app.backend.make_draw(
            settings, folder=folder, finess=finess, seed=seed, progress=progress
        )
        self.post_message(DrawDone(record, selection))

    def on_read_progress(self, message: ReadProgress) -> None:
        self.query_one(ProgressRow).busy("draw", message.stage, message.fraction)

    def on_draw_done(self, message: DrawDone) -> None:
        self.lotas_app.settings = self.form_settings()
        self.reload_history(select_id=message.record.draw_id)
        self.query_one("#details", TabbedContent).active = "tab-table"
        if message.record.notice:  # the campaign's size notice, stored with the draw
            self.notify(message.record.notice, severity="warning", markup=False)
        if self.lotas_app.settings.ui.copy_after_draw:
            self.copy_draw(message.record)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """End the task's progress, however the worker ended; the app shows errors."""
        if event.worker.group == "delivery":  # a background refresh: never an error dialog
            if event.state == WorkerState.ERROR:
                self.log.warning(f"delivery refresh failed: {type(event.worker.error).__name__}")
            return
        self.lotas_app.handle_worker_state(event)
        if event.worker.group == "verify" and event.state == WorkerState.ERROR:
            self.query_one("#check-panel", CheckPanel).show_result(
                False, "La vérification n'a pas abouti (voir le message d'erreur)."
            )
        if event.worker.group in BUSY_GROUPS and event.state in ENDED:
            row = self.query_one(ProgressRow)
            row.done(event.worker.group)
            if self._quit_when_idle and event.state != WorkerState.SUCCESS:
                self._quit_when_idle = False  # stay open: the error dialog must be read
                self.notify("L'opération a échoué : lotas reste ouvert.", severity="warning")
            elif self._quit_when_idle and not row.tasks:
                self.app.exit(0)

    # -- clipboard and exports -----------------------------------------------------------------

    def action_copy(self) -> None:
        record = self._require_draw()
        if record is not None:
            self.copy_draw(record)

    def copy_draw(self, record: Any) -> None:
        """Put the draw on the clipboard as TSV (``lotas export --format tsv``).

        The terminal's sequence (OSC 52) goes at once; the system's clipboard command runs in
        a thread, and the notice says which of the two is known to have worked.
        """
        text = self.lotas_app.backend.to_tsv(record)
        self.app.copy_to_clipboard(text)
        columns = identifying_names(self.lotas_app.row_layout(record))
        self.run_system_copy(text, len(record.rows), columns)

    @work(thread=True, exclusive=True, exit_on_error=False, group="copy")
    def run_system_copy(self, text: str, rows: int, columns: str) -> None:
        where = copy_with_commands(text, self.lotas_app.clipboard_commands)
        self.post_message(Copied(rows, where, columns))

    def on_copied(self, message: Copied) -> None:
        title, text = copy_notice(message.rows, message.where)
        notice = CLIPBOARD_NOTICE.format(columns=message.columns)
        self.notify(f"{text}\n{notice}", title=title, timeout=NOTICE_SECONDS,
                    severity="information" if message.where else "warning", markup=False)

    def action_export(self) -> None:
        record = self._require_draw()
        if record is None:
            return
        stem = f"lotas-{record.draw_id}"

        def done(choice: ExportChoice | None) -> None:
            if choice is not None:
                self.run_export(record, choice)

        self.app.push_screen(ExportDialog(self.lotas_app.export_folder(), stem), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def run_export(self, record: Any, choice: ExportChoice) -> None:
        self.post_message(ExportDone(self.lotas_app.backend.export(record, choice.fmt,
                                                                   choice.path)))

    def on_export_done(self, message: ExportDone) -> None:
        self.notify(f"Tirage exporté vers {message.path}.", title="Export terminé",
                    markup=False)

    # -- verification --------------------------------------------------------------------------

    def action_verify(self) -> None:
        record = self._require_draw()
        if record is None:
            return
        self.query_one("#details", TabbedContent).active = "tab-check"
        self.query_one("#check-panel", CheckPanel).show_result(None, "Vérification en cours…")
        self.query_one(ProgressRow).busy(
            "verify", "Vérification : relecture de l'archive et nouveau tirage…", None)
        self.run_verify(self.form_settings(), record.draw_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify")
    def run_verify(self, settings: Any, draw_id: Any) -> None:
        ok, text = self.lotas_app.backend.verify(settings, draw_id)
        self.post_message(VerifyDone(draw_id, ok, text))

    def on_verify_done(self, message: VerifyDone) -> None:
        self.query_one("#check-panel", CheckPanel).show_result(message.ok, message.text)
        self.notify(message.text, severity="information" if message.ok else "error",
                    markup=False)

    # -- transmission --------------------------------------------------------------------------

    def action_transmit(self) -> None:
        if self._worker_busy("transmit"):
            self.notify("Une transmission est déjà en cours.", severity="warning")
            return
        record = self._require_draw()
        if record is None:
            return
        settings = self.lotas_app.settings
        name = settings.transport.name
        title = self.lotas_app.transport_title(name)
        question = (
            f"Transmettre vers QUALHAS le tirage au sort {self.lotas_app.entry_label(record)} "
            f"({len(record.rows)} patients, sans les "
            f"{identifying_names(self.lotas_app.row_layout(record))}) par « {title} » ?"
        )

        def done(answer: bool | None) -> None:
            if answer:
                self.query_one(ProgressRow).busy(
                    "transmit", f"Envoi vers QUALHAS ({title}), avec nouveaux essais…", None)
                self.run_transmit(settings, record.draw_id, name)

        self.app.push_screen(ConfirmDialog("Transmettre vers QUALHAS", question), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="transmit")
    def run_transmit(self, settings: Any, draw_id: Any, name: str) -> None:
        def warn(text: str) -> None:  # a notification plugin failed: the receipt is stored
            self.app.call_from_thread(self.notify, text, severity="warning", timeout=30)

        receipt = self.lotas_app.backend.transmit(
            settings, draw_id, name, credentials=self.lotas_app.credentials_for(name), warn=warn
        )
        self.post_message(TransmitDone(draw_id, receipt))

    def on_transmit_done(self, message: TransmitDone) -> None:
        title = self.lotas_app.transport_title(message.receipt.transport)
        self.reload_history(select_id=message.draw_id)
        if self._quit_when_idle:
            return  # closing: the receipt is in the history ("Contrôle du tirage")
        self.app.push_screen(MessageDialog(receipt_title(message.receipt),
                                           receipt_text(message.receipt, title)))

    # -- other actions -------------------------------------------------------------------------

    def action_next_tab(self) -> None:
        tabs = self.query_one("#details", TabbedContent)
        tabs.active = TABS[(TABS.index(tabs.active) + 1) % len(TABS)]

    def action_pick_folder(self) -> None:
        bar = self.query_one(EstablishmentBar)
        start = Path(bar.folder_text() or "~").expanduser()

        def done(path: Path | None) -> None:
            if path is not None:
                bar.choose_folder(path)
                self.save_form()

        self.app.push_screen(FolderPicker(start, self.archive_line), done)

    def archive_line(self, folder: Path) -> str:
        """Which archive a draw would read in ``folder``, or why none (folder picker)."""
        from lotas_core.errors import LotasError

        finess = self.form_finess()
        if len(finess) != 9:
            return "Indiquez le FINESS pour savoir quelle archive sera utilisée."
        try:
            path = self.lotas_app.backend.archive_to_use(
                self.lotas_app.settings.campaign, folder, finess)
        except LotasError as exc:
            return exc.message_fr
        return f"Archive qui sera utilisée : {path.name}" if path is not None else ""

    def action_settings_key(self) -> None:
        self.action_settings()

    def action_settings(self) -> None:
        self.lotas_app.settings = self.form_settings()
        self.lotas_app.open_settings()

    def action_focus_table(self) -> None:
        """Leave a text field (where letters are typed, not actions) for the table."""
        self.query_one("#details", TabbedContent).active = "tab-table"
        self.query_one("#draw-table", DrawTable).focus()

    def action_quit_app(self) -> None:
        """Quit; during a long task, confirm, then quit as soon as it ends.

        Exiting at once would leave a blank terminal until the thread finished anyway (a
        transmission may wait for its retries), and its receipt must reach the history.
        """
        if not self.query_one(ProgressRow).tasks:
            self.app.exit(0)
            return
        asking = self.app.screen
        if isinstance(asking, ConfirmDialog) and asking.id == QUIT_DIALOG:
            asking.dismiss(True)  # Ctrl+C again while the question shows: yes
            return
        if self._quit_when_idle:
            self.notify("lotas se fermera à la fin de l'opération en cours.")
            return

        def done(answer: bool | None) -> None:
            if answer:
                self._quit_when_idle = True
                self.notify("lotas se fermera à la fin de l'opération en cours.", timeout=30)

        self.app.push_screen(ConfirmDialog(
            "Quitter", "Une opération est en cours (voir la barre de progression). "
                       "Quitter dès qu'elle sera terminée ?", id=QUIT_DIALOG), done)
