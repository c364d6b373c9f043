"""The main LOTAS window driven with Textual's pilot on the demo archive."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, DataTable, DirectoryTree, Footer, Input, OptionList, Static

from lotas_core.draws.exports import to_tsv
from lotas_core.draws.service import open_history
from lotas_tui.screens.main import CLIPBOARD_NOTICE, MainScreen
from lotas_tui.screens.settings import SettingsScreen
from lotas_tui.widgets.dialogs import ConfirmDialog, ExportDialog, FolderPicker, MessageDialog

#: The LOTAS table of PSY SMA 2021 (spec section 7, the clipboard header).
TABLE_COLUMNS = ("NUMTAS", "TYPECH", "IPP", "SEXE", "AGE", "MODENT", "MODSORT", "DEST", "PROV",
                 "LISTEDA", "DATACTE")

SEED_A = bytes(range(32))
SEED_B = bytes(32)
FOOTER_110 = "NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]"

pytestmark = pytest.mark.timeout(180)


def footer(app) -> str:
    return str(app.screen.query_one("#draw-footer", Static).render())


def table_ipps(app) -> list[str]:
    table = app.screen.query_one("#draw-table", DataTable)
    return [str(table.get_row_at(index)[2]) for index in range(table.row_count)]


def test_new_draw_fills_table_footer_and_clipboard(drive, demo_settings, settle):
    async def scenario(app, pilot) -> None:
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
        assert str(history.get_option_at_index(0).prompt) == f"{record.label()}  non transmis"
        first = table.get_row_at(0)
        assert first[0] == "1" and first[1] == "P" and first[2] == record.rows[0]["IPP"]
        day, month, year = first[10].split("/")
        assert f"{year}-{month}-{day}" == record.rows[0]["DATACTE"]
        assert [str(table.get_row_at(i)[1]) for i in (79, 80)] == ["P", "R"]
        # As the original: the new draw is on the clipboard right away, with a warning.
        assert app.clipboard == to_tsv(record, app.lotas.row_layout(record.campaign_id))
        notice = CLIPBOARD_NOTICE.format(columns="IPP")
        assert any(notice in str(n.message) for n in app._notifications)

    drive(scenario)


def test_selecting_an_older_entry_shows_its_rows(drive, demo_settings, settle):
    async def scenario(app, pilot) -> None:
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

    drive(scenario)


def test_copy_key_puts_exactly_the_tsv_export(drive, demo_settings, tmp_path, settle):
    settings = demo_settings.model_copy(
        update={"ui": demo_settings.ui.model_copy(update={"copy_after_draw": False})}
    )

    async def scenario(app, pilot) -> None:
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

    drive(scenario, settings=settings)


def test_funnel_and_parse_report_panel(drive, demo_settings, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        record = open_history(demo_settings).list(finess="000000001")[0]
        funnel = str(app.screen.query_one("#funnel", Static).render())
        lines = funnel.splitlines()
        labels = app.lotas.funnel_labels(record.campaign_id)
        assert list(labels) == list(record.funnel)  # every step of the funnel is labelled
        for key, label in labels.items():
            line = next(line for line in lines if line.startswith(label))
            assert line.split()[len(label.split())] == str(record.funnel[key])
        assert "exclus : hospitalisation à temps plein" in funnel
        report = str(app.screen.query_one("#parse-report", Static).render())
        for info in record.parse_report["files"].values():
            assert info["member"] in report
            assert f"lues : {info['lines_read']}  retenues : {info['lines_kept']}" in report

    drive(scenario)


def test_verify_runs_in_a_worker_and_shows_the_result(drive, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        result = str(app.screen.query_one("#verify-result", Static).render())
        assert result.startswith("✔"), result

    drive(scenario)


def test_bad_finess_and_missing_archive_give_french_dialogs(drive, demo_settings, tmp_path,
                                                            settle):
    async def refused(app, pilot, *words: str) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, MessageDialog)
        text = str(app.screen.query_one("#dialog-message", Static).render())
        for word in words:
            assert word in text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert not app.screen.query_one("#progress-row").display

    async def bad_finess(app, pilot) -> None:
        await refused(app, pilot, "FINESS invalide", "12345")
        assert app.focused is app.screen.query_one("#finess"), "ready to be corrected"

    async def no_archive(app, pilot) -> None:
        await refused(app, pilot, str(tmp_path))  # the ArchiveError names the folder

    drive(bad_finess, settings=demo_settings.model_copy(update={"finess": "12345"}))
    archives = demo_settings.archives.model_copy(update={"use_default": False, "path": tmp_path})
    drive(no_archive, settings=demo_settings.model_copy(update={"archives": archives}))
    assert not open_history(demo_settings).list()


def test_export_dialog_writes_the_chosen_format(drive, tmp_path, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        target = tmp_path / "tirage.xlsx"
        app.screen.query_one("#export-path").value = str(target)
        app.screen.query_one("#export-format").query("RadioButton")[2].value = True  # XLSX
        await pilot.pause()
        await pilot.click("#export")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert target.is_file() and target.read_bytes()[:2] == b"PK"

    drive(scenario)


@pytest.mark.parametrize("how", ["key", "button"])
def test_quit_button_and_key(drive, how):
    apps = []

    async def scenario(app, pilot) -> None:
        apps.append(app)
        if how == "key":
            await pilot.press("q")
        else:
            await pilot.click("#quit")
        await pilot.pause()

    drive(scenario, size=(100, 30))
    assert apps[0].return_value == 0


def test_unexpected_worker_error_is_a_french_dialog_without_its_text(drive, settle):
    from lotas_tui.backend import Backend

    class BrokenBackend(Backend):
        def make_draw(self, *args, **kwargs):
            raise RuntimeError("boom 0000SECRETIPP")

    async def scenario(app, pilot) -> None:
        app.backend = BrokenBackend(app.lotas)
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

    drive(scenario)


def test_unreadable_history_gives_a_dialog_not_a_crash(drive, demo_settings):
    demo_settings.history_path.parent.mkdir(parents=True, exist_ok=True)
    demo_settings.history_path.write_bytes(b"this is not a sqlite database" * 100)

    async def scenario(app, pilot) -> None:
        await pilot.pause()
        assert isinstance(app.screen, MessageDialog)
        text = str(app.screen.query_one("#dialog-message", Static).render())
        assert str(demo_settings.history_path.name) in text or "historique" in text.lower()

    drive(scenario)


def test_progress_of_the_archive_reading_reaches_the_screen(drive, settle, monkeypatch):
    seen: list[tuple[str, float]] = []
    original = MainScreen.on_read_progress

    def spy(self, message):
        seen.append((message.stage, message.fraction))
        original(self, message)
        assert self.query_one("#progress-row").display

    monkeypatch.setattr(MainScreen, "on_read_progress", spy)

    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        assert not app.screen.query_one("#progress-row").display

    drive(scenario)
    assert seen, "the core's progress callback was relayed to the UI thread"
    assert all(0.0 <= fraction <= 1.0 for _, fraction in seen)
    assert seen[-1][1] == 1.0


def test_history_follows_the_finess_shown(drive, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        history = app.screen.query_one("#history", OptionList)
        assert history.option_count == 1
        field = app.screen.query_one("#finess", Input)
        field.focus()
        await pilot.press("end", "backspace")
        await pilot.pause()
        assert history.option_count == 0, "an incomplete FINESS shows no history"
        await pilot.press("2")  # 000000002: another establishment, no draw
        await pilot.pause()
        assert field.value == "000000002" and history.option_count == 0
        assert app.screen.query_one("#draw-table", DataTable).row_count == 0
        assert footer(app) == ""
        await pilot.press("backspace", "1")
        await pilot.pause()
        assert history.option_count == 1 and footer(app) == FOOTER_110
        assert app.screen.query_one("#draw-table", DataTable).row_count == 110

    drive(scenario)


def test_folder_picker_and_default_folder_box(drive, demo_settings, tmp_path):
    (tmp_path / "PSY-2019").mkdir()

    async def scenario(app, pilot) -> None:
        path = app.screen.query_one("#archive-path", Input)
        default = path.value
        assert path.disabled, "the default folder is used: the field is locked"
        assert app.screen.query_one("#use-default", Checkbox).value
        chosen = tmp_path / "PSY-2019"
        await pilot.press("o")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, FolderPicker)
        assert {"ctrl+s", "backspace", "escape"} <= set(picker.active_bindings)
        assert picker.query_one(Footer)
        picker.on_directory_tree_directory_selected(
            DirectoryTree.DirectorySelected(picker.query_one(DirectoryTree).root, chosen))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert not app.screen.query_one("#use-default", Checkbox).value
        assert not path.disabled and path.value == str(chosen)
        assert app.archive_folder(app.screen.form_settings()) == chosen
        await pilot.click("#use-default")
        await pilot.pause()
        assert path.disabled and path.value == default
        assert app.screen.form_settings().archives.use_default

    drive(scenario)


def test_export_from_the_keyboard_alone(drive, tmp_path, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert {"ctrl+s", "escape"} <= set(dialog.active_bindings)
        field = dialog.query_one("#export-path", Input)
        assert app.focused is field
        field.value = str(tmp_path / "tirage.csv")
        await pilot.press("shift+tab", "down", "down", "down", "enter")  # "Rapport HTML"
        await pilot.pause()
        assert field.value == str(tmp_path / "tirage.html")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        report = tmp_path / "tirage.html"
        assert "<html" in report.read_text(encoding="utf-8").lower()
        # The same file again (format boxes left on CSV: the typed suffix decides): a warning
        # first, the second Ctrl+S replaces it.
        report.write_text("old", encoding="utf-8")
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(report)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert "existe déjà" in str(app.screen.query_one("#export-error", Static).render())
        assert report.read_text(encoding="utf-8") == "old"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert "<html" in report.read_text(encoding="utf-8").lower()

    drive(scenario)


@pytest.mark.parametrize("size", [(160, 50), (100, 30)])
def test_reopened_history_shows_whole_ipp_and_datacte(drive, demo_settings, settle, size):
    """A draw shown at start-up: no column keeps its header's width (IPP cut to 3)."""
    async def draw(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)

    async def reopen(app, pilot) -> None:
        await pilot.pause()
        await pilot.pause()
        record = open_history(demo_settings).list()[0]
        screen = app.export_screenshot()
        for row in record.rows[:5]:
            assert row["IPP"] in screen
            day = "/".join(reversed(row["DATACTE"].split("-")))
            assert day in screen

    drive(draw)
    drive(reopen, size=size)


def test_every_button_runs_its_action(drive, settle):
    """The buttons and the footer keys run the same actions."""
    async def scenario(app, pilot) -> None:
        await pilot.click("#new-draw")
        await settle(app, pilot)
        assert footer(app) == FOOTER_110
        app.copy_to_clipboard("")
        await pilot.click("#copy")
        assert app.clipboard.startswith("NUMTAS\tTYPECH")
        for button, dialog in (("#export", ExportDialog), ("#transmit", ConfirmDialog)):
            await pilot.click(button)
            await pilot.pause()
            assert isinstance(app.screen, dialog), button
            await pilot.press("escape")
            await pilot.pause()
        await pilot.click("#verify")
        await settle(app, pilot)
        assert str(app.screen.query_one("#verify-result", Static).render()).startswith("✔")
        await pilot.click("#open-settings")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)

    drive(scenario)
