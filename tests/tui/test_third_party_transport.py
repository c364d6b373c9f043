"""A transport from another distribution gets its own tab, generated from its options model."""

from __future__ import annotations

import asyncio
import tomllib

from pydantic import BaseModel, Field, model_validator
from textual.widgets import Checkbox, Input, Static

from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.transmission.contract import Receipt, Transport
from lotas_tui.screens.main import MainScreen
from lotas_tui.screens.settings import SettingsScreen


class PigeonOptions(BaseModel):
    loft: str = Field("", description="Pigeonnier de destination")
    birds: int = Field(2, ge=1, le=10, description="Nombre de pigeons")
    express: bool = Field(False, description="Envoi express")
    api_token: str | None = Field(None, description="Jeton")


class PigeonTransport(Transport):
    name = "pigeon"
    title_fr = "Pigeon voyageur"
    options_model = PigeonOptions

    def check(self) -> str:
        return "Le pigeonnier répond."

    def send(self, payload):  # pragma: no cover - not sent in this test
        return Receipt(self.name, "R-1", payload.sha256)


class PigeonPlugin:
    @hookimpl
    def lotas_register_transports(self, register):
        register(PigeonTransport)


def test_third_party_transport_form_is_generated_and_saved(demo_settings, config_file,
                                                           settle):
    from lotas_tui.app import create_app

    lotas = Lotas(get_plugin_manager(extra_plugins=[("pigeon", PigeonPlugin())]))

    async def scenario() -> None:
        app = create_app(demo_settings, lotas=lotas, config_file=config_file)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SettingsScreen)
            screen.query_one("#settings-tabs").active = "tab-tp-pigeon"
            await pilot.pause()
            loft = screen.query_one("#form-pigeon-loft", Input)
            birds = screen.query_one("#form-pigeon-birds", Input)
            express = screen.query_one("#form-pigeon-express", Checkbox)
            token = screen.query_one("#form-pigeon-api_token", Input)
            assert birds.value == "2" and token.password
            loft.value = "Lyon"
            birds.value = "0"
            express.value = True
            token.value = "jeton-secret"
            screen.query_one("#use-pigeon", Checkbox).value = True
            await pilot.press("ctrl+s")
            await pilot.pause()
            error = str(screen.query_one("#settings-error", Static).render())
            assert app.screen is screen and "birds" in error
            birds.value = "3"
            await pilot.press("ctrl+t")
            await settle(app, pilot)
            tested = screen.query_one("#test-result-pigeon", Static)
            assert str(tested.render()) == "Le pigeonnier répond."
            assert tested.has_class("form-ok")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert app.session_secrets["pigeon"] == {"api_token": "jeton-secret"}
        text = config_file.read_text(encoding="utf-8")
        assert "jeton-secret" not in text
        saved = tomllib.loads(text)
        assert saved["transport"]["name"] == "pigeon"
        assert saved["transport"]["options"]["pigeon"] == {
            "loft": "Lyon", "birds": 3, "express": True
        }

    asyncio.run(scenario())


class BrokenOptions(BaseModel):
    loft: str = Field("", description="Pigeonnier de destination")

    @model_validator(mode="after")
    def _explode(self) -> BrokenOptions:
        if self.loft:
            raise RuntimeError("IPP 0099887766")  # not a ValueError: pydantic lets it through
        return self


class BrokenPigeon(PigeonTransport):
    options_model = BrokenOptions


class BrokenPigeonPlugin:
    @hookimpl
    def lotas_register_transports(self, register):
        register(BrokenPigeon)


def test_an_options_model_that_breaks_is_a_french_error_not_a_crash(demo_settings, config_file):
    from lotas_tui.app import create_app

    lotas = Lotas(get_plugin_manager(extra_plugins=[("pigeon", BrokenPigeonPlugin())]))

    async def scenario() -> None:
        app = create_app(demo_settings, lotas=lotas, config_file=config_file)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            screen.query_one("#settings-tabs").active = "tab-tp-pigeon"
            await pilot.pause()
            screen.query_one("#form-pigeon-loft", Input).value = "Lyon"
            screen.query_one("#use-pigeon", Checkbox).value = True
            await pilot.press("ctrl+s")
            await pilot.pause()
            error = str(screen.query_one("#settings-error", Static).render())
            assert app.screen is screen
            assert "RuntimeError" in error and "0099887766" not in error

    asyncio.run(scenario())
