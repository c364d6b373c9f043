"""Commands of this family (placeholders until built)."""

from __future__ import annotations

import argparse

from lotas_core.cli.notyet import add_placeholder


def register(subparsers: argparse._SubParsersAction) -> None:
    add_placeholder(subparsers, "transmit", "transmit")
    add_placeholder(subparsers, "test-connection", "test-connection")
    add_placeholder(subparsers, "epmsi-server", "epmsi-server")
    add_placeholder(subparsers, "epop-server", "epop-server")
