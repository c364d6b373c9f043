"""Malformed input to the relay: error frame (or NACK), nothing kept, the relay keeps serving."""

from __future__ import annotations

import hashlib
import socket
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotas_plugins.transport_epop import protocol as p
from lotas_plugins.transport_epop.client import EpopOptions, EpopTransport
from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer

BODY = b'{"rows": []}'
SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture
def relay(tmp_path: Path):
    server = RelayServer(
        RelayConfig(spool=tmp_path / "spool", port=0, idle_timeout=1.0, total_timeout=10,
                    max_frame=4096, max_payload=100_000),
        None,
    ).start()
    yield server
    server.stop()


def connect(relay: RelayServer) -> tuple[socket.socket, p.FrameReader]:
    sock = socket.create_connection(relay.address, timeout=5)
    reader = p.FrameReader(sock, idle_timeout=5)
    assert reader.read().type == p.FrameType.WELCOME
    return sock, reader


def answer(reader: p.FrameReader) -> tuple[p.FrameType, dict]:
    frame = reader.read()
    return frame.type, frame.json()


def closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def put(size: int = len(BODY), sha: str = SHA, key: str = "k1") -> bytes:
    return p.encode(p.FrameType.PUT, {"key": key, "sha256": sha, "size": size, "metadata": {}})


def still_serving(relay: RelayServer, tmp_path: Path, key: str) -> None:
    from lotas_core.transmission.contract import Payload

    path = tmp_path / f"{key}.json"
    path.write_bytes(BODY)
    epop = EpopTransport(EpopOptions(host="127.0.0.1", port=relay.address[1], read_timeout=5))
    assert epop.send(Payload(path, SHA, len(BODY), key, {})).detail["state"] == "queued"


def nothing_kept(relay: RelayServer) -> None:
    spool = relay.spool.root
    assert list((spool / "incoming").iterdir()) == []
    assert list((spool / "queue").iterdir()) == []


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (struct.pack(">4sBBHI", b"EPOP", 1, 0x42, 0, 0), "unknown_type"),
        (struct.pack(">4sBBHI", b"EPOP", 1, 0x02, 0, 10_000_000), "frame_too_large"),
        (struct.pack(">4sBBHI", b"EPOP", 9, 0x09, 0, 0), "bad_version"),
        (b"GET / HTTP/1.1\r\n\r\n", "bad_magic"),
        (p.encode(p.FrameType.PUT, b"{not json"), "bad_json"),
        (p.encode(p.FrameType.PUT, b"[1, 2]"), "bad_json"),
        (p.encode(p.FrameType.DATA, BODY), "unexpected_frame"),
        (p.encode(p.FrameType.ACK, {}), "unexpected_frame"),
        (put(sha="xyz"), "bad_header"),
        (put(size=10**9), "payload_too_large"),
        (put() + p.encode(p.FrameType.DATA, BODY + b"extra"), "size_mismatch"),
        (put() + p.encode(p.FrameType.STATUS, {"key": "k1"}), "unexpected_frame"),
    ],
    ids=["unknown-type", "oversize", "version", "bad-magic", "bad-json", "json-not-object",
         "data-before-header", "server-frame", "bad-sha", "payload-over-limit",
         "more-than-announced", "other-frame-in-payload"],
)
def test_bad_frame_gets_error_and_close(relay, tmp_path, raw, code):
    sock, reader = connect(relay)
    with sock:
        sock.sendall(raw)
        frame_type, body = answer(reader)
        assert (frame_type, body["code"]) == (p.FrameType.ERROR, code)
        assert closed(sock)
    nothing_kept(relay)
    still_serving(relay, tmp_path, f"after-{code}")


def test_wrong_checksum_gets_nack_and_nothing_is_kept(relay, tmp_path):
    sock, reader = connect(relay)
    with sock:
        sock.sendall(put(sha="0" * 64) + p.encode(p.FrameType.DATA, BODY)
                     + p.encode(p.FrameType.END, {}))
        frame_type, body = answer(reader)
        assert (frame_type, body["code"]) == (p.FrameType.NACK, "checksum")
        nothing_kept(relay)
        # The session goes on: the same connection may send the payload again, correctly.
        sock.sendall(put() + p.encode(p.FrameType.DATA, BODY) + p.encode(p.FrameType.END, {}))
        frame_type, body = answer(reader)
        assert frame_type == p.FrameType.ACK and body["state"] == "queued"


def test_short_payload_gets_nack(relay):
    sock, reader = connect(relay)
    with sock:
        sock.sendall(put() + p.encode(p.FrameType.DATA, BODY[:4]) + p.encode(p.FrameType.END, {}))
        frame_type, body = answer(reader)
        assert (frame_type, body["code"]) == (p.FrameType.NACK, "size_mismatch")
    nothing_kept(relay)


