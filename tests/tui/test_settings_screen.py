"""The "Paramétrage" window: validation, saving without passwords, "Tester", "Défaut"."""

from __future__ import annotations

import tomllib

import pytest
from textual.widgets import Checkbox, Input, RadioButton, Static

from lotas_core.transmission.contract import MSG_REFUSED
from lotas_tui.screens.main import MainScreen
from lotas_tui.screens.settings import SettingsScreen

pytestmark = pytest.mark.timeout(120)


def error_text(screen) -> str:
    return str(screen.query_one("#settings-error", Static).render())


def result_text(screen) -> str:
    return str(screen.query_one("#test-result", Static).render())


async def open_settings(app, pilot) -> SettingsScreen:
    await pilot.press("p")
    await pilot.pause()
    assert isinstance(app.screen, SettingsScreen)
    return app.screen


async def save_is_refused(app, pilot, screen, field: str, *words: str) -> None:
    """Ctrl+S keeps the screen open, names the problem and puts the cursor in ``field``."""
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert app.screen is screen, "a bad value must not close the screen"
    for word in words:
        assert word in error_text(screen)
    assert app.focused is screen.query_one(field)


async def save_and_close(app, pilot) -> None:
    """Ctrl+S with good values: saved, back to the main window."""
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, MainScreen)


def read_config(config_file) -> dict:
    return tomllib.loads(config_file.read_text(encoding="utf-8"))


def saved_direct(config_file) -> dict:
    return read_config(config_file)["transport"]["options"]["transport_direct"]


