"""The manual's "Paramétrage ePop" tab: "Connexion directe" or "Utiliser un serveur epop".

Words and enabling rules are the manual's (``docs/ui.md``); the form's values are mapped
onto the options of the transports declaring each mode (``Transport.manual_form``, found by
``lotas_tui.transport_fields``); a mode no installed transport declares is not shown.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from lotas_core.errors import LotasError
from lotas_core.transmission.addresses import address_problem
from lotas_tui.formatting import FieldError, parse_port
from lotas_tui.transport_fields import DIRECT_ROLE, RELAY_ROLE, FormMode
from lotas_tui.widgets.toggles import Box, Choice, Radio


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _field(label: str, widget_id: str, value: Any, **options: Any) -> ComposeResult:
    """A label and its one-line field, as the manual places them."""
    yield Label(label, classes="field-label")
    yield Input(_text(value), id=widget_id, compact=True, **options)


class EpopForm(VerticalScroll):
    """The two forms of the manual, one shown at a time, and the "Tester" result."""

    #: Not a Tab stop of its own: its fields are (focusing one scrolls it into view).
    can_focus = False

    def __init__(self, settings: Any, modes: dict[str, FormMode],
                 secrets: dict[str, dict[str, str]], backend: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._modes = modes
        self._backend = backend
        self._direct_mode = modes.get(DIRECT_ROLE)
        self._relay_mode = modes.get(RELAY_ROLE)
        self._direct = self._direct_mode.values if self._direct_mode else {}
        self._epop = self._relay_mode.values if self._relay_mode else {}
        direct_secrets = secrets.get(self._direct_mode.transport, {}) if self._direct_mode else {}
        self._secrets = {key: direct_secrets.get(self._secret_key(key) or "", "")
                         for key in ("proxy_password", "epmsi_password")}
        self._proxy_hint = self._direct_mode.hints.get("use_proxy", "") if self._direct_mode else ""
        port = self._relay_mode.declaration.default_port if self._relay_mode else None
        self._default_port = port

    def _secret_key(self, password_field: str) -> str | None:
        return self._direct_mode.secret_key(password_field) if self._direct_mode else None

    def compose(self) -> ComposeResult:
        direct, epop, secrets = self._direct, self._epop, self._secrets
        with Choice(id="mode", compact=True):
            yield Radio("Connexion directe", id="mode-direct", compact=True,
                        value=not self._relay_chosen())
            yield Radio("Utiliser un serveur epop", id="mode-epop",
                        compact=True, value=self._relay_chosen())
        with Vertical(id="direct-form", classes="transport-form"):
            yield Box("Utiliser un proxy pour se connecter à ePMSI",
                           bool(direct.get("use_proxy")), id="use-proxy",
                           compact=True)
            with Vertical(id="proxy-fields", classes="indent"):
                with Horizontal(classes="line"):
                    yield from _field("Nom du proxy :", "proxy-host", direct.get("proxy_host"),
                                      placeholder=self._proxy_hint)
                    yield from _field("N° du port à utiliser :", "proxy-port",
                                      direct.get("proxy_port"), max_length=6)
                yield Button("Importer les paramètres de proxy", id="import-proxy",
                             compact=True)
                yield Box("Utiliser une authentification par mot de passe",
                               bool(direct.get("use_auth")), id="use-auth",
                               compact=True)
                with Horizontal(classes="line indent", id="auth-fields"):
                    yield from _field("Utilisateur :", "proxy-user", direct.get("proxy_user"))
                    yield from _field("Mot de passe :", "proxy-password",
                                      secrets.get("proxy_password"), password=True)
            with Vertical(id="epmsi-account", classes="subbox") as box:
                box.border_title = "Compte e-PMSI (propre à lotas)"
                with Horizontal(classes="line"):
                    yield from _field("Adresse du service :", "base-url", direct.get("base_url"))
                with Horizontal(classes="line"):
                    yield from _field("Identifiant e-PMSI :", "epmsi-user",
                                      direct.get("epmsi_user"))
                    yield from _field("Mot de passe :", "epmsi-password",
                                      secrets.get("epmsi_password"), password=True)
            yield Button("Tester", id="test-direct", compact=True,
                         classes="test-button")
        with Vertical(id="epop-form", classes="transport-form"):
            with Horizontal(classes="line"):
                yield from _field("Adresse IP du serveur :", "epop-host", epop.get("host"))
                yield from _field("N° du port à utiliser :", "epop-port",
                                  epop.get("port") or self._default_port or "", max_length=6)
                yield Button("Défaut", id="epop-default", compact=True)
            yield Box("Crypter la transmission vers le serveur e-POP",
                           bool(epop.get("encrypt")), id="epop-encrypt",
                           compact=True)
            yield Button("Tester", id="test-epop", compact=True,
                         classes="test-button")
        yield Static("", id="test-result", markup=False)

    def on_mount(self) -> None:
        # Only the modes an installed transport declares are offered.
        self.query_one("#mode-direct").display = self._direct_mode is not None
        self.query_one("#mode-epop").display = self._relay_mode is not None
        self.query_one("#mode").display = len(self._modes) > 1
        self.query_one("#epop-default").display = self._default_port is not None
        self._refresh_enabled()

    def _relay_chosen(self) -> bool:
        """The relay mode is chosen when its transport is the chosen one (or the only mode)."""
        if self._relay_mode is None:
            return False
        return (self._direct_mode is None
                or self._settings.transport.name == self._relay_mode.transport)

    # -- enabling, as the manual says ----------------------------------------------------------

    def _relay_shown(self) -> bool:
        return self.query_one("#mode-epop", RadioButton).value and self._relay_mode is not None

    def mode(self) -> str:
        """The chosen transport: the one declaring the mode shown (when no installed transport
        declares a mode, the one in the settings, unchanged)."""
        chosen = self._relay_mode if self._relay_shown() else self._direct_mode
        return chosen.transport if chosen is not None else str(self._settings.transport.name)

    def _refresh_enabled(self) -> None:
        epop = self._relay_shown()
        self.query_one("#direct-form").display = not epop and self._direct_mode is not None
        self.query_one("#epop-form").display = epop
        use_proxy = self.query_one("#use-proxy", Checkbox).value
        for widget_id in ("#proxy-host", "#proxy-port", "#import-proxy", "#use-auth"):
            self.query_one(widget_id).disabled = not use_proxy
        use_auth = use_proxy and self.query_one("#use-auth", Checkbox).value
        for widget_id in ("#proxy-user", "#proxy-password"):
            self.query_one(widget_id).disabled = not use_auth

    @on(RadioSet.Changed, "#mode")
    @on(Checkbox.Changed, "#use-proxy, #use-auth")
    def _form_changed(self) -> None:
        self._refresh_enabled()
        self.show_result(None, "")

    def clear_error(self) -> None:
        """Forget an error line once a field changed (it may be fixed): no stale errors."""
        result = self.query_one("#test-result", Static)
        if result.has_class("form-error"):
            self.show_result(None, "")

    def show_result(self, ok: bool | None, text: str) -> None:
        """The test result, in green, or the manual's error sentence, in red."""
        result = self.query_one("#test-result", Static)
        result.set_class(ok is True, "form-ok")
        result.set_class(ok is False, "form-error")
        result.update(text)

    def default_port(self) -> None:
        """The manual's "Défaut": put the relay's default port (3358 for e-POP) back."""
        if self._default_port is not None:
            self.query_one("#epop-port", Input).value = str(self._default_port)

    def proxy_imported(self, host: str, port: int | None) -> None:
        """Fill the proxy fields from "Importer les paramètres de proxy"."""
        if not host:
            self.show_result(False, "Aucun proxy n'est défini sur cet ordinateur.")
            return
        # An imported proxy is a proxy to use: tick the box, or saving would drop it.
        with self.prevent(Checkbox.Changed):
            self.query_one("#use-proxy", Checkbox).value = True
        self._refresh_enabled()
        self.query_one("#proxy-host", Input).value = host
        if port:
            self.query_one("#proxy-port", Input).value = str(port)
        self.show_result(True, f"Proxy importé : {host}:{port or ''} "
                               "(« Utiliser un proxy » est coché).")

    # -- reading -------------------------------------------------------------------------------

    def _port(self, field: str) -> int:
        try:
            return parse_port(self.query_one(field, Input).value)
        except ValueError as exc:
            raise FieldError(str(exc), field) from None

    def read(self, options: dict[str, dict[str, Any]],
             secrets: dict[str, dict[str, str]]) -> str:
        """Write the form into ``options`` and ``secrets``; the chosen transport's name.

        Raises ``ValueError`` with a French sentence (bad port, missing proxy or server).
        """
        if self._direct_mode is not None:
            self._read_direct(self._direct_mode, options, secrets)
        if self._relay_mode is not None:
            self._read_relay(self._relay_mode, options)
        return self.mode()

    def _to_options(self, mode: FormMode, options: dict[str, dict[str, Any]],
                    values: dict[str, Any]) -> None:
        try:
            options[mode.transport] = self._backend.form_options(
                mode.transport, options.get(mode.transport, {}), values)
        except LotasError as exc:  # the transport's converter failed: said, never a crash
            raise FieldError(exc.message_fr) from None

    def _read_direct(self, mode: FormMode, options: dict[str, dict[str, Any]],
                     secrets: dict[str, dict[str, str]]) -> None:
        use_proxy = self.query_one("#use-proxy", Checkbox).value
        use_auth = use_proxy and self.query_one("#use-auth", Checkbox).value
        direct: dict[str, Any] = {
            "use_proxy": use_proxy,
            "use_auth": use_auth,
            "base_url": self.query_one("#base-url", Input).value.strip() or None,
            "epmsi_user": self.query_one("#epmsi-user", Input).value.strip(),
        }
        if direct["base_url"] is None:
            del direct["base_url"]
        host = self.query_one("#proxy-host", Input).value.strip()
        port_text = self.query_one("#proxy-port", Input).value
        # A stored proxy the form cannot show (the system's) needs no name nor port.
        if use_proxy and (host or port_text.strip() or not self._proxy_hint):
            if not host:
                raise FieldError("Indiquez le nom du proxy (ou décochez « Utiliser un proxy »).",
                                 "#proxy-host")
            direct.update(proxy_host=host, proxy_port=self._port("#proxy-port"))
        if use_auth:
            direct["proxy_user"] = self.query_one("#proxy-user", Input).value.strip()
            if not direct["proxy_user"]:
                raise FieldError(
                    "Indiquez l'utilisateur du proxy (ou décochez « Utiliser une authentification "
                    "par mot de passe »).", "#proxy-user")
        direct_secrets = secrets.setdefault(mode.transport, {})
        password = self.query_one("#proxy-password", Input).value
        proxy_key = mode.secret_key("proxy_password")
        if use_auth and password and proxy_key:
            direct_secrets[proxy_key] = password
        epmsi_password = self.query_one("#epmsi-password", Input).value
        epmsi_key = mode.secret_key("epmsi_password")
        if epmsi_password and epmsi_key:
            direct_secrets[epmsi_key] = epmsi_password
        self._to_options(mode, options, direct)

    def _read_relay(self, mode: FormMode, options: dict[str, dict[str, Any]]) -> None:
        epop_port = self._port("#epop-port")
        epop = {
            "host": self.query_one("#epop-host", Input).value.strip(),
            "port": epop_port,
            "encrypt": self.query_one("#epop-encrypt", Checkbox).value,
        }
        if self._relay_shown() and not epop["host"]:
            raise FieldError("Indiquez l'adresse IP du serveur e-POP.", "#epop-host")
        problem = address_problem(epop["host"]) if epop["host"] else None
        if problem is not None:
            raise FieldError(f"Adresse IP du serveur invalide « {epop['host']} » : {problem}.",
                             "#epop-host")
        if epop["host"]:
            self._to_options(mode, options, epop)
