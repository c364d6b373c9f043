"""The direct transport against the local receiver, a test proxy and test certificates."""

from __future__ import annotations

import json
import logging
import traceback

import pytest

from lotas_core.transmission.contract import (
    MSG_REFUSED,
    MSG_TIMEOUT,
    AuthenticationFailed,
    ConnectionRefused,
    ProxyAuthenticationRequired,
    Rejected,
    RetryableError,
    TLSFailure,
    TransportTimeout,
)
from lotas_plugins.transport_direct.client import DirectTransport
from lotas_plugins.transport_direct.options import DirectOptions, import_system_proxy

FAST = {"connect_timeout": 2, "read_timeout": 5, "backoff_base": 0.01, "backoff_max": 0.05,
        "max_total_time": 30}


def direct(url: str, creds, **options) -> DirectTransport:
    return DirectTransport(DirectOptions(base_url=url, **{**FAST, **options}), creds())


def stored(server) -> list[bytes]:
    return [path.read_bytes() for path in server.stored_payloads()]


def test_delivered_once_without_faults(receiver_factory, creds, make_payload):
    server = receiver_factory()
    payload, draw = make_payload()
    receipt = direct(server.url, creds).send(payload)
    assert receipt.duplicate is False and receipt.sha256 == payload.sha256
    again = direct(server.url, creds).send(payload)
    assert again.duplicate is True and again.receipt == receipt.receipt
    assert stored(server) == [payload.path.read_bytes()]


def test_delivered_once_with_30_percent_503(receiver_factory, creds, make_payload):
    server = receiver_factory(error_rate=0.3, seed=7)
    transport = direct(server.url, creds, max_retries=15)
    payloads = [make_payload(f"D{i}")[0] for i in range(12)]
    receipts = [transport.send(payload) for payload in payloads]
    statuses = [event["status"] for event in server.events]
    assert 503 in statuses, "the fault injection did not fire: the test proves nothing"
    assert len({r.receipt for r in receipts}) == 12
    files = stored(server)
    assert len(files) == 12
    assert sorted(files) == sorted(p.path.read_bytes() for p in payloads)


def test_dropped_answer_is_retried_and_stored_once(receiver_factory, creds, make_payload):
    server = receiver_factory(drop_rate=1.0)
    payload, _ = make_payload()
    with pytest.raises(RetryableError):
        direct(server.url, creds, max_retries=2).send(payload)
    # Every attempt reached the receiver, which kept one copy.
    assert [e["status"] for e in server.events] == [-1, -1, -1]
    assert len(stored(server)) == 1


def test_retry_after_is_honoured(receiver_factory, creds, make_payload):
    server = receiver_factory(throttle=1, retry_after=1)
    payload, _ = make_payload()
    receipt = direct(server.url, creds).send(payload)
    assert receipt.detail["attempts"] == 2
    first, second = server.events
    assert first["status"] == 429 and second["status"] == 200
    assert second["t"] - first["t"] >= 1.0


def test_503_forever_gives_retryable_error_after_bounded_attempts(
        receiver_factory, creds, make_payload):
    server = receiver_factory(error_rate=1.0)
    payload, _ = make_payload()
    with pytest.raises(RetryableError) as info:
        direct(server.url, creds, max_retries=3).send(payload)
    assert "HTTP 503" in info.value.message_fr
    assert len(server.events) == 4
    assert stored(server) == []


def test_wrong_login_is_authentication_failed(receiver_factory, creds, make_payload):
    server = receiver_factory()
    payload, _ = make_payload()
    with pytest.raises(AuthenticationFailed) as info:
        direct(server.url, lambda: creds(epmsi_password="wrong-one")).send(payload)
    assert "wrong-one" not in str(info.value) + info.value.message_fr
    assert len(server.events) == 1  # not retried


def test_other_4xx_is_rejected_not_retried(receiver_factory, creds, make_payload):
    server = receiver_factory()
    payload, _ = make_payload()
    broken = type(payload)(payload.path, "0" * 64, payload.size, payload.idempotency_key, {})
    with pytest.raises(Rejected):
        direct(server.url, creds).send(broken)
    assert [e["status"] for e in server.events] == [422]


