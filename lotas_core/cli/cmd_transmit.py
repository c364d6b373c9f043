"""``lotas transmit`` and ``test-connection``.

The servers (``epmsi-server``, ``epop-server``) are commands of the transport plugins
(``lotas_register_commands``), built with ``lotas_core.cli.serving``.
"""

from __future__ import annotations

import argparse
import json
import sys
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

    status = subparsers.add_parser(
        "status", help="état de la transmission d'un tirage (en attente, transmis, échec)",
        description="Donne l'état de la transmission du tirage DRAW_ID : queued (remis à un "
        "intermédiaire, en attente), forwarding, delivered (transmis à QUALHAS), failed (avec la "
        "raison), les accusés de réception et les dates. Pour un tirage en attente, interroge "
        "l'intermédiaire (serveur e-POP) et enregistre tout changement dans l'historique.",
    )
    status.add_argument("draw_id", metavar="DRAW_ID")
    status.add_argument("--format", choices=("table", "json"), default="table")
    status.add_argument("--no-refresh", action="store_true",
                        help="affiche l'état enregistré sans interroger l'intermédiaire")
    status.set_defaults(func=run_status)

    test = subparsers.add_parser(
        "test-connection", help="teste la connexion vers e-PMSI (bouton « Tester »)",
        description="Contacte e-PMSI ou le serveur e-POP sans rien envoyer. Avec « Crypter », "
        "affiche l'empreinte SHA-256 du certificat du serveur e-POP s'il n'est pas encore "
        "approuvé ; --trust l'approuve et l'enregistre dans le fichier de paramètres.",
    )
    test.add_argument("--transport", default=None, metavar="NOM",
                      help="transport à tester (défaut : paramètre transport.name)")
    test.add_argument("--trust", action="store_true",
                      help="approuve le certificat présenté s'il n'y en a pas encore d'approuvé "
                      "(vérifiez son empreinte auprès de l'administrateur)")
    test.add_argument("--replace-certificate", default=None, metavar="EMPREINTE",
                      help="remplace le certificat approuvé par un nouveau, seulement si le "
                      "serveur présente exactement cette empreinte SHA-256 (confirmée par son "
                      "administrateur)")
    test.set_defaults(func=run_test_connection)

# -- client commands ------------------------------------------------------------------------------


def _credentials() -> Any:
    from lotas_core.transmission.credentials import Credentials, getpass_prompt

    return Credentials(prompt=getpass_prompt)


def run_transmit(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.draws.service import open_history
    from lotas_core.transmission.delivery import summarize
    from lotas_core.transmission.sending import transmit

    history = open_history(ctx.settings)
    draw = history.get(args.draw_id)
    receipt = transmit(ctx.lotas, ctx.settings, draw.draw_id, args.transport, _credentials(),
                       history=history, warn=_warn)
    delivery = summarize(draw.draw_id, history.transmissions(draw.draw_id))
    if args.format == "json":
        print(json.dumps({**receipt.to_dict(), "state": delivery.state,
                          "state_fr": delivery.label_fr}, ensure_ascii=False, indent=2))
        return 0
    what = "accusé de réception" if receipt.final else "accusé de dépôt"
    if receipt.detail.get("from_history"):
        print(f"Tirage {draw.label()} déjà {delivery.label_fr} : {what} {receipt.receipt} "
              f"({receipt.transport}) ; rien n'a été renvoyé.")
    elif receipt.duplicate and receipt.final:
        print(f"Tirage {draw.label()} : le destinataire l'avait déjà reçu ; accusé de réception "
              f"{receipt.receipt}.")
    elif receipt.final:
        print(f"Tirage {draw.label()} transmis à QUALHAS ({receipt.transport}) : accusé de "
              f"réception {receipt.receipt}.")
    else:
        print(f"Tirage {draw.label()} {delivery.label_fr} : {what} {receipt.receipt}.")
    if delivery.pending:
        print(f"Suivez sa transmission à QUALHAS avec « lotas status {draw.draw_id} ».")
    return 0


def run_status(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.draws.service import open_history
    from lotas_core.transmission.delivery import refresh, summarize

    history = open_history(ctx.settings)
    draw = history.get(args.draw_id)
    if args.no_refresh:
        delivery = summarize(draw.draw_id, history.transmissions(draw.draw_id))
    else:
        delivery = refresh(ctx.lotas, ctx.settings, history, draw, _credentials())
    if args.format == "json":
        print(json.dumps(delivery.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"Tirage {draw.label()} ({draw.draw_id}) : {delivery.label_fr}.")
    for line in status_lines(delivery):
        print(f"  {line}")
    if delivery.refresh_error_fr:
        print(f"lotas: état non actualisé : {delivery.refresh_error_fr}", file=sys.stderr)
    return 0


def status_lines(delivery: Any) -> list[str]:
    """The receipts and times of a delivery, one French line each."""
    from lotas_core.french import french_time

    lines = []
    if delivery.handoff:
        lines.append(f"Accusé de dépôt ({delivery.handoff.get('transport', '?')}) : "
                     f"{delivery.handoff.get('receipt', '?')}, le {french_time(delivery.sent_at)}")
    if delivery.receipt:
        lines.append(f"Accusé de réception QUALHAS : {delivery.receipt.get('receipt', '?')}, "
                     f"enregistré le {french_time(delivery.delivered_at)}")
    if delivery.reason_fr and delivery.state != "failed":
        lines.append(f"Dernière tentative : {delivery.reason_fr}")
    if delivery.updated_at:
        lines.append(f"Dernier changement d'état : {french_time(delivery.updated_at)}")
    return lines


def _warn(text: str) -> None:
    print(f"lotas: avertissement : {text}", file=sys.stderr)


def run_test_connection(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.errors import UsageError
    from lotas_core.transmission.contract import CertificateChanged, UntrustedCertificate
    from lotas_core.transmission.sending import test_connection

    credentials = _credentials()
    try:
        print(test_connection(ctx.lotas, ctx.settings, args.transport, credentials))
    except UntrustedCertificate as exc:
        if not args.trust:
            raise
        _trust_and_retest(ctx, args, credentials, exc.option, exc.fingerprint)
    except CertificateChanged as exc:
        if not args.replace_certificate:
            raise
        if _hex(args.replace_certificate) != _hex(exc.presented):
            raise UsageError(
                f"L'empreinte donnée ne correspond pas à celle que présente le serveur "
                f"({exc.presented}) : rien n'a été remplacé ni envoyé.",
                "--replace-certificate does not match the presented certificate",
            ) from None
        _trust_and_retest(ctx, args, credentials, exc.option, exc.presented)
    return 0


def _hex(fingerprint: str) -> str:
    return "".join(ch for ch in fingerprint.lower() if ch in "0123456789abcdef")


def _trust_and_retest(ctx: CommandContext, args: argparse.Namespace, credentials: Any,
                      option: str, fingerprint: str) -> None:
    """Record ``fingerprint`` as the trusted certificate, then test again with it."""
    from lotas_core.transmission.sending import test_connection, trust_certificate

    name = args.transport or ctx.settings.transport.name
    path = trust_certificate(ctx.loaded.config_file, name, option, fingerprint)
    print(f"Certificat approuvé : empreinte SHA-256 {fingerprint}, enregistrée dans {path}.")
    settings = ctx.settings.model_copy(deep=True)
    settings.transport.options.setdefault(name, {})[option] = fingerprint
    print(test_connection(ctx.lotas, settings, args.transport, credentials))
