"""What the server commands plugins add share: number options, listen options, TLS files, a
storage folder, and running in the foreground until Ctrl-C or SIGTERM.

A plugin's command (``lotas_register_commands``) uses these so that every server of lotas takes
the same options and says the same French sentences.
"""

from __future__ import annotations

import argparse
import signal
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lotas_core.errors import UsageError


def number(kind: type[int] | type[float], low: float, high: float | None = None
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


def add_listen_options(server: argparse.ArgumentParser, port: int, host_fr: str,
                        cert_fr: str, key_fr: str) -> None:
    """--host, --port, --tls-cert and --tls-key, the same for both servers."""
    server.add_argument("--host", default="127.0.0.1", help=f"adresse d'écoute ({host_fr})")
    server.add_argument("--port", type=int, default=port,
                        help=f"port d'écoute ({port} ; 0 = un port libre)")
    server.add_argument("--tls-cert", type=Path, default=None, help=cert_fr)
    server.add_argument("--tls-key", type=Path, default=None, help=key_fr)


def run_until_stopped(stop_server: Callable[[], None]) -> int:
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


def check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise UsageError(f"Port invalide : {port} (attendu 1 à 65535, ou 0 pour un port libre).",
                         f"invalid port {port}")


def bind_error(exc: OSError, host: str, port: int) -> UsageError:
    return UsageError(
        f"Impossible d'écouter sur {host}:{port} ({exc.strerror}) : port déjà utilisé ou adresse "
        "invalide ; choisissez un autre --port ou --host.",
        f"cannot bind {host}:{port}: {exc}",
    )


def tls_error(exc: ssl.SSLError, cert: Path | None) -> UsageError:
    return UsageError(
        f"Certificat TLS {cert} ou sa clé illisible ({exc.reason or exc}) : donnez un "
        "certificat et sa clé privée au format PEM.",
        f"cannot load TLS certificate {cert}: {exc}",
    )


def check_tls_files(cert: Path | None, key: Path | None) -> None:
    if bool(cert) != bool(key):
        raise UsageError("Donnez --tls-cert et --tls-key ensemble.", "tls cert without key")
    for path in (cert, key):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"Fichier TLS introuvable : {path}.", f"TLS file {path} not found")


def usable_folder(path: Path, option: str) -> Path:
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
