"""Commands of this family (placeholders until built)."""

from __future__ import annotations

import argparse

from lotas_core.cli.notyet import add_placeholder


def register(subparsers: argparse._SubParsersAction) -> None:
    add_placeholder(subparsers, "draw", "draw")
    add_placeholder(subparsers, "verify", "verify")
    add_placeholder(subparsers, "history", "history")
    add_placeholder(subparsers, "export", "export")
