"""Open the LOTAS screen from the command line (``lotas``, ``lotas --demo``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

DEMO_FINESS = "000000001"


def demo_folder(settings: Any) -> Path:
    """The default archive folder, where ``--demo`` puts its archive."""
    return Path(settings.data_dir) / "archives" / "PSY"


def prepare_demo(settings: Any) -> Any:
    """Write the demo archive once, and return settings showing it (nothing is saved)."""
    from lotas_core.reading.demo import write_demo_archive

    folder = demo_folder(settings)
    if not any(folder.glob(f"{DEMO_FINESS}.2019.12.*.in.zip")):
        print(f"lotas : création de l'archive de démonstration dans {folder}…", file=sys.stderr)
        folder.mkdir(parents=True, exist_ok=True)
        write_demo_archive(folder, finess=DEMO_FINESS)
    archives = settings.archives.model_copy(update={"use_default": True})
    return settings.model_copy(update={"finess": DEMO_FINESS, "archives": archives})


def run_ui(ctx: Any, demo: bool = False) -> int:
    """Run the app on the command's settings; ``demo`` opens it on the demo archive."""
    from lotas_tui.app import create_app

    loaded = ctx.loaded
    settings = prepare_demo(loaded.settings) if demo else loaded.settings
    app = create_app(
        settings,
        lotas=ctx.lotas,
        config_file=loaded.config_file,
        config_found=loaded.config_file_found,
        demo=demo,
    )
    result = app.run()
    return int(result or 0)
