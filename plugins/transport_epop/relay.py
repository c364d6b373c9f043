"""The e-POP relay server (``lotas epop-server``) and its forwarder.

Clients on the hospital's network hand payloads to the relay, which has Internet access. The
allow-list is checked on accept, before anything is read; a payload is ACKed only once it is safe
in the spool (see ``spool.py``); a forwarder thread sends queued payloads upstream with the direct
transport, backing off while the receiver is unreachable. Malformed input gets an ERROR frame and
a closed connection; the relay keeps serving.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lotas_core.transmission.contract import (
    MSG_NOT_ALLOWED,
    Payload,
    Rejected,
    Transport,
    TransportError,
)
from lotas_plugins.transport_epop import protocol as p
from lotas_plugins.transport_epop.spool import Incoming, Spool

log = logging.getLogger(__name__)

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
LOOPBACK = ("127.0.0.0/8", "::1/128")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allow(entries: list[str]) -> list[Network]:
    """IP addresses and CIDR ranges; ``ValueError`` names a bad one."""
    networks: list[Network] = []
    for entry in entries:
        for item in str(entry).replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"adresse ou plage invalide : « {item} »") from None
    return networks


@dataclass
class RelayConfig:
    spool: Path
    host: str = "127.0.0.1"
    port: int = p.DEFAULT_PORT
    allow: list[str] = field(default_factory=lambda: list(LOOPBACK))
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_frame: int = p.DEFAULT_MAX_FRAME
    max_payload: int = p.DEFAULT_MAX_PAYLOAD
    idle_timeout: float = 30.0
    total_timeout: float = 600.0
    max_clients: int = 128
    max_per_client: int = 16
    """Connections at once from one client address: one workstation cannot take every slot."""
    frame_timeout: float = 10.0
    """Seconds from a frame's first byte to its last (and for the TLS handshake): a client
    dripping bytes is closed."""
    forward_backoff: float = 1.0
    forward_backoff_max: float = 60.0


class Forwarder(threading.Thread):
    """Sends queued payloads upstream, oldest first; moves each to delivered or failed."""

    def __init__(self, spool: Spool, upstream: Callable[[], Transport], backoff: float,
                 backoff_max: float, stop: threading.Event) -> None:
        super().__init__(name="epop-forwarder", daemon=True)
        self.spool = spool
        self.upstream = upstream
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.stop_event = stop
        self.retry_at: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.attempts = 0

    def run(self) -> None:
        transport: Transport | None = None
        while not self.stop_event.is_set():
            self.spool.wakeup.clear()
            wait = 5.0
            for folder, meta in self.spool.queued():
                if self.stop_event.is_set():
                    break
                due = self.retry_at.get(folder.name, 0.0) - time.monotonic()
                if due > 0:
                    wait = min(wait, due)
                    continue
                if transport is None:
                    try:
                        transport = self.upstream()
                    except Exception as exc:  # noqa: BLE001 - bad relay settings: keep trying
                        log.error("cannot build the upstream transport: %s", exc)
                        wait = min(wait, self.backoff_max)
                        break
                self._forward(transport, folder, meta)
                if folder.name in self.retry_at:
                    wait = min(wait, self.retry_at[folder.name] - time.monotonic())
            self.spool.wakeup.wait(max(0.01, wait))
        if transport is not None and hasattr(transport, "close"):
            transport.close()

    def _forward(self, transport: Transport, folder: Path, meta: dict[str, Any]) -> None:
        """One attempt; one log line saying how it ended (never a payload field: no IPP)."""
        payload = Payload(
            path=folder / "payload.bin", sha256=meta["sha256"], size=int(meta["size"]),
            idempotency_key=meta["key"], metadata=dict(meta.get("metadata") or {}),
        )
        with self.spool.lock:
            self.spool.forwarding.add(folder.name)
        self.attempts += 1
        attempt = self.failures.get(folder.name, 0) + 1
        short = folder.name[:12]
        try:
            receipt = transport.send(payload)
        except Rejected as exc:
            self.spool.note_attempt(folder.name, exc.message_fr)
            self.spool.mark_failed(folder, {"error": exc.message_fr, "detail": exc.message_en})
            log.warning("forward %s attempt %d: refused upstream, moved to failed (%s); "
                        "queue %d", short, attempt, exc.developer_message, self._waiting())
        except TransportError as exc:
            self.failures[folder.name] = attempt
            delay = min(self.backoff_max, self.backoff * (2 ** (attempt - 1)))
            self.retry_at[folder.name] = time.monotonic() + delay
            self.spool.note_attempt(folder.name, exc.message_fr)
            log.warning("forward %s attempt %d: upstream unavailable (%s), retry in %.2fs; "
                        "queue %d", short, attempt, exc.developer_message, delay,
                        self._waiting())
        except Exception as exc:  # noqa: BLE001 - never let one payload kill the forwarder
            self.failures[folder.name] = attempt
            log.error("forward %s attempt %d: unexpected %s, retry in %.0fs", short, attempt,
                      type(exc).__name__, self.backoff_max)
            self.spool.note_attempt(folder.name, "erreur inattendue du serveur e-POP")
            self.retry_at[folder.name] = time.monotonic() + self.backoff_max
        else:
            self.spool.mark_delivered(folder, receipt.to_dict())
            self.retry_at.pop(folder.name, None)
            self.failures.pop(folder.name, None)
            log.info("forward %s attempt %d: delivered, receipt %s%s; queue %d", short, attempt,
                     receipt.receipt, " (duplicate)" if receipt.duplicate else "",
                     self._waiting())
        finally:
            with self.spool.lock:
                self.spool.forwarding.discard(folder.name)

    def _waiting(self) -> int:
        return int(self.spool.summary()["queued"])


class RelayServer:
    """The relay: an accept loop, one thread per client, and the forwarder."""

    def __init__(self, config: RelayConfig, upstream: Callable[[], Transport] | None) -> None:
        self.config = config
        self.allow = parse_allow(config.allow)
        self.spool = Spool(config.spool)
        self.upstream = upstream
        self.refused: list[tuple[str, int]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._conns: set[socket.socket] = set()
        self._per_address: dict[str, int] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        if config.tls_cert is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(config.tls_cert, config.tls_key)
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self.forwarder: Forwarder | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._listener is not None
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allow)

    def start(self) -> RelayServer:
        swept = self.spool.sweep()
        if swept:
            log.info("removed %d partial reception(s) from the spool", swept)
        summary = self.spool.summary()
        log.info("spool: %d queued (oldest since %s), %d delivered, %d failed",
                 summary["queued"], summary["oldest_queued_at"] or "-", summary["delivered"],
                 summary["failed"])
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.config.host, self.config.port))
        listener.listen(128)
        listener.settimeout(0.2)
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept_loop, name="epop-accept",
                                               daemon=True)
        self._accept_thread.start()
        if self.upstream is not None:
            self.forwarder = Forwarder(self.spool, self.upstream, self.config.forward_backoff,
                                       self.config.forward_backoff_max, self._stop)
            self.forwarder.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.spool.wakeup.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            threads = list(self._threads)
            conns = list(self._conns)
        for conn in conns:  # unblock clients waiting in recv()
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5)
        if self.forwarder is not None:
            self.forwarder.join(timeout=10)

    def __enter__(self) -> RelayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- connections --------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(0.05)
                continue
            ip, port = str(peer[0]), int(peer[1])
            if not self.allowed(ip):
                self._refuse(conn, ip, port)
                continue
            with self._lock:
                busy = len(self._threads) >= self.config.max_clients
                crowded = self._per_address.get(ip, 0) >= self.config.max_per_client
                thread = None
                if not (busy or crowded):
                    thread = threading.Thread(target=self._serve, args=(conn, ip, port),
                                              daemon=True)
                    self._threads.add(thread)
                    self._per_address[ip] = self._per_address.get(ip, 0) + 1
            if thread is None:
                code = "busy_client" if crowded else "busy"
                self._note(ip, port, code)
                self._send_error(conn, code, "relay busy: too many connections, retry later")
                continue
            thread.start()

    def _refuse(self, conn: socket.socket, ip: str, port: int) -> None:
        shown = ip.removeprefix("::ffff:")
        self.refused.append((shown, port))
        log.warning("client %s:%d refused (not in the allow-list)", shown, port)
        self._send_error(conn, "not_allowed", MSG_NOT_ALLOWED.format(address=shown, port=port),
                         address=shown, port=port)

    def _send_error(self, conn: socket.socket, code: str, message: str, **extra: Any) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(2)
            p.send(conn, p.FrameType.ERROR, {"code": code, "message": message, **extra})
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    def _serve(self, conn: socket.socket, ip: str, port: int) -> None:
        with self._lock:
            self._conns.add(conn)
        raw = conn
        try:
            conn.settimeout(self.config.idle_timeout)
            p.send(conn, p.FrameType.WELCOME,
                   {"protocol": p.VERSION, "tls": self._tls is not None, "server": "lotas-epop"})
            if self._tls is not None:
                conn.settimeout(self.config.frame_timeout)  # bounds the whole handshake
                conn = self._tls.wrap_socket(conn, server_side=True)
            reader = p.FrameReader(conn, max_frame=self.config.max_frame,
                                   idle_timeout=self.config.idle_timeout,
                                   total_timeout=self.config.total_timeout,
                                   frame_timeout=self.config.frame_timeout)
            while not self._stop.is_set():
                frame = reader.read()
                if frame.type == p.FrameType.PUT:
                    self._receive(conn, reader, frame.json())
                elif frame.type == p.FrameType.STATUS:
                    key = str(frame.json().get("key", ""))
                    p.send(conn, p.FrameType.STATUS_REPLY, self.spool.state(key))
                elif frame.type == p.FrameType.PING:
                    p.send(conn, p.FrameType.PONG, {"server": "lotas-epop",
                                                    "protocol": p.VERSION,
                                                    "queue": self.spool.summary()})
                else:
                    raise p.ProtocolViolation("unexpected_frame",
                                              f"frame {frame.type.name} not expected here")
        except p.PeerClosed as exc:
            if exc.code != "closed":
                self._note(ip, port, exc.code)
        except p.ProtocolViolation as exc:
            self._note(ip, port, exc.code)
            self._send_error(conn, exc.code, exc.message)
        except (OSError, ssl.SSLError) as exc:
            self._note(ip, port, type(exc).__name__)
        except Exception:  # noqa: BLE001 - a client must never crash the relay
            log.exception("unexpected error with client %s:%d", ip, port)
            self._send_error(conn, "internal", "internal error")
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            with self._lock:
                self._threads.discard(threading.current_thread())
                self._conns.discard(raw)
                left = self._per_address.get(ip, 1) - 1
                if left > 0:
                    self._per_address[ip] = left
                else:
                    self._per_address.pop(ip, None)

    def _note(self, ip: str, port: int, code: str) -> None:
        self.errors.append(code)
        log.info("client %s:%d: %s", ip, port, code)

    def _receive(self, conn: socket.socket, reader: p.FrameReader, header: dict[str, Any]) -> None:
        key, sha, size = header.get("key"), header.get("sha256"), header.get("size")
        metadata = header.get("metadata") or {}
        if not (isinstance(key, str) and 0 < len(key) <= 256):
            raise p.ProtocolViolation("bad_header", "key missing or too long")
        if not (isinstance(sha, str) and _HEX64.match(sha.lower())):
            raise p.ProtocolViolation("bad_header", "sha256 must be 64 hex digits")
        if not (isinstance(size, int) and 0 <= size <= self.config.max_payload):
            raise p.ProtocolViolation("payload_too_large" if isinstance(size, int) and size > 0
                                      else "bad_header", "size missing or over the limit")
        if not isinstance(metadata, dict):
            raise p.ProtocolViolation("bad_header", "metadata must be an object")
        item: Incoming = self.spool.begin({"key": key, "sha256": sha.lower(), "size": size,
                                           "metadata": metadata})
        try:
            while True:
                try:
                    frame = reader.read()
                except p.PeerClosed:
                    raise p.PeerClosed("truncated", "connection closed inside a payload") from None
                if frame.type == p.FrameType.END:
                    break
                if frame.type != p.FrameType.DATA:
                    raise p.ProtocolViolation("unexpected_frame",
                                              f"frame {frame.type.name} inside a payload")
                if item.size + len(frame.body) > size:
                    raise p.ProtocolViolation("size_mismatch", "more data than announced")
                item.write(frame.body)
            if item.size != size or not hmac.compare_digest(item.digest.hexdigest(), sha.lower()):
                self.spool.abort(item)
                code = "size_mismatch" if item.size != size else "checksum"
                self._note("-", 0, code)
                p.send(conn, p.FrameType.NACK, {"key": key, "code": code,
                                                "message": "payload does not match its header"})
                return
            state, duplicate = self.spool.commit(item)
        except BaseException:
            self.spool.abort(item)
            raise
        ack: dict[str, Any] = {"key": key, "state": state, "duplicate": duplicate,
                               "sha256": sha.lower(), "spool_id": item.folder.name[:16]}
        if state == "delivered":  # forwarded before: the client gets QUALHAS's receipt now
            receipt = self.spool.state(key).get("receipt")
            if isinstance(receipt, dict):
                ack["receipt"] = receipt
        p.send(conn, p.FrameType.ACK, ack)

    def serve_until(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set (the CLI sets it on Ctrl-C or SIGTERM)."""
        while not stop.wait(0.5):
            pass
