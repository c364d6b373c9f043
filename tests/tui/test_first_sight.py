"""What a DIM user coming from the Windows LOTAS checks at first sight, at 80 x 24 (issue 13).

Settings that stick and do not lie, a table that hides nothing, a clipboard that says where the
rows went, keys that do what the key bar says, French words, files Excel opens.
"""

from __future__ import annotations

import asyncio
import stat
import tomllib
from pathlib import Path

import pytest
from textual.widgets import DataTable, DirectoryTree, Input, OptionList, Static
from textual.widgets._toast import Toast

from lotas_core.draws.exports import to_tsv
from lotas_core.draws.service import open_history
from lotas_tui.clipboard import SYSTEM, ClipboardCommand
from lotas_tui.messages import ProxyImported
from lotas_tui.screens.main import CLIPBOARD_NOTICE, NOTICE_SECONDS, MainScreen
from lotas_tui.screens.settings import SettingsScreen
from lotas_tui.widgets.dialogs import ConfirmDialog, ExportDialog, FolderPicker
from lotas_tui.widgets.establishment import DEFAULT_FOLDER_LABEL, SHORT_DEFAULT_FOLDER_LABEL
from lotas_tui.widgets.progress_row import ProgressRow
from lotas_tui.widgets.toggles import Box, Choice, Radio

pytestmark = pytest.mark.timeout(180)
SMALL = (80, 24)


def screen_lines(app) -> list[str]:
    """The terminal's text, line by line, as the user sees it."""
    return ["".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()]


def key_bar(app) -> str:
    return screen_lines(app)[-1]


def notices(app) -> list[str]:
    return [f"{n.title} | {n.message}" for n in app._notifications]


async def open_settings(app, pilot) -> SettingsScreen:
    await pilot.press("p")
    await pilot.pause()
    assert isinstance(app.screen, SettingsScreen)
    return app.screen


def read_config(config_file: Path) -> dict:
    return tomllib.loads(config_file.read_text(encoding="utf-8"))


# -- the table and the window at 80 x 24 ---------------------------------------------------------


