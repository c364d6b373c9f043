"""``lotas plugins``: what is installed, from which distribution, with which hooks."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from lotas_core.cli.context import CommandContext

if TYPE_CHECKING:
    from lotas_core.plugin_host.facade import Lotas


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help="liste les plugins chargés et leurs hooks")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def campaign_details(lotas: Lotas) -> dict[str, dict[str, object]]:
    """What each installed campaign says of itself: title, data year, sizes, default archive
    folder, and its funnel (the exclusions with their labels), so that a maintainer sees which
    values next year's plugin really runs with."""
    details: dict[str, dict[str, object]] = {}
    for campaign_id, campaign in sorted(lotas.campaigns().items()):
        details[campaign_id] = {
            "title": campaign.title,
            "year": campaign.year,
            "sizes": {"main": campaign.default_sizes.main,
                      "reserve": campaign.default_sizes.reserve},
            "archive_subfolder": lotas.ask_campaign(campaign, "archive_folder_name",
                                                    returns=str),
            "funnel": lotas.funnel_labels(campaign_id),
        }
    return details


def run(ctx: CommandContext, args: argparse.Namespace) -> int:
    lotas = ctx.lotas
    infos = lotas.plugins()
    if args.format == "json":
        data = {
            "plugins": [asdict(info) for info in infos],
            "campaigns": sorted(lotas.campaigns()),
            "campaign_details": campaign_details(lotas),
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
    for campaign_id, detail in campaign_details(lotas).items():
        sizes = detail["sizes"]
        funnel = detail["funnel"]
        exclusions = [label for key, label in funnel.items() if key not in ("base", "eligible")]
        print(f"  {campaign_id} : {detail['title']}, données {detail['year']}, "
              f"{sizes['main']} + {sizes['reserve']}, archives/{detail['archive_subfolder']}")
        for label in exclusions:
            print(f"    {label}")
    print(f"transports : {', '.join(sorted(lotas.transports())) or '-'}")
    if ctx.settings.disabled_plugins:
        print(f"désactivés : {', '.join(ctx.settings.disabled_plugins)}")
    return 0
