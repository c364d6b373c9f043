"""Placeholder for contract commands that this version does not provide yet."""

from __future__ import annotations

import argparse

from lotas_core.cli.context import CommandContext
from lotas_core.errors import NotAvailableYet


def add_placeholder(subparsers: argparse._SubParsersAction, name: str, help_fr: str) -> None:
    parser = subparsers.add_parser(name, help=f"{help_fr} (pas encore disponible)")
    parser.add_argument("rest", nargs=argparse.REMAINDER)

    def run(ctx: CommandContext, args: argparse.Namespace) -> int:
        raise NotAvailableYet(
            f"La commande « lotas {name} » n'est pas encore disponible dans cette version.",
            f"command {name!r} is not available yet",
        )

    parser.set_defaults(func=run)
