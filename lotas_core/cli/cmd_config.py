"""``lotas config``: the resolved settings and the file they came from."""

from __future__ import annotations

import argparse
import json

from lotas_core.cli.context import CommandContext
from lotas_core.settings import strip_secrets


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="affiche les paramètres résolus et leur fichier")
    parser.add_argument("--format", choices=("toml", "json"), default="toml")
    parser.set_defaults(func=run)


def run(ctx: CommandContext, args: argparse.Namespace) -> int:
    loaded = ctx.loaded
    data = strip_secrets(loaded.settings.model_dump(mode="json"))
    state = "chargé" if loaded.config_file_found else "absent : valeurs par défaut"
    if args.format == "json":
        payload = {
            "config_file": str(loaded.config_file),
            "config_file_found": loaded.config_file_found,
            "archive_folder": str(loaded.settings.archive_folder),
            "settings": data,
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    import tomli_w

    print(f"# fichier de paramètres : {loaded.config_file} ({state})")
    print(f"# dossier des archives utilisé : {loaded.settings.archive_folder}")
    print("# les variables LOTAS_* de l'environnement priment sur le fichier")
    print(tomli_w.dumps(_drop_none(data)), end="")
    return 0


def _drop_none(data: object) -> object:
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in data.items() if v is not None}
    return data