def test_check_pings_without_sending(receiver_factory, creds):
    server = receiver_factory()
    message = direct(server.url, creds).check()
    assert "réussi" in message
    assert [e["path"] for e in server.events] == ["/qualhas/ping"]
    assert stored(server) == []


def test_refused_has_the_manuals_sentence(closed_port, creds):
    with pytest.raises(ConnectionRefused) as info:
        direct(f"http://127.0.0.1:{closed_port}", creds).check()
    assert info.value.message_fr == MSG_REFUSED


def test_timeout_has_the_manuals_sentence(unresponsive_port, creds):
    transport = direct(f"http://127.0.0.1:{unresponsive_port}", creds, connect_timeout=0.5)
    with pytest.raises(TransportTimeout) as info:
        transport.check()
    assert info.value.message_fr == MSG_TIMEOUT


# -- TLS ------------------------------------------------------------------------------------------


def test_correct_ca_bundle_succeeds(receiver_factory, creds, make_payload, tls_files, ca_file):
    server = receiver_factory(tls=tls_files("localhost", "127.0.0.1"))
    url = f"https://localhost:{server.address[1]}"
    payload, _ = make_payload()
    receipt = direct(url, creds, ca_bundle=ca_file).send(payload)
    assert receipt.duplicate is False and len(stored(server)) == 1


def test_wrong_host_certificate_fails(receiver_factory, creds, make_payload, tls_files, ca_file):
    server = receiver_factory(tls=tls_files("wrong.example"))
    url = f"https://localhost:{server.address[1]}"
    with pytest.raises(TLSFailure) as info:
        direct(url, creds, ca_bundle=ca_file).check()
    assert "TLS" in info.value.message_fr
    with pytest.raises(TLSFailure):
        direct(url, creds, ca_bundle=ca_file).send(make_payload()[0])
    assert stored(server) == []


def test_unknown_ca_fails(receiver_factory, creds, tls_files):
    server = receiver_factory(tls=tls_files("localhost"))
    with pytest.raises(TLSFailure):
        direct(f"https://localhost:{server.address[1]}", creds).check()


def test_no_switch_turns_verification_off():
    fields = DirectOptions.model_fields
    assert not any("verify" in name or "insecure" in name for name in fields)


# -- proxy ----------------------------------------------------------------------------------------


def _proxy_options(proxy, password: str) -> dict:
    return {"proxy_mode": "manual", "proxy_host": "127.0.0.1",
            "proxy_port": proxy.server_address[1], "proxy_auth": True,
            "proxy_user": "proxyuser", "proxy_password": password}


# Plain http:// never goes through a proxy (tests/transport/test_secrets.py): https only here.
@pytest.mark.parametrize("tls", [True], ids=["https-connect"])
def test_proxy_with_good_password_delivers(
        tls, receiver_factory, creds, make_payload, auth_proxy, tls_files, ca_file):
    server = receiver_factory(tls=tls_files("localhost") if tls else None)
    url = f"{server.scheme}://localhost:{server.address[1]}"
    extra = {"ca_bundle": ca_file} if tls else {}
    transport = direct(url, creds, **_proxy_options(auth_proxy, "Pr0xy-S3cret-pw"), **extra)
    receipt = transport.send(make_payload()[0])
    assert receipt.receipt and len(stored(server)) == 1
    assert auth_proxy.seen and auth_proxy.seen[0][0] == ("CONNECT" if tls else "POST")


@pytest.mark.parametrize("tls", [True], ids=["https-connect"])
def test_proxy_407_is_proxy_error_and_password_never_shows(
        tls, receiver_factory, creds, make_payload, auth_proxy, tls_files, ca_file,
        caplog, capsys):
    caplog.set_level(logging.DEBUG)
    password = "Wr0ng-Pr0xy-Pa55"
    server = receiver_factory(tls=tls_files("localhost") if tls else None)
    url = f"{server.scheme}://localhost:{server.address[1]}"
    extra = {"ca_bundle": ca_file} if tls else {}
    transport = direct(url, creds, **_proxy_options(auth_proxy, password), **extra)
    with pytest.raises(ProxyAuthenticationRequired) as info:
        transport.send(make_payload()[0])
    error = info.value
    assert "407" in error.message_fr
    assert auth_proxy.seen, "the request did not go through the proxy"
    captured = capsys.readouterr()
    texts = [
        error.message_fr, error.message_en, str(error), repr(error),
        "".join(traceback.format_exception(error)), caplog.text, captured.out, captured.err,
        repr(transport), repr(transport.options), str(transport.options.model_dump()),
        json.dumps(transport.options.model_dump(mode="json")),
    ]
    for text in texts:
        assert password not in text
        assert RECEIVER_PASSWORD_MARK not in text
    assert stored(server) == []


