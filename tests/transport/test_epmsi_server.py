"""The local receiver itself: auth, checksum, IPP refusal, idempotency across restarts, faults."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import requests

from lotas_plugins.transport_direct.receiver import contains_forbidden_key, parse_multipart

AUTH = "Basic " + base64.b64encode(b"dim01:epmsi-Pa55-word").decode()


def upload(url: str, body: bytes, key: str = "k1", sha: str | None = None,
           auth: str | None = AUTH) -> requests.Response:
    headers = {"Idempotency-Key": key, "X-Content-SHA256": sha or hashlib.sha256(body).hexdigest()}
    if auth:
        headers["Authorization"] = auth
    files = {"meta": (None, "{}", "application/json"), "file": ("p.json", body, "application/json")}
    return requests.post(url + "/qualhas/upload", headers=headers, files=files, timeout=10)


def test_ping_requires_auth(receiver_factory):
    server = receiver_factory()
    assert requests.get(server.url + "/qualhas/ping", timeout=5).status_code == 401
    ok = requests.get(server.url + "/qualhas/ping", headers={"Authorization": AUTH}, timeout=5)
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    assert requests.get(server.url + "/other", timeout=5).status_code == 404


def test_upload_stores_once_and_survives_restart(receiver_factory, tmp_path):
    store = tmp_path / "store"
    server = receiver_factory(store=store)
    body = b'{"rows": [{"NUMTAS": 1}]}'
    first = upload(server.url, body).json()
    assert first["duplicate"] is False
    server.stop()
    again = receiver_factory(store=store)
    second = upload(again.url, body).json()
    assert second["duplicate"] is True and second["receipt"] == first["receipt"]
    assert [p.read_bytes() for p in again.stored_payloads()] == [body]
    assert not list(store.rglob("*.tmp"))
    conflict = upload(again.url, b'{"rows": []}')
    assert conflict.status_code == 409


@pytest.mark.parametrize("body", [
    b'{"IPP": "123"}', b'{"rows": [{"NUMTAS": 1, "ipp": "x"}]}', b'[{"a": {"Ipp": 1}}]',
])
def test_any_ipp_key_is_refused(receiver_factory, body):
    server = receiver_factory()
    answer = upload(server.url, body)
    assert answer.status_code == 422 and answer.json()["error"] == "ipp"
    assert server.stored_payloads() == []


def test_checksum_auth_and_headers(receiver_factory):
    server = receiver_factory()
    body = b'{"rows": []}'
    assert upload(server.url, body, sha="0" * 64).status_code == 422
    assert upload(server.url, body, auth=None).status_code == 401
    assert upload(server.url, b"not json").status_code == 400
    no_key = requests.post(server.url + "/qualhas/upload", headers={"Authorization": AUTH},
                           files={"file": ("p", body)}, timeout=5)
    assert no_key.status_code == 400
    assert server.stored_payloads() == []


@pytest.mark.parametrize("status", [401, 407])
def test_forced_status(receiver_factory, status):
    server = receiver_factory(force_status=status)
    assert upload(server.url, b"{}").status_code == status


def test_error_rate_is_deterministic(receiver_factory):
    runs = []
    for _ in range(2):
        server = receiver_factory(error_rate=0.5, seed=42)
        runs.append([upload(server.url, b"{}", key=f"k{i}").status_code for i in range(10)])
    assert runs[0] == runs[1] and 503 in runs[0] and 200 in runs[0]


def test_helpers():
    assert contains_forbidden_key({"a": [{"b": {"IPP": 1}}]})
    assert not contains_forbidden_key({"rows": [{"NUMTAS": "IPP"}]})
    parts = parse_multipart(b'--XX\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
                            b'{"x":1}\r\n--XX--\r\n', "multipart/form-data; boundary=XX")
    assert json.loads(parts["file"]) == {"x": 1}
    with pytest.raises(ValueError):
        parse_multipart(b"", "application/json")


def test_bad_content_length_is_refused(receiver_factory):
    import socket

    server = receiver_factory()
    for value in (b"-1", b"abc"):
        with socket.create_connection(server.address, timeout=5) as sock:
            sock.sendall(b"POST /qualhas/upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + value
                         + b"\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert server.stored_payloads() == []
