"""Snapshots of the screens at fixed sizes (textual pinned in pyproject).

The history label is frozen (it shows the draw's local time) and the draw uses a fixed seed, so
the pictures only change when the screens do. Regenerate with ``--snapshot-update`` and look.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.timeout(180)


def frozen_label(record: Any) -> str:
    return f"{record.finess}- 22/04/2021 09:16:56"


async def draw_and_quiet(pilot: Any) -> None:
    await pilot.press("n")
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


def test_main_screen_after_a_draw(snap_compare, make_app, demo_settings):
    app = make_app(demo_settings, entry_label=frozen_label)
    assert snap_compare(app, terminal_size=(120, 40), run_before=draw_and_quiet)


def test_main_screen_small_terminal(snap_compare, make_app, demo_settings):
    app = make_app(demo_settings, entry_label=frozen_label)
    assert snap_compare(app, terminal_size=(100, 30), run_before=draw_and_quiet)


def test_funnel_panel(snap_compare, make_app, demo_settings):
    async def run_before(pilot: Any) -> None:
        await draw_and_quiet(pilot)
        await pilot.press("d")
        await pilot.pause()

    app = make_app(demo_settings, entry_label=frozen_label)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_settings_screen(snap_compare, make_app, demo_settings):
    async def run_before(pilot: Any) -> None:
        await pilot.press("p")
        await pilot.pause()
        await pilot.click("#use-proxy")
        await pilot.pause()

    app = make_app(demo_settings)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_settings_screen_epop(snap_compare, make_app, demo_settings):
    async def run_before(pilot: Any) -> None:
        await pilot.press("p")
        await pilot.pause()
        await pilot.click("#mode-epop")
        await pilot.pause()

    app = make_app(demo_settings)
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
