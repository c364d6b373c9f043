"""The e-POP client transport (the manual's "Utiliser un serveur epop").

The hospital's workstation has no Internet access; it hands the payload to the relay on the local
network. The relay speaks first: WELCOME, or ERROR (e.g. the manual's "not allowed" sentence).
The receipt returned is the relay's acceptance (the payload is safe in its spool): a hand-off,
not a delivery (``Receipt.final`` is false); ``delivery_status(key)`` tells whether it has reached
QUALHAS, with QUALHAS's receipt once it has.

Every wait is bounded: the TCP connect (``connect_timeout``), the greeting and TLS handshake
(``handshake_timeout``), each frame (``read_timeout``: a relay dripping a frame byte by byte is cut
off) and the whole session (``total_timeout``, enforced by a watchdog that closes the socket).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lotas_core.errors import ConfigError
from lotas_core.french import french_time
from lotas_core.transmission.addresses import address_problem
from lotas_core.transmission.contract import (
    RELAY_ROLE,
    CertificateChanged,
    ClientNotAllowed,
    ConnectTimeout,
    DeliveryStatus,
    ManualForm,
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
    UntrustedCertificate,
    network_error,
)
from lotas_core.transmission.credentials import Credentials
from lotas_core.transmission.redaction import url_credentials_error
from lotas_plugins.transport_epop import protocol as p

log = logging.getLogger(__name__)

MSG_INTERRUPTED = (
    "La connexion au serveur e-POP a été interrompue : réessayez ; si cela se reproduit, "
    "vérifiez que le serveur e-POP fonctionne."
)

#: The relay's ERROR frames carry an English ``message`` for its log; the user reads these.
MSG_RELAY_ERRORS = {
    "busy": "Le serveur e-POP est occupé (trop de postes connectés) : réessayez dans un instant.",
    "busy_client": "Le serveur e-POP refuse d'autres connexions depuis ce poste pour l'instant "
                   "(trop de connexions ouvertes) : réessayez dans un instant.",
}
HANDOFF_FR = "remis au serveur e-POP, en attente de transmission à QUALHAS"
MSG_UNTRUSTED = (
    "Le certificat du serveur e-POP n'est pas encore approuvé : son empreinte SHA-256 est "
    "{fingerprint}. Vérifiez-la auprès de l'administrateur du serveur e-POP, puis approuvez-la "
    "avec « Tester » dans le Paramétrage ou « lotas test-connection --trust ». Rien n'a été envoyé."
)
MSG_CHANGED = (
    "ATTENTION : le certificat du serveur e-POP a changé (empreinte approuvée {expected}, "
    "présentée {presented}) : rien n'a été envoyé. Ce peut être une interception ; si "
    "l'administrateur du serveur confirme cette nouvelle empreinte, remplacez l'ancienne avec "
    "« lotas test-connection --replace-certificate EMPREINTE » (ou retirez tls_fingerprint des "
    "paramètres puis approuvez-la avec « Tester »)."
)
MSG_RELAY_ERROR = (
    "Le serveur e-POP a refusé la demande (code {code}) : réessayez ; si cela se reproduit, "
    "vérifiez que ce poste et le serveur e-POP utilisent la même version de lotas."
)


class EpopOptions(BaseModel):
    """Transmission via un serveur e-POP (l'ordinateur n'a pas accès à Internet)."""

    #: A refused value may hold a password: errors never repeat it.
    model_config = ConfigDict(hide_input_in_errors=True)

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
    handshake_timeout: float = Field(
        15.0, gt=0, le=300, description="Délai maximal d'accueil et de cryptage (secondes)")
    total_timeout: float = Field(
        300.0, gt=0, le=3600, description="Durée maximale d'un échange avec le serveur (secondes)")
    max_retries: int = Field(2, ge=0, le=10,
                             description="Nouvelles tentatives si la connexion est coupée")
    backoff_base: float = Field(0.5, ge=0, le=60,
                                description="Attente avant une nouvelle tentative (secondes)")

    @field_validator("host", "source_address")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        url_credentials_error(value)
        return value.strip()

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        problem = address_problem(value)
        if problem is not None:
            raise ValueError(f"adresse du serveur e-POP invalide « {value.strip()} » : {problem}")
        return value.strip()


def _fingerprint(text: str) -> str:
    return text.replace(":", "").replace(" ", "").lower()


def format_fingerprint(hex_digest: str) -> str:
    """``AB:CD:…``, as ``openssl x509 -fingerprint -sha256`` prints it."""
    digits = _fingerprint(hex_digest).upper()
    return ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))


class _Deadline:
    """The session's overall deadline: a watchdog shuts the socket down when it passes, so
    that no blocking call (connect excepted: it has its own timeout) outlives it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self.sock: socket.socket | None = None
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        return max(0.001, self.end - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Start the watchdog on ``sock`` (set ``self.sock`` again after wrapping it in TLS)."""
        self.sock = sock

        def fire() -> None:
            self.expired = True
            if self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(self.remaining(), fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class EpopTransport(Transport):
    """Client of ``lotas epop-server``."""

    name = "transport_epop"
    title_fr = "Utiliser un serveur e-POP"
    options_model = EpopOptions
    #: The manual's "Utiliser un serveur epop" mode of its "Paramétrage ePop" form.
    manual_form = ManualForm(
        role=RELAY_ROLE, fields={"host": "host", "port": "port", "encrypt": "encrypt"},
        default_port=p.DEFAULT_PORT,
    )

    def __init__(self, options: EpopOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials or Credentials())
        self.options: EpopOptions = options

    def __repr__(self) -> str:
        return f"EpopTransport(host={self.options.host!r}, port={self.options.port})"

    # -- connection ---------------------------------------------------------------------------

    def _tls_context(self) -> tuple[ssl.SSLContext, str | None]:
        """The context and the pinned fingerprint (None: the CA file alone verifies; empty: no
        trust yet, the certificate is read to be shown)."""
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
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the pinned (or to be trusted) fingerprint instead
        return context, pin

    def _reader(self, sock: socket.socket, deadline: _Deadline,
                frame_timeout: float | None = None) -> p.FrameReader:
        timeout = frame_timeout or self.options.read_timeout
        return p.FrameReader(sock, idle_timeout=timeout, frame_timeout=timeout,
                             total_timeout=deadline.remaining())

    def _connect(self, deadline: _Deadline) -> tuple[socket.socket, p.FrameReader]:
        opts = self.options
        source = (opts.source_address, 0) if opts.source_address else None
        try:
            sock = socket.create_connection(
                (opts.host, opts.port), timeout=min(opts.connect_timeout, deadline.remaining()),
                source_address=source)
        except OSError as exc:
            if source and exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(
                    f"L'adresse locale {opts.source_address} n'appartient pas à ce poste : "
                    "corrigez ou videz l'option source_address.",
                    f"source address {opts.source_address} not available: {exc}",
                ) from None
            # The one French sentence of lotas_core.reasons, as on the direct path.
            raise network_error(exc, opts.host,
                                f"connect to {opts.host}:{opts.port} failed: {exc}") from None
        deadline.watch(sock)
        try:
            handshake = min(opts.handshake_timeout, opts.read_timeout)
            welcome = self._expect(self._reader(sock, deadline, handshake), p.FrameType.WELCOME)
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
                sock.settimeout(min(opts.handshake_timeout, deadline.remaining()))
                sock = self._wrap(sock)
                deadline.sock = sock
            return sock, self._reader(sock, deadline)
        except BaseException:
            sock.close()
            raise

    def _wrap(self, sock: socket.socket) -> ssl.SSLSocket:
        """TLS over ``sock``, the relay's certificate verified by CA file or pinned fingerprint.

        Without either, the handshake still runs to read the certificate's fingerprint, then the
        connection closes with ``UntrustedCertificate``: nothing is sent to an unverified relay.
        """
        context, pin = self._tls_context()
        try:
            tls = context.wrap_socket(sock, server_hostname=self.options.host)
        except TimeoutError:
            raise TransportTimeout("TLS handshake with the relay timed out") from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise TLSFailure(
                "La vérification du certificat du serveur e-POP a échoué : vérifiez le fichier "
                "d'autorité ou l'empreinte configurée.",
                f"TLS handshake with the relay failed: {type(exc).__name__}",
            ) from None
        der = tls.getpeercert(binary_form=True) or b""
        presented = hashlib.sha256(der).hexdigest()
        if not pin:
            if context.verify_mode == ssl.CERT_NONE:  # trust on first use: ask the user
                tls.close()
                shown = format_fingerprint(presented)
                raise UntrustedCertificate(shown, "tls_fingerprint",
                                           MSG_UNTRUSTED.format(fingerprint=shown),
                                           f"relay certificate {shown} not trusted yet")
            return tls
        if presented != _fingerprint(pin):
            tls.close()
            raise CertificateChanged(
                format_fingerprint(presented), "tls_fingerprint",
                MSG_CHANGED.format(expected=format_fingerprint(pin)[:23] + "…",
                                   presented=format_fingerprint(presented)),
                "relay certificate fingerprint mismatch",
            )
        return tls

    def _expect(self, reader: p.FrameReader, *types: p.FrameType) -> dict[str, Any]:
        try:
            frame = reader.read()
        except p.ProtocolViolation as exc:
            if exc.code in ("idle_timeout", "frame_timeout", "total_timeout"):
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
        """Connect, run ``work(sock, reader)``, close; bounded by ``total_timeout`` overall."""
        deadline = _Deadline(self.options.total_timeout)
        try:
            sock, reader = self._connect(deadline)
            try:
                return work(sock, reader)
            finally:
                with contextlib.suppress(OSError):
                    sock.close()
        except TransportError as exc:
            if deadline.expired and not isinstance(exc, TransportTimeout):
                raise TransportTimeout("relay session over its total deadline") from None
            raise
        except (ssl.SSLError, OSError) as exc:
            if isinstance(exc, TimeoutError) or deadline.expired:
                raise TransportTimeout("relay stopped answering") from None
            raise network_error(exc, self.options.host, f"{type(exc).__name__}") from None
        finally:
            deadline.cancel()

    # -- the contract -------------------------------------------------------------------------

    def check(self) -> str:
        def ping(sock: socket.socket, reader: p.FrameReader) -> dict[str, Any]:
            p.send(sock, p.FrameType.PING, {})
            return self._expect(reader, p.FrameType.PONG)

        pong = self._session(ping)
        text = (f"Test de connexion réussi : le serveur e-POP {self.options.host}:"
                f"{self.options.port} répond")
        queue = pong.get("queue")
        if isinstance(queue, dict):
            waiting = int(queue.get("queued", 0) or 0)
            text += f" ; {waiting} envoi(s) en attente de transmission à QUALHAS"
            oldest = queue.get("oldest_queued_at")
            if waiting and oldest:
                text += f", le plus ancien depuis le {french_time(oldest)}"
        return text + "."

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
        state = str(ack.get("state", "queued"))
        upstream = ack.get("receipt")
        if state == "delivered" and isinstance(upstream, dict):  # already forwarded before
            final = Receipt.from_dict(upstream)
            return Receipt(transport=self.name, receipt=final.receipt, sha256=payload.sha256,
                           duplicate=True, received_at=final.received_at,
                           detail={"relay": f"{self.options.host}:{self.options.port}",
                                   "state": state, "via": final.transport})
        return Receipt(
            transport=self.name,
            receipt=f"EPOP-{ack.get('spool_id', '')}",
            sha256=payload.sha256,
            duplicate=bool(ack.get("duplicate", False)),
            received_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            detail={"relay": f"{self.options.host}:{self.options.port}", "state": state},
            final=False,
            handoff_fr=HANDOFF_FR,
        )

    def status(self, key: str) -> dict[str, Any]:
        """The relay's STATUS_REPLY for ``key``: queued, forwarding, delivered, failed, unknown."""

        def ask(sock: socket.socket, reader: p.FrameReader) -> dict[str, Any]:
            p.send(sock, p.FrameType.STATUS, {"key": key})
            return self._expect(reader, p.FrameType.STATUS_REPLY)

        return self._session(ask)

    def delivery_status(self, idempotency_key: str) -> DeliveryStatus:
        """Where the relay has the payload; QUALHAS's receipt once it was forwarded."""
        reply = self.status(idempotency_key)
        state = str(reply.get("state", "unknown"))
        receipt = None
        if state == "delivered" and isinstance(reply.get("receipt"), dict):
            receipt = Receipt.from_dict(reply["receipt"])
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        reason = str(error.get("error", "") or reply.get("last_error", "") or "")
        detail = {name: reply[name] for name in ("queued_at", "attempts", "last_attempt_at",
                                                  "delivered_at", "failed_at") if name in reply}
        return DeliveryStatus(state=state, receipt=receipt, reason_fr=reason, detail=detail)


def _safe_json(frame: p.Frame) -> dict[str, Any]:
    try:
        return frame.json()
    except p.ProtocolViolation:
        raise ProtocolError("Réponse illisible du serveur e-POP : réessayez.",
                            "unreadable relay frame") from None
