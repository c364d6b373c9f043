"""``lotas config``: the resolved settings and the file they came from."""

from __future__ import annotations

import argparse
import json

from lotas_core.cli.context import CommandContext
from lotas_core.settings import strip_secrets
from lotas_core.transmission.redaction import redact_credentials


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="affiche les paramètres résolus et leur fichier")
    parser.add_argument("--format", choices=("toml", "json"), default="toml")
    parser.set_defaults(func=run)


def run(ctx: CommandContext, args: argparse.Namespace) -> int:
    loaded = ctx.loaded
    folder = _archive_folder(ctx)
    # no password key, and no URL user information (an options model refuses it at use time)
    data = redact_credentials(strip_secrets(loaded.settings.model_dump(mode="json")))
    state = "chargé" if loaded.config_file_found else "absent : valeurs par défaut"
    if args.format == "json":
        payload = {
            "config_file": str(loaded.config_file),
            "config_file_found": loaded.config_file_found,
            "archive_folder": folder,
            "settings": data,
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    import tomli_w

    print(f"# fichier de paramètres : {loaded.config_file} ({state})")
    print(f"# dossier des archives utilisé : {folder}")
    print("# les variables LOTAS_* de l'environnement priment sur le fichier")
    print(tomli_w.dumps(_drop_none(data)), end="")
    return 0


def _archive_folder(ctx: CommandContext) -> str:
    """The folder searched for archives; its default depends on the campaign, so on the
    plugins: when they cannot load, ``config`` still shows the settings and says why."""
    from lotas_core.errors import LotasError

    try:
        return str(ctx.archives(None))
    except LotasError as exc:
        return f"(inconnu : {exc.user_message})"


def _drop_none(data: object) -> object:
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in data.items() if v is not None}
    return data
