"""Everything bounded (issue 11): the e-POP client's deadlines, the relay against dripping
clients, the receiver against strangers, odd credentials and over-deep JSON."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lotas_core.transmission.contract import TransportTimeout
from lotas_plugins.transport_epop import protocol as p
from lotas_plugins.transport_epop.client import EpopOptions, EpopTransport
from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer

from .conftest import RECEIVER_PASSWORD, RECEIVER_USER


class DrippingRelay:
    """A fake relay that accepts and sends its frames one byte every ``pause`` seconds, for at
    most ``limit`` seconds per connection (so the test ends even if a client never gives up)."""

    def __init__(self, frames: list[bytes], pause: float = 0.05, limit: float = 8.0) -> None:
        self.frames = frames
        self.pause = pause
        self.limit = limit
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        end = time.monotonic() + self.limit
        with conn:
            try:
                for frame in self.frames:
                    for index in range(len(frame)):
                        if time.monotonic() > end or self._stop.is_set():
                            return
                        conn.sendall(frame[index:index + 1])
                        time.sleep(self.pause)
                self._stop.wait(max(0.0, end - time.monotonic()))  # then silence
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def dripping() -> Iterator[list[DrippingRelay]]:
    started: list[DrippingRelay] = []
    yield started
    for relay in started:
        relay.stop()


WELCOME = p.encode(p.FrameType.WELCOME, {"protocol": 1, "tls": False, "server": "lotas-epop"})
PONG = p.encode(p.FrameType.PONG, {"server": "lotas-epop", "protocol": 1})


def _run_bounded(work, seconds: float = 20.0):
    """Run ``work`` in a thread; the test fails (instead of hanging) if it does not return."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the client did not give up"
    return outcome


def test_a_relay_dripping_its_greeting_is_cut_off_by_the_frame_deadline(dripping):
    relay = DrippingRelay([WELCOME], pause=0.1)  # 1.6 s for the greeting
    dripping.append(relay)
    client = EpopTransport(EpopOptions(port=relay.port, connect_timeout=2, read_timeout=5,
                                       handshake_timeout=0.5, max_retries=0))
    outcome = _run_bounded(client.check)
    assert isinstance(outcome.get("error"), TransportTimeout), outcome


def test_a_slow_relay_is_cut_off_by_the_total_deadline(dripping):
    # Each frame arrives within its own deadline, the whole exchange does not.
    relay = DrippingRelay([WELCOME, PONG], pause=0.03)
    dripping.append(relay)
    client = EpopTransport(EpopOptions(port=relay.port, connect_timeout=2, read_timeout=10,
                                       handshake_timeout=10, total_timeout=1.5, max_retries=0))
    outcome = _run_bounded(client.check)
    assert isinstance(outcome.get("error"), TransportTimeout), outcome


def test_a_relay_that_never_completes_tls_is_cut_off(dripping):
    welcome_tls = p.encode(p.FrameType.WELCOME, {"protocol": 1, "tls": True})
    relay = DrippingRelay([welcome_tls], pause=0)  # then silence instead of a handshake
    dripping.append(relay)
    client = EpopTransport(EpopOptions(port=relay.port, encrypt=True, tls_fingerprint="ab" * 32,
                                       connect_timeout=2, read_timeout=30,
                                       handshake_timeout=0.5, max_retries=0))
    outcome = _run_bounded(client.check)
    assert isinstance(outcome.get("error"), TransportTimeout), outcome


# -- the relay ------------------------------------------------------------------------------------


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayServer]:
    server = RelayServer(RelayConfig(spool=tmp_path / "spool", port=0, frame_timeout=1.0,
                                     allow=["127.0.0.0/8"]), None).start()
    yield server
    server.stop()


