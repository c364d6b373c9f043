"""The Textual application: receives its dependencies, built by one factory (``create_app``).

``lotas`` (``launch.run_ui``) and the tests build the app the same way, so what the tests drive
is what the user runs (harlequin's ``Harlequin(adapter)``, posting's ``make_posting``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from lotas_tui.backend import Backend
from lotas_tui.clipboard import ClipboardCommand, platform_commands
from lotas_tui.widgets.dialogs import MessageDialog

if TYPE_CHECKING:
    from lotas_core.draws.history import DrawRecord
    from lotas_core.errors import PluginError
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.selection.columns import RowLayout
    from lotas_core.settings import Settings
    from lotas_core.transmission.credentials import Credentials

GENERIC_ERROR_FR = (
    "Une erreur inattendue s'est produite (code {kind}). L'opération n'a pas abouti ; réessayez, "
    "et si le problème persiste, relancez lotas en mode diagnostic (LOTAS_DEBUG=1) et "
    "signalez-le."
)


#: What the terminal shows when the screen stopped on an unexpected error (exit code 2).
FATAL_ERROR_FR = (
    "lotas: erreur : l'écran s'est arrêté sur une erreur inattendue ({kind}). Relancez avec "
    "LOTAS_DEBUG=1 pour le détail et signalez-la."
)

#: Title of the error dialog of a failed worker, by worker group.
ERROR_TITLES = {
    "draw": "Tirage au sort impossible",
    "verify": "Vérification impossible",
    "transmit": "Transmission vers QUALHAS impossible",
    "export": "Export impossible",
    "import-proxy": "Import des paramètres de proxy impossible",
}
#: Key names of the key bars, in French.
KEY_NAMES_FR = {"escape": "Échap", "enter": "Entrée", "backspace": "⌫", "space": "Espace",
                "tab": "Tab", "delete": "Suppr"}
TRANSPORT_HINT = "Vérifiez le « Paramétrage ePop » (touche p), puis réessayez."


def default_entry_label(record: DrawRecord) -> str:
    """The history entry as the manual shows it: ``000000001- 22/04/2021 09:16:56``."""
    return str(record.label())


class LotasApp(App[int]):
    """The LOTAS screen of the configured campaign (its title comes from the campaign)."""

    CSS_PATH = [
        "lotas.tcss",
        "screens/main.tcss",
        "screens/settings.tcss",
        "widgets/dialogs.tcss",
    ]
    ENABLE_COMMAND_PALETTE = False
    #: Ctrl+C quits (Textual only shows an English hint); priority: even from a text field.
    BINDINGS = [
        Binding("ctrl+c", "quit_lotas", "Quitter", show=False, priority=True, system=True),
    ]

    def __init__(
        self,
        lotas: Lotas,
        settings: Settings,
        *,
        backend: Backend | None = None,
        config_file: Path | None = None,
        config_found: bool = False,
        demo: bool = False,
        draw_seed: bytes | None = None,
        entry_label: Callable[[DrawRecord], str] = default_entry_label,
        startup_notice: str = "",
        plugin_faults: list[str] | None = None,
        clipboard_commands: Sequence[ClipboardCommand] | None = None,
    ) -> None:
        super().__init__()
        #: French messages of the plugins left out at start (``Lotas.without_broken_plugins``).
        self.plugin_faults = list(plugin_faults or [])
        self.lotas = lotas
        self.settings = settings
        self.backend = backend or Backend(lotas)
        self.config_file = config_file
        self.config_found = config_found
        self.demo = demo
        #: A fixed seed (tests, snapshots); ``None`` draws a fresh one each time.
        self.draw_seed = draw_seed
        self.entry_label = entry_label
        #: The system clipboard commands tried after OSC 52 (tests inject their own).
        self.clipboard_commands = (
            list(clipboard_commands) if clipboard_commands is not None else platform_commands()
        )
        #: Passwords typed in "Paramétrage", per transport: kept in memory only.
        self.session_secrets: dict[str, dict[str, str]] = {}
        self.title = self.window_title
        #: Said once the screen is up (e.g. where the demo's transmissions go).
        self.startup_notice = startup_notice

    def on_mount(self) -> None:
        if self.startup_notice:
            self.notify(self.startup_notice, timeout=12, markup=False)
        if self.plugin_faults:
            self.call_after_refresh(self.show_plugin_faults)

    @property
    def window_title(self) -> str:
        """The campaign's title ("LOTAS PSY SMA 2021"), marked in demonstration mode."""
        return self.title_for(self.settings.finess or "")

    def title_for(self, finess: str) -> str:
        """The title bar: "(démonstration)" only while the demo establishment is shown."""
        from lotas_core.reading.demo import DEMO_FINESS

        title = self.backend.campaign_title(self.settings.campaign)
        return f"{title}  (démonstration)" if self.demo and finess == DEMO_FINESS else title

    def archive_folder(self, settings: Settings) -> Path:
        """The folder searched for archives with ``settings`` (the campaign's default or the
        chosen one)."""
        return self.backend.archive_folder(settings)

    def row_layout(self, record: DrawRecord | None) -> RowLayout:
        """The columns of a draw's table: its campaign's, or those of the configured campaign
        when there is no draw to show."""
        if record is None:
            return self.backend.row_layout(self.settings.campaign)
        return self.backend.row_layout(record.campaign_id, record.rows)


    def show_plugin_faults(self) -> None:
        """Name the plugins left out at start: lotas runs without them."""
        count = len(self.plugin_faults)
        title = "Plugin désactivé" if count == 1 else f"{count} plugins désactivés"
        text = "\n\n".join(self.plugin_faults)
        self.show_error_text(
            f"{text}\n\nlotas fonctionne sans {'lui' if count == 1 else 'eux'} jusqu'à ce "
            "qu'il soit corrigé ou désinstallé.", title)

    def _fatal_error(self) -> None:
        """An unhandled exception ends the screen: one French line, never local variables.

        Textual's own handler prints a Rich traceback with ``show_locals=True``; locals may hold
        patient identifiers or passwords. ``LOTAS_DEBUG=1`` shows the traceback, without locals.
        """
        import os

        from rich.segment import Segments
        from rich.text import Text
        from rich.traceback import Traceback

        self.bell()
        error = self._exception
        if os.environ.get("LOTAS_DEBUG") and error is not None:
            trace = Traceback.from_exception(type(error), error, error.__traceback__,
                                             show_locals=False, width=None)
            renderable: Any = Segments(self.console.render(trace, self.console.options))
        else:
            renderable = Text(FATAL_ERROR_FR.format(kind=type(error).__name__ if error else "?"))
        self._exit_renderables.append(renderable)
        self._close_messages_no_wait()

    def get_default_screen(self):  # type: ignore[no-untyped-def]
        from lotas_tui.screens.main import MainScreen

        return MainScreen()

    # -- shared services for the screens -------------------------------------------------------

    def export_folder(self) -> Path:
        """Where exports go by default: the home folder, else the data folder."""
        home = Path.home()
        return home if home.is_dir() else Path(self.settings.data_dir)

    def credentials_for(self, transport_name: str) -> Credentials:
        """Secrets typed this session for a transport (``None`` lets the core look elsewhere)."""
        from lotas_tui.credentials import session_credentials

        return session_credentials(self.session_secrets.get(transport_name))

    def funnel_labels(self, campaign_id: str) -> dict[str, str]:
        """The funnel labels of a campaign, from its rules (none if it is not installed)."""
        return self.backend.funnel_labels(campaign_id)

    def transport_title(self, name: str) -> str:
        """A transport's French title ("Connexion directe"), else its plugin name."""
        try:
            cls = self.backend.transports().get(name)
        except Exception:  # a broken plugin must not stop a dialog from showing
            cls = None
        return str(getattr(cls, "title_fr", None) or name)

    def open_settings(self) -> None:
        from lotas_tui.screens.settings import SettingsScreen

        def done(saved: bool | None) -> None:
            if saved:
                from lotas_tui.screens.main import MainScreen

                if isinstance(self.screen, MainScreen):
                    self.screen.apply_settings(self.settings)

        self.push_screen(SettingsScreen(), done)

    def get_key_display(self, binding: Binding) -> str:
        """Keys as a French keyboard names them in every key bar: "Échap", "Entrée",
        "Ctrl+S" (Textual writes "esc", "enter", "^s")."""
        if binding.key_display:
            return binding.key_display
        modifiers, key = binding.parse_key()
        name = KEY_NAMES_FR.get(key, key.upper() if len(key) > 1 and key[0] == "f" else key)
        if modifiers:
            name = "+".join([m.capitalize() for m in modifiers] + [name.upper()
                                                                     if len(name) == 1 else name])
        return name

    # -- quitting ------------------------------------------------------------------------------

    def action_quit_lotas(self) -> None:
        """Quit from any screen; the main window confirms while a task is running."""
        from lotas_tui.screens.main import MainScreen

        main = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
        if main is None:
            self.exit(0)
            return
        main.action_quit_app()

    def action_help_quit(self) -> None:
        self.action_quit_lotas()

    async def action_quit(self) -> None:
        self.action_quit_lotas()

    # -- errors --------------------------------------------------------------------------------

    def show_error_text(self, text: str, title: str = "Erreur",
                        then: Callable[[Any], None] | None = None) -> None:
        """An error dialog; ``then`` runs once it is closed (e.g. focus the faulty field)."""
        self.push_screen(MessageDialog(title, text, error=True), then)

    def show_error(self, error: BaseException, title: str = "Erreur") -> None:
        """A French dialog for any error: the LotasError's sentence, else a generic one."""
        from lotas_core.errors import LotasError
        from lotas_core.transmission.contract import TransportError

        if isinstance(error, TransportError):
            text = f"{error.message_fr}\n\n{TRANSPORT_HINT}"
        elif isinstance(error, LotasError):
            text = error.message_fr
        elif isinstance(error, OSError):
            from lotas_core.reasons import os_reason_fr

            where = f" ({error.filename})" if error.filename else ""
            text = f"L'opération n'a pas abouti : {os_reason_fr(error)}{where}."
        else:
            # Never str(error): a foreign message might quote a patient identifier.
            text = GENERIC_ERROR_FR.format(kind=type(error).__name__)
            self.log.error(f"worker failed: {type(error).__name__}")
        self.show_error_text(text, title)

    def handle_worker_state(self, event: Worker.StateChanged) -> None:
        """The one place where a failed worker becomes an error dialog (never a crash).

        Worker messages go to the screen that started the worker and do not bubble to the
        app, so every screen forwards them here.
        """
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.show_error(event.worker.error, ERROR_TITLES.get(event.worker.group, "Erreur"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.handle_worker_state(event)


def fault_texts(faults: list[PluginError]) -> list[str]:
    """What the start-up dialog says of each plugin left out."""
    return [f"{fault.user_message}\nLaissé de côté : « {fault.plugin} »." for fault in faults]


def create_app(
    settings: Settings,
    *,
    lotas: Lotas | None = None,
    config_file: Path | None = None,
    config_found: bool = False,
    demo: bool = False,
    **options: Any,
) -> LotasApp:
    """Build the app and its dependencies, the same way for ``lotas`` and for the tests.

    Without ``lotas``, the plugins are loaded leaving out any that fails; the app names them.
    """
    if lotas is None:
        from lotas_core.plugin_host.facade import Lotas

        lotas, faults = Lotas.without_broken_plugins(settings)
        options.setdefault("plugin_faults", fault_texts(faults))
    return LotasApp(
        lotas,
        settings,
        config_file=config_file,
        config_found=config_found,
        demo=demo,
        **options,
    )
