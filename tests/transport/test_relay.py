"""The e-POP relay in-process: allow-list, TLS, spool and forwarder, status, concurrency."""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lotas_core.errors import ConfigError
from lotas_core.transmission.contract import (
    MSG_REFUSED,
    MSG_TIMEOUT,
    ClientNotAllowed,
    ConnectionRefused,
    TLSFailure,
    TransportError,
    TransportTimeout,
    UntrustedCertificate,
)
from lotas_plugins.transport_direct.client import DirectTransport
from lotas_plugins.transport_direct.options import DirectOptions
from lotas_plugins.transport_epop.client import EpopOptions, EpopTransport
from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer

FAST_DIRECT = {"connect_timeout": 1, "read_timeout": 5, "backoff_base": 0.01,
               "backoff_max": 0.05, "max_retries": 1, "max_total_time": 10}


@pytest.fixture
def relay_factory(tmp_path: Path, creds):
    started: list[RelayServer] = []

    def start(upstream_url: str | None, *, spool: Path | None = None, **config) -> RelayServer:
        def upstream() -> DirectTransport:
            return DirectTransport(DirectOptions(base_url=upstream_url, **FAST_DIRECT), creds())

        settings = {"forward_backoff": 0.05, "forward_backoff_max": 0.2, "port": 0, **config}
        relay = RelayServer(
            RelayConfig(spool=spool or tmp_path / f"spool{len(started)}", **settings),
            upstream if upstream_url else None,
        )
        started.append(relay.start())
        return relay

    yield start
    for relay in started:
        relay.stop()


def client(relay: RelayServer, **options) -> EpopTransport:
    settings = {"host": "127.0.0.1", "port": relay.address[1], "connect_timeout": 2,
                "read_timeout": 5, "backoff_base": 0.01, **options}
    return EpopTransport(EpopOptions(**settings))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_relay_delivers_once_and_reports_status(receiver_factory, relay_factory, make_payload,
                                                wait_until):
    receiver = receiver_factory()
    relay = relay_factory(receiver.url)
    payload, draw = make_payload()
    epop = client(relay)
    assert "réussi" in epop.check()
    receipt = epop.send(payload)
    assert receipt.transport == "transport_epop" and receipt.duplicate is False
    assert wait_until(lambda: epop.status(payload.idempotency_key)["state"] == "delivered")
    status = epop.status(payload.idempotency_key)
    assert status["receipt"]["receipt"].startswith("QH-")
    stored = [path.read_bytes() for path in receiver.stored_payloads()]
    assert stored == [payload.path.read_bytes()]
    for row in draw.rows:
        assert row["IPP"].encode() not in stored[0]
    again = epop.send(payload)
    assert again.duplicate is True
    assert len(receiver.stored_payloads()) == 1
    assert epop.status("no-such-key")["state"] == "unknown"


def test_receiver_down_then_up_spool_drains_once(receiver_factory, relay_factory, make_payload,
                                                 wait_until):
    port = free_port()
    relay = relay_factory(f"http://127.0.0.1:{port}")
    epop = client(relay)
    payloads = [make_payload(f"D{i}")[0] for i in range(5)]
    for payload in payloads:
        assert epop.send(payload).detail["state"] == "queued"
    assert wait_until(lambda: relay.forwarder.attempts >= 5)
    states = {epop.status(pl.idempotency_key)["state"] for pl in payloads}
    assert states <= {"queued", "forwarding"}
    receiver = receiver_factory(port=port)
    assert wait_until(lambda: relay.spool.counts()["delivered"] == 5)
    stored = sorted(path.read_bytes() for path in receiver.stored_payloads())
    assert stored == sorted(pl.path.read_bytes() for pl in payloads)
    uploads = [e for e in receiver.events if e["path"] == "/qualhas/upload"]
    assert len(uploads) == 5


def test_relay_restart_resumes_queued_payloads(
        tmp_path, receiver_factory, relay_factory, make_payload, wait_until):
    port = free_port()
    spool = tmp_path / "shared-spool"
    first = relay_factory(None, spool=spool)  # no forwarder: ACKed payloads stay queued
    payload, _ = make_payload()
    client(first).send(payload)
    (spool / "incoming" / "leftover.1234").mkdir()  # a partial reception from a crash
    first.stop()
    receiver = receiver_factory(port=port)
    second = relay_factory(f"http://127.0.0.1:{port}", spool=spool)
    assert not (spool / "incoming" / "leftover.1234").exists()
    assert wait_until(lambda: second.spool.counts()["delivered"] == 1)
    assert len(receiver.stored_payloads()) == 1


def test_upstream_rejection_moves_to_failed(receiver_factory, relay_factory, tmp_path, wait_until):
    from lotas_core.transmission.contract import Payload

    receiver = receiver_factory()
    relay = relay_factory(receiver.url)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"rows": [{"IPP": "123"}]}')
    payload = Payload(bad, hashlib.sha256(bad.read_bytes()).hexdigest(), bad.stat().st_size,
                      "k-bad", {})
    epop = client(relay)
    epop.send(payload)
    assert wait_until(lambda: epop.status("k-bad")["state"] == "failed")
    assert receiver.stored_payloads() == []


