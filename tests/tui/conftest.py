"""Fixtures of the UI tests: a demo archive in the default folder, and the app factory."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEMO_FINESS = "000000001"
#: A fixed seed so that draws (and snapshots) are reproducible.
SEED_A = bytes(range(32))
SEED_B = bytes(32)
FOOTER_110 = "NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]"


@pytest.fixture(scope="session")
def demo_archive_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo archive, written once per test session."""
    from lotas_plugins.psy_sma_2021.demo import write_demo_archive

    folder = tmp_path_factory.mktemp("demo-archive")
    return write_demo_archive(folder, finess=DEMO_FINESS)


@pytest.fixture
def demo_settings(data_dir: Path, demo_archive_master: Path) -> Any:
    """Settings of this test's data folder, with the demo archive in the default folder."""
    from lotas_core.settings import load_settings

    folder = data_dir / "archives" / "PSY"
    folder.mkdir(parents=True)
    shutil.copy2(demo_archive_master, folder / demo_archive_master.name)
    settings = load_settings().settings
    return settings.model_copy(update={"finess": DEMO_FINESS})


@pytest.fixture
def make_app(config_file: Path) -> Callable[..., Any]:
    """The app as ``lotas`` builds it (``create_app``), on the given settings."""
    from lotas_tui.app import create_app

    def factory(settings: Any, **options: Any) -> Any:
        options.setdefault("draw_seed", SEED_A)
        # No real clipboard command in tests (a test gives its own fake one).
        options.setdefault("clipboard_commands", [])
        return create_app(settings, config_file=config_file, **options)

    return factory


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _settle(app: Any, pilot: Any) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture
def settle() -> Callable[[Any, Any], Any]:
    """``await settle(app, pilot)``: every worker done and its messages handled (no sleep)."""
    return _settle


@pytest.fixture
def drive(make_app: Callable[..., Any], demo_settings: Any) -> Callable[..., None]:
    """``drive(scenario, settings=None, size=(120, 40), **app_options)`` runs
    ``await scenario(app, pilot)`` in the app as ``lotas`` builds it (demo settings by default).
    """

    def run(scenario: Callable[[Any, Any], Any], *, settings: Any = None,
            size: tuple[int, int] = (120, 40), **options: Any) -> None:
        async def main() -> None:
            app = make_app(demo_settings if settings is None else settings, **options)
            async with app.run_test(size=size) as pilot:
                await scenario(app, pilot)

        asyncio.run(main())

    return run