def test_proxy_box_enables_fields_and_port_must_be_between_1_and_65535(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        for widget in ("#proxy-host", "#proxy-port", "#import-proxy", "#use-auth",
                       "#proxy-user", "#proxy-password"):
            assert screen.query_one(widget).disabled, widget
        await pilot.click("#use-proxy")
        await pilot.pause()
        assert not screen.query_one("#proxy-host", Input).disabled
        assert screen.query_one("#proxy-user", Input).disabled, "auth box still unticked"
        await pilot.click("#use-auth")
        await pilot.pause()
        assert not screen.query_one("#proxy-user", Input).disabled
        screen.query_one("#proxy-host", Input).value = "proxy.chu.local"
        for bad in ("0", "65536", "abc"):
            port = screen.query_one("#proxy-port", Input)
            port.value = ""
            port.focus()
            await pilot.press(*bad)
            await save_is_refused(app, pilot, screen, "#proxy-port", "entre 1 et 65535",
                                  f"« {bad} »")
            assert not config_file.exists()
        screen.query_one("#proxy-port", Input).value = "3128"
        screen.query_one("#proxy-user", Input).value = "dim01"
        await save_and_close(app, pilot)

    drive(scenario)
    direct = saved_direct(config_file)
    assert direct["proxy_mode"] == "manual"
    assert direct["proxy_host"] == "proxy.chu.local" and direct["proxy_port"] == 3128


def test_epop_port_is_validated_and_default_restores_3358(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        await pilot.click("#mode-epop")
        await pilot.pause()
        assert screen.query_one("#epop-form").display
        assert not screen.query_one("#direct-form").display
        screen.query_one("#epop-host", Input).value = "127.0.0.1"
        screen.query_one("#epop-port", Input).value = "65536"
        await save_is_refused(app, pilot, screen, "#epop-port", "entre 1 et 65535")
        await pilot.click("#epop-default")
        await pilot.pause()
        assert screen.query_one("#epop-port", Input).value == "3358"
        await save_and_close(app, pilot)

    drive(scenario)
    saved = read_config(config_file)
    assert saved["transport"]["name"] == "transport_epop"
    assert saved["transport"]["options"]["transport_epop"]["port"] == 3358


def test_keyboard_alone_chooses_the_epop_server_and_its_default_port(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        await pilot.press("tab")  # from the tabs straight to the manual's first choice
        assert app.focused is screen.query_one("#mode")
        await pilot.press("right", "enter")
        await pilot.pause()
        assert screen.query_one("#mode-epop", RadioButton).value
        assert screen.query_one("#epop-form").display
        await pilot.press("tab")
        assert app.focused is screen.query_one("#epop-host")
        await pilot.press(*"127.0.0.1", "tab", "backspace", "backspace", "ctrl+g")
        assert screen.query_one("#epop-port", Input).value == "3358"
        await save_and_close(app, pilot)

    drive(scenario)
    saved = read_config(config_file)
    assert saved["transport"]["name"] == "transport_epop"
    assert saved["transport"]["options"]["transport_epop"]["host"] == "127.0.0.1"


def test_bad_finess_is_rejected_in_french(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        screen.query_one("#set-finess", Input).value = "12345678X"
        assert screen.query_one("#settings-tabs").active == "tab-epop"
        await save_is_refused(app, pilot, screen, "#set-finess", "FINESS invalide", "12345678X")
        assert screen.query_one("#settings-tabs").active == "tab-establishment"
        assert not config_file.exists()
        screen.query_one("#set-finess", Input).value = "2A0000017"
        screen.query_one("#set-oqn", RadioButton).value = True
        await save_and_close(app, pilot)
        assert app.screen.query_one("#finess", Input).value == "2A0000017"

    drive(scenario)
    saved = read_config(config_file)
    assert saved["finess"] == "2A0000017" and saved["financing"] == "OQN"


def test_passwords_stay_in_memory_never_in_the_file(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
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
        await save_and_close(app, pilot)
        assert app.session_secrets["transport_direct"] == {
            "proxy_password": "Tr3s-secret!", "epmsi_password": "Autre-secret?"
        }

    drive(scenario)
    text = config_file.read_text(encoding="utf-8")
    assert "Tr3s-secret!" not in text and "Autre-secret?" not in text
    direct = saved_direct(config_file)
    assert direct["proxy_auth"] is True and direct["proxy_user"] == "dim01"


def test_tester_against_a_closed_port_shows_the_manual_refused_message(drive, closed_port,
                                                                        settle):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        await pilot.click("#mode-epop")
        screen.query_one("#epop-host", Input).value = "127.0.0.1"
        screen.query_one("#epop-port", Input).value = str(closed_port)
        await pilot.click("#test-epop")
        await settle(app, pilot)
        assert MSG_REFUSED in result_text(screen)
        assert screen.query_one("#test-result").has_class("form-error")
        # The direct connection to a closed port says the same sentence.
        await pilot.click("#mode-direct")
        screen.query_one("#base-url", Input).value = f"http://127.0.0.1:{closed_port}"
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert MSG_REFUSED in result_text(screen)

    drive(scenario)


def test_tester_success_against_a_local_receiver(drive, tmp_path, settle):
    from lotas_plugins.transport_direct.receiver import EpmsiServer, ReceiverConfig

    with EpmsiServer(ReceiverConfig(store=tmp_path / "store"), port=0) as server:
        async def scenario(app, pilot) -> None:
            screen = await open_settings(app, pilot)
            screen.query_one("#base-url", Input).value = server.url
            await pilot.click("#test-direct")
            await settle(app, pilot)
            assert screen.query_one("#test-result").has_class("form-ok"), result_text(screen)

        drive(scenario)


def test_import_proxy_fills_the_form_from_the_system(drive, monkeypatch, settle):
    monkeypatch.setenv("https_proxy", "http://proxy.example.test:8080")

    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        await pilot.click("#use-proxy")
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert screen.query_one("#proxy-host", Input).value == "proxy.example.test"
        assert screen.query_one("#proxy-port", Input).value == "8080"

    drive(scenario)


def test_tester_with_crypter_shows_the_fingerprint_and_stores_the_trust(
        drive, tmp_path, settle, config_file):
    """Issue 11: "Crypter" can be completed from the screen; a changed certificate is refused."""
    import trustme

    from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer
    from lotas_tui.widgets.dialogs import ConfirmDialog

    ca = trustme.CA()

    def tls_relay(name: str) -> RelayServer:
        cert = ca.issue_cert(name)
        cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
        cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
        cert.private_key_pem.write_to_path(str(key_path))
        return RelayServer(RelayConfig(spool=tmp_path / f"spool-{name}", port=0,
                                       tls_cert=cert_path, tls_key=key_path), None).start()

    relays = [tls_relay("relay-a")]

    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        await pilot.click("#mode-epop")
        screen.query_one("#epop-host", Input).value = "127.0.0.1"
        screen.query_one("#epop-port", Input).value = str(relays[0].address[1])
        screen.query_one("#epop-encrypt", Checkbox).value = True
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        question = str(app.screen.query_one(".dialog-text", Static).render())
        fingerprint = question.split("\n\n")[1].strip()
        assert fingerprint.count(":") == 31
        await pilot.press("o")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.query_one("#test-result").has_class("form-ok"), result_text(screen)
        stored = read_config(config_file)["transport"]["options"]["transport_epop"]
        assert stored["tls_fingerprint"] == fingerprint

        relays[0].stop()
        relays.append(tls_relay("relay-b"))  # another certificate: refused, never re-asked
        screen.query_one("#epop-port", Input).value = str(relays[1].address[1])
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert app.screen is screen
        assert "ATTENTION" in result_text(screen) and "a changé" in result_text(screen)
        assert screen.query_one("#test-result").has_class("form-error")
        await save_and_close(app, pilot)
        saved = read_config(config_file)["transport"]["options"]["transport_epop"]
        assert saved["tls_fingerprint"] == fingerprint and saved["encrypt"] is True

    try:
        drive(scenario)
    finally:
        for relay in relays:
            relay.stop()


def test_tester_without_an_epmsi_address_says_what_to_set(drive, settle):
    """Issue 11: no silent test address; "Tester" names the field to fill."""
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        await pilot.click("#mode-direct")
        screen.query_one("#base-url", Input).value = ""
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        text = result_text(screen)
        assert "Aucune adresse du service e-PMSI" in text and "Adresse du service" in text
        assert screen.query_one("#test-result").has_class("form-error")

    drive(scenario)


def test_the_first_save_writes_no_epmsi_address(drive, config_file):
    """Issue 11: a fresh install's first save must not write a test receiver's address."""
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        assert screen.query_one("#base-url", Input).value == ""
        await save_and_close(app, pilot)

    drive(scenario)
    assert "base_url" not in read_config(config_file).get("transport", {}).get(
        "options", {}).get("transport_direct", {})
    assert "8765" not in config_file.read_text(encoding="utf-8")
