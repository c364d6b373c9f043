"""The manual's "Paramétrage ePop" tab: "Connexion directe" or "Utiliser un serveur epop".

Words and enabling rules are the manual's (``docs/ui.md``); the form's values are mapped
onto the transports' options models by ``lotas_tui.transport_fields``.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from lotas_core.transmission.addresses import address_problem
from lotas_tui.formatting import FieldError, parse_port
from lotas_tui.transport_fields import (
    DIRECT,
    DIRECT_FIELDS,
    DIRECT_PASSWORD_KEY,
    EPMSI_PASSWORD_KEY,
    EPOP,
    EPOP_DEFAULT_PORT,
    EPOP_FIELDS,
    read_form_values,
    write_form_values,
)
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

    def __init__(self, settings: Any, models: dict[str, Any], secrets: dict[str, str],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._direct = read_form_values(DIRECT_FIELDS, models.get(DIRECT),
                                        settings.transport_options(DIRECT))
        self._epop = read_form_values(EPOP_FIELDS, models.get(EPOP),
                                      settings.transport_options(EPOP))
        self._secrets = secrets
        mode = settings.transport_options(DIRECT).get("proxy_mode")
        self._proxy_hint = "proxy du système" if mode == "system" else ""

    def compose(self) -> ComposeResult:
        settings, direct, epop, secrets = self._settings, self._direct, self._epop, self._secrets
        with Choice(id="mode", compact=True):
            yield Radio("Connexion directe", id="mode-direct", compact=True,
                              value=settings.transport.name != EPOP)
            yield Radio("Utiliser un serveur epop", id="mode-epop",
                              compact=True, value=settings.transport.name == EPOP)
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
                                      secrets.get(DIRECT_PASSWORD_KEY), password=True)
            with Vertical(id="epmsi-account", classes="subbox") as box:
                box.border_title = "Compte e-PMSI (propre à lotas)"
                with Horizontal(classes="line"):
                    yield from _field("Adresse du service :", "base-url", direct.get("base_url"))
                with Horizontal(classes="line"):
                    yield from _field("Identifiant e-PMSI :", "epmsi-user",
                                      direct.get("epmsi_user"))
                    yield from _field("Mot de passe :", "epmsi-password",
                                      secrets.get(EPMSI_PASSWORD_KEY), password=True)
            yield Button("Tester", id="test-direct", compact=True,
                         classes="test-button")
        with Vertical(id="epop-form", classes="transport-form"):
            with Horizontal(classes="line"):
                yield from _field("Adresse IP du serveur :", "epop-host", epop.get("host"))
                yield from _field("N° du port à utiliser :", "epop-port",
                                  epop.get("port") or EPOP_DEFAULT_PORT, max_length=6)
                yield Button("Défaut", id="epop-default", compact=True)
            yield Box("Crypter la transmission vers le serveur e-POP",
                           bool(epop.get("encrypt")), id="epop-encrypt",
                           compact=True)
            yield Button("Tester", id="test-epop", compact=True,
                         classes="test-button")
        yield Static("", id="test-result", markup=False)

    def on_mount(self) -> None:
        self._refresh_enabled()

    # -- enabling, as the manual says ----------------------------------------------------------

    def mode(self) -> str:
        """The chosen transport: ``transport_epop`` or ``transport_direct``."""
        return EPOP if self.query_one("#mode-epop", RadioButton).value else DIRECT

    def _refresh_enabled(self) -> None:
        epop = self.mode() == EPOP
        self.query_one("#direct-form").display = not epop
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
        """The manual's "Défaut": put the e-POP port 3358 back."""
        self.query_one("#epop-port", Input).value = str(EPOP_DEFAULT_PORT)

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

    def read(self, options: dict[str, dict[str, Any]], secrets: dict[str, dict[str, str]],
             models: dict[str, Any]) -> str:
        """Write the form into ``options`` and ``secrets``; the chosen transport's name.

        Raises ``ValueError`` with a French sentence (bad port, missing proxy or server).
        """
        use_proxy = self.query_one("#use-proxy", Checkbox).value
        use_auth = use_proxy and self.query_one("#use-auth", Checkbox).value
        previous_mode = options.get(DIRECT, {}).get("proxy_mode")
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
        if use_proxy and (host or port_text.strip() or previous_mode != "system"):
            if not host:
                raise FieldError("Indiquez le nom du proxy (ou décochez « Utiliser un proxy »).",
                                 "#proxy-host")
            direct.update(use_proxy="manual", proxy_host=host, proxy_port=self._port("#proxy-port"))
        if use_auth:
            direct["proxy_user"] = self.query_one("#proxy-user", Input).value.strip()
            if not direct["proxy_user"]:
                raise FieldError(
                    "Indiquez l'utilisateur du proxy (ou décochez « Utiliser une authentification "
                    "par mot de passe »).", "#proxy-user")
        direct_secrets = secrets.setdefault(DIRECT, {})
        password = self.query_one("#proxy-password", Input).value
        if use_auth and password:
            direct_secrets[DIRECT_PASSWORD_KEY] = password
        epmsi_password = self.query_one("#epmsi-password", Input).value
        if epmsi_password:
            direct_secrets[EPMSI_PASSWORD_KEY] = epmsi_password
        options[DIRECT] = write_form_values(
            DIRECT_FIELDS, models.get(DIRECT), options.get(DIRECT, {}), direct
        )

        epop_port = self._port("#epop-port")
        epop = {
            "host": self.query_one("#epop-host", Input).value.strip(),
            "port": epop_port,
            "encrypt": self.query_one("#epop-encrypt", Checkbox).value,
        }
        if self.mode() == EPOP and not epop["host"]:
            raise FieldError("Indiquez l'adresse IP du serveur e-POP.", "#epop-host")
        problem = address_problem(epop["host"]) if epop["host"] else None
        if problem is not None:
            raise FieldError(f"Adresse IP du serveur invalide « {epop['host']} » : {problem}.",
                             "#epop-host")
        if epop["host"]:
            options[EPOP] = write_form_values(
                EPOP_FIELDS, models.get(EPOP), options.get(EPOP, {}), epop
            )
        return self.mode()
