"""``lotas transmit``, ``test-connection``, ``epmsi-server`` and ``epop-server``.

The two servers run in the foreground until Ctrl-C or SIGTERM and print the address they listen
on (port 0 picks a free port, handy for scripts and tests).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lotas_core.cli.context import CommandContext
from lotas_core.errors import UsageError


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

    _register_epmsi_server(subparsers)
    _register_epop_server(subparsers)


#: The smallest ``--max-frame``: the e-POP client sends DATA frames of 64 KiB
#: (``transport_epop.protocol.CHUNK_SIZE``); a smaller limit would refuse every upload.
MIN_FRAME = 64 << 10


def _number(kind: type[int] | type[float], low: float, high: float | None = None
            ) -> Callable[[str], Any]:
    """An argparse ``type`` accepting ``kind`` values in ``[low, high]`` (French message)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"nombre attendu, reçu « {text} »") from None
        if value < low or (high is not None and value > high):
            bounds = f"de {low} à {high}" if high is not None else f"au moins {low}"
            raise argparse.ArgumentTypeError(f"valeur {text} hors limites ({bounds})")
        return value

    return parse


def _add_listen_options(server: argparse.ArgumentParser, port: int, host_fr: str,
                        cert_fr: str, key_fr: str) -> None:
    """--host, --port, --tls-cert and --tls-key, the same for both servers."""
    server.add_argument("--host", default="127.0.0.1", help=f"adresse d'écoute ({host_fr})")
    server.add_argument("--port", type=int, default=port,
                        help=f"port d'écoute ({port} ; 0 = un port libre)")
    server.add_argument("--tls-cert", type=Path, default=None, help=cert_fr)
    server.add_argument("--tls-key", type=Path, default=None, help=key_fr)


def _register_epmsi_server(subparsers: argparse._SubParsersAction) -> None:
    from lotas_plugins.transport_direct.receiver import DEFAULT_PORT

    server = subparsers.add_parser(
        "epmsi-server", help="récepteur e-PMSI/QUALHAS local (démonstrations et tests)",
        description="Récepteur local : GET /qualhas/ping, POST /qualhas/upload (multipart meta + "
        "file, en-têtes Idempotency-Key et X-Content-SHA256, authentification Basic). Vérifie "
        "l'empreinte, refuse tout fichier contenant une clé IPP, stocke chaque envoi une seule "
        "fois. Les options --delay à --force-status injectent des pannes pour les tests.",
    )
    _add_listen_options(server, DEFAULT_PORT, "127.0.0.1", "certificat (sert en https)",
                        "clé privée du certificat")
    server.add_argument("--store", type=Path, default=None,
                        help="dossier de stockage (défaut : <data_dir>/epmsi-receiver)")
    server.add_argument("--user", default=None,
                        help="identifiant exigé (authentification Basic) ; sans : pas d'auth.")
    server.add_argument("--password-env", default="LOTAS_EPMSI_PASSWORD", metavar="VARIABLE",
                        help="variable d'environnement qui contient le mot de passe exigé")
    server.add_argument("--max-size", type=_number(int, 1), default=64 * 1024 * 1024,
                        help="taille maximale d'un envoi en octets")
    faults = server.add_argument_group("pannes injectées (tests)")
    faults.add_argument("--delay", type=_number(float, 0), default=0.0,
                        help="attente avant chaque réponse (s)")
    faults.add_argument("--error-rate", type=_number(float, 0, 1), default=0.0,
                        help="part des envois refusés par --error-status (0 à 1)")
    faults.add_argument("--error-status", type=int, choices=(500, 502, 503, 504), default=503)
    faults.add_argument("--fault-seed", type=int, default=0,
                        help="graine des pannes (tirages répétables)")
    faults.add_argument("--throttle", type=_number(int, 0), default=0,
                        help="les N premiers envois reçoivent 429 avec Retry-After")
    faults.add_argument("--retry-after", type=_number(int, 0), default=1,
                        help="valeur de Retry-After (s)")
    faults.add_argument("--drop-rate", type=_number(float, 0, 1), default=0.0,
                        help="part des envois stockés puis connexion coupée en pleine réponse")
    faults.add_argument("--force-status", type=int, choices=(401, 407), default=None,
                        help="répond toujours 401 ou 407")
    server.set_defaults(func=run_epmsi_server)


