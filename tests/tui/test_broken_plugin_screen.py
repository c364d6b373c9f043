"""The screen starts with a broken plugin installed: it names it and runs without it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.widgets import Static

from lotas_tui.app import FATAL_ERROR_FR
from lotas_tui.widgets.dialogs import MessageDialog

FOOTER_110 = "NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]"


def dialog_text(app: Any) -> str:
    return str(app.screen.query_one("#dialog-message", Static).render())


@pytest.mark.parametrize("dist, plugin", [
    ("lotas-duplicate-campaign", "duplicate_campaign"),  # the row: duplicate id at start
    ("lotas-broken-campaigns", "broken_campaigns"),
    ("lotas-wrong-argument", "wrong_argument"),
])
def test_the_screen_names_a_broken_plugin_and_draws_without_it(
        drive, install_broken, monkeypatch, settle, dist, plugin) -> None:
    monkeypatch.syspath_prepend(str(install_broken(dist)))

    async def scenario(app, pilot) -> None:
        await pilot.pause()
        assert isinstance(app.screen, MessageDialog)
        text = dialog_text(app)
        assert f"« {plugin} »" in text and f"{dist} 1.0" in text
        assert "lotas fonctionne sans lui" in text
        assert "0099887766" not in text and "Tr0ub4dor" not in text
        await pilot.press("enter")
        await pilot.press("n")
        await settle(app, pilot)
        assert not isinstance(app.screen, MessageDialog), dialog_text(app)
        assert FOOTER_110 in str(app.screen.query_one("#draw-footer", Static).render())

    drive(scenario)


def test_an_unexpected_error_ends_the_screen_without_locals(make_app, demo_settings,
                                                           capfd) -> None:
    app = make_app(demo_settings)

    async def main() -> None:
        async with app.run_test() as pilot:
            def crash() -> None:
                secret = "IPP 0099887766"  # a local variable Textual would print
                raise RuntimeError(secret[:3])

            app.call_later(crash)
            await pilot.pause()

    capfd.readouterr()
    with pytest.raises(RuntimeError):
        asyncio.run(main())
    assert app.return_code == 1
    shown = capfd.readouterr().err
    assert FATAL_ERROR_FR.format(kind="RuntimeError") in " ".join(shown.split())
    assert "0099887766" not in shown and "secret" not in shown and "Traceback" not in shown


def test_verify_on_the_screen_names_a_rule_added_since_the_draw(drive, settle, monkeypatch,
                                                                install_broken) -> None:
    from lotas_core.plugin_host.facade import Lotas

    async def scenario(app, pilot) -> None:
        await pilot.press("n")
        await settle(app, pilot)
        monkeypatch.syspath_prepend(str(install_broken("lotas-site-rule")))
        app.backend.lotas = Lotas.from_settings(app.settings)  # the site rule is now installed
        await pilot.press("v")
        await settle(app, pilot)
        result = str(app.screen.query_one("#verify-result", Static).render())
        assert "règles différentes depuis le tirage : + minor (lotas-site-rule 1.0)" in result
        assert not result.startswith("✔")

    drive(scenario)
