"""Fixtures of the transport tests: receivers, certificates, an authenticating proxy, payloads.

Every server binds 127.0.0.0/8 and is stopped at teardown; every wait is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme

from lotas_core.transmission.contract import Payload
from lotas_core.transmission.credentials import Credentials
from lotas_core.transmission.sending import build_payload
from lotas_plugins.transport_direct.receiver import EpmsiServer, Faults, ReceiverConfig

RECEIVER_USER = "dim01"
RECEIVER_PASSWORD = "epmsi-Pa55-word"


def _wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds have passed (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def wait_until() -> Callable[..., bool]:
    return _wait_until


# -- draws and payloads --------------------------------------------------------------------------


@dataclass
class FakeDraw:
    """The fields of ``lotas_core.draws.history.DrawRecord`` that the transmission reads."""

    draw_id: str
    finess: str = "000000001"
    financing: str = "DGF"
    campaign_id: str = "psy_sma_2021"
    algorithm: str = "lotas-draw/1"
    seed: str = "00" * 32
    population_digest: str = "ab" * 32
    sizes: dict = field(default_factory=lambda: {"main": 3, "reserve": 1})
    rows: list = field(default_factory=list)
    entry_hash: str = "cd" * 32
    transmissions: list = field(default_factory=list)


def fake_draw(draw_id: str = "D1", n: int = 4) -> FakeDraw:
    rows = [
        {
            "NUMTAS": i + 1, "TYPECH": "P" if i < 3 else "R", "IPP": f"IPPSECRET{draw_id}{i:04d}",
            "SEXE": "1", "AGE": 40 + i, "MODENT": "8", "MODSORT": "8", "DEST": "", "PROV": "",
            "LISTEDA": "F200 F101", "DATACTE": "2019-11-0" + str(1 + i % 9),
        }
        for i in range(n)
    ]
    return FakeDraw(draw_id=draw_id, rows=rows)


@pytest.fixture
def make_payload(tmp_path: Path) -> Callable[..., tuple[Payload, FakeDraw]]:
    settings = SimpleNamespace(data_dir=tmp_path / "data")

    def make(draw_id: str = "D1", n: int = 4) -> tuple[Payload, FakeDraw]:
        from lotas_plugins.psy_sma_2021.campaign import PsySma2021

        draw = fake_draw(draw_id, n)
        return build_payload(draw, settings, PsySma2021().row_layout()), draw

    return make


# -- the receiver ---------------------------------------------------------------------------------


@pytest.fixture
def receiver_factory(tmp_path: Path) -> Iterator[Callable[..., EpmsiServer]]:
    started: list[EpmsiServer] = []

    def start(*, auth: bool = True, host: str = "127.0.0.1", port: int = 0,
              store: Path | None = None, tls: tuple[Path, Path] | None = None,
              **faults: Any) -> EpmsiServer:
        config = ReceiverConfig(
            store=store or tmp_path / f"receiver{len(started)}",
            user=RECEIVER_USER if auth else None,
            password=RECEIVER_PASSWORD if auth else None,
            faults=Faults(**faults),
        )
        server = EpmsiServer(config, host, port, tls_cert=tls[0] if tls else None,
                             tls_key=tls[1] if tls else None)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def credentials(**extra: str) -> Credentials:
    values = {"epmsi_user": RECEIVER_USER, "epmsi_password": RECEIVER_PASSWORD, **extra}
    return Credentials(values, environ={}, use_keyring=False)


@pytest.fixture
def creds() -> Callable[..., Credentials]:
    return credentials


# -- certificates ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_files(ca: trustme.CA, tmp_path: Path) -> Callable[[str], tuple[Path, Path]]:
    """Certificate and key files for a given host name, signed by ``ca``."""

    def make(*hosts: str) -> tuple[Path, Path]:
        cert = ca.issue_cert(*hosts)
        name = "-".join(hosts).replace(".", "_")
        cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
        cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
        cert.private_key_pem.write_to_path(str(key_path))
        return cert_path, key_path

    return make


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


# -- an authenticating HTTP proxy -----------------------------------------------------------------


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: _Proxy

    def handle(self) -> None:
        self.request.settimeout(5)
        line = self.rfile.readline(65537).decode("latin-1").strip()
        if not line:
            return
        method, target, _version = line.split(" ", 2)
        headers: dict[str, str] = {}
        raw_headers: list[str] = []
        while True:
            header = self.rfile.readline(65537).decode("latin-1")
            if header in ("\r\n", "\n", ""):
                break
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
            raw_headers.append(header.rstrip("\r\n"))
        auth = headers.get("proxy-authorization")
        self.server.seen.append((method, target, auth))
        if auth != self.server.expected:
            self.wfile.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n'
                b"Connection: close\r\n\r\n"
            )
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)), timeout=5)
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pump(upstream)
            return
        url = urlsplit(target)
        upstream = socket.create_connection((url.hostname, url.port or 80), timeout=5)
        body = self.rfile.read(int(headers.get("content-length", "0") or 0))
        kept = [h for h in raw_headers
                if not h.lower().startswith(("proxy-", "connection:", "keep-alive:"))]
        path = url.path + (f"?{url.query}" if url.query else "")
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{h}\r\n" for h in kept)
        upstream.sendall(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)
        self._pump(upstream)

    def _pump(self, upstream: socket.socket) -> None:
        sockets = [self.request, upstream]
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select(sockets, [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.request else self.request).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected = f"Basic {token}"
        self.seen: list[tuple[str, str, str | None]] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


@pytest.fixture
def auth_proxy() -> Iterator[_Proxy]:
    """A proxy on 127.0.0.1 that wants ``proxyuser`` / ``Pr0xy-S3cret-pw`` (Basic)."""
    proxy = _Proxy("proxyuser", "Pr0xy-S3cret-pw")
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()
    thread.join(timeout=5)


# -- sockets for the manual's errors --------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """A listener with backlog 0 that never accepts, its queue filled: new connects time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    for _ in range(16):
        sock = socket.socket()
        sock.settimeout(0.3)
        fillers.append(sock)
        try:
            sock.connect(("127.0.0.1", port))
        except (TimeoutError, OSError):
            break
    else:
        pytest.fail("could not fill the listen queue")
    yield port
    for sock in fillers:
        with contextlib.suppress(OSError):
            sock.close()
    listener.close()


# -- the servers as real ``lotas`` processes ------------------------------------------------------

LOTAS = [sys.executable, "-m", "lotas_core.cli.main"]


class ServerProcess:
    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [*LOTAS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ),
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        if not ready:
            self.proc.kill()
            pytest.fail("the server printed no address within 30 s")
        self.banner = self.proc.stdout.readline()
        found = re.search(r"(\d+\.\d+\.\d+\.\d+):(\d+)", self.banner)
        if not found:
            self.proc.kill()
            pytest.fail(f"no address in {self.banner!r} / {self.proc.stderr.read()}")
        self.host, self.port = found.group(1), int(found.group(2))

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=15)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.kill()


def start(servers: list[ServerProcess], *args: str) -> ServerProcess:
    server = ServerProcess(list(args))
    servers.append(server)
    return server