def _register_epop_server(subparsers: argparse._SubParsersAction) -> None:
    server = subparsers.add_parser(
        "epop-server", help="serveur relais e-POP (postes sans accès à Internet)",
        description="Relais e-POP : reçoit les envois des postes autorisés (--allow), les garde "
        "dans son dossier d'attente (accusé seulement une fois sur disque) et les transmet à "
        "e-PMSI avec la connexion directe de cet ordinateur (paramètres transport_direct, "
        "identifiants LOTAS_EPMSI_USER / LOTAS_EPMSI_PASSWORD). Protocole : voir le README du "
        "plugin transport_epop.",
    )
    _add_listen_options(
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
    server.add_argument("--idle-timeout", type=_number(float, 0.1), default=30.0,
                        help="silence maximal d'un client (s)")
    server.add_argument("--total-timeout", type=_number(float, 0.1), default=600.0,
                        help="durée maximale d'une connexion (s)")
    server.add_argument("--max-frame", type=_number(int, MIN_FRAME), default=1 << 20,
                        help=f"taille maximale d'une trame (octets, au moins {MIN_FRAME})")
    server.add_argument("--max-payload", type=_number(int, 1), default=64 << 20,
                        help="taille maximale d'un envoi (octets)")
    server.add_argument("--max-clients", type=_number(int, 1), default=128,
                        help="connexions simultanées au plus")
    server.add_argument("--forward-backoff", type=_number(float, 0), default=1.0,
                        help="première attente après un échec de transmission (s)")
    server.add_argument("--forward-backoff-max", type=_number(float, 0), default=60.0,
                        help="attente maximale entre deux essais (s)")
    server.set_defaults(func=run_epop_server)


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


# -- servers --------------------------------------------------------------------------------------


def _run_until_stopped(stop_server: Callable[[], None]) -> int:
    """Block until Ctrl-C or SIGTERM, then stop the server cleanly."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_server()
    print("Serveur arrêté.", flush=True)
    return 0


def _check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise UsageError(f"Port invalide : {port} (attendu 1 à 65535, ou 0 pour un port libre).",
                         f"invalid port {port}")


def _bind_error(exc: OSError, host: str, port: int) -> UsageError:
    return UsageError(
        f"Impossible d'écouter sur {host}:{port} ({exc.strerror}) : port déjà utilisé ou adresse "
        "invalide ; choisissez un autre --port ou --host.",
        f"cannot bind {host}:{port}: {exc}",
    )


def _tls_error(exc: ssl.SSLError, cert: Path | None) -> UsageError:
    return UsageError(
        f"Certificat TLS {cert} ou sa clé illisible ({exc.reason or exc}) : donnez un "
        "certificat et sa clé privée au format PEM.",
        f"cannot load TLS certificate {cert}: {exc}",
    )


def run_epmsi_server(ctx: CommandContext, args: argparse.Namespace) -> int:
    from lotas_plugins.transport_direct.receiver import EpmsiServer, Faults, ReceiverConfig

    _check_port(args.port)
    password = None
    if args.user:
        password = os.environ.get(args.password_env)
        if not password:
            raise UsageError(
                f"--user {args.user} demande un mot de passe : renseignez la variable "
                f"{args.password_env}.",
                f"no password in {args.password_env}",
            )
    _check_tls_files(args.tls_cert, args.tls_key)
    store = _usable_folder(args.store or ctx.settings.data_dir / "epmsi-receiver", "--store")
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
        raise _tls_error(exc, args.tls_cert) from None
    except OSError as exc:
        raise _bind_error(exc, args.host, args.port) from None
    server.start()
    print(f"Récepteur e-PMSI à l'écoute sur {server.url} (stockage : {store}). "
          "Ctrl-C pour arrêter.", flush=True)
    return _run_until_stopped(server.stop)


def run_epop_server(ctx: CommandContext, args: argparse.Namespace) -> int:
    try:
        from lotas_plugins.transport_epop.relay import LOOPBACK, RelayConfig, RelayServer
    except ImportError as exc:  # pragma: no cover - shipped with the distribution
        raise UsageError(
            f"Le plugin transport_epop n'est pas installé ({exc}).", str(exc)
        ) from None
    from lotas_core.errors import ConfigError
    from lotas_core.transmission.credentials import Credentials
    from lotas_core.transmission.sending import make_transport

    _check_port(args.port)
    credentials = Credentials()  # a server never prompts: environment or keyring
    tls_cert, tls_key = relay_tls_files(args.tls_cert, args.tls_key, credentials)
    _check_tls_files(tls_cert, tls_key)
    settings = ctx.settings
    spool = _usable_folder(args.spool or settings.data_dir / "epop-spool", "--spool")
    upstream = None
    if not args.no_forward:
        options = settings.transport_options("transport_direct")
        if args.upstream:
            options["base_url"] = args.upstream
        relay_settings = settings.model_copy(deep=True)
        relay_settings.transport.options["transport_direct"] = options
        try:  # validate now rather than at the first forward
            make_transport(ctx.lotas, relay_settings, "transport_direct", credentials)
        except ConfigError as exc:
            if not args.upstream or "« base_url »" not in exc.message_fr:
                raise
            raise UsageError(
                f"--upstream {args.upstream} invalide : adresse https://hôte[:port] attendue "
                "(http:// seulement vers cet ordinateur).",
                f"bad --upstream: {exc.message_en}",
            ) from None

        def upstream() -> Any:
            return make_transport(ctx.lotas, relay_settings, "transport_direct", credentials)

    config = RelayConfig(
        spool=spool, host=args.host, port=args.port,
        allow=args.allow or list(LOOPBACK), tls_cert=tls_cert, tls_key=tls_key,
        max_frame=args.max_frame, max_payload=args.max_payload, idle_timeout=args.idle_timeout,
        total_timeout=args.total_timeout, max_clients=args.max_clients,
        forward_backoff=args.forward_backoff, forward_backoff_max=args.forward_backoff_max,
    )
    try:
        relay = RelayServer(config, upstream)
        relay.start()
    except ValueError as exc:
        raise UsageError(f"--allow : {exc}.", str(exc)) from None
    except ssl.SSLError as exc:
        raise _tls_error(exc, tls_cert) from None
    except OSError as exc:
        raise _bind_error(exc, args.host, args.port) from None
    host, port = relay.address
    tls = " (TLS)" if tls_cert else ""
    forward = "transmission désactivée" if args.no_forward else "transmission vers e-PMSI active"
    print(f"Serveur e-POP à l'écoute sur {host}:{port}{tls} ; clients autorisés : "
          f"{', '.join(config.allow)} ; {forward}. Ctrl-C pour arrêter.", flush=True)
    return _run_until_stopped(relay.stop)


def _check_tls_files(cert: Path | None, key: Path | None) -> None:
    if bool(cert) != bool(key):
        raise UsageError("Donnez --tls-cert et --tls-key ensemble.", "tls cert without key")
    for path in (cert, key):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"Fichier TLS introuvable : {path}.", f"TLS file {path} not found")


def relay_tls_files(cert: Path | None, key: Path | None, credentials: Any
                    ) -> tuple[Path | None, Path | None]:
    """The relay's certificate and key: the options, else ``epop_tls_cert`` / ``epop_tls_key``
    from the environment (LOTAS_EPOP_TLS_CERT, LOTAS_EPOP_TLS_KEY) or the OS keyring."""
    found = []
    for given, name in ((cert, "epop_tls_cert"), (key, "epop_tls_key")):
        value = given or credentials.get(name, secret=False, ask=False)
        found.append(Path(value).expanduser() if value else None)
    return found[0], found[1]


def _usable_folder(path: Path, option: str) -> Path:
    """A server's storage folder, created owner-only; a clear error instead of a bind error."""
    from lotas_core.fsutil import ensure_private_dir

    path = Path(path).expanduser()
    try:
        ensure_private_dir(path)
        if not path.is_dir():
            raise NotADirectoryError(20, "n'est pas un dossier")
    except OSError as exc:
        raise UsageError(
            f"Dossier {path} inutilisable ({exc.strerror or exc}) : choisissez un autre {option}.",
            f"unusable folder {path}: {exc}",
        ) from None
    return path
