"""The screen lists a damaged history entry as damaged, beside the intact ones (issue 12)."""

from __future__ import annotations

import sqlite3

from textual.widgets import OptionList

from lotas_core.draws.service import open_history


def test_damaged_entry_is_listed_and_can_be_selected(drive, demo_settings, settle):
    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        intact = open_history(demo_settings).list()[0]
        conn = sqlite3.connect(demo_settings.history_path)
        conn.execute(
            "INSERT INTO draws (draw_id, finess, campaign_id, created_at, entry_json, prev_hash,"
            " entry_hash) VALUES ('000000001-20210422-091656-badbad', '000000001',"
            " 'psy_sma_2021', '2021-04-22T07:16:56+00:00', '{broken', ?, ?)",
            ("0" * 64, "f" * 64),
        )
        conn.commit()
        conn.close()
        app.screen.reload_history()
        await pilot.pause()
        history = app.screen.query_one("#history", OptionList)
        texts = [str(history.get_option_at_index(i).prompt) for i in range(history.option_count)]
        assert len(texts) == 2
        assert sum("(endommagé)" in text for text in texts) == 1
        assert any(intact.label() in text and "(endommagé)" not in text for text in texts)
        damaged = next(i for i, text in enumerate(texts) if "(endommagé)" in text)
        history.focus()
        history.highlighted = damaged
        await pilot.pause()
        await settle(app, pilot)
        assert app.screen.current.damage  # shown, not crashed

    drive(scenario)
