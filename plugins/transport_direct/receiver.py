"""The local e-PMSI/QUALHAS receiver (``lotas epmsi-server``), for demos and tests.

Nothing public describes the real upload API, so lotas defines its own
(docs/transports-howto.md, docs/formats.md) and ships this receiver: ``GET /qualhas/ping`` and
``POST /qualhas/upload`` (multipart ``meta`` +
``file``, headers ``Idempotency-Key`` and ``X-Content-SHA256``, HTTP Basic). Each payload is
checked (checksum, no ``IPP`` key anywhere) and stored atomically; a repeated idempotency key gets
the first receipt with ``duplicate: true``. Faults can be injected to test the clients.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lotas_core.fsutil import atomic_write_bytes, ensure_private_dir
from lotas_plugins.transport_direct import RECEIVER_DEFAULT_PORT

log = logging.getLogger(__name__)

PING_PATH = "/qualhas/ping"
UPLOAD_PATH = "/qualhas/upload"
DEFAULT_PORT = RECEIVER_DEFAULT_PORT
FORBIDDEN_KEYS = frozenset({"ipp"})
#: Deepest nesting of JSON accepted (a lotas-qualhas/1 file has 3 levels): deeper is refused
#: with 400 before any recursive walk.
MAX_JSON_DEPTH = 32


@dataclass
class Faults:
    """Faults injected on purpose; all default to off. Decisions are seeded, hence repeatable."""

    delay: float = 0.0
    """Seconds to wait before answering any request."""
    error_rate: float = 0.0
    """Share (0-1) of uploads answered with ``error_status`` instead of being stored."""
    error_status: int = 503
    seed: int = 0
    throttle: int = 0
    """The first N uploads are answered 429 with ``Retry-After``."""
    retry_after: int = 1
    drop_rate: float = 0.0
    """Share of uploads stored, then the connection is closed in the middle of the answer."""
    force_status: int | None = None
    """Answer every request with this status (401 or 407) to test the clients' error messages."""


@dataclass
class ReceiverConfig:
    store: Path
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    faults: Faults = field(default_factory=Faults)
    max_size: int = 64 * 1024 * 1024


