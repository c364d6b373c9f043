"""The e-POP client transport (the manual's "Utiliser un serveur epop").

The hospital's workstation has no Internet access; it hands the payload to the relay on the local
network. The relay speaks first: WELCOME, or ERROR (e.g. the manual's "not allowed" sentence).
The receipt returned is the relay's acceptance (the payload is safe in its spool); ``status(key)``
tells whether it has reached QUALHAS.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import socket
import ssl
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from lotas_core.errors import ConfigError
from lotas_core.transmission.contract import (
    ClientNotAllowed,
    ConnectionRefused,
    ConnectTimeout,
    Payload,
    ProtocolError,
    ReadTimeout,
    Receipt,
    Rejected,
    RetryableError,
    TLSFailure,
    Transport,
    TransportError,
    TransportTimeout,
)
from lotas_core.transmission.credentials import Credentials
from lotas_plugins.transport_epop import protocol as p

log = logging.getLogger(__name__)

MSG_INTERRUPTED = (
    "La connexion au serveur e-POP a été interrompue : réessayez ; si cela se reproduit, "
    "vérifiez que le serveur e-POP fonctionne."
)

#: The relay's ERROR frames carry an English ``message`` for its log; the user reads these.
MSG_RELAY_ERRORS = {
    "busy": "Le serveur e-POP est occupé (trop de postes connectés) : réessayez dans un instant.",
}
MSG_RELAY_ERROR = (
    "Le serveur e-POP a refusé la demande (code {code}) : réessayez ; si cela se reproduit, "
    "vérifiez que ce poste et le serveur e-POP utilisent la même version de lotas."
)


class EpopOptions(BaseModel):
    """Transmission via un serveur e-POP (l'ordinateur n'a pas accès à Internet)."""

    host: str = Field("127.0.0.1", description="Adresse IP du serveur")
    port: int = Field(p.DEFAULT_PORT, ge=1, le=65535,
                      description="N° du port à utiliser (3358 par défaut)")
    encrypt: bool = Field(False, description="Crypter la transmission vers le serveur e-POP")
    tls_fingerprint: str = Field(
        "", description="Empreinte SHA-256 du certificat du serveur e-POP (cryptage)")
    tls_ca_file: Path | None = Field(
        None, description="Fichier de l'autorité de certification du serveur e-POP (cryptage)")
    source_address: str = Field(
        "", description="Adresse locale d'où partir (facultatif, postes à plusieurs adresses)")
    connect_timeout: ConnectTimeout = 10.0
    read_timeout: ReadTimeout = 60.0
    max_retries: int = Field(2, ge=0, le=10,
                             description="Nouvelles tentatives si la connexion est coupée")
    backoff_base: float = Field(0.5, ge=0, le=60,
                                description="Attente avant une nouvelle tentative (secondes)")


def _fingerprint(text: str) -> str:
    return text.replace(":", "").replace(" ", "").lower()


class EpopTransport(Transport):
    """Client of ``lotas epop-server``."""

    name = "transport_epop"
    title_fr = "Utiliser un serveur e-POP"
    options_model = EpopOptions

    def __init__(self, options: EpopOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials or Credentials())
        self.options: EpopOptions = options

    def __repr__(self) -> str:
        return f"EpopTransport(host={self.options.host!r}, port={self.options.port})"

    # -- connection ---------------------------------------------------------------------------

    def _tls_context(self) -> tuple[ssl.SSLContext, str | None]:
        opts = self.options
        ca_file = opts.tls_ca_file or self.credentials.get("epop_ca_file", secret=False,
                                                           ask=False)
        pin = opts.tls_fingerprint or self.credentials.get("epop_tls_fingerprint", secret=False,
                                                           ask=False) or ""
        if ca_file:
            if not Path(ca_file).expanduser().is_file():
                raise ConfigError(f"Fichier d'autorité introuvable : {ca_file}.",
                                  f"CA file {ca_file} not found")
            return ssl.create_default_context(cafile=str(Path(ca_file).expanduser())), pin or None
        if pin:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the pinned fingerprint is checked instead
            return context, pin
        raise ConfigError(
            "Cryptage demandé : indiquez l'empreinte SHA-256 du certificat du serveur e-POP ou le "
            "fichier de son autorité de certification.",
            "encryption requested without a fingerprint or a CA file",
        )

    def _connect(self) -> tuple[socket.socket, p.FrameReader]:
        opts = self.options
        source = (opts.source_address, 0) if opts.source_address else None
        try:
            sock = socket.create_connection((opts.host, opts.port), timeout=opts.connect_timeout,
                                            source_address=source)
        except ConnectionRefusedError:
            raise ConnectionRefused(f"{opts.host}:{opts.port} refused") from None
        except TimeoutError:
            raise TransportTimeout(f"{opts.host}:{opts.port} timed out") from None
        except OSError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT):
                raise TransportTimeout(f"{opts.host}:{opts.port}: {exc.strerror}") from None
            if source and exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(
                    f"L'adresse locale {opts.source_address} n'appartient pas à ce poste : "
                    "corrigez ou videz l'option source_address.",
                    f"source address {opts.source_address} not available: {exc}",
                ) from None
            raise TransportError(
                f"Impossible de joindre le serveur e-POP {opts.host}:{opts.port} ({exc.strerror})"
                " : vérifiez l'adresse IP du serveur.",
                f"connect to {opts.host}:{opts.port} failed: {exc}",
            ) from None
        try:
            reader = p.FrameReader(sock, idle_timeout=opts.read_timeout)
            welcome = self._expect(reader, p.FrameType.WELCOME)
            server_tls = bool(welcome.get("tls"))
            if server_tls and not opts.encrypt:
                raise TransportError(
                    "Le serveur e-POP exige une transmission cryptée : cochez « Crypter la "
                    "transmission vers le serveur e-POP » et indiquez son certificat.",
                    "relay requires TLS",
                )
            if opts.encrypt and not server_tls:
                raise TLSFailure(
                    "Le serveur e-POP ne propose pas le cryptage demandé : rien n'a été envoyé ; "
                    "activez TLS sur le serveur (--tls-cert) ou décochez « Crypter ».",
                    "relay does not offer TLS",
                )
            if opts.encrypt:
                sock = self._wrap(sock)
                reader = p.FrameReader(sock, idle_timeout=opts.read_timeout)
            return sock, reader
        except BaseException:
            sock.close()
            raise

    def _wrap(self, sock: socket.socket) -> ssl.SSLSocket:
        context, pin = self._tls_context()
        try:
            tls = context.wrap_socket(sock, server_hostname=self.options.host)
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise TLSFailure(
                "La vérification du certificat du serveur e-POP a échoué : vérifiez le fichier "
                "d'autorité ou l'empreinte configurée.",
                f"TLS handshake with the relay failed: {type(exc).__name__}",
            ) from None
        if pin:
            der = tls.getpeercert(binary_form=True) or b""
            if hashlib.sha256(der).hexdigest() != _fingerprint(pin):
                tls.close()
                raise TLSFailure(
                    "L'empreinte du certificat du serveur e-POP ne correspond pas à celle "
                    "configurée : rien n'a été envoyé.",
                    "relay certificate fingerprint mismatch",
                )
        return tls

    def _expect(self, reader: p.FrameReader, *types: p.FrameType) -> dict[str, Any]:
        try:
            frame = reader.read()
        except p.ProtocolViolation as exc:
            if exc.code == "idle_timeout":
                raise TransportTimeout(f"relay did not answer: {exc.message}") from None
            raise RetryableError(MSG_INTERRUPTED, f"relay: {exc.code}") from None
        if frame.type == p.FrameType.ERROR:
            body = _safe_json(frame)
            if body.get("code") == "not_allowed":
                raise ClientNotAllowed(str(body.get("address", "?")), int(body.get("port", 0)))
            code = str(body.get("code", "?"))
            raise ProtocolError(
                MSG_RELAY_ERRORS.get(code, MSG_RELAY_ERROR.format(code=code)),
                f"relay error {code}: {body.get('message', '')}",
            )
        if frame.type not in types:
            raise ProtocolError("Réponse inattendue du serveur e-POP : réessayez.",
                                f"unexpected {frame.type.name}")
        if frame.type == p.FrameType.NACK:
            body = _safe_json(frame)
            raise Rejected(
                f"Le serveur e-POP n'a pas gardé le fichier ({body.get('code', '?')}) : "
                "réessayez la transmission.",
                f"relay NACK {body}",
            )
        return _safe_json(frame)

    def _session(self, work: Any) -> Any:
        """Connect, run ``work(sock, reader)``, close; transport errors keep their meaning."""
        sock, reader = self._connect()
        try:
            return work(sock, reader)
        except (ssl.SSLError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                raise TransportTimeout("relay stopped answering") from None
            raise RetryableError(MSG_INTERRUPTED, f"{type(exc).__name__}") from None
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    # -- the contract -------------------------------------------------------------------------

    def check(self) -> str:
        def ping(sock: socket.socket, reader: p.FrameReader) -> dict[str, Any]:
            p.send(sock, p.FrameType.PING, {})
            return self._expect(reader, p.FrameType.PONG)

        self._session(ping)
        return (f"Test de connexion réussi : le serveur e-POP {self.options.host}:"
                f"{self.options.port} répond.")

    def send(self, payload: Payload) -> Receipt:
        attempt = 0
        while True:
            try:
                return self._send_once(payload)
            except (RetryableError, ProtocolError) as exc:
                if attempt >= self.options.max_retries:
                    raise
                attempt += 1
                log.info("e-POP send attempt %d failed: %s", attempt, exc.developer_message)
                time.sleep(self.options.backoff_base * (2 ** (attempt - 1)))

    def _send_once(self, payload: Payload) -> Receipt:
        def put(sock: socket.socket, reader: p.FrameReader) -> dict[str, Any]:
            p.send(sock, p.FrameType.PUT, {
                "key": payload.idempotency_key, "sha256": payload.sha256,
                "size": payload.size, "metadata": payload.metadata,
            })
            with open(payload.path, "rb") as handle:
                while chunk := handle.read(p.CHUNK_SIZE):
                    p.send(sock, p.FrameType.DATA, chunk)
            p.send(sock, p.FrameType.END, {})
            return self._expect(reader, p.FrameType.ACK, p.FrameType.NACK)

        ack = self._session(put)
        return Receipt(
            transport=self.name,
            receipt=f"EPOP-{ack.get('spool_id', '')}",
            sha256=payload.sha256,
            duplicate=bool(ack.get("duplicate", False)),
            received_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            detail={"relay": f"{self.options.host}:{self.options.port}",
                    "state": ack.get("state", "queued")},
        )

    def status(self, key: str) -> dict[str, Any]:
        """Where the relay has the payload of ``key``: queued, forwarding, delivered, failed."""

        def ask(sock: socket.socket, reader: p.FrameReader) -> dict[str, Any]:
            p.send(sock, p.FrameType.STATUS, {"key": key})
            return self._expect(reader, p.FrameType.STATUS_REPLY)

        return self._session(ask)


def _safe_json(frame: p.Frame) -> dict[str, Any]:
    try:
        return frame.json()
    except p.ProtocolViolation:
        raise ProtocolError("Réponse illisible du serveur e-POP : réessayez.",
                            "unreadable relay frame") from None
