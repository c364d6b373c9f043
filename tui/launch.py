"""Open the LOTAS screen from the command line (``lotas``, ``lotas --demo``)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from lotas_core.reading.demo import DEMO_FINESS

if TYPE_CHECKING:
    from lotas_core.cli.context import CommandContext
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.settings import Settings


def prepare_demo(settings: Settings, lotas: Lotas) -> Settings:
    """Write the campaign's demo archive once into its default folder, and return settings
    showing it (nothing is saved)."""
    campaign = lotas.campaign(settings.campaign)
    folder = settings.archive_folder_for(campaign.archive_folder_name())
    folder.mkdir(parents=True, exist_ok=True)
    # The generator is deterministic: an archive of the same name already there is this one.
    with tempfile.TemporaryDirectory(dir=folder, prefix=".demo-") as tmp:
        made = campaign.write_demo_archive(Path(tmp), finess=DEMO_FINESS)
        target = folder / made.name
        if not target.exists():
            os.replace(made, target)
            print(f"lotas : archive de démonstration créée : {target}", file=sys.stderr)
    archives = settings.archives.model_copy(update={"use_default": True})
    return settings.model_copy(update={"finess": DEMO_FINESS, "archives": archives})


def run_ui(ctx: CommandContext, demo: bool = False) -> int:
    """Run the app on the command's settings; ``demo`` opens it on the demo archive."""
    from lotas_tui.app import create_app

    loaded = ctx.loaded
    settings = prepare_demo(loaded.settings, ctx.lotas) if demo else loaded.settings
    app = create_app(
        settings,
        lotas=ctx.lotas,
        config_file=loaded.config_file,
        config_found=loaded.config_file_found,
        demo=demo,
    )
    result = app.run()
    return int(result or 0)
