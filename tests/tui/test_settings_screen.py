"""The "Paramétrage" window: validation, saving without passwords, "Tester", "Défaut"."""

from __future__ import annotations

import asyncio
import tomllib

import pytest
from textual.widgets import Checkbox, Input, RadioButton, Static

from lotas_core.transport import MSG_REFUSED
from lotas_tui.screens.main import MainScreen
from lotas_tui.screens.settings import SettingsScreen

pytestmark = pytest.mark.timeout(120)


def error_text(screen) -> str:
    return str(screen.query_one("#settings-error", Static).render())


def test_proxy_port_must_be_between_1_and_65535(make_app, demo_settings, config_file, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SettingsScreen)
            await pilot.click("#use-proxy")
            await pilot.pause()
            assert not screen.query_one("#proxy-host", Input).disabled
            screen.query_one("#proxy-host", Input).value = "proxy.chu.local"
            for bad in ("0", "65536"):
                port = screen.query_one("#proxy-port", Input)
                port.value = ""
                port.focus()
                await pilot.press(*bad)
                await pilot.press("ctrl+s")
                await pilot.pause()
                assert app.screen is screen, "a bad port must not close the screen"
                assert "entre 1 et 65535" in error_text(screen)
                assert f"« {bad} »" in error_text(screen)
                assert not config_file.exists()
            screen.query_one("#proxy-port", Input).value = "3128"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        saved = tomllib.loads(config_file.read_text(encoding="utf-8"))
        direct = saved["transport"]["options"]["transport_direct"]
        assert direct["proxy_mode"] == "manual"
        assert direct["proxy_host"] == "proxy.chu.local" and direct["proxy_port"] == 3128

    asyncio.run(scenario())


def test_epop_port_is_validated_and_default_restores_3358(make_app, demo_settings, config_file,
                                                          settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            await pilot.click("#mode-epop")
            await pilot.pause()
            assert screen.query_one("#epop-form").display
            assert not screen.query_one("#direct-form").display
            screen.query_one("#epop-host", Input).value = "127.0.0.1"
            screen.query_one("#epop-port", Input).value = "65536"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen and "entre 1 et 65535" in error_text(screen)
            await pilot.click("#epop-default")
            await pilot.pause()
            assert screen.query_one("#epop-port", Input).value == "3358"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        saved = tomllib.loads(config_file.read_text(encoding="utf-8"))
        assert saved["transport"]["name"] == "transport_epop"
        assert saved["transport"]["options"]["transport_epop"]["port"] == 3358

    asyncio.run(scenario())


def test_bad_finess_is_rejected_in_french(make_app, demo_settings, config_file, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            screen.query_one("#set-finess", Input).value = "12345678X"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen
            assert "FINESS invalide" in error_text(screen)
            assert "12345678X" in error_text(screen)
            assert not config_file.exists()
            screen.query_one("#set-finess", Input).value = "2A0000017"
            screen.query_one("#set-oqn", RadioButton).value = True
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert app.screen.query_one("#finess", Input).value == "2A0000017"
        saved = tomllib.loads(config_file.read_text(encoding="utf-8"))
        assert saved["finess"] == "2A0000017" and saved["financing"] == "OQN"

    asyncio.run(scenario())


def test_passwords_stay_in_memory_never_in_the_file(make_app, demo_settings, config_file,
                                                    settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            screen.query_one("#use-proxy", Checkbox).value = True
            screen.query_one("#use-auth", Checkbox).value = True
            await pilot.pause()
            assert not screen.query_one("#proxy-password", Input).disabled
            assert screen.query_one("#proxy-password", Input).password
            screen.query_one("#proxy-host", Input).value = "proxy.chu.local"
            screen.query_one("#proxy-port", Input).value = "3128"
            screen.query_one("#proxy-user", Input).value = "dim01"
            screen.query_one("#proxy-password", Input).value = "Tr3s-secret!"
            screen.query_one("#epmsi-password", Input).value = "Autre-secret?"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert app.session_secrets["transport_direct"] == {
                "proxy_password": "Tr3s-secret!", "epmsi_password": "Autre-secret?"
            }
        text = config_file.read_text(encoding="utf-8")
        assert "Tr3s-secret!" not in text and "Autre-secret?" not in text
        direct = tomllib.loads(text)["transport"]["options"]["transport_direct"]
        assert direct["proxy_auth"] is True and direct["proxy_user"] == "dim01"

    asyncio.run(scenario())


def test_tester_against_a_closed_port_shows_the_manual_refused_message(
    make_app, demo_settings, closed_port, settle
):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            await pilot.click("#mode-epop")
            screen.query_one("#epop-host", Input).value = "127.0.0.1"
            screen.query_one("#epop-port", Input).value = str(closed_port)
            await pilot.click("#test-epop")
            await settle(app, pilot)
            result = str(screen.query_one("#test-result", Static).render())
            assert MSG_REFUSED in result
            assert screen.query_one("#test-result").has_class("form-error")
            # The direct connection to a closed port says the same sentence.
            await pilot.click("#mode-direct")
            screen.query_one("#base-url", Input).value = f"http://127.0.0.1:{closed_port}"
            await pilot.press("ctrl+t")
            await settle(app, pilot)
            assert MSG_REFUSED in str(screen.query_one("#test-result", Static).render())

    asyncio.run(scenario())


def test_tester_success_against_a_local_receiver(make_app, demo_settings, tmp_path, settle):
    from lotas_core.epmsi_server import EpmsiServer, ReceiverConfig

    async def scenario(url: str) -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            screen.query_one("#base-url", Input).value = url
            await pilot.click("#test-direct")
            await settle(app, pilot)
            result = screen.query_one("#test-result", Static)
            assert result.has_class("form-ok"), str(result.render())

    with EpmsiServer(ReceiverConfig(store=tmp_path / "store"), port=0) as server:
        asyncio.run(scenario(server.url))


def test_import_proxy_fills_the_form_from_the_system(make_app, demo_settings, monkeypatch,
                                                     settle):
    monkeypatch.setenv("https_proxy", "http://proxy.example.test:8080")

    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            screen = app.screen
            await pilot.click("#use-proxy")
            await pilot.click("#import-proxy")
            await settle(app, pilot)
            assert screen.query_one("#proxy-host", Input).value == "proxy.example.test"
            assert screen.query_one("#proxy-port", Input).value == "8080"

    asyncio.run(scenario())
