"""The manual's "Paramétrage ePop" form shows the modes the installed transports declare
(``Transport.manual_form``), whatever their names."""

from __future__ import annotations

import asyncio
import tomllib

import pytest
from pydantic import BaseModel, Field
from textual.widgets import Checkbox, Input, RadioButton

from lotas_core.errors import UsageError
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.transmission.contract import (
    DIRECT_ROLE,
    RELAY_ROLE,
    ManualForm,
    Receipt,
    Transport,
)
from lotas_tui.screens.main import MainScreen
from lotas_tui.screens.settings import SettingsScreen


class DoveOptions(BaseModel):
    adresse: str = Field("", description="Adresse du pigeonnier")
    porte: int = Field(4444, ge=1, le=65535, description="Porte")
    chiffrer: bool = Field(False, description="Chiffrer")


class DoveRelay(Transport):
    name = "colombe"
    title_fr = "Relais colombe"
    options_model = DoveOptions
    manual_form = ManualForm(RELAY_ROLE, {"host": "adresse", "port": "porte",
                                          "encrypt": "chiffrer"}, default_port=4444)

    def check(self) -> str:  # pragma: no cover - not tested here
        return "ok"

    def send(self, payload):  # pragma: no cover - not sent here
        return Receipt(self.name, "R-1", payload.sha256)


class Pigeon(DoveRelay):
    """A transport that declares no mode of the manual's form: a tab of its own."""

    name = "pigeon"
    title_fr = "Pigeon"
    manual_form = None


def plugin_of(*classes: type[Transport]) -> object:
    class Plugin:
        @hookimpl
        def lotas_register_transports(self, register):
            for cls in classes:
                register(cls)

    return Plugin()


def open_settings(app, pilot):
    async def opened() -> SettingsScreen:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        return app.screen

    return opened()


def test_a_third_party_relay_takes_the_relay_mode_under_its_own_name(demo_settings,
                                                                     config_file):
    from lotas_tui.app import create_app

    # lotas's own relay left out: the dove relay declares the relay role instead.
    lotas = Lotas(get_plugin_manager(["transport_epop"],
                                     extra_plugins=[("colombe", plugin_of(DoveRelay))]))

    async def scenario() -> None:
        app = create_app(demo_settings, lotas=lotas, config_file=config_file)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_settings(app, pilot)
            assert not list(screen.query("#tab-tp-colombe"))  # in the manual's form instead
            relay = screen.query_one("#mode-epop", RadioButton)
            assert relay.display and screen.query_one("#mode-direct").display
            relay.value = True
            await pilot.pause()
            port = screen.query_one("#epop-port", Input)
            assert screen.query_one("#epop-form").display and port.value == "4444"
            port.value = "1"
            await pilot.press("ctrl+g")
            await pilot.pause()
            assert port.value == "4444"
            screen.query_one("#epop-host", Input).value = "10.1.2.3"
            screen.query_one("#epop-encrypt", Checkbox).value = True
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        saved = tomllib.loads(config_file.read_text(encoding="utf-8"))
        assert saved["transport"]["name"] == "colombe"
        assert saved["transport"]["options"]["colombe"] == {
            "adresse": "10.1.2.3", "porte": 4444, "chiffrer": True}

    asyncio.run(scenario())


def test_only_the_declared_modes_are_shown(demo_settings, config_file):
    """No transport declares a mode: the manual's form offers none and the screen still saves
    a transport without a declaration (in its own tab)."""
    from lotas_tui.app import create_app

    lotas = Lotas(get_plugin_manager(["transport_epop", "transport_direct"],
                                     extra_plugins=[("pigeon", plugin_of(Pigeon))]))

    async def scenario() -> None:
        app = create_app(demo_settings, lotas=lotas, config_file=config_file)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_settings(app, pilot)
            for widget in ("#mode", "#direct-form", "#epop-form"):
                assert not screen.query_one(widget).display, widget
            screen.query_one("#settings-tabs").active = "tab-tp-pigeon"
            await pilot.pause()
            screen.query_one("#form-pigeon-adresse", Input).value = "Lyon"
            screen.query_one("#use-pigeon", Checkbox).value = True
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        saved = tomllib.loads(config_file.read_text(encoding="utf-8"))
        assert saved["transport"]["name"] == "pigeon"
        assert saved["transport"]["options"]["pigeon"]["adresse"] == "Lyon"

    asyncio.run(scenario())


def test_a_transport_without_declaration_leaves_the_manual_form_whole(demo_settings,
                                                                      config_file):
    from lotas_tui.app import create_app

    lotas = Lotas(get_plugin_manager(extra_plugins=[("pigeon", plugin_of(Pigeon))]))

    async def scenario() -> None:
        app = create_app(demo_settings, lotas=lotas, config_file=config_file)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_settings(app, pilot)
            assert list(screen.query("#tab-tp-pigeon"))
            assert screen.query_one("#mode").display and screen.query_one("#direct-form").display
            screen.query_one("#base-url", Input).value = "https://epmsi.example.org"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        saved = tomllib.loads(config_file.read_text(encoding="utf-8"))
        assert saved["transport"]["name"] == "transport_direct"
        assert saved["transport"]["options"]["transport_direct"]["base_url"] == (
            "https://epmsi.example.org")

    asyncio.run(scenario())


class CourierOptions(BaseModel):
    adresse_service: str = Field("", description="Adresse du service")


class Courier(DoveRelay):
    """A third-party direct connection whose address option has its own name."""

    name = "coursier"
    options_model = CourierOptions
    manual_form = ManualForm(DIRECT_ROLE, {"base_url": "adresse_service"})


def test_the_demo_finds_the_direct_transport_by_its_declaration(demo_settings):
    from lotas_tui.launch import DEMO_RECEIVER_URL, prepare_demo

    lotas = Lotas(get_plugin_manager(["transport_direct"],
                                     extra_plugins=[("coursier", plugin_of(Courier))]))
    settings = prepare_demo(demo_settings, lotas)
    assert settings.transport.name == "coursier"
    assert settings.transport_options("coursier") == {"adresse_service": DEMO_RECEIVER_URL}
    with pytest.raises(UsageError, match="aucun transport de connexion directe"):
        prepare_demo(demo_settings, Lotas(get_plugin_manager(["transport_direct"])))
