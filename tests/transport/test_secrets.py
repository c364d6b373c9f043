"""Secrets stay secret: no credentials in a URL or host setting, none written anywhere, and plain
http never crosses a proxy (issue 11, "secrets stay secret")."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from lotas_core.cli.main import main
from lotas_core.draws.service import open_history
from lotas_core.settings import load_settings
from lotas_core.transmission.contract import Receipt
from lotas_core.transmission.redaction import redact_credentials
from lotas_plugins.transport_direct.client import DirectTransport
from lotas_plugins.transport_direct.options import DirectOptions
from lotas_plugins.transport_epop.client import EpopOptions

PASSWORD = "PW-s3cret-9"


@pytest.mark.parametrize("options", [
    {"base_url": f"http://dim01:{PASSWORD}@127.0.0.1:8765"},
    {"base_url": f"https://dim01:{PASSWORD}@qualhas.example.org"},
    {"base_url": "https://dim01@qualhas.example.org"},
    {"proxy_mode": "manual", "proxy_host": f"u:{PASSWORD}@proxy.chu.local", "proxy_port": 3128},
    {"proxy_mode": "manual", "proxy_host": f"http://u:{PASSWORD}@proxy.chu.local:3128",
     "proxy_port": 3128},
])
def test_direct_options_refuse_credentials_in_addresses(options):
    with pytest.raises(ValidationError) as info:
        DirectOptions(**options)
    message = str(info.value)
    assert "identifiant ou un mot de passe" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("field", ["host", "source_address"])
def test_epop_options_refuse_credentials_in_addresses(field):
    with pytest.raises(ValidationError, match="identifiant ou un mot de passe"):
        EpopOptions(**{field: f"dim01:{PASSWORD}@192.0.2.10"})


def _config_with_password_in_url(config_file, port: int = 9) -> None:
    config_file.write_text(
        "[transport.options.transport_direct]\n"
        f'base_url = "http://dim01:{PASSWORD}@127.0.0.1:{port}"\n'
        f'proxy_host = "u:{PASSWORD}@proxy.chu.local"\n', encoding="utf-8")


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_lotas_config_never_prints_a_password_from_a_url(config_file, capsys, fmt):
    _config_with_password_in_url(config_file)
    assert main(["config", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert PASSWORD not in out
    assert "127.0.0.1" in out  # the rest of the address is still shown


def test_transmit_refuses_a_url_with_credentials(config_file, capsys, receiver_factory,
                                                 tmp_path):
    receiver = receiver_factory(auth=False)
    _config_with_password_in_url(config_file, receiver.address[1])
    archives = tmp_path / "archives"
    assert main(["demo-archive", str(archives), "--raa-lines", "3000"]) == 0
    capsys.readouterr()
    assert main(["draw", "--archives", str(archives), "--finess", "000000001",
                 "--format", "json"]) == 0
    draw_id = json.loads(capsys.readouterr().out)["draw_id"]
    assert main(["transmit", draw_id, "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert "identifiant ou un mot de passe" in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert PASSWORD not in captured.out + captured.err
    assert receiver.events == []


def test_history_and_exports_never_hold_a_url_with_credentials(tmp_path, capsys):
    """Second line of defence: a receipt from any transport is cut before it is stored."""
    archives = tmp_path / "archives"
    assert main(["demo-archive", str(archives), "--raa-lines", "3000"]) == 0
    capsys.readouterr()
    assert main(["draw", "--archives", str(archives), "--finess", "000000001",
                 "--format", "json"]) == 0
    draw_id = json.loads(capsys.readouterr().out)["draw_id"]
    settings = load_settings().settings
    history = open_history(settings)
    leaky = Receipt(transport="third_party", receipt="R-1", sha256="ab" * 32,
                    detail={"url": f"https://dim01:{PASSWORD}@qualhas.example.org/x",
                            "proxy": f"u:{PASSWORD}@proxy.chu.local"})
    history.add_transmission(draw_id, leaky)
    assert PASSWORD.encode() not in settings.history_path.read_bytes()
    assert history.check() == []
    out = tmp_path / "export.json"
    assert main(["export", draw_id, "--format", "json", "--output", str(out)]) == 0
    assert PASSWORD not in out.read_text(encoding="utf-8")
    assert main(["history", "--format", "json"]) == 0
    assert PASSWORD not in capsys.readouterr().out


def test_redaction_keeps_what_is_not_a_secret():
    assert redact_credentials("https://qualhas.example.org:443/a@b") == (
        "https://qualhas.example.org:443/a@b")
    assert redact_credentials({"u": [f"http://a:{PASSWORD}@h"]}) == {"u": ["http://***@h"]}
    assert redact_credentials("dim01@chu.fr") == "dim01@chu.fr"


# -- plain http never goes through a proxy -------------------------------------------------------


class RecordingProxy:
    """A "proxy" on 127.0.0.2 that records whatever reaches it and answers 502."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.2", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def proxy_127_0_0_2() -> Iterator[RecordingProxy]:
    proxy = RecordingProxy()
    yield proxy
    proxy.stop()


FAST = {"connect_timeout": 2, "read_timeout": 5, "backoff_base": 0.01, "backoff_max": 0.05,
        "max_retries": 0}


def test_plain_http_never_goes_through_a_manual_proxy(receiver_factory, creds, make_payload,
                                                      proxy_127_0_0_2):
    receiver = receiver_factory()
    options = DirectOptions(base_url=receiver.url, proxy_mode="manual", proxy_host="127.0.0.2",
                            proxy_port=proxy_127_0_0_2.port, proxy_auth=True,
                            proxy_user="proxyuser", proxy_password="Pr0xy-pw", **FAST)
    transport = DirectTransport(options, creds())
    assert "réussi" in transport.check()
    receipt = transport.send(make_payload()[0])
    assert receipt.receipt.startswith("QH-")
    assert proxy_127_0_0_2.received == []  # neither the request nor its Authorization header
    assert [event["method"] for event in receiver.events] == ["GET", "POST"]


def test_plain_http_never_goes_through_the_system_proxy(receiver_factory, creds, make_payload,
                                                        proxy_127_0_0_2, monkeypatch):
    receiver = receiver_factory()
    proxy_url = f"http://127.0.0.2:{proxy_127_0_0_2.port}"
    monkeypatch.setenv("http_proxy", proxy_url)
    monkeypatch.setenv("https_proxy", proxy_url)
    transport = DirectTransport(DirectOptions(base_url=receiver.url, proxy_mode="system",
                                              **FAST), creds())
    transport.send(make_payload()[0])
    assert proxy_127_0_0_2.received == []
    assert len(receiver.stored_payloads()) == 1


def test_no_credentials_ever_sent_in_clear_beyond_loopback(creds):
    """An http:// address that slipped past the model (built without validation) is refused
    before any request carries the e-PMSI login."""
    options = DirectOptions.model_construct(**{**DirectOptions().model_dump(),
                                               "base_url": "http://192.0.2.10:8765"})
    from lotas_core.errors import ConfigError

    with pytest.raises(ConfigError, match="https://"):
        DirectTransport(options, creds()).check()


def test_relay_upstream_with_credentials_is_refused_without_repeating_them(tmp_path, capsys):
    assert main(["epop-server", "--port", "0", "--spool", str(tmp_path / "spool"),
                 "--upstream", f"https://dim01:{PASSWORD}@qualhas.example.org"]) == 2
    err = capsys.readouterr().err
    assert "--upstream https://***@qualhas.example.org invalide" in err
    assert "sans identifiant ni mot de passe" in err and PASSWORD not in err