def test_fifty_clients_ten_payloads_each_lose_nothing(
        receiver_factory, relay_factory, make_payload, wait_until):
    receiver = receiver_factory()
    relay = relay_factory(receiver.url, max_per_client=64)  # 50 "workstations", one address
    payloads = [[make_payload(f"C{c}-{i}", n=2)[0] for i in range(10)] for c in range(50)]

    def run(batch):
        epop = client(relay, read_timeout=30, max_retries=3)
        return [epop.send(payload) for payload in batch]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(run, payloads))
    assert sum(len(r) for r in results) == 500
    assert all(not receipt.duplicate for batch in results for receipt in batch)
    assert wait_until(lambda: relay.spool.counts()["delivered"] == 500, timeout=120)
    stored = receiver.stored_payloads()
    assert len(stored) == 500
    expected = {hashlib.sha256(pl.path.read_bytes()).hexdigest() for b in payloads for pl in b}
    assert {hashlib.sha256(path.read_bytes()).hexdigest() for path in stored} == expected


# -- the manual's three errors --------------------------------------------------------------------


def test_not_allowed_client_gets_the_manuals_sentence(relay_factory, make_payload):
    relay = relay_factory(None, host="127.0.0.1", allow=["127.0.0.2"])
    refused = client(relay, source_address="127.0.0.3")
    with pytest.raises(ClientNotAllowed) as info:
        refused.check()
    address, port = relay.refused[-1]
    assert address == "127.0.0.3"
    assert info.value.message_fr == (
        f"Le client 127.0.0.3:{port} n'est pas autorisé à se connecter au serveur e-POP")
    with pytest.raises(ClientNotAllowed):
        refused.send(make_payload()[0])
    assert relay.spool.counts()["queued"] == 0
    allowed = client(relay, source_address="127.0.0.2")
    assert "réussi" in allowed.check()
    assert allowed.send(make_payload()[0]).detail["state"] == "queued"


def test_allow_list_accepts_cidr(relay_factory):
    relay = relay_factory(None, allow=["10.0.0.0/8", "127.0.0.0/30"])
    assert "réussi" in client(relay, source_address="127.0.0.2").check()
    with pytest.raises(ClientNotAllowed):
        client(relay, source_address="127.0.0.9").check()


def test_unavailable_source_address_names_the_option(relay_factory):

    relay = relay_factory(None)
    with pytest.raises(ConfigError) as info:  # 192.0.2.1 (TEST-NET-1) is on no interface
        client(relay, source_address="192.0.2.1").check()
    assert "source_address" in info.value.message_fr and "192.0.2.1" in info.value.message_fr
    assert relay.refused == []  # nothing reached the relay


def test_refused_has_the_manuals_sentence(closed_port):
    epop = EpopTransport(EpopOptions(host="127.0.0.1", port=closed_port, connect_timeout=2))
    with pytest.raises(ConnectionRefused) as info:
        epop.check()
    assert info.value.message_fr == MSG_REFUSED


def test_timeout_has_the_manuals_sentence(unresponsive_port):
    epop = EpopTransport(EpopOptions(host="127.0.0.1", port=unresponsive_port,
                                     connect_timeout=0.5))
    with pytest.raises(TransportTimeout) as info:
        epop.check()
    assert info.value.message_fr == MSG_TIMEOUT


# -- TLS ("Crypter la transmission") --------------------------------------------------------------


def _fingerprint(cert_path: Path) -> str:
    text = cert_path.read_text()
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    pem = text[start:end]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_tls_with_ca_file_and_with_pinned_fingerprint(
        receiver_factory, relay_factory, make_payload, tls_files, ca_file, wait_until):
    receiver = receiver_factory()
    cert, key = tls_files("127.0.0.1")
    relay = relay_factory(receiver.url, tls_cert=cert, tls_key=key)
    by_ca = client(relay, encrypt=True, tls_ca_file=ca_file)
    assert "réussi" in by_ca.check()
    by_ca.send(make_payload("T1")[0])
    pin = ":".join(re.findall("..", _fingerprint(cert).upper()))
    by_pin = client(relay, encrypt=True, tls_fingerprint=pin)
    by_pin.send(make_payload("T2")[0])
    assert wait_until(lambda: len(receiver.stored_payloads()) == 2)


def test_tls_failures(relay_factory, make_payload, tls_files, ca_file):
    cert, key = tls_files("wrong.example")
    relay = relay_factory(None, tls_cert=cert, tls_key=key)
    with pytest.raises(TLSFailure):
        client(relay, encrypt=True, tls_ca_file=ca_file).check()
    with pytest.raises(TLSFailure):
        client(relay, encrypt=True, tls_fingerprint="ab" * 32).send(make_payload()[0])
    with pytest.raises(TransportError, match="exige une transmission cryptée"):
        client(relay).check()
    with pytest.raises(UntrustedCertificate) as untrusted:  # nothing trusted yet: asks
        client(relay, encrypt=True).send(make_payload()[0])
    assert untrusted.value.fingerprint.count(":") == 31
    assert relay.spool.counts()["queued"] == 0
    plain = relay_factory(None)
    with pytest.raises(TLSFailure):
        client(plain, encrypt=True, tls_ca_file=ca_file).send(make_payload()[0])
    assert plain.spool.counts()["queued"] == 0


def test_epop_options_model():
    assert EpopOptions().port == 3358
    for name, info in EpopOptions.model_fields.items():
        assert info.description, name
    for bad in (0, 65536):
        with pytest.raises(ValueError):
            EpopOptions(port=bad)


def test_transports_are_registered_through_the_plugin_hook():
    from lotas_core.plugin_host.facade import Lotas

    transports = Lotas.from_settings().transports()
    assert transports["transport_direct"] is DirectTransport
    assert transports["transport_epop"] is EpopTransport
