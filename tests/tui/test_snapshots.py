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


@pytest.mark.parametrize(
    ("keys", "size"),
    [((), (120, 40)), ((), (100, 30)), ((), (80, 24)), (("d",), (120, 40)),
     (("t",), (100, 30))],
    ids=["after-draw", "small-terminal", "terminal-80x24", "funnel-panel",
         "transmit-confirmation"],
)
def test_main_screen(snap_compare, make_app, demo_settings, keys, size):
    """After a draw, then the given keys (``d``: the funnel tab; ``t``: the confirmation)."""
    async def run_before(pilot: Any) -> None:
        await draw_and_quiet(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    app = make_app(demo_settings, entry_label=frozen_label)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize(
    ("click", "size"),
    [("#use-proxy", (120, 40)), ("#mode-epop", (100, 30))],
    ids=["direct-proxy", "epop-small"],
)
def test_settings_screen(snap_compare, make_app, demo_settings, click, size):
    async def run_before(pilot: Any) -> None:
        await pilot.press("p")
        await pilot.pause()
        await pilot.click(click)
        await pilot.pause()

    app = make_app(demo_settings)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