def test_a_client_dripping_a_frame_is_closed_by_the_relay(relay):
    sock = socket.create_connection(relay.address, timeout=5)
    with sock:
        reader = p.FrameReader(sock, idle_timeout=5)
        assert reader.read().type == p.FrameType.WELCOME
        frame = p.encode(p.FrameType.PING, {})
        error = None
        for index in range(len(frame)):  # one byte every 0.3 s: never idle for long
            try:
                sock.sendall(frame[index:index + 1])
            except OSError:
                break
            time.sleep(0.3)
            sock.setblocking(False)
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                data = None
            finally:
                sock.setblocking(True)
                sock.settimeout(5)
            if data is not None:
                error = data
                break
        if error is None:  # the whole frame was dripped: the answer may still be on its way
            sock.settimeout(10)
            error = sock.recv(4096)
            assert not error.startswith(p.encode(p.FrameType.PONG, {})[:6]), "frame accepted"
    assert error, "the relay kept a dripping client"
    header = p.HEADER.unpack(error[:p.HEADER.size])
    assert header[2] == p.FrameType.ERROR
    assert json.loads(error[p.HEADER.size:])["code"] == "frame_timeout"


def test_200_dripping_connections_from_one_address_do_not_stop_another(tmp_path, make_payload):
    # A long frame deadline: only the per-address limit keeps slots free here.
    relay = RelayServer(RelayConfig(spool=tmp_path / "spool", port=0, frame_timeout=60,
                                    allow=["127.0.0.0/8"]), None).start()
    hogs: list[socket.socket] = []
    try:
        for _ in range(200):
            sock = socket.create_connection(relay.address, timeout=5,
                                            source_address=("127.0.0.2", 0))
            try:
                sock.sendall(b"E")  # the first byte of a frame, then nothing more
            except OSError:
                pass
            hogs.append(sock)
        payload, _ = make_payload()
        client = EpopTransport(EpopOptions(port=relay.address[1], source_address="127.0.0.1",
                                           connect_timeout=2, read_timeout=5, max_retries=0))
        receipt = client.send(payload)
        assert receipt.final is False and receipt.receipt.startswith("EPOP-")
        assert relay.spool.counts()["queued"] == 1
        assert relay.errors.count("busy_client") > 0
    finally:
        for sock in hogs:
            sock.close()
        relay.stop()


# -- the receiver ---------------------------------------------------------------------------------


def _raw_request(address: tuple[str, int], head: str, body: bytes = b"") -> bytes:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(head.encode("latin-1") + body)
        sock.settimeout(5)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except TimeoutError:
            pass
        return b"".join(chunks)


def test_the_receiver_checks_credentials_before_reading_a_body(receiver_factory):
    receiver = receiver_factory()
    bad = base64.b64encode(b"dim01:wrong").decode()
    head = ("POST /qualhas/upload HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Basic {bad}\r\nContent-Length: 50000000\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n\r\n")
    answer = _raw_request(receiver.address, head)  # the announced 50 MB never come
    assert answer.startswith(b"HTTP/1.1 401")


@pytest.mark.parametrize("login", ["dïm01:mot-de-passe", "dim01:pässwörd", "\u00e9:\u00e9"])
def test_non_ascii_credentials_get_401(receiver_factory, login):
    receiver = receiver_factory()
    token = base64.b64encode(login.encode("utf-8")).decode()
    head = (f"GET /qualhas/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n"
            "Content-Length: 0\r\n\r\n")
    assert _raw_request(receiver.address, head).startswith(b"HTTP/1.1 401")


def test_non_ascii_authorization_header_gets_401(receiver_factory):
    receiver = receiver_factory()
    head = "GET /qualhas/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Basic é€\r\n\r\n"
    with socket.create_connection(receiver.address, timeout=5) as sock:
        sock.sendall(head.encode("utf-8"))
        assert sock.recv(4096).startswith(b"HTTP/1.1 401")


def test_over_deep_json_gets_400(receiver_factory):
    receiver = receiver_factory()
    deep = ("[" * 5000 + "]" * 5000).encode()
    response = requests.post(
        f"{receiver.url}/qualhas/upload", auth=(RECEIVER_USER, RECEIVER_PASSWORD), timeout=10,
        headers={"Idempotency-Key": "deep", "X-Content-SHA256": hashlib.sha256(deep).hexdigest()},
        files={"meta": (None, "{}", "application/json"),
               "file": ("x.json", deep, "application/json")},
    )
    assert response.status_code == 400
    assert receiver.stored_payloads() == []
