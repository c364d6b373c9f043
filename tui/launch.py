"""Open the UI from the command line (placeholder until the screen is built)."""

from __future__ import annotations

from typing import Any

from lotas_core.errors import NotAvailableYet


def run_ui(ctx: Any, demo: bool = False) -> int:
    raise NotAvailableYet(
        "L'écran LOTAS n'est pas encore disponible dans cette version.", "UI not built yet"
    )
