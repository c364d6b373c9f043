"""``lotas transmit`` and ``test-connection``.

The servers (``epmsi-server``, ``epop-server``) are commands of the transport plugins
(``lotas_register_commands``), built with ``lotas_core.cli.serving``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from lotas_core.cli.context import CommandContext


def register(subparsers: argparse._SubParsersAction) -> None:
    transmit = subparsers.add_parser(
        "transmit", help="transmet vers QUALHAS un tirage de l'historique (sans les IPP)",
        description="Transmet vers QUALHAS le tirage DRAW_ID (jamais les IPP). Un tirage déjà "
        "transmis n'est pas renvoyé : l'accusé de réception enregistré est affiché. Les "
        "identifiants viennent de LOTAS_EPMSI_USER / LOTAS_EPMSI_PASSWORD / "
        "LOTAS_PROXY_PASSWORD, du trousseau (service « lotas ») ou sont demandés.",
    )
    transmit.add_argument("draw_id", metavar="DRAW_ID")
    transmit.add_argument("--transport", default=None, metavar="NOM",
                          help="transport à utiliser (défaut : paramètre transport.name)")
    transmit.add_argument("--format", choices=("table", "json"), default="table")
    transmit.set_defaults(func=run_transmit)

    test = subparsers.add_parser(
        "test-connection", help="teste la connexion vers e-PMSI (bouton « Tester »)",
        description="Contacte e-PMSI ou le serveur e-POP sans rien envoyer.",
    )
    test.add_argument("--transport", default=None, metavar="NOM",
                      help="transport à tester (défaut : paramètre transport.name)")
    test.set_defaults(func=run_test_connection)

# -- client commands ------------------------------------------------------------------------------


def _credentials() -> Any:
    from lotas_core.transmission.credentials import Credentials, getpass_prompt

    return Credentials(prompt=getpass_prompt)


def run_transmit(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.draws.service import open_history
    from lotas_core.transmission.sending import transmit

    history = open_history(ctx.settings)
    draw = history.get(args.draw_id)
    receipt = transmit(ctx.lotas, ctx.settings, draw.draw_id, args.transport, _credentials(),
                       history=history)
    if args.format == "json":
        print(json.dumps(receipt.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if receipt.detail.get("from_history"):
        print(f"Tirage {draw.label()} déjà transmis : accusé de réception {receipt.receipt} "
              f"({receipt.transport}) ; rien n'a été renvoyé.")
    elif receipt.duplicate:
        print(f"Tirage {draw.label()} : le destinataire l'avait déjà reçu ; accusé de réception "
              f"{receipt.receipt}.")
    else:
        print(f"Tirage {draw.label()} transmis ({receipt.transport}) : accusé de réception "
              f"{receipt.receipt}.")
    if receipt.detail.get("state") == "queued":
        print("Le serveur e-POP l'a mis en attente et le transmettra à e-PMSI.")
    return 0


def run_test_connection(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.transmission.sending import test_connection

    print(test_connection(ctx.lotas, ctx.settings, args.transport, _credentials()))
    return 0
