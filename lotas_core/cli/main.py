"""The ``lotas`` command: argparse subcommands, one module per family of commands, plus the
commands plugins add (``lotas_register_commands``: ``epmsi-server``, ``epop-server``).

Every user error becomes one French line on standard error and exit code 2 (1 for a failed
check); a traceback is shown only with ``LOTAS_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lotas_core import __version__
from lotas_core.cli import cmd_config, cmd_draw, cmd_plugins, cmd_selection, cmd_transmit
from lotas_core.cli.context import CommandContext
from lotas_core.errors import LotasError

#: An exception no layer expected (a bug): named by its type only.
UNEXPECTED_FR = (
    "erreur inattendue ({kind}) : l'opération n'a pas abouti. Relancez avec LOTAS_DEBUG=1 pour "
    "le détail et signalez-la."
)

if TYPE_CHECKING:
    from lotas_core.plugin_host.facade import Lotas

COMMAND_MODULES = (cmd_selection, cmd_draw, cmd_transmit, cmd_plugins, cmd_config)


#: argparse's own English phrases, as the user reads them in French.
_ARGPARSE_FR = (
    ("unrecognized arguments", "arguments inconnus"),
    ("the following arguments are required", "arguments obligatoires manquants"),
    ("invalid choice", "choix invalide"),
    ("choose from", "possibles :"),
    ("expected one argument", "une valeur est attendue"),
    ("invalid int value", "nombre entier invalide"),
    ("invalid float value", "nombre invalide"),
)


class _FrenchHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in French; usage errors exit 2 with one line that says what to do."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("formatter_class", _FrenchHelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et s'arrête")

    def error(self, message: str) -> None:  # type: ignore[override]
        for english, french in _ARGPARSE_FR:
            message = message.replace(english, french)
        self.exit(2, f"{self.prog}: erreur : {message} (voir « {self.prog} --help »)\n")


def build_parser(lotas: Lotas | None = None) -> argparse.ArgumentParser:
    """The core's commands, and those of ``lotas``' plugins when given."""
    parser = _Parser(
        prog="lotas",
        description="Tirage au sort des patients d'une campagne qualité de la HAS (successeur "
        "libre de LOTAS ; campagne choisie par le paramètre « campaign » ou --campaign). Sans "
        "sous-commande : ouvre l'écran LOTAS.",
    )
    parser.add_argument(
        "--version", action="version", version=f"lotas {__version__}",
        help="affiche la version et s'arrête",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="fichier de paramètres TOML (LOTAS_CONFIG_FILE)"
    )
    parser.add_argument(
        "--campaign", dest="top_campaign", default=None, metavar="ID",
        help="campagne de l'écran et des commandes (par défaut : paramètre « campaign »)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="crée l'archive de démonstration (FINESS 000000001) et ouvre l'écran dessus",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    if lotas is not None:
        lotas.register_commands(subparsers)
    return parser


def _early_options(argv: Sequence[str]) -> argparse.Namespace:
    """``--config`` and ``--campaign``, read before the full parser: plugins (and their
    commands) are loaded with the settings they name."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--config", type=Path, default=None)
    early.add_argument("--campaign", default=None)
    return early.parse_known_args(argv)[0]


def _open_ui(ctx: CommandContext, demo: bool) -> int:
    try:
        from lotas_tui.launch import run_ui
    except ImportError as exc:  # pragma: no cover - the UI ships with the distribution
        raise LotasError(
            f"L'écran LOTAS n'est pas disponible ({exc}). Réinstallez lotas.", str(exc)
        ) from None
    return run_ui(ctx, demo=demo)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    early = _early_options(argv)
    ctx = CommandContext(config_file=early.config, campaign=early.campaign)
    load_error: LotasError | None = None
    try:
        lotas = ctx.lotas
    except LotasError as exc:  # bad settings or a broken plugin: the core's commands still run
        lotas, load_error = None, exc
    try:
        parser = build_parser(lotas)
    except LotasError as exc:  # a plugin's lotas_register_commands failed: the core's run
        parser, load_error = build_parser(None), exc
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        if load_error is not None and exit_.code == 2:  # maybe a command of the broken plugin
            print(f"lotas: erreur : {load_error.user_message}", file=sys.stderr)
        raise
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
    except OSError as exc:  # a file or network failure no message caught: still French
        if os.environ.get("LOTAS_DEBUG"):
            raise
        from lotas_core.reasons import os_reason_fr

        where = f" ({exc.filename})" if exc.filename else ""
        print(f"lotas: erreur : {os_reason_fr(exc)}{where}.", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last guard: never a traceback, never its text
        if os.environ.get("LOTAS_DEBUG"):
            raise
        # Not str(exc): an unexpected message may quote a patient identifier or a secret.
        print(f"lotas: erreur : {UNEXPECTED_FR.format(kind=type(exc).__name__)}", file=sys.stderr)
        return 2

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
