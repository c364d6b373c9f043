"""``lotas epmsi-server``: the local e-PMSI/QUALHAS receiver, for demonstrations and tests.

Added to the command line by this plugin's ``lotas_register_commands``; the receiver itself is
``receiver.py``.
"""

from __future__ import annotations

import argparse
import os
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from lotas_core.cli.serving import (
    add_listen_options,
    bind_error,
    check_port,
    check_tls_files,
    number,
    run_until_stopped,
    tls_error,
    usable_folder,
)
from lotas_core.errors import UsageError
from lotas_plugins.transport_direct import RECEIVER_DEFAULT_PORT

if TYPE_CHECKING:
    from lotas_core.cli.context import CommandContext


def register(subparsers: argparse._SubParsersAction) -> None:
    server = subparsers.add_parser(
        "epmsi-server", help="récepteur e-PMSI/QUALHAS local (démonstrations et tests)",
        description="Récepteur local : GET /qualhas/ping, POST /qualhas/upload (multipart meta + "
        "file, en-têtes Idempotency-Key et X-Content-SHA256, authentification Basic). Vérifie "
        "l'empreinte, refuse tout fichier contenant une clé IPP, stocke chaque envoi une seule "
        "fois. Les options --delay à --force-status injectent des pannes pour les tests.",
    )
    add_listen_options(server, RECEIVER_DEFAULT_PORT, "127.0.0.1", "certificat (sert en https)",
                        "clé privée du certificat")
    server.add_argument("--store", type=Path, default=None,
                        help="dossier de stockage (défaut : <data_dir>/epmsi-receiver)")
    server.add_argument("--user", default=None,
                        help="identifiant exigé (authentification Basic) ; sans : pas d'auth.")
    server.add_argument("--password-env", default="LOTAS_EPMSI_PASSWORD", metavar="VARIABLE",
                        help="variable d'environnement qui contient le mot de passe exigé")
    server.add_argument("--max-size", type=number(int, 1), default=64 * 1024 * 1024,
                        help="taille maximale d'un envoi en octets")
    faults = server.add_argument_group("pannes injectées (tests)")
    faults.add_argument("--delay", type=number(float, 0), default=0.0,
                        help="attente avant chaque réponse (s)")
    faults.add_argument("--error-rate", type=number(float, 0, 1), default=0.0,
                        help="part des envois refusés par --error-status (0 à 1)")
    faults.add_argument("--error-status", type=int, choices=(500, 502, 503, 504), default=503)
    faults.add_argument("--fault-seed", type=int, default=0,
                        help="graine des pannes (tirages répétables)")
    faults.add_argument("--throttle", type=number(int, 0), default=0,
                        help="les N premiers envois reçoivent 429 avec Retry-After")
    faults.add_argument("--retry-after", type=number(int, 0), default=1,
                        help="valeur de Retry-After (s)")
    faults.add_argument("--drop-rate", type=number(float, 0, 1), default=0.0,
                        help="part des envois stockés puis connexion coupée en pleine réponse")
    faults.add_argument("--force-status", type=int, choices=(401, 407), default=None,
                        help="répond toujours 401 ou 407")
    server.set_defaults(func=run_epmsi_server)



def run_epmsi_server(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_plugins.transport_direct.receiver import EpmsiServer, Faults, ReceiverConfig

    check_port(args.port)
    password = None
    if args.user:
        password = os.environ.get(args.password_env)
        if not password:
            raise UsageError(
                f"--user {args.user} demande un mot de passe : renseignez la variable "
                f"{args.password_env}.",
                f"no password in {args.password_env}",
            )
    check_tls_files(args.tls_cert, args.tls_key)
    store = usable_folder(args.store or ctx.settings.data_dir / "epmsi-receiver", "--store")
    faults = Faults(
        delay=args.delay, error_rate=args.error_rate, error_status=args.error_status,
        seed=args.fault_seed, throttle=args.throttle, retry_after=args.retry_after,
        drop_rate=args.drop_rate, force_status=args.force_status,
    )
    config = ReceiverConfig(store=store, user=args.user, password=password, faults=faults,
                            max_size=args.max_size)
    try:
        server = EpmsiServer(config, args.host, args.port, tls_cert=args.tls_cert,
                             tls_key=args.tls_key)
    except ssl.SSLError as exc:
        raise tls_error(exc, args.tls_cert) from None
    except OSError as exc:
        raise bind_error(exc, args.host, args.port) from None
    server.start()
    print(f"Récepteur e-PMSI à l'écoute sur {server.url} (stockage : {store}). "
          "Ctrl-C pour arrêter.", flush=True)
    return run_until_stopped(server.stop)