def contains_forbidden_key(data: Any) -> bool:
    """True when any mapping inside ``data`` has an ``IPP`` key (any case)."""
    if isinstance(data, dict):
        return any(
            str(key).lower() in FORBIDDEN_KEYS or contains_forbidden_key(value)
            for key, value in data.items()
        )
    if isinstance(data, list):
        return any(contains_forbidden_key(item) for item in data)
    return False


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than ``limit`` (checked before parsing,
    so that neither the parser nor a walk of the result can exhaust the stack)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_multipart(body: bytes, content_type: str) -> dict[str, bytes]:
    """The named parts of a ``multipart/form-data`` body (small bodies, read whole)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match or not content_type.lower().startswith("multipart/form-data"):
        raise ValueError("not multipart/form-data")
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts: dict[str, bytes] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("part without headers")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            parts[name.group(1).decode("utf-8", "replace")] = data.removesuffix(b"\r\n")
    return parts


class Receiver:
    """State shared by the handler threads: the store, the idempotency index, the fault dice."""

    def __init__(self, config: ReceiverConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.rng = random.Random(config.faults.seed)
        self.events: list[dict[str, Any]] = []
        self._throttled = 0
        self.payload_dir = ensure_private_dir(Path(config.store) / "payloads")
        self.key_dir = ensure_private_dir(Path(config.store) / "keys")

    def record(self, method: str, path: str, status: int, key: str | None) -> None:
        with self.lock:
            self.events.append(
                {"t": time.monotonic(), "method": method, "path": path, "status": status,
                 "key": key}
            )

    def stored_payloads(self) -> list[Path]:
        """Every payload file kept so far."""
        return sorted(self.payload_dir.glob("*.json"))

    def authorized(self, header: str | None) -> bool:
        if self.config.user is None:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            raw = base64.b64decode(header[6:].encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            return False
        user, _, password = raw.partition(b":")
        # bytes, not str: compare_digest refuses non-ASCII str (that closed the connection)
        user_ok = hmac.compare_digest(user, self.config.user.encode("utf-8"))
        password_ok = hmac.compare_digest(password, (self.config.password or "").encode("utf-8"))
        return user_ok and password_ok

    def upload_fault(self) -> tuple[int, dict[str, str]] | None:
        """The fault to answer this upload with, or None to process it."""
        faults = self.config.faults
        with self.lock:
            if self._throttled < faults.throttle:
                self._throttled += 1
                return 429, {"Retry-After": str(faults.retry_after)}
            if faults.error_rate and self.rng.random() < faults.error_rate:
                return faults.error_status, {}
        return None

    def should_drop(self) -> bool:
        rate = self.config.faults.drop_rate
        with self.lock:
            return bool(rate) and self.rng.random() < rate

    def accept(self, key: str, declared: str, meta: bytes, data: bytes) -> tuple[int, dict]:
        """Check and store one upload; the answer's status and JSON body."""
        actual = hashlib.sha256(data).hexdigest()
        if not hmac.compare_digest(actual, declared.lower()):
            return 422, {"error": "checksum", "message": "X-Content-SHA256 does not match"}
        try:
            texts = data.decode("utf-8"), meta.decode("utf-8") or "{}"
            if any(json_too_deep(text) for text in texts):
                return 400, {"error": "json_depth",
                             "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}
            content = json.loads(texts[0])
            json.loads(texts[1])
        except (UnicodeDecodeError, ValueError, RecursionError):
            return 400, {"error": "json", "message": "file and meta must be JSON"}
        if contains_forbidden_key(content):
            return 422, {"error": "ipp", "message": "payload holds an IPP key: refused"}
        key_hash = hashlib.sha256(key.encode("utf-8")).hexdigest()
        index = self.key_dir / f"{key_hash}.json"
        with self.lock:
            if index.exists():
                first = json.loads(index.read_text(encoding="utf-8"))
                if first["sha256"] != actual:
                    return 409, {"error": "conflict",
                                 "message": "idempotency key reused for other content"}
                return 200, {**first, "duplicate": True}
            receipt = {
                "receipt": f"QH-{key_hash[:16].upper()}",
                "sha256": actual,
                "duplicate": False,
                "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "size": len(data),
            }
            atomic_write_bytes(self.payload_dir / f"{receipt['receipt']}.json", data)
            atomic_write_bytes(index, json.dumps(receipt).encode("utf-8"))
        return 200, receipt


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid the 40 ms stall
    server_version = "lotas-epmsi-receiver/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        log.info("%s %s", self.address_string(), format % args)

    def _send_json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _common_faults(self, key: str | None) -> bool:
        """Forced status and authentication; True when the request was answered."""
        receiver = self.server.receiver
        forced = receiver.config.faults.force_status
        if receiver.config.faults.delay:
            time.sleep(receiver.config.faults.delay)
        if forced in (401, 407):
            header = "WWW-Authenticate" if forced == 401 else "Proxy-Authenticate"
            self._answer(forced, {"error": "forced"}, key, {header: 'Basic realm="qualhas"'})
            return True
        if not receiver.authorized(self.headers.get("Authorization")):
            self._answer(401, {"error": "auth", "message": "bad e-PMSI credentials"}, key,
                         {"WWW-Authenticate": 'Basic realm="qualhas"'})
            return True
        return False

    def _answer(self, status: int, body: dict, key: str | None,
                headers: dict[str, str] | None = None) -> None:
        self.server.receiver.record(self.command, self.path, status, key)
        self._send_json(status, body, headers)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path != PING_PATH:
            self._answer(404, {"error": "not_found"}, None)
            return
        if self._common_faults(None):
            return
        self._answer(200, {"status": "ok", "service": "lotas-epmsi-receiver", "api": 1}, None)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        receiver = self.server.receiver
        key = self.headers.get("Idempotency-Key")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._answer(400, {"error": "content_length"}, key)
            return
        if self.path != UPLOAD_PATH:
            self.close_connection = True
            self._answer(404, {"error": "not_found"}, key)
            return
        if self._common_faults(key):  # credentials before the body: a stranger sends nothing
            self.close_connection = True  # the unread body must not be taken for a request
            return
        if length > receiver.config.max_size:
            self.close_connection = True
            self._answer(413, {"error": "too_large"}, key)
            return
        body = self.rfile.read(length)
        fault = receiver.upload_fault()
        if fault is not None:
            self._answer(fault[0], {"error": "injected"}, key, fault[1])
            return
        if not key or not self.headers.get("X-Content-SHA256"):
            self._answer(400, {"error": "headers",
                               "message": "Idempotency-Key and X-Content-SHA256 required"}, key)
            return
        try:
            parts = parse_multipart(body, self.headers.get("Content-Type", ""))
        except ValueError as exc:
            self._answer(400, {"error": "multipart", "message": str(exc)}, key)
            return
        if "file" not in parts:
            self._answer(400, {"error": "multipart", "message": "no file part"}, key)
            return
        status, answer = receiver.accept(
            key, self.headers["X-Content-SHA256"], parts.get("meta", b"{}"), parts["file"]
        )
        if status == 200 and receiver.should_drop():
            receiver.record(self.command, self.path, -1, key)
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{\"rec")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._answer(status, answer, key)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], receiver: Receiver,
                 tls: ssl.SSLContext | None) -> None:
        self.receiver = receiver
        self.tls = tls
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        raw = request
        with self.connections_lock:
            self.open_connections.add(raw)
        try:
            raw.settimeout(30)
            if self.tls is not None:
                request = self.tls.wrap_socket(raw, server_side=True)
            super().finish_request(request, client_address)
        finally:
            with self.connections_lock:
                self.open_connections.discard(raw)

    def close_connections(self) -> None:
        """End kept-alive connections so that every handler thread returns."""
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.info("connection from %s ended with an error", client_address[0], exc_info=False)


class EpmsiServer:
    """The receiver, runnable in a thread (tests) or in the foreground (``lotas epmsi-server``)."""

    def __init__(self, config: ReceiverConfig, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 *, tls_cert: Path | None = None, tls_key: Path | None = None) -> None:
        self.receiver = Receiver(config)
        tls = None
        if tls_cert is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(tls_cert, tls_key)
        self.httpd = _HTTPServer((host, port), self.receiver, tls)
        self.scheme = "https" if tls else "http"
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"{self.scheme}://{host}:{port}"

    @property
    def events(self) -> list[dict[str, Any]]:
        with self.receiver.lock:
            return list(self.receiver.events)

    def stored_payloads(self) -> list[Path]:
        return self.receiver.stored_payloads()

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> EpmsiServer:
        self._thread = threading.Thread(target=self.serve_forever, name="epmsi-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.close_connections()
        self.httpd.server_close()

    def __enter__(self) -> EpmsiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