@pytest.mark.parametrize("cut", ["header", "body", "payload"])
def test_truncated_input_is_dropped(relay, tmp_path, cut):
    sock, _ = connect(relay)
    with sock:
        if cut == "header":
            sock.sendall(b"EPOP\x01")
        elif cut == "body":
            sock.sendall(put()[:-5])
        else:
            sock.sendall(put() + p.encode(p.FrameType.DATA, BODY[:4]))
    # The relay notices the truncation, discards the partial reception and keeps serving.
    still_serving(relay, tmp_path, f"after-truncated-{cut}")
    deadline = time.monotonic() + 5
    while "truncated" not in relay.errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "truncated" in relay.errors
    assert list((relay.spool.root / "incoming").iterdir()) == []
    assert relay.spool.counts()["queued"] == 1


@pytest.mark.parametrize("where", ["between-frames", "mid-frame", "mid-payload"])
def test_stalled_client_times_out(relay, tmp_path, where):
    sock, reader = connect(relay)
    with sock:
        if where == "mid-frame":
            sock.sendall(put()[:7])
        elif where == "mid-payload":
            sock.sendall(put() + p.encode(p.FrameType.DATA, BODY[:3]))
        frame_type, body = answer(reader)  # the relay's idle timeout is 1 s
        assert (frame_type, body["code"]) == (p.FrameType.ERROR, "idle_timeout")
        assert closed(sock)
    nothing_kept(relay)
    still_serving(relay, tmp_path, f"after-stall-{where}")


def test_status_and_ping_frames(relay, tmp_path):
    still_serving(relay, tmp_path, "known")
    sock, reader = connect(relay)
    with sock:
        sock.sendall(p.encode(p.FrameType.STATUS, {"key": "known"}))
        kind, body = answer(reader)
        assert kind == p.FrameType.STATUS_REPLY
        assert (body["key"], body["state"]) == ("known", "queued") and body["queued_at"]
        sock.sendall(p.encode(p.FrameType.PING, {}))
        kind, body = answer(reader)
        assert kind == p.FrameType.PONG
        assert body["queue"]["queued"] == 1 and body["queue"]["oldest_queued_at"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=0, max_size=64))
def test_random_bytes_never_crash_the_relay(relay, garbage):
    sock, reader = connect(relay)
    with sock:
        data = b""
        try:
            sock.sendall(garbage)
            sock.shutdown(socket.SHUT_WR)  # no stall: the relay sees the end of input at once
        except OSError:
            pass  # the relay already answered and closed
        sock.settimeout(5)
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
        if data:  # whatever it says is a well-formed ERROR frame (or nothing at all)
            assert data[:4] == p.MAGIC and data[5] == p.FrameType.ERROR
    assert relay.spool.counts()["queued"] == 0
    ok, _ = connect(relay)
    ok.close()


def test_slow_drip_hits_the_total_timeout(tmp_path):
    server = RelayServer(RelayConfig(spool=tmp_path / "drip", port=0, idle_timeout=2.0,
                                     total_timeout=1.0), None).start()
    try:
        sock, reader = connect(server)
        with sock:
            frames = put() + p.encode(p.FrameType.DATA, BODY)
            code = None
            for byte in frames:  # one byte every 0.1 s: never idle, but never done
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    break
                time.sleep(0.1)
                sock.setblocking(False)
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    data = b""
                finally:
                    sock.setblocking(True)
                if data:
                    frame = p.FrameReader(_Replay(data)).read()
                    code = frame.json()["code"]
                    break
            assert code == "total_timeout"
        assert list((server.spool.root / "incoming").iterdir()) == []
    finally:
        server.stop()


class _Replay:
    """A socket stand-in that returns bytes already received."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def settimeout(self, value: float) -> None:
        pass

    def recv(self, size: int) -> bytes:
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def test_busy_relay_is_told_in_french(tmp_path):
    from lotas_core.transmission.contract import ProtocolError

    server = RelayServer(RelayConfig(spool=tmp_path / "spool", port=0, idle_timeout=5,
                                     max_clients=1), None).start()
    try:
        sock, _reader = connect(server)  # holds the only slot
        host, port = server.address
        client = EpopTransport(EpopOptions(host=host, port=port, connect_timeout=2,
                                           read_timeout=5))
        with pytest.raises(ProtocolError) as refused:
            client.check()
        assert refused.value.user_message.startswith("Le serveur e-POP est occupé")
        assert "busy" not in refused.value.user_message
        sock.close()
    finally:
        server.stop()
