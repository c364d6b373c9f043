"""The main LOTAS window driven with Textual's pilot on the demo archive."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, OptionList, Static

from lotas_core.drawing import open_history
from lotas_core.exports import to_tsv
from lotas_tui.screens.main import CLIPBOARD_NOTICE, MainScreen
from lotas_tui.widgets.dialogs import ConfirmDialog, ExportDialog, MessageDialog
from lotas_tui.widgets.draw_table import TABLE_COLUMNS

SEED_A = bytes(range(32))
SEED_B = bytes(32)
FOOTER_110 = "NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]"

pytestmark = pytest.mark.timeout(180)


def footer(app) -> str:
    return str(app.screen.query_one("#draw-footer", Static).render())


def table_ipps(app) -> list[str]:
    table = app.screen.query_one("#draw-table", DataTable)
    return [str(table.get_row_at(index)[2]) for index in range(table.row_count)]


def test_new_draw_fills_table_footer_and_clipboard(make_app, demo_settings, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            assert isinstance(app.screen, MainScreen)
            await pilot.press("n")
            await settle(app, pilot)
            table = app.screen.query_one("#draw-table", DataTable)
            assert table.row_count == 110
            assert [str(column.label) for column in table.ordered_columns] == list(TABLE_COLUMNS)
            assert footer(app) == FOOTER_110
            records = open_history(demo_settings).list(finess="000000001")
            assert len(records) == 1
            record = records[0]
            assert record.seed == SEED_A.hex()
            # The history entry as the manual shows it, the first row as stored.
            history = app.screen.query_one("#history", OptionList)
            assert history.option_count == 1
            assert str(history.get_option_at_index(0).prompt) == record.label()
            first = table.get_row_at(0)
            assert first[0] == "1" and first[1] == "P" and first[2] == record.rows[0]["IPP"]
            day, month, year = first[10].split("/")
            assert f"{year}-{month}-{day}" == record.rows[0]["DATACTE"]
            assert [str(table.get_row_at(i)[1]) for i in (79, 80)] == ["P", "R"]
            # As the original: the new draw is on the clipboard right away, with a warning.
            assert app.clipboard == to_tsv(record)
            assert any(CLIPBOARD_NOTICE in str(n.message) for n in app._notifications)

    asyncio.run(scenario())


def test_selecting_an_older_entry_shows_its_rows(make_app, demo_settings, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            app.draw_seed = SEED_B
            await pilot.press("n")
            await settle(app, pilot)
            newer, older = open_history(demo_settings).list(finess="000000001")
            assert newer.seed == SEED_B.hex() and older.seed == SEED_A.hex()
            assert [row["IPP"] for row in newer.rows] != [row["IPP"] for row in older.rows]
            history = app.screen.query_one("#history", OptionList)
            assert history.option_count == 2
            assert history.highlighted == 0
            assert table_ipps(app) == [row["IPP"] for row in newer.rows]
            history.focus()
            await pilot.press("down")
            await pilot.pause()
            assert history.highlighted == 1
            assert table_ipps(app) == [row["IPP"] for row in older.rows]
            assert footer(app) == FOOTER_110
            info = str(app.screen.query_one("#draw-info", Static).render())
            assert older.seed in info and older.population_digest in info

    asyncio.run(scenario())


def test_copy_key_puts_exactly_the_tsv_export(make_app, demo_settings, tmp_path, settle):
    async def scenario() -> None:
        settings = demo_settings.model_copy(
            update={"ui": demo_settings.ui.model_copy(update={"copy_after_draw": False})}
        )
        app = make_app(settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            assert app.clipboard == ""
            await pilot.press("c")
            await pilot.pause()
            record = open_history(settings).list(finess="000000001")[0]
            # Exactly what ``lotas export --format tsv`` writes.
            from lotas_core.cli.main import main

            output = tmp_path / "draw.tsv"
            assert main(["export", record.draw_id, "--format", "tsv", "--output", str(output)]) == 0
            assert app.clipboard == output.read_text(encoding="utf-8")
            lines = app.clipboard.splitlines()
            assert lines[0] == "\t".join(TABLE_COLUMNS)
            assert len(lines) == 111

    asyncio.run(scenario())


def test_funnel_and_parse_report_panel(make_app, demo_settings, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            await pilot.press("d")
            await pilot.pause()
            record = open_history(demo_settings).list(finess="000000001")[0]
            funnel = str(app.screen.query_one("#funnel", Static).render())
            for label in ("base", "hospitalisation temps plein", "< 2 entretiens",
                          "aucun entretien au 2e semestre", "délai < 90 jours", "éligibles"):
                assert label in funnel
            eligible_line = next(line for line in funnel.splitlines() if "éligibles" in line)
            assert str(record.funnel["eligible"]) in eligible_line
            report = str(app.screen.query_one("#parse-report", Static).render())
            for info in record.parse_report["files"].values():
                assert info["member"] in report
                assert f"lues : {info['lines_read']}  retenues : {info['lines_kept']}" in report

    asyncio.run(scenario())


def test_verify_runs_in_a_worker_and_shows_the_result(make_app, demo_settings, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            await pilot.press("v")
            await settle(app, pilot)
            result = str(app.screen.query_one("#verify-result", Static).render())
            assert result.startswith("✔"), result

    asyncio.run(scenario())


def test_bad_finess_and_missing_archive_give_french_dialogs(make_app, demo_settings,
                                                                   tmp_path, settle):
    async def scenario() -> None:
        app = make_app(demo_settings.model_copy(update={"finess": "12345"}))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            assert isinstance(app.screen, MessageDialog)
            text = str(app.screen.query_one("#dialog-message", Static).render())
            assert "FINESS invalide" in text
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        empty = demo_settings.model_copy(
            update={"archives": demo_settings.archives.model_copy(
                update={"use_default": False, "path": tmp_path})}
        )
        app = make_app(empty)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            assert isinstance(app.screen, MessageDialog)
            text = str(app.screen.query_one("#dialog-message", Static).render())
            assert str(tmp_path) in text  # the ArchiveError names the folder, in French
            await pilot.press("enter")
            await pilot.pause()
            assert not app.screen.query_one("#progress-row").display
        assert not open_history(demo_settings).list()

    asyncio.run(scenario())


def test_export_dialog_writes_the_chosen_format(make_app, demo_settings, tmp_path, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, ExportDialog)
            target = tmp_path / "tirage.xlsx"
            app.screen.query_one("#export-path").value = str(target)
            app.screen.query_one("#export-format").query("RadioButton")[1].value = True
            await pilot.pause()
            await pilot.click("#export")
            await settle(app, pilot)
            assert isinstance(app.screen, MainScreen)
            assert target.is_file() and target.read_bytes()[:2] == b"PK"

    asyncio.run(scenario())


def test_transmit_to_a_local_receiver_shows_the_receipt(
    make_app, demo_settings, tmp_path, monkeypatch
, settle):
    async def scenario() -> None:
        from lotas_core.epmsi_server import EpmsiServer, ReceiverConfig

        server = EpmsiServer(ReceiverConfig(store=tmp_path / "store", user="dim01",
                                            password="s3cret-demo"), port=0).start()
        try:
            transport = demo_settings.transport.model_copy(update={
                "name": "transport_direct",
                "options": {"transport_direct": {"base_url": server.url, "epmsi_user": "dim01"}},
            })
            app = make_app(demo_settings.model_copy(update={"transport": transport}))
            app.session_secrets["transport_direct"] = {"epmsi_password": "s3cret-demo"}
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("n")
                await settle(app, pilot)
                await pilot.press("t")
                await pilot.pause()
                assert isinstance(app.screen, ConfirmDialog)
                await pilot.press("o")
                await settle(app, pilot)
                assert isinstance(app.screen, MessageDialog)
                text = str(app.screen.query_one("#dialog-message", Static).render())
                record = open_history(demo_settings).list(finess="000000001")[0]
                stored = record.transmissions
                assert stored, "the receipt is kept in the history"
                receipt = stored[0].get("receipt")
                receipt = receipt.get("receipt") if isinstance(receipt, dict) else receipt
                assert f"Accusé de réception : {receipt}" in text
                assert len(server.stored_payloads()) == 1
                assert "s3cret-demo" not in text
        finally:
            server.stop()

    asyncio.run(scenario())


def test_quit_button_and_key(make_app, demo_settings, settle):
    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("q")
            await pilot.pause()
        assert app.return_value == 0

    asyncio.run(scenario())


def test_unexpected_worker_error_is_a_french_dialog_without_its_text(make_app, demo_settings,
                                                                     settle):
    from lotas_tui.backend import Backend

    class BrokenBackend(Backend):
        def make_draw(self, *args, **kwargs):
            raise RuntimeError("boom 0000SECRETIPP")

    async def scenario() -> None:
        app = make_app(demo_settings)
        app.backend = BrokenBackend(app.lotas)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            assert isinstance(app.screen, MessageDialog)
            text = str(app.screen.query_one("#dialog-message", Static).render())
            assert "erreur inattendue" in text and "RuntimeError" in text
            assert "0000SECRETIPP" not in text
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert not app.screen.query_one("#progress-row").display
            # The app is still alive: a real draw works after the failure.
            app.backend = Backend(app.lotas)
            await pilot.press("n")
            await settle(app, pilot)
            assert app.screen.query_one("#draw-table", DataTable).row_count == 110

    asyncio.run(scenario())


def test_unreadable_history_gives_a_dialog_not_a_crash(make_app, demo_settings, settle):
    demo_settings.history_path.parent.mkdir(parents=True, exist_ok=True)
    demo_settings.history_path.write_bytes(b"this is not a sqlite database" * 100)

    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, MessageDialog)
            text = str(app.screen.query_one("#dialog-message", Static).render())
            assert str(demo_settings.history_path.name) in text or "historique" in text.lower()

    asyncio.run(scenario())


def test_progress_of_the_archive_reading_reaches_the_screen(make_app, demo_settings, settle,
                                                            monkeypatch):
    seen: list[tuple[str, float]] = []
    original = MainScreen.on_read_progress

    def spy(self, message):
        seen.append((message.stage, message.fraction))
        original(self, message)
        assert self.query_one("#progress-row").display

    monkeypatch.setattr(MainScreen, "on_read_progress", spy)

    async def scenario() -> None:
        app = make_app(demo_settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            assert not app.screen.query_one("#progress-row").display

    asyncio.run(scenario())
    assert seen, "the core's progress callback was relayed to the UI thread"
    assert all(0.0 <= fraction <= 1.0 for _, fraction in seen)
    assert seen[-1][1] == 1.0
