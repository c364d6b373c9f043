"""``lotas plugins``: what is installed, from which distribution, with which hooks."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from lotas_core.cli.context import CommandContext


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help="liste les plugins chargés et leurs hooks")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def run(ctx: CommandContext, args: argparse.Namespace) -> int:
    lotas = ctx.lotas
    infos = lotas.plugins()
    if args.format == "json":
        data = {
            "plugins": [asdict(info) for info in infos],
            "campaigns": sorted(lotas.campaigns()),
            "record_sources": sorted(lotas.record_sources()),
            "transports": sorted(lotas.transports()),
            "disabled": list(ctx.settings.disabled_plugins),
        }
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    width = max((len(info.name) for info in infos), default=4)
    for info in infos:
        version = info.version or "-"
        print(f"{info.name:<{width}}  {version:<10} {', '.join(info.hooks)}")
    print(f"\ncampagnes : {', '.join(sorted(lotas.campaigns())) or '-'}")
    print(f"transports : {', '.join(sorted(lotas.transports())) or '-'}")
    if ctx.settings.disabled_plugins:
        print(f"désactivés : {', '.join(ctx.settings.disabled_plugins)}")
    return 0
