"""The "Paramétrage" window: the establishment, the manual's "Paramétrage ePop" tab, and one tab
per third-party transport with a form generated from its options model.

Saving validates everything first (FINESS, ports 1-65535, each transport's options model) and
shows a French sentence for what is wrong; passwords stay in memory for this session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState

from lotas_core.transmission.contract import IMPORT_PROXY_ACTION
from lotas_tui.formatting import OPTIONS_MODEL_FAILED_FR, FieldError, validation_error_fr
from lotas_tui.messages import CertificateToTrust, ConnectionTested, ProxyImported
from lotas_tui.transport_fields import DIRECT_ROLE, FormMode, form_modes
from lotas_tui.widgets.dialogs import ConfirmDialog
from lotas_tui.widgets.epop_form import EpopForm
from lotas_tui.widgets.options_form import OptionsForm
from lotas_tui.widgets.toggles import Box, Choice, Radio

if TYPE_CHECKING:
    from lotas_tui.app import LotasApp


class SettingsScreen(Screen[bool]):
    """Dismisses with ``True`` when the settings were saved."""

    AUTO_FOCUS = "#settings-tabs ContentTabs"
    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer"),
        Binding("ctrl+t", "test", "Tester"),
        Binding("ctrl+g", "default_port", "Port par défaut"),
        Binding("ctrl+r", "import_proxy", "Importer le proxy"),
        Binding("escape", "close", "Fermer"),
    ]

    def __init__(self) -> None:
        super().__init__(id="settings")
        self._third_party: dict[str, type] = {}
        #: Role of the manual's form -> its mode (the transport declaring it).
        self._modes: dict[str, FormMode] = {}
        #: The form's values when an error line was shown (None: no error shown).
        self._error_state: tuple[tuple[str, object], ...] | None = None

    @property
    def lotas_app(self) -> LotasApp:
        return self.app  # type: ignore[return-value]

    def _transports(self) -> dict[str, type]:
        try:
            return self.lotas_app.backend.transports()
        except Exception:  # a broken plugin must not close the settings screen
            return {}

    def _models(self) -> dict[str, Any]:
        return {name: getattr(cls, "options_model", None)
                for name, cls in self._transports().items()}

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        settings = self.lotas_app.settings
        models = self._models()
        self._modes = form_modes(self.lotas_app.backend, settings)
        in_form = {mode.transport for mode in self._modes.values()}
        self._third_party = {n: c for n, c in self._transports().items() if n not in in_form}
        secrets = self.lotas_app.session_secrets
        yield Static("Paramétrage", id="settings-title", markup=False)
        with TabbedContent(id="settings-tabs", initial="tab-epop"):
            with TabPane("Établissement", id="tab-establishment"):
                # Not a Tab stop of its own: the first Tab lands on the FINESS field.
                with VerticalScroll(can_focus=False):
                    with Horizontal(classes="line"):
                        yield Label("FINESS :", classes="field-label")
                        yield Input(settings.finess or "", id="set-finess", max_length=9,
                                    compact=True, placeholder="9 caractères")
                    with Choice(id="set-financing", compact=True):
                        yield Radio("DGF", value=settings.financing != "OQN",
                                          id="set-dgf", compact=True)
                        yield Radio("OQN", value=settings.financing == "OQN",
                                          id="set-oqn", compact=True)
                    yield Box(
                        "Copier le tirage dans le presse-papier dès qu'il est fait",
                        settings.ui.copy_after_draw, id="set-copy-after-draw", compact=True,
                    )
                    yield Static(self._where_text(), id="config-where", markup=False)
            with TabPane("Paramétrage ePop", id="tab-epop"):
                yield EpopForm(settings, self._modes, secrets, self.lotas_app.backend, id="epop")
            for name, cls in self._third_party.items():
                title = getattr(cls, "title_fr", name)
                with TabPane(str(title), id=f"tab-tp-{name}"):
                    with VerticalScroll(can_focus=False):
                        if models.get(name) is not None:
                            yield OptionsForm(models[name], settings.transport_options(name),
                                              id=f"form-{name}")
                        yield Box("Transmettre avec ce transport",
                                       settings.transport.name == name, id=f"use-{name}",
                                       compact=True, classes="use-transport")
                        yield Button("Tester", id=f"test-tp-{name}", compact=True,
                                     classes="test-button")
                        yield Static("", id=f"test-result-{name}", markup=False,
                                     classes="test-result")
        yield Static("", id="settings-error", markup=False)
        yield Static("", id="keyring-note", markup=False)
        with Horizontal(id="settings-buttons"):
            yield Box("Mémoriser les mots de passe dans le trousseau du système",
                           False, id="remember", compact=True)
            yield Button("Enregistrer", id="save", variant="primary", compact=True)
            yield Button("Fermer", id="close", compact=True)
        yield Footer(compact=True)

    def _where_text(self) -> str:
        app = self.lotas_app
        path = app.config_file or "?"
        state = "" if app.config_found else " (pas encore créé)"
        archives = app.settings.archives
        folder = ("emplacement par défaut, " if archives.use_default else "") + str(
            app.archive_folder(app.settings))
        return (
            f"Dossier des archives PIVOINE : {folder}\n"
            "(choisi dans la fenêtre principale ; « Enregistrer » l'enregistre aussi)\n"
            f"Fichier de paramètres : {path}{state}\nDonnées : {app.settings.data_dir}"
        )

    # -- keeping the form honest ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Ctrl+R and Ctrl+G act only while their buttons are on screen and enabled."""
        if action not in ("import_proxy", "default_port"):
            return True
        tabs = self.query("#settings-tabs").results(TabbedContent)
        forms = self.query(EpopForm).results(EpopForm)
        tab, form = next(tabs, None), next(forms, None)
        if tab is None or form is None or tab.active != "tab-epop":
            return False
        button = form.query_one("#import-proxy" if action == "import_proxy" else "#epop-default")
        return bool(button.display and not button.disabled and form.query_one(
            "#direct-form" if action == "import_proxy" else "#epop-form").display)

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(RadioSet.Changed)
    @on(TabbedContent.TabActivated)
    def _form_changed(self) -> None:
        """A field changed: error lines about the old values go, the key bar follows."""
        self.refresh_bindings()
        # Compared with the values the errors were about: a change message that arrives late
        # for a value set before the error must not wipe it.
        if self._error_state is None or self._form_state() == self._error_state:
            return
        self._error_state = None
        self._show_error("")
        for form in self.query(EpopForm).results(EpopForm):
            form.clear_error()
        for line in self.query(".test-result.form-error").results(Static):
            line.update("")
            line.remove_class("form-error")

    def _form_state(self) -> tuple[tuple[str, object], ...]:
        """Every field's value (and the tab shown), to tell whether the form changed."""
        values: list[tuple[str, object]] = []
        for widget in self.query("Input, ToggleButton"):
            values.append((widget.id or "", getattr(widget, "value", None)))
        return tuple(values)

    def _errors_shown(self) -> None:
        """An error line is on screen: remember the values it is about."""
        self._error_state = self._form_state()

    @on(Checkbox.Changed, "#remember")
    def _remember_changed(self, event: Checkbox.Changed) -> None:
        from lotas_core.transmission.credentials import keyring_available

        note = self.query_one("#keyring-note", Static)
        if event.value and not keyring_available():
            note.update("Aucun trousseau du système n'est disponible sur ce poste : les mots de "
                        "passe seront oubliés à la fermeture de lotas.")
        else:
            note.update("")

    @on(Checkbox.Changed, ".use-transport")
    def _use_transport_changed(self, event: Checkbox.Changed) -> None:
        if event.value:  # only one third-party transport may be chosen
            for box in self.query(".use-transport").results(Checkbox):
                if box is not event.checkbox:
                    box.value = False

    # -- reading and validating the form -------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.query_one("#settings-error", Static).update(text)
        if text:
            self._errors_shown()

    def _focus_field(self, error: ValueError) -> None:
        """Show the tab of the field the error is about, and put the cursor in it."""
        field = getattr(error, "field", None)
        widgets = list(self.query(field)) if field else []
        if not widgets:
            return
        pane = next((node for node in widgets[0].ancestors if isinstance(node, TabPane)), None)
        if pane is not None and pane.id:
            self.query_one("#settings-tabs", TabbedContent).active = pane.id
        widgets[0].focus()

    def _test_target(self) -> str:
        """The transport "Tester" checks: the third-party tab shown, else the manual's choice."""
        active = self.query_one("#settings-tabs", TabbedContent).active
        name = active.removeprefix("tab-tp-")
        return name if name in self._third_party else self.query_one(EpopForm).mode()

    def _show_test_result(self, ok: bool | None, text: str, transport: str = "") -> None:
        if ok is False:
            self._errors_shown()
        if transport not in self._third_party:
            self.query_one(EpopForm).show_result(ok, text)
            return
        result = self.query_one(f"#test-result-{transport}", Static)
        result.set_class(ok is True, "form-ok")
        result.set_class(ok is False, "form-error")
        result.update(text)
        if ok is False:
            self._errors_shown()

    def build_settings(self) -> tuple[Any, dict[str, dict[str, str]]]:
        """New settings and session secrets from the form, or ``ValueError`` in French."""
        from lotas_core.settings import validate_finess

        settings = self.lotas_app.settings
        models = self._models()
        finess_text = self.query_one("#set-finess", Input).value.strip()
        finess = None
        if finess_text:
            try:
                finess = validate_finess(finess_text)
            except ValueError as exc:
                raise FieldError(f"{exc} (reçu : « {finess_text} »).", "#set-finess") from None
        options = {name: dict(values) for name, values in settings.transport.options.items()}
        secrets = {name: dict(values) for name, values in self.lotas_app.session_secrets.items()}

        name = self.query_one(EpopForm).read(options, secrets)
        for tp_name in self._third_party:
            forms = list(self.query(f"#form-{tp_name}").results(OptionsForm))
            if forms:
                form = forms[0]
                values, tp_secrets = form.validated()
                options[tp_name] = values
                if tp_secrets:
                    secrets[tp_name] = tp_secrets
            if self.query_one(f"#use-{tp_name}", Checkbox).value:
                name = tp_name
        if name in {mode.transport for mode in self._modes.values()}:
            self._check_model(models.get(name), options.get(name, {}), secrets.get(name))

        transport = settings.transport.model_copy(update={"name": name, "options": options})
        ui = settings.ui.model_copy(
            update={"copy_after_draw": self.query_one("#set-copy-after-draw", Checkbox).value}
        )
        financing = "OQN" if self.query_one("#set-oqn", RadioButton).value else "DGF"
        new = settings.model_copy(
            update={"finess": finess, "financing": financing, "transport": transport, "ui": ui}
        )
        return new, secrets

    @staticmethod
    def _check_model(model: Any, options: dict[str, Any], secrets: dict[str, str] | None) -> None:
        if model is None:
            return
        from pydantic import ValidationError

        try:
            model.model_validate({**options, **(secrets or {})})
        except ValidationError as exc:
            raise FieldError(validation_error_fr(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a plugin's model: never stops the screen
            raise FieldError(OPTIONS_MODEL_FAILED_FR.format(kind=type(exc).__name__)) from exc

    # -- actions -------------------------------------------------------------------------------

    def action_save(self) -> None:
        try:
            settings, secrets = self.build_settings()
        except ValueError as exc:
            self._show_error(str(exc))
            self._focus_field(exc)
            return
        from lotas_core.settings import save_settings

        path = save_settings(settings, self.lotas_app.config_file)
        stored: list[str] = []
        if self.query_one("#remember", Checkbox).value:
            from lotas_tui.credentials import offer_to_keyring

            for values in secrets.values():
                stored += offer_to_keyring(values)
        self.lotas_app.settings = settings
        self.lotas_app.session_secrets = secrets
        self.lotas_app.config_file = path
        self.lotas_app.config_found = True
        self._show_error("")
        typed = any(values for values in secrets.values())
        if stored:
            where = " ; mots de passe gardés dans le trousseau du système"
        elif typed and self.query_one("#remember", Checkbox).value:
            where = " ; aucun trousseau disponible : mots de passe oubliés à la fermeture"
        elif typed:
            where = " ; mots de passe gardés jusqu'à la fermeture de lotas"
        else:
            where = ""
        self.notify(f"Paramètres enregistrés dans {path} (sans les mots de passe{where}).",
                    markup=False)
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)

    def action_test(self) -> None:
        name = self._test_target()
        try:
            settings, secrets = self.build_settings()
        except ValueError as exc:
            self._show_test_result(False, str(exc), name)
            self._focus_field(exc)
            return
        self._show_test_result(None, "Test de connexion en cours…", name)
        from lotas_tui.credentials import session_credentials

        self.run_test(settings, name, session_credentials(secrets.get(name)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="test-connection")
    def run_test(self, settings: Any, name: str, credentials: Any) -> None:
        from lotas_core.errors import LotasError
        from lotas_core.transmission.contract import UntrustedCertificate

        try:
            text = self.lotas_app.backend.test_connection(settings, name, credentials)
        except UntrustedCertificate as exc:  # "Crypter" ticked, nothing trusted yet: ask
            self.post_message(CertificateToTrust(name, exc.option, exc.fingerprint,
                                                 exc.message_fr))
            return
        except LotasError as exc:
            self.post_message(ConnectionTested(False, exc.message_fr, name))
            return
        self.post_message(ConnectionTested(True, text, name))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "test-connection" and event.state == WorkerState.ERROR:
            self._show_test_result(False, "Le test n'a pas abouti.", self._test_target())
        self.lotas_app.handle_worker_state(event)

    def on_connection_tested(self, message: ConnectionTested) -> None:
        self._show_test_result(message.ok, message.text, message.transport)

    def on_certificate_to_trust(self, message: CertificateToTrust) -> None:
        """Show the relay certificate's fingerprint and ask whether to trust it."""
        self._show_test_result(None, message.text, message.transport)
        question = (
            "Le serveur présente un certificat d'empreinte SHA-256 :\n\n"
            f"{message.fingerprint}\n\n"
            "Comparez-la avec celle que donne l'administrateur du serveur (« lotas epop-server » "
            "l'affiche au démarrage). Faire confiance à ce certificat ? L'empreinte sera "
            "enregistrée dans les paramètres ; un autre certificat sera ensuite refusé."
        )

        def done(answer: bool | None) -> None:
            if answer:
                self._trust(message)
            else:
                self._show_test_result(
                    False, "Certificat non approuvé : rien n'a été envoyé. Vérifiez l'empreinte "
                    "auprès de l'administrateur, ou décochez « Crypter ».", message.transport)

        self.app.push_screen(ConfirmDialog("Certificat du serveur", question), done)

    def _trust(self, message: CertificateToTrust) -> None:
        """Store the trusted fingerprint (file and this session), then test again."""
        from lotas_core.errors import LotasError

        app = self.lotas_app
        try:
            path = app.backend.trust_certificate(app.config_file, message.transport,
                                                 message.option, message.fingerprint)
        except (LotasError, OSError) as exc:
            text = exc.message_fr if isinstance(exc, LotasError) else str(exc.strerror or exc)
            self._show_test_result(False, f"Empreinte non enregistrée : {text}",
                                   message.transport)
            return
        options = {name: dict(values) for name, values in app.settings.transport.options.items()}
        options.setdefault(message.transport, {})[message.option] = message.fingerprint
        transport = app.settings.transport.model_copy(update={"options": options})
        app.settings = app.settings.model_copy(update={"transport": transport})
        app.config_file, app.config_found = path, True
        self.notify(f"Certificat approuvé ; empreinte enregistrée dans {path}.", markup=False)
        self.action_test()

    def action_import_proxy(self) -> None:
        self.run_import_proxy()

    @work(thread=True, exclusive=True, exit_on_error=False, group="import-proxy")
    def run_import_proxy(self) -> None:
        """The direct-mode transport's own "import-proxy" action (``Transport.actions``)."""
        backend = self.lotas_app.backend
        mode = self._modes.get(DIRECT_ROLE)
        if mode is None:
            return
        found = backend.run_transport_action(mode.transport, IMPORT_PROXY_ACTION)
        names = mode.declaration.fields
        host = str(found.get(names.get("proxy_host", ""), "") or "")
        port = found.get(names.get("proxy_port", ""))
        self.post_message(ProxyImported(host, int(port) if port else None))

    def on_proxy_imported(self, message: ProxyImported) -> None:
        self.query_one(EpopForm).proxy_imported(message.host, message.port)
        if not message.host:
            self._errors_shown()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        event.stop()
        if button == "save":
            self.action_save()
        elif button == "close":
            self.action_close()
        elif button in ("test-direct", "test-epop") or button.startswith("test-tp-"):
            self.action_test()
        elif button == "import-proxy":
            self.action_import_proxy()
        elif button == "epop-default":
            self.action_default_port()

    def action_default_port(self) -> None:
        self.query_one(EpopForm).default_port()
