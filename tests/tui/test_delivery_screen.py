"""The screen through the e-POP relay (issue 11): with e-PMSI down the draw is "remis au serveur
e-POP, en attente", never "transmis à QUALHAS"; once the relay forwarded it, the history list and
"Contrôle du tirage" show QUALHAS's receipt."""

from __future__ import annotations

import socket
import time

import pytest
from textual.widgets import OptionList, Static

from lotas_plugins.transport_direct.client import DirectTransport
from lotas_plugins.transport_direct.options import DirectOptions
from lotas_plugins.transport_direct.receiver import EpmsiServer, ReceiverConfig
from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer
from lotas_tui.widgets.dialogs import ConfirmDialog, MessageDialog

pytestmark = pytest.mark.timeout(180)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def through_relay(settings, port: int):
    transport = settings.transport.model_copy(update={
        "name": "transport_epop",
        "options": {"transport_epop": {"host": "127.0.0.1", "port": port,
                                       "connect_timeout": 2.0, "read_timeout": 5.0}},
    })
    return settings.model_copy(update={"transport": transport})


def test_the_screen_shows_queued_then_delivered(drive, demo_settings, tmp_path, settle):
    receiver_port = free_port()

    def upstream() -> DirectTransport:
        return DirectTransport(DirectOptions(base_url=f"http://127.0.0.1:{receiver_port}",
                                             connect_timeout=1, max_retries=0))

    relay = RelayServer(RelayConfig(spool=tmp_path / "spool", port=0, forward_backoff=0.1,
                                    forward_backoff_max=0.3), upstream).start()
    receiver: list[EpmsiServer] = []

    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("o")
        await settle(app, pilot)
        assert isinstance(app.screen, MessageDialog)
        text = str(app.screen.query_one("#dialog-message", Static).render())
        assert "remis au serveur e-POP, en attente de transmission" in text
        assert "transmis à QUALHAS" not in text and "Accusé de dépôt : EPOP-" in text
        await pilot.press("enter")
        await pilot.pause()
        main = app.screen
        history = main.query_one("#history", OptionList)
        assert str(history.get_option_at_index(0).prompt).endswith("en attente")
        await pilot.press("d", "d")
        info = str(main.query_one("#draw-info", Static).render())
        assert "remis au serveur e-POP, en attente de transmission" in info

        receiver.append(EpmsiServer(ReceiverConfig(store=tmp_path / "received"),
                                    port=receiver_port).start())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # what the screen's timer does every minute
            main.refresh_deliveries()
            await settle(app, pilot)
            if str(history.get_option_at_index(0).prompt).endswith("transmis"):
                break
            await pilot.pause(0.2)
        assert str(history.get_option_at_index(0).prompt).endswith("transmis")
        info = str(main.query_one("#draw-info", Static).render())
        assert "transmis à QUALHAS" in info and "Accusé de réception QUALHAS : QH-" in info
        assert len(receiver[0].stored_payloads()) == 1

    try:
        drive(scenario, settings=through_relay(demo_settings, relay.address[1]))
    finally:
        relay.stop()
        for server in receiver:
            server.stop()