def test_80x24_shows_datacte_whole_listeda_and_quitter(drive, demo_settings, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        app.clear_notifications()
        await pilot.pause()
        record = open_history(demo_settings).list(finess="000000001")[0]
        text = "\n".join(screen_lines(app))
        table = app.screen.query_one("#draw-table", DataTable)
        shown = [row for row in record.rows if table.is_valid_row_index(0)][:4]
        lines = screen_lines(app)
        for row in shown[:3]:
            line = next(line for line in lines if row["IPP"] in line)
            day = "/".join(reversed(row["DATACTE"].split("-")))
            assert day in line, f"DATACTE on the row's line: {line!r}"
        # LISTEDA: every code of the first rows is on screen, none cut into another code.
        for row in shown[:3]:
            for code in str(row["LISTEDA"]).split():
                assert f" {code} " in f" {text} ".replace("\n", " "), code
        assert "q Quitter" in key_bar(app)
        assert "Quitter" in lines[-2]  # the manual's button, on the status line

    drive(scenario, size=SMALL)


def test_a_long_listeda_wraps_instead_of_being_cut():
    from lotas_tui.widgets.draw_table import fit_columns

    names = ("NUMTAS", "TYPECH", "IPP", "SEXE", "AGE", "MODENT", "MODSORT", "DEST", "PROV",
             "LISTEDA", "DATACTE")
    row = ["1", "P", "0000O1262NOC3CUP8HEH", "2", "8", "", "", "", "", "F29 F322 F329 Z590",
           "28/07/2019"]
    for width in (80, 100, 120, 200):
        widths, split = fit_columns(names, [row], width, "LISTEDA")
        listeda = names.index("LISTEDA")
        assert sum(widths) + len(widths) + 1 <= width, "every column, DATACTE included, fits"
        assert widths[listeda] >= len("LIST"), "never narrower than its header"
        if widths[listeda] < len(row[listeda]):
            assert width < 100, "only a narrow terminal wraps LISTEDA"
        assert split == (width < 100)


def test_history_grows_with_the_terminal_one_line_per_draw(drive, settle):
    heights = {}

    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        history = app.screen.query_one("#history", OptionList)
        prompt = str(history.get_option_at_index(0).prompt)
        assert prompt.endswith("  non transmis")
        assert history.content_region.width >= len(prompt), "one line, not wrapped"
        heights[app.size.height] = history.size.height

    drive(scenario, size=SMALL)
    drive(scenario, size=(120, 40))
    assert heights[40] > heights[24] >= 2


def test_default_folder_label_is_never_cut(drive):
    """At 80 columns the manual's label would lose "(recommandé)": a shorter one shows whole."""
    seen = {}

    async def scenario(app, pilot) -> None:
        await pilot.pause()
        box = app.screen.query_one("#use-default", Box)
        label = str(box.label)
        seen[app.size.width] = label
        assert any(label in line for line in screen_lines(app)), label

    drive(scenario, size=SMALL)
    drive(scenario, size=(120, 40))
    assert seen[80] == SHORT_DEFAULT_FOLDER_LABEL
    assert seen[120] == DEFAULT_FOLDER_LABEL


def test_title_drops_demonstration_once_another_finess_is_typed(drive):
    async def scenario(app, pilot) -> None:
        title = app.screen.query_one("#title", Static)
        assert "(démonstration)" in str(title.render())
        field = app.screen.query_one("#finess", Input)
        field.value = "750712184"
        await pilot.pause()
        assert "(démonstration)" not in str(title.render())
        field.value = "000000001"
        await pilot.pause()
        assert "(démonstration)" in str(title.render())

    drive(scenario, size=SMALL, demo=True)


# -- the clipboard -------------------------------------------------------------------------------


def fake_clipboard(tmp_path: Path) -> tuple[ClipboardCommand, Path]:
    """A clipboard command that keeps what it is given in a file (like xclip would)."""
    kept = tmp_path / "clipboard.txt"
    script = tmp_path / "fakeclip"
    script.write_text(f"#!/bin/sh\ncat > '{kept}'\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return ClipboardCommand((str(script),), SYSTEM), kept


def test_copy_goes_to_the_system_clipboard_and_says_so(drive, demo_settings, tmp_path, settle):
    command, kept = fake_clipboard(tmp_path)

    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        record = open_history(demo_settings).list(finess="000000001")[0]
        tsv = to_tsv(record, app.row_layout(record))
        assert kept.read_text(encoding="utf-8") == tsv
        assert app.clipboard == tsv  # and OSC 52
        said = notices(app)
        assert any("110 lignes copiées dans le presse-papiers du système" in n for n in said)
        assert any(CLIPBOARD_NOTICE.format(columns="IPP") in n for n in said)
        assert not any("non vérifiable" in n for n in said)

    drive(scenario, size=SMALL, clipboard_commands=[command])


def test_without_a_system_clipboard_the_notice_says_it_cannot_tell(make_app, demo_settings,
                                                                    settle):
    async def main() -> None:
        app = make_app(demo_settings, clipboard_commands=[])
        async with app.run_test(size=SMALL, notifications=True) as pilot:
            await pilot.press("n")
            await settle(app, pilot)
            said = notices(app)
            assert any("envoyées au terminal (OSC 52), non vérifiable" in n for n in said)
            assert not any("copiées dans" in n for n in said)
            # A few seconds, top right: never over Quitter and the key bar.
            toasts = list(app.screen.query(Toast))
            assert toasts
            status = app.screen.query_one("#status-bar").region
            for toast in toasts:
                assert toast.region.bottom <= status.y, [n.title for n in app._notifications]
            lines = screen_lines(app)
            assert "Quitter" in lines[-2] and "q Quitter" in lines[-1]
            assert all(n.timeout <= NOTICE_SECONDS for n in app._notifications
                       if "OSC 52" in n.title)

    asyncio.run(main())


def test_a_missing_or_failing_command_is_skipped(tmp_path):
    from lotas_tui.clipboard import copy_with_commands

    failing = tmp_path / "failclip"
    failing.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    failing.chmod(0o700)
    good, kept = fake_clipboard(tmp_path)
    commands = [ClipboardCommand(("no-such-clipboard-tool",), SYSTEM),
                ClipboardCommand((str(failing),), SYSTEM), good]
    assert copy_with_commands("NUMTAS\n1\n", commands) == SYSTEM
    assert kept.read_text(encoding="utf-8") == "NUMTAS\n1\n"
    assert copy_with_commands("x", commands[:2]) is None


def test_platform_commands_follow_the_platform():
    from lotas_tui.clipboard import TMUX, platform_commands

    assert [c.argv[0] for c in platform_commands({}, "darwin")] == ["pbcopy"]
    assert [c.argv[0] for c in platform_commands({}, "win32")] == ["clip.exe"]
    x11 = platform_commands({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert [c.argv[0] for c in x11][:3] == ["wl-copy", "xclip", "xsel"]
    in_tmux = platform_commands({"TMUX": "/tmp/tmux-0/default,1,0"}, "linux")
    assert in_tmux[-1].argv[:2] == ("tmux", "load-buffer") and in_tmux[-1].where_fr == TMUX


# -- keys ----------------------------------------------------------------------------------------


def test_ctrl_c_quits_without_an_english_toast(drive):
    async def scenario(app, pilot) -> None:
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not any("quit" in n.lower() for n in notices(app))
        assert app.return_value == 0

    drive(scenario, size=SMALL)


def test_ctrl_c_in_a_field_and_during_a_transmission_asks_first(drive):
    async def scenario(app, pilot) -> None:
        app.screen.query_one(ProgressRow).busy("transmit", "Envoi vers QUALHAS…", None)
        app.screen.query_one("#finess", Input).focus()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog), "a transmission is running: confirm"
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.return_value is None
        await pilot.press("ctrl+c", "ctrl+c")  # asked, then answered by the second Ctrl+C
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.screen._quit_when_idle
        row = app.screen.query_one(ProgressRow)
        row.done("transmit")
        await pilot.press("ctrl+c")  # nothing runs any more: quits at once
        await pilot.pause()
        assert app.return_value == 0

    drive(scenario, size=SMALL)


def test_in_a_text_field_the_key_bar_says_escape_leaves_it(drive):
    async def scenario(app, pilot) -> None:
        await pilot.pause()
        assert "n Nouveau" in key_bar(app)
        field = app.screen.query_one("#finess", Input)
        field.focus()
        await pilot.pause()
        bar = key_bar(app)
        assert "Échap Quitter le champ" in bar and "n Nouveau" not in bar
        await pilot.press("end", "backspace", "n")
        assert field.value == "00000000n"  # the letter is typed, not an action
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.screen.query_one("#draw-table")
        assert "n Nouveau" in key_bar(app) and "Échap" not in key_bar(app)

    drive(scenario, size=SMALL)


def test_boxes_and_radios_read_without_colour(drive):
    async def scenario(app, pilot) -> None:
        lines = "\n".join(screen_lines(app))
        assert "(•) DGF" in lines and "( ) OQN" in lines
        assert f"[X] {SHORT_DEFAULT_FOLDER_LABEL}" in lines  # 80 columns: the short label
        box = app.screen.query_one("#use-default", Box)
        box.value = False
        await pilot.pause()
        assert f"[ ] {SHORT_DEFAULT_FOLDER_LABEL}" in "\n".join(screen_lines(app))
        assert isinstance(app.screen.query_one("#fin-dgf"), Radio)

    drive(scenario, size=SMALL)


def test_radio_cursor_starts_on_the_chosen_option(drive, demo_settings):
    transport = demo_settings.transport.model_copy(update={
        "name": "transport_epop",
        "options": {"transport_epop": {"host": "127.0.0.1", "port": 3358}}})
    settings = demo_settings.model_copy(update={"transport": transport, "financing": "OQN"})

    async def scenario(app, pilot) -> None:
        financing = app.screen.query_one("#financing", Choice)
        assert financing._selected == 1
        screen = await open_settings(app, pilot)
        mode = screen.query_one("#mode", Choice)
        assert mode._selected == 1
        mode.focus()
        await pilot.press("space")  # on the chosen option: nothing switches
        await pilot.pause()
        assert screen.query_one("#mode-epop", Radio).value

    drive(scenario, settings=settings, size=SMALL)


# -- settings that stick and do not lie ----------------------------------------------------------


def test_imported_proxy_ticks_use_proxy_and_is_saved(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        assert not screen.query_one("#use-proxy", Box).value
        screen.post_message(ProxyImported("proxy.chu.local", 3128))
        await pilot.pause()
        assert screen.query_one("#use-proxy", Box).value
        assert "coché" in str(screen.query_one("#test-result", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

    drive(scenario, size=SMALL)
    direct = read_config(config_file)["transport"]["options"]["transport_direct"]
    assert direct["proxy_mode"] == "manual" and direct["proxy_host"] == "proxy.chu.local"
    assert direct["proxy_port"] == 3128


def test_ctrl_r_and_ctrl_g_act_only_when_their_buttons_show(drive):
    calls = []

    async def scenario(app, pilot) -> None:
        def action(name, action_id):
            calls.append(action_id)
            return {"proxy_host": "p.local", "proxy_port": 8080}

        app.backend.run_transport_action = action
        screen = await open_settings(app, pilot)
        screen.query_one("#epop-port", Input).value = "1234"
        await pilot.press("ctrl+g", "ctrl+r")  # direct mode, proxy unticked: neither shows
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#epop-port", Input).value == "1234" and not calls
        assert "Port par défaut" not in key_bar(app) and "Importer" not in key_bar(app)
        screen.query_one("#use-proxy", Box).value = True
        await pilot.pause()
        await pilot.pause()
        assert screen.check_action("import_proxy", ()) is True
        assert "Importer" in key_bar(app)
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == ["import-proxy"]
        screen.query_one("#mode-epop", Radio).value = True
        await pilot.pause()
        await pilot.press("ctrl+r", "ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == ["import-proxy"], "no import from the e-POP form"
        assert screen.query_one("#epop-port", Input).value == "3358"

    drive(scenario, size=(100, 30))


def test_epop_address_999_is_refused(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        screen.query_one("#mode-epop", Radio).value = True
        screen.query_one("#epop-host", Input).value = "999.1.1.1"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        error = str(screen.query_one("#settings-error", Static).render())
        assert "« 999.1.1.1 »" in error and "entre 0 et 255" in error
        assert app.focused is screen.query_one("#epop-host")

    drive(scenario, size=(100, 30))
    assert not config_file.exists()


def test_proxy_authentication_needs_a_user(drive, config_file):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        screen.query_one("#use-proxy", Box).value = True
        await pilot.pause()
        screen.query_one("#use-auth", Box).value = True
        screen.query_one("#proxy-host", Input).value = "proxy.chu.local"
        screen.query_one("#proxy-port", Input).value = "3128"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "utilisateur du proxy" in str(screen.query_one("#settings-error", Static).render())
        assert app.focused is screen.query_one("#proxy-user")

    drive(scenario, size=(100, 30))
    assert not config_file.exists()


def test_error_lines_go_once_the_value_is_fixed(drive):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        screen.query_one("#mode-epop", Radio).value = True
        screen.query_one("#epop-host", Input).value = "127.0.0.1"
        port = screen.query_one("#epop-port", Input)
        port.value = "0"
        await pilot.pause()
        await pilot.press("ctrl+t")  # "Tester" refuses the port too, in its own line
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "entre 1 et 65535" in str(screen.query_one("#settings-error", Static).render())
        assert "entre 1 et 65535" in str(screen.query_one("#test-result", Static).render())
        port.value = "3358"
        await pilot.pause()
        await pilot.pause()
        assert str(screen.query_one("#settings-error", Static).render()).strip() == ""
        assert str(screen.query_one("#test-result", Static).render()).strip() == ""

    drive(scenario, size=(100, 30))


def test_first_tab_in_establishment_lands_on_the_finess_field(drive):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        screen.query_one("#settings-tabs").active = "tab-establishment"
        await pilot.pause()
        screen.query_one("#settings-tabs ContentTabs").focus()
        await pilot.press("tab")
        assert app.focused is screen.query_one("#set-finess")

    drive(scenario, size=SMALL)


def test_no_keyring_is_said_plainly(drive):
    async def scenario(app, pilot) -> None:
        screen = await open_settings(app, pilot)
        note = screen.query_one("#keyring-note", Static)
        assert str(note.render()).strip() == ""
        screen.query_one("#remember", Box).value = True
        await pilot.pause()
        assert "Aucun trousseau" in str(note.render())
        screen.query_one("#epmsi-password", Input).value = "s3cret"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert any("oubliés à la fermeture" in n for n in notices(app))
        assert not any("s3cret" in n for n in notices(app))

    drive(scenario, size=(100, 30))


def test_main_window_settings_are_saved_at_each_valid_change(drive, demo_settings, config_file,
                                                             tmp_path):
    async def scenario(app, pilot) -> None:
        box = app.screen.query_one("#archives")
        assert not box.border_subtitle
        field = app.screen.query_one("#finess", Input)
        field.value = "7507121"
        await pilot.pause()
        assert box.border_subtitle == "FINESS incomplet : non enregistré"
        assert app.screen.query_one("#identification").border_subtitle == "non enregistré"
        assert not config_file.exists()
        field.value = "750712184"
        await pilot.pause()
        assert box.border_subtitle == "enregistré"
        assert read_config(config_file)["finess"] == "750712184"
        app.screen.query_one("#fin-oqn", Radio).value = True
        await pilot.pause()
        assert read_config(config_file)["financing"] == "OQN"
        app.screen.query_one("#use-default", Box).value = False
        path = app.screen.query_one("#archive-path", Input)
        path.value = str(tmp_path)
        path.focus()
        await pilot.press("enter")
        await pilot.pause()
        saved = read_config(config_file)["archives"]
        assert saved["use_default"] is False and saved["path"] == str(tmp_path)

    drive(scenario, size=SMALL)


def test_the_demonstration_saves_nothing_and_says_so(drive, config_file):
    async def scenario(app, pilot) -> None:
        await pilot.pause()
        assert not app.screen.query_one("#archives").border_subtitle  # nothing changed yet
        app.screen.query_one("#finess", Input).value = "750712184"
        await pilot.pause()
        assert app.screen.query_one("#archives").border_subtitle == "démonstration : non enregistré"

    drive(scenario, size=SMALL, demo=True)
    assert not config_file.exists()


# -- files ---------------------------------------------------------------------------------------


def test_export_dialog_offers_csv_for_excel(drive, tmp_path, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        target = tmp_path / "pour-excel.csv"
        app.screen.query_one("#export-format").query("RadioButton")[1].value = True
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        data = target.read_bytes()
        assert data.startswith(b"\xef\xbb\xbfNUMTAS;TYPECH;IPP;")
        assert b"\r\n" in data and b"," not in data.split(b"\r\n")[1]

    drive(scenario, size=SMALL)


def test_folder_picker_lists_archives_and_names_the_one_used(drive, demo_settings, settle):
    async def scenario(app, pilot) -> None:
        app.screen.query_one("#use-default", Box).value = False
        await pilot.pause()
        await pilot.press("escape", "o")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, FolderPicker)
        tree = picker.query_one(DirectoryTree)
        for _ in range(20):
            await pilot.pause()
            if tree.root.children:
                break
        names = [str(node.label) for node in tree.root.children]
        archive = next(Path(app.archive_folder(demo_settings)).glob("*.in.zip")).name
        assert archive in names
        chosen = str(picker.query_one("#folder-chosen", Static).render())
        assert f"Archive qui sera utilisée : {archive}" in chosen

    folder = demo_settings.archive_folder_for("PSY")
    settings = demo_settings.model_copy(update={"archives": demo_settings.archives.model_copy(
        update={"use_default": False, "path": folder})})
    drive(scenario, settings=settings, size=(100, 30))


def test_a_first_run_says_the_pivoine_backup_goes_in_the_missing_folder(drive, demo_settings,
                                                                        tmp_path):
    missing = tmp_path / "pas-encore"
    settings = demo_settings.model_copy(update={"archives": demo_settings.archives.model_copy(
        update={"use_default": False, "path": missing})})

    async def scenario(app, pilot) -> None:
        said = " ".join(notices(app))
        assert "n'existe pas" in said and "sauvegarde PIVOINE" in said
        assert "000000001.2019.12." in said and "--archives" not in said

    drive(scenario, settings=settings, size=SMALL)
