"""Transmitting the selected draw from the main window: confirmation, receipt, error."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from lotas_core.draws.service import open_history
from lotas_core.transmission.contract import MSG_REFUSED
from lotas_tui.widgets.dialogs import ConfirmDialog, MessageDialog
from lotas_tui.widgets.progress_row import ProgressRow

pytestmark = pytest.mark.timeout(180)


def direct_to(settings, url: str, **options):
    """``settings`` sending by "Connexion directe" to ``url`` as dim01."""
    transport = settings.transport.model_copy(update={
        "name": "transport_direct",
        "options": {"transport_direct": {"base_url": url, "epmsi_user": "dim01", **options}},
    })
    return settings.model_copy(update={"transport": transport})


async def draw_and_transmit(app, pilot, settle) -> str:
    """``n``, ``t``, ``o``: the text of the dialog shown at the end."""
    app.session_secrets["transport_direct"] = {"epmsi_password": "s3cret-demo"}
    await pilot.press("n")
    await settle(app, pilot)
    await pilot.press("t")
    await pilot.pause()
    assert isinstance(app.screen, ConfirmDialog)
    assert "Connexion directe" in str(app.screen.query_one(".dialog-text", Static).render())
    await pilot.press("o")
    await settle(app, pilot)
    assert isinstance(app.screen, MessageDialog)
    return str(app.screen.query_one("#dialog-message", Static).render())


def test_transmit_to_a_local_receiver_shows_the_receipt(drive, demo_settings, tmp_path, settle):
    from lotas_plugins.transport_direct.receiver import EpmsiServer, ReceiverConfig

    config = ReceiverConfig(store=tmp_path / "store", user="dim01", password="s3cret-demo")
    with EpmsiServer(config, port=0) as server:
        async def scenario(app, pilot) -> None:
            text = await draw_and_transmit(app, pilot, settle)
            record = open_history(demo_settings).list(finess="000000001")[0]
            stored = record.transmissions
            assert stored, "the receipt is kept in the history"
            receipt = stored[0].get("receipt")
            receipt = receipt.get("receipt") if isinstance(receipt, dict) else receipt
            assert f"Accusé de réception : {receipt}" in text
            await pilot.press("enter")
            await pilot.pause()
            history = app.screen.query_one("#history")
            assert str(history.get_option_at_index(0).prompt).endswith("  transmis")
            await pilot.press("d", "d")
            info = str(app.screen.query_one("#draw-info", Static).render())
            assert "Transmission (Connexion directe) : transmis à QUALHAS" in info
            assert f"Accusé de réception QUALHAS : {receipt}" in info
            assert len(server.stored_payloads()) == 1
            assert "s3cret-demo" not in text

        drive(scenario, settings=direct_to(demo_settings, server.url))


def test_transmit_with_nothing_listening_shows_the_manual_refused_message(
        drive, demo_settings, closed_port, settle):
    async def scenario(app, pilot) -> None:
        text = await draw_and_transmit(app, pilot, settle)
        dialog = app.screen.query_one(".dialog")
        assert dialog.has_class("-error")
        assert dialog.border_title == "Transmission vers QUALHAS impossible"
        assert MSG_REFUSED in text and "Paramétrage ePop" in text
        await pilot.press("enter")
        await pilot.pause()
        assert not app.screen.query_one("#progress-row").display
        assert not open_history(demo_settings).list()[0].transmissions

    url = f"http://127.0.0.1:{closed_port}"
    drive(scenario, settings=direct_to(demo_settings, url, max_retries=0))


async def until_finished(app, pilot, group: str) -> None:
    """Wait (bounded) until the workers of ``group`` ended and their messages are handled."""
    for _ in range(400):
        if all(worker.is_finished for worker in app.workers if worker.group == group):
            break
        await pilot.pause(0.05)
    for _ in range(3):
        await pilot.pause()


@pytest.fixture
def slow_backend():
    """A backend whose transmission waits for ``release``, then is refused (or succeeds when
    ``outcome["receipt"]`` is set)."""
    import threading

    from lotas_core.transmission.contract import ConnectionRefused
    from lotas_tui.backend import Backend

    release = threading.Event()
    outcome: dict = {}

    class SlowBackend(Backend):
        def transmit(self, *args, **kwargs):
            release.wait(60)
            if "receipt" in outcome:
                return outcome["receipt"]
            raise ConnectionRefused("refused (test)")

    yield SlowBackend, release, outcome
    release.set()


async def start_slow_transmission(app, pilot, settle, backend_class):
    app.backend = backend_class(app.lotas)
    await pilot.press("n")
    await settle(app, pilot)
    await pilot.press("t", "o")
    await pilot.pause()
    row = app.screen.query_one(ProgressRow)
    assert row.display and row.tasks == ["transmit"]
    return row


def test_a_draw_during_a_slow_transmission_keeps_its_progress_shown(drive, settle,
                                                                     slow_backend):
    backend_class, release, _ = slow_backend

    async def scenario(app, pilot) -> None:
        row = await start_slow_transmission(app, pilot, settle, backend_class)
        await pilot.press("n")  # a second draw while the first one is being sent
        await until_finished(app, pilot, "draw")
        assert len(open_history(app.settings).list()) == 2
        assert row.display and row.tasks == ["transmit"]
        assert "Envoi vers QUALHAS" in str(row.query_one("#stage", Static).render())
        release.set()
        await until_finished(app, pilot, "transmit")  # it fails: wait_for_complete would raise
        assert not row.display
        assert MSG_REFUSED in str(app.screen.query_one("#dialog-message", Static).render())

    drive(scenario)


@pytest.mark.parametrize("succeeds", [True, False])
def test_quit_during_a_transmission_waits_for_its_end(drive, settle, slow_backend, succeeds):
    from types import SimpleNamespace

    backend_class, release, outcome = slow_backend
    if succeeds:
        outcome["receipt"] = SimpleNamespace(receipt="QH-TEST", sha256="0" * 64,
                                             transport="transport_direct", duplicate=False)
    apps = []

    async def scenario(app, pilot) -> None:
        apps.append(app)
        await start_slow_transmission(app, pilot, settle, backend_class)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog), "quitting now would hang on the thread"
        await pilot.press("o")
        await pilot.pause()
        assert app.return_value is None, "still open while the transmission runs"
        release.set()
        if succeeds:
            for _ in range(400):
                if app.return_value is not None:
                    break
                await pilot.pause(0.05)
            return
        await until_finished(app, pilot, "transmit")
        assert app.return_value is None, "a failure stays on screen to be read"
        assert isinstance(app.screen, MessageDialog)
        assert MSG_REFUSED in str(app.screen.query_one("#dialog-message", Static).render())

    drive(scenario)
    assert apps[0].return_value == (0 if succeeds else None)