RECEIVER_PASSWORD_MARK = "epmsi-Pa55-word"


def test_proxy_env_is_ignored(receiver_factory, creds, monkeypatch):
    server = receiver_factory()
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # a proxy that does not exist
    monkeypatch.setenv("no_proxy", "")
    assert "réussi" in direct(server.url, creds).check()


def test_import_system_proxy(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://alice@proxy.chu.local:3128")
    options = import_system_proxy(DirectOptions())
    assert options is not None
    assert (options.proxy_mode, options.proxy_host, options.proxy_port) == (
        "manual", "proxy.chu.local", 3128)
    assert options.proxy_auth and options.proxy_user == "alice"


def test_import_system_proxy_none(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("urllib.request.getproxies", lambda: {})
    assert import_system_proxy() is None
    assert DirectTransport.action("import-proxy").run() == {}


def test_the_import_proxy_button_is_declared_through_the_transport_contract(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.chu.local")
    action = DirectTransport.action("import-proxy")
    assert action.label_fr == "Importer les paramètres de proxy"
    assert action.run() == {"proxy_mode": "manual", "proxy_host": "proxy.chu.local",
                            "proxy_port": 8080}
    assert DirectOptions.model_validate(action.run()).proxy_host == "proxy.chu.local"
    assert DirectTransport.action("no-such-button") is None


@pytest.mark.parametrize("bad", [
    {"proxy_mode": "manual", "proxy_host": "p", "proxy_port": 0},
    {"proxy_mode": "manual", "proxy_host": "p", "proxy_port": 65536},
    {"proxy_mode": "manual", "proxy_host": "", "proxy_port": 3128},
    {"proxy_mode": "manual", "proxy_host": "proxy chu.local", "proxy_port": 3128},
    {"proxy_mode": "manual", "proxy_host": "proxy.chu.local:3128", "proxy_port": 3128},
    {"proxy_mode": "manual", "proxy_host": "pr@xy", "proxy_port": 3128},
    {"base_url": "http://qualhas.example.org"},
    {"base_url": "ftp://x"},
])
def test_options_validation(bad):
    with pytest.raises(ValueError):
        DirectOptions(**bad)


@pytest.mark.parametrize(("given", "kept"), [
    ("proxy.chu.local", "proxy.chu.local"),
    (" 10.1.2.3 ", "10.1.2.3"),
    ("http://proxy.chu.local:3128/", "proxy.chu.local"),
    ("[::1]", "[::1]"),
    ("::1", "[::1]"),
])
def test_proxy_host_is_normalised(given, kept):
    options = DirectOptions(proxy_mode="manual", proxy_host=given, proxy_port=3128)
    assert options.proxy_host == kept


def test_options_have_french_descriptions():
    for name, info in DirectOptions.model_fields.items():
        assert info.description, name
    assert "proxy_password" not in DirectOptions(proxy_password="x").model_dump()


def test_system_proxy_mode_uses_the_computers_proxy(receiver_factory, creds, auth_proxy,
                                                    monkeypatch, tls_files, ca_file):
    server = receiver_factory(tls=tls_files("localhost"))
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{auth_proxy.server_address[1]}")
    monkeypatch.setenv("no_proxy", "")
    transport = direct(f"https://localhost:{server.address[1]}", creds, proxy_mode="system",
                       ca_bundle=ca_file)
    with pytest.raises(ProxyAuthenticationRequired):
        transport.check()
    assert auth_proxy.seen and auth_proxy.seen[0][0] == "CONNECT"
    assert server.events == []


def test_retry_after_beyond_the_time_budget_fails_at_once(receiver_factory, creds, make_payload):
    server = receiver_factory(throttle=5, retry_after=60)
    with pytest.raises(RetryableError) as info:
        direct(server.url, creds, max_total_time=5).send(make_payload()[0])
    assert "429" in info.value.message_fr
    assert [e["status"] for e in server.events] == [429]
