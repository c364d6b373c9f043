"""Only an intact draw leaves; no silent test address; a relay certificate is trusted by the user,
and a changed one is refused (issue 11)."""

from __future__ import annotations

import json
import sqlite3
import tomllib

import pytest

from lotas_core.cli.main import main
from lotas_core.draws.history_entry import canonical_json, entry_hash, field_digests
from lotas_core.settings import load_settings
from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer


def make_draw(tmp_path, capsys) -> str:
    archives = tmp_path / "archives"
    assert main(["demo-archive", str(archives), "--raa-lines", "3000"]) == 0
    capsys.readouterr()
    assert main(["draw", "--archives", str(archives), "--finess", "000000001",
                 "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)["draw_id"]


def rehash_with_age_99(draw_id: str) -> None:
    """Edit a stored draw as an attacker with the database would: new content, new digests,
    new hash, so that the entry alone looks intact."""
    path = load_settings().settings.history_path
    conn = sqlite3.connect(path)
    (entry_json,) = conn.execute("SELECT entry_json FROM draws WHERE draw_id = ?",
                                 (draw_id,)).fetchone()
    content = json.loads(entry_json)
    content["rows"][0]["AGE"] = 99
    content["digests"] = field_digests({k: v for k, v in content.items() if k != "digests"})
    conn.execute("DROP TRIGGER draws_no_update")
    conn.execute("UPDATE draws SET entry_json = ?, entry_hash = ? WHERE draw_id = ?",
                 (canonical_json(content).decode("utf-8"), entry_hash(content), draw_id))
    conn.commit()
    conn.close()


def test_transmit_refuses_a_draw_edited_and_rehashed(tmp_path, config_file, capsys,
                                                     receiver_factory):
    draw_id = make_draw(tmp_path, capsys)
    receiver = receiver_factory(auth=False)
    config_file.write_text("[transport.options.transport_direct]\n"
                           f'base_url = "{receiver.url}"\n', encoding="utf-8")
    rehash_with_age_99(draw_id)
    assert main(["history", "--check"]) == 1
    check_words = capsys.readouterr().out.strip().splitlines()[0].removeprefix("- ")
    assert main(["transmit", draw_id]) == 1
    err = capsys.readouterr().err
    assert check_words in err and "Rien n'a été transmis" in err
    assert receiver.events == [] and receiver.stored_payloads() == []


def test_transmit_refuses_a_draw_whose_chain_is_broken_after_it(tmp_path, config_file, capsys,
                                                                receiver_factory):
    first = make_draw(tmp_path, capsys)
    assert main(["draw", "--archives", str(tmp_path / "archives"), "--finess", "000000001",
                 "--format", "json"]) == 0
    second = json.loads(capsys.readouterr().out)["draw_id"]
    receiver = receiver_factory(auth=False)
    config_file.write_text("[transport.options.transport_direct]\n"
                           f'base_url = "{receiver.url}"\n', encoding="utf-8")
    rehash_with_age_99(first)  # only the next draw's link shows it
    assert main(["transmit", first]) == 1
    assert main(["transmit", second]) == 1  # its chain is broken too: refused
    capsys.readouterr()
    assert receiver.events == []


def test_a_fresh_install_has_no_epmsi_address(tmp_path, config_file, capsys):
    assert not config_file.exists()
    assert main(["test-connection"]) == 2
    err = capsys.readouterr().err
    assert "Aucune adresse du service e-PMSI" in err and len(err.strip().splitlines()) == 1
    draw_id = make_draw(tmp_path, capsys)
    assert main(["transmit", draw_id]) == 2
    assert "Aucune adresse du service e-PMSI" in capsys.readouterr().err
    assert load_settings().settings.transport_options("transport_direct") == {}


def test_the_demo_transmits_to_the_local_receiver_explicitly(tmp_path):
    from lotas_core.plugin_host.facade import Lotas
    from lotas_tui.launch import DEMO_RECEIVER_URL, prepare_demo

    loaded = load_settings().settings
    settings = prepare_demo(loaded, Lotas.from_settings(loaded))
    assert settings.transport.name == "transport_direct"
    assert settings.transport_options("transport_direct")["base_url"] == DEMO_RECEIVER_URL


# -- trusting the relay's certificate -------------------------------------------------------------


@pytest.fixture
def tls_relay(tmp_path, tls_files):
    started = []

    def start(name: str) -> RelayServer:
        cert, key = tls_files(name)
        relay = RelayServer(RelayConfig(spool=tmp_path / "spool", port=0, tls_cert=cert,
                                        tls_key=key), None).start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()


def _epop_config(config_file, port: int) -> None:
    config_file.write_text(
        '[transport]\nname = "transport_epop"\n'
        f"[transport.options.transport_epop]\nport = {port}\nencrypt = true\n"
        "connect_timeout = 2.0\n", encoding="utf-8")


def _fingerprint_in(config_file) -> str:
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    return data["transport"]["options"]["transport_epop"].get("tls_fingerprint", "")


def test_the_cli_shows_trusts_and_then_pins_the_relay_certificate(tmp_path, config_file, capsys,
                                                                   tls_relay):
    relay = tls_relay("relay-a")
    _epop_config(config_file, relay.address[1])
    assert main(["test-connection"]) == 2
    err = capsys.readouterr().err
    assert "pas encore approuvé" in err and "SHA-256" in err
    shown = err.split("empreinte SHA-256 est ")[1].split(".")[0]
    assert _fingerprint_in(config_file) == ""

    assert main(["test-connection", "--trust"]) == 0
    out = capsys.readouterr().out
    assert shown in out and "réussi" in out
    assert _fingerprint_in(config_file) == shown
    assert main(["test-connection"]) == 0  # pinned now
    assert "réussi" in capsys.readouterr().out

    relay.stop()
    other = tls_relay("relay-b")  # another certificate on the same address
    _epop_config(config_file, other.address[1])
    from lotas_core.settings import update_settings_file

    update_settings_file(config_file, ("transport", "options", "transport_epop",
                                       "tls_fingerprint"), shown)
    for args in (["test-connection"], ["test-connection", "--trust"]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "ATTENTION" in err and "a changé" in err and "rien n'a été envoyé" in err
    assert _fingerprint_in(config_file) == shown  # never replaced silently
    assert other.spool.counts()["queued"] == 0
    new = err.split("présentée ")[1].split(")")[0]
    assert new != shown and new.count(":") == 31
    assert main(["test-connection", "--replace-certificate", shown]) == 2  # not what it shows
    assert "ne correspond pas" in capsys.readouterr().err
    assert _fingerprint_in(config_file) == shown
    assert main(["test-connection", "--replace-certificate", new.lower()]) == 0  # confirmed
    assert "réussi" in capsys.readouterr().out
    assert _fingerprint_in(config_file) == new


def test_the_demo_receiver_starts_and_stops(tmp_path, monkeypatch):
    """``lotas --demo`` starts the local receiver on its port (a free one here), or says why."""
    import socket

    import lotas_tui.launch as launch

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(launch, "DEMO_RECEIVER_PORT", port)
    monkeypatch.setattr(launch, "DEMO_RECEIVER_URL", f"http://127.0.0.1:{port}")
    settings = load_settings().settings
    process, notice = launch.start_demo_receiver(settings)
    try:
        assert process is not None and process.poll() is None
        assert f"http://127.0.0.1:{port}" in notice and "démarré" in notice
        busy, why = launch.start_demo_receiver(settings)  # the port is taken now
        assert busy is None and "n'a pas pu démarrer" in why
    finally:
        if process is not None:
            launch.stop_demo_receiver(process)
    assert process.poll() is not None


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="prctl is Linux's")
def test_the_demo_receiver_ends_when_the_screen_is_killed(tmp_path):
    """A terminal closed under ``lotas --demo`` leaves no receiver listening on its port."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import socket, sys, lotas_tui.launch as launch\n"
        "from lotas_core.settings import load_settings\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()\n"
        "launch.DEMO_RECEIVER_PORT = port\n"
        "launch.DEMO_RECEIVER_URL = f'http://127.0.0.1:{port}'\n"
        "process, notice = launch.start_demo_receiver(load_settings().settings)\n"
        "print(process.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)  # no finally, no atexit: only the kernel's signal
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            if subprocess.run(["ps", "-o", "stat=", "-p", str(child)], capture_output=True,
                              text=True).stdout.strip().startswith("Z"):
                break  # ended, waiting to be reaped by init
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            pytest.fail("the demo receiver outlived the screen")
    finally:
        if parent.poll() is None:
            parent.kill()
