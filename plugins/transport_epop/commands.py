"""``lotas epop-server``: the e-POP relay server (port 3358), for workstations without Internet.

Added to the command line by this plugin's ``lotas_register_commands``; the relay itself is
``relay.py``.
"""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from lotas_core.cli.context import CommandContext

#: The smallest ``--max-frame``: the e-POP client sends DATA frames of 64 KiB
#: (``protocol.CHUNK_SIZE``); a smaller limit would refuse every upload.
MIN_FRAME = 64 << 10


def register(subparsers: argparse._SubParsersAction) -> None:
    server = subparsers.add_parser(
        "epop-server", help="serveur relais e-POP (postes sans accès à Internet)",
        description="Relais e-POP : reçoit les envois des postes autorisés (--allow), les garde "
        "dans son dossier d'attente (accusé seulement une fois sur disque) et les transmet à "
        "e-PMSI avec la connexion directe de cet ordinateur (paramètres transport_direct, "
        "identifiants LOTAS_EPMSI_USER / LOTAS_EPMSI_PASSWORD). Protocole : voir le README du "
        "plugin transport_epop.",
    )
    add_listen_options(
        server, 3358, "127.0.0.1 ; 0.0.0.0 pour le réseau local",
        "certificat TLS (« Crypter la transmission ») ; sinon LOTAS_EPOP_TLS_CERT ou le trousseau",
        "clé privée du certificat ; sinon LOTAS_EPOP_TLS_KEY ou le trousseau",
    )
    server.add_argument("--allow", action="append", default=None, metavar="IP/CIDR",
                        help="client autorisé (adresse ou plage, option répétable) ; défaut : "
                        "cet ordinateur seulement (127.0.0.0/8, ::1)")
    server.add_argument("--spool", type=Path, default=None,
                        help="dossier d'attente (défaut : <data_dir>/epop-spool)")
    server.add_argument("--upstream", default=None, metavar="URL",
                        help="adresse d'e-PMSI (défaut : base_url de transport_direct)")
    server.add_argument("--no-forward", action="store_true",
                        help="garde les envois sans les transmettre (tests, maintenance)")
    server.add_argument("--idle-timeout", type=number(float, 0.1), default=30.0,
                        help="silence maximal d'un client (s)")
    server.add_argument("--total-timeout", type=number(float, 0.1), default=600.0,
                        help="durée maximale d'une connexion (s)")
    server.add_argument("--max-frame", type=number(int, MIN_FRAME), default=1 << 20,
                        help=f"taille maximale d'une trame (octets, au moins {MIN_FRAME})")
    server.add_argument("--max-payload", type=number(int, 1), default=64 << 20,
                        help="taille maximale d'un envoi (octets)")
    server.add_argument("--max-clients", type=number(int, 1), default=128,
                        help="connexions simultanées au plus")
    server.add_argument("--max-per-client", type=number(int, 1), default=16,
                        help="connexions simultanées au plus depuis une même adresse")
    server.add_argument("--frame-timeout", type=number(float, 0.1), default=10.0,
                        help="durée maximale de réception d'une trame, et de la négociation TLS "
                        "(s) : un client qui envoie goutte à goutte est déconnecté")
    server.add_argument("--forward-backoff", type=number(float, 0), default=1.0,
                        help="première attente après un échec de transmission (s)")
    server.add_argument("--forward-backoff-max", type=number(float, 0), default=60.0,
                        help="attente maximale entre deux essais (s)")
    server.set_defaults(func=run_epop_server)


