"""The ``lotas`` command: argparse subcommands, one module per family of commands.

Every user error becomes one French line on standard error and exit code 2 (1 for a failed
check); a traceback is shown only with ``LOTAS_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lotas_core import __version__
from lotas_core.cli import cmd_config, cmd_draw, cmd_plugins, cmd_selection, cmd_transmit
from lotas_core.cli.context import CommandContext
from lotas_core.errors import LotasError

COMMAND_MODULES = (cmd_selection, cmd_draw, cmd_transmit, cmd_plugins, cmd_config)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 2 with one line that says what to do."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: erreur : {message} (voir « {self.prog} --help »)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lotas",
        description="Tirage au sort des patients de la campagne HAS PSY SMA 2021 (successeur "
        "libre de LOTAS). Sans sous-commande : ouvre l'écran LOTAS.",
    )
    parser.add_argument("--version", action="version", version=f"lotas {__version__}")
    parser.add_argument(
        "--config", type=Path, default=None, help="fichier de paramètres TOML (LOTAS_CONFIG_FILE)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="crée l'archive de démonstration (FINESS 000000001) et ouvre l'écran dessus",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def _open_ui(ctx: CommandContext, demo: bool) -> int:
    try:
        from lotas_tui.launch import run_ui
    except ImportError as exc:  # pragma: no cover - the UI ships with the distribution
        raise LotasError(
            f"L'écran LOTAS n'est pas disponible ({exc}). Réinstallez lotas.", str(exc)
        ) from None
    return run_ui(ctx, demo=demo)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = CommandContext(config_file=args.config)
    try:
        if args.command is None:
            return _open_ui(ctx, demo=args.demo)
        return int(args.func(ctx, args) or 0)
    except LotasError as exc:
        if os.environ.get("LOTAS_DEBUG"):
            raise
        print(f"lotas: erreur : {exc.user_message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lotas: interrompu", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