def run_epop_server(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_core.errors import ConfigError
    from lotas_core.transmission.credentials import Credentials
    from lotas_core.transmission.sending import make_transport
    from lotas_plugins.transport_epop.relay import LOOPBACK, RelayConfig, RelayServer

    check_port(args.port)
    credentials = Credentials()  # a server never prompts: environment or keyring
    tls_cert, tls_key = relay_tls_files(args.tls_cert, args.tls_key, credentials)
    check_tls_files(tls_cert, tls_key)
    settings = ctx.settings
    spool = usable_folder(args.spool or settings.data_dir / "epop-spool", "--spool")
    upstream = None
    if not args.no_forward:
        options = settings.transport_options("transport_direct")
        if args.upstream:
            options["base_url"] = args.upstream
        if not options.get("base_url"):
            raise UsageError(
                "Aucune adresse e-PMSI où transmettre : donnez --upstream https://… (ou "
                "transport.options.transport_direct.base_url), ou --no-forward.",
                "epop-server without an upstream address",
            )
        # one try per forwarding attempt: the relay's forwarder backs off and keeps the state
        # "queued" (with the last error) rather than "forwarding" for the whole outage
        options["max_retries"] = 0
        relay_settings = settings.model_copy(deep=True)
        relay_settings.transport.options["transport_direct"] = options
        try:  # validate now rather than at the first forward
            make_transport(ctx.lotas, relay_settings, "transport_direct", credentials)
        except ConfigError as exc:
            if not args.upstream or "« base_url »" not in exc.message_fr:
                raise
            from lotas_core.transmission.redaction import redact_credentials

            raise UsageError(
                f"--upstream {redact_credentials(args.upstream)} invalide : adresse "
                "https://hôte[:port] attendue (http:// seulement vers cet ordinateur), sans "
                "identifiant ni mot de passe (ils viennent de LOTAS_EPMSI_USER / "
                "LOTAS_EPMSI_PASSWORD ou du trousseau).",
                f"bad --upstream: {exc.message_en}",
            ) from None

        def upstream() -> Any:
            return make_transport(ctx.lotas, relay_settings, "transport_direct", credentials)

    config = RelayConfig(
        spool=spool, host=args.host, port=args.port,
        allow=args.allow or list(LOOPBACK), tls_cert=tls_cert, tls_key=tls_key,
        max_frame=args.max_frame, max_payload=args.max_payload, idle_timeout=args.idle_timeout,
        total_timeout=args.total_timeout, max_clients=args.max_clients,
        max_per_client=args.max_per_client, frame_timeout=args.frame_timeout,
        forward_backoff=args.forward_backoff, forward_backoff_max=args.forward_backoff_max,
    )
    log_to_stderr("lotas_plugins.transport_epop")
    try:
        relay = RelayServer(config, upstream)
        relay.start()
    except ValueError as exc:
        raise UsageError(f"--allow : {exc}.", str(exc)) from None
    except ssl.SSLError as exc:
        raise tls_error(exc, tls_cert) from None
    except OSError as exc:
        raise bind_error(exc, args.host, args.port) from None
    host, port = relay.address
    tls = f" (TLS, empreinte SHA-256 {fingerprint_of(tls_cert)})" if tls_cert else ""
    forward = "transmission désactivée" if args.no_forward else "transmission vers e-PMSI active"
    print(f"Serveur e-POP à l'écoute sur {host}:{port}{tls} ; clients autorisés : "
          f"{', '.join(config.allow)} ; {forward}. Ctrl-C pour arrêter.", flush=True)
    return run_until_stopped(relay.stop)


def log_to_stderr(logger_name: str) -> None:
    """The relay's log lines (one per event, never an IPP) on standard error, with the time."""
    import logging
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def fingerprint_of(cert: Path) -> str:
    """The SHA-256 fingerprint of a PEM certificate, as clients are asked to trust it."""
    import hashlib
    import re

    from lotas_plugins.transport_epop.client import format_fingerprint

    try:
        found = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                          Path(cert).read_text(encoding="ascii"), re.S)
        der = ssl.PEM_cert_to_DER_cert(found.group(0)) if found else b""
    except (OSError, ValueError, UnicodeDecodeError):
        der = b""
    if not der:
        return "?"
    return format_fingerprint(hashlib.sha256(der).hexdigest())


def relay_tls_files(cert: Path | None, key: Path | None, credentials: Any
                    ) -> tuple[Path | None, Path | None]:
    """The relay's certificate and key: the options, else ``epop_tls_cert`` / ``epop_tls_key``
    from the environment (LOTAS_EPOP_TLS_CERT, LOTAS_EPOP_TLS_KEY) or the OS keyring."""
    found = []
    for given, name in ((cert, "epop_tls_cert"), (key, "epop_tls_key")):
        value = given or credentials.get(name, secret=False, ask=False)
        found.append(Path(value).expanduser() if value else None)
    return found[0], found[1]
