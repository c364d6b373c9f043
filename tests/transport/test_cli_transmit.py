"""The commands end to end, with the servers run as real ``lotas`` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from lotas_core.cli.main import main
from lotas_core.draws.service import open_history
from lotas_core.settings import load_settings
from lotas_plugins.transport_epop.client import EpopOptions, EpopTransport

from .conftest import LOTAS, start


def run_lotas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*LOTAS, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


def test_transmit_end_to_end(tmp_path, config_file, monkeypatch, servers, capsys):
    archives = tmp_path / "archives"
    assert main(["demo-archive", str(archives), "--raa-lines", "4000"]) == 0
    capsys.readouterr()
    assert main(["draw", "--archives", str(archives), "--finess", "000000001",
                 "--format", "json"]) == 0
    drawn = json.loads(capsys.readouterr().out)
    draw_id = drawn["draw_id"]
    ipps = [row["IPP"] for row in drawn["rows"]]

    store = tmp_path / "received"
    monkeypatch.setenv("LOTAS_EPMSI_USER", "dim01")
    monkeypatch.setenv("LOTAS_EPMSI_PASSWORD", "e2e-Pa55")
    receiver = start(servers, "epmsi-server", "--port", "0", "--user", "dim01",
                     "--store", str(store))
    assert receiver.host == "127.0.0.1"
    config_file.write_text(
        "[transport]\nname = \"transport_direct\"\n"
        "[transport.options.transport_direct]\n"
        f"base_url = \"http://127.0.0.1:{receiver.port}\"\nconnect_timeout = 2.0\n",
        encoding="utf-8",
    )
    tested = run_lotas("test-connection")
    assert tested.returncode == 0 and "réussi" in tested.stdout

    first = run_lotas("transmit", draw_id)
    assert first.returncode == 0, first.stderr
    assert "transmis" in first.stdout and "déjà" not in first.stdout
    second = run_lotas("transmit", draw_id, "--format", "json")
    assert second.returncode == 0, second.stderr
    answer = json.loads(second.stdout)
    assert answer["duplicate"] is True and answer["detail"]["from_history"] is True

    settings = load_settings().settings
    stored = open_history(settings).transmissions(draw_id)
    assert len(stored) == 1 and stored[0]["receipt"] == answer["receipt"]
    files = list((store / "payloads").glob("*.json"))
    assert len(files) == 1
    data = files[0].read_bytes()
    assert b"IPP" not in data
    assert not any(ipp.encode() in data for ipp in ipps)
    for text in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert "e2e-Pa55" not in text
    assert receiver.terminate() == 0


def test_two_processes_transmitting_one_draw_send_it_once(tmp_path, config_file, monkeypatch,
                                                         servers, capsys):
    archives = tmp_path / "archives"
    assert main(["demo-archive", str(archives), "--raa-lines", "4000"]) == 0
    capsys.readouterr()
    assert main(["draw", "--archives", str(archives), "--finess", "000000001",
                 "--format", "json"]) == 0
    draw_id = json.loads(capsys.readouterr().out)["draw_id"]
    store = tmp_path / "received"
    monkeypatch.setenv("LOTAS_EPMSI_USER", "dim01")
    monkeypatch.setenv("LOTAS_EPMSI_PASSWORD", "e2e-Pa55")
    # Each upload takes a second: the second process starts while the first one is sending.
    receiver = start(servers, "epmsi-server", "--port", "0", "--user", "dim01",
                     "--store", str(store), "--delay", "1")
    config_file.write_text(
        "[transport.options.transport_direct]\n"
        f"base_url = \"http://127.0.0.1:{receiver.port}\"\n", encoding="utf-8")
    processes = [
        subprocess.Popen([*LOTAS, "transmit", draw_id, "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ))
        for _ in range(2)
    ]
    answers = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        answers.append(json.loads(out))
    assert sorted(answer["duplicate"] for answer in answers) == [False, True]
    assert answers[0]["receipt"] == answers[1]["receipt"]
    assert len(open_history(load_settings().settings).transmissions(draw_id)) == 1
    assert len(list((store / "payloads").glob("*.json"))) == 1
    assert receiver.terminate() == 0


def test_transmit_errors_are_one_french_line(tmp_path, config_file, closed_port):
    config_file.write_text(
        "[transport.options.transport_direct]\n"
        f"base_url = \"http://127.0.0.1:{closed_port}\"\n", encoding="utf-8")
    unknown = run_lotas("transmit", "no-such-draw")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("lotas: erreur : ") and "Traceback" not in unknown.stderr
    refused = run_lotas("test-connection")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "lotas: erreur : Aucune connexion n'a pu être établie car l'ordinateur cible l'a "
        "expressément refusée")


def test_relay_killed_after_ack_delivers_once(tmp_path, monkeypatch, servers, receiver_factory,
                                              make_payload, wait_until):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        receiver_port = sock.getsockname()[1]
    spool = tmp_path / "spool"
    monkeypatch.setenv("LOTAS_EPMSI_USER", "dim01")
    monkeypatch.setenv("LOTAS_EPMSI_PASSWORD", "epmsi-Pa55-word")
    monkeypatch.setenv("LOTAS_TRANSPORT__OPTIONS", json.dumps({"transport_direct": {
        "connect_timeout": 1, "max_retries": 0, "backoff_base": 0.01}}))
    relay_args = ["epop-server", "--port", "0", "--spool", str(spool), "--allow", "127.0.0.1",
                  "--upstream", f"http://127.0.0.1:{receiver_port}",
                  "--forward-backoff", "0.05", "--forward-backoff-max", "0.2"]
    relay = start(servers, *relay_args)
    payload, draw = make_payload()
    epop = EpopTransport(EpopOptions(host="127.0.0.1", port=relay.port, read_timeout=10))
    receipt = epop.send(payload)
    assert receipt.detail["state"] == "queued"
    relay.proc.send_signal(signal.SIGKILL)
    relay.proc.wait(timeout=15)
    assert len(list((spool / "queue").iterdir())) == 1  # ACKed means on disk

    receiver = receiver_factory(port=receiver_port)
    restarted = start(servers, *relay_args)
    epop = EpopTransport(EpopOptions(host="127.0.0.1", port=restarted.port, read_timeout=10))
    assert wait_until(lambda: epop.status(payload.idempotency_key)["state"] == "delivered")
    assert [p.read_bytes() for p in receiver.stored_payloads()] == [payload.path.read_bytes()]
    assert epop.send(payload).duplicate is True
    assert len(receiver.stored_payloads()) == 1
    assert restarted.terminate() == 0


def test_server_help_documents_the_options():
    for command, words in {
        "epmsi-server": ["--host", "--port", "--store", "--user", "--password-env", "--delay",
                         "--error-rate", "--throttle", "--retry-after", "--drop-rate",
                         "--force-status", "--tls-cert"],
        "epop-server": ["--host", "--port", "--allow", "--spool", "--tls-cert", "--tls-key",
                        "--upstream", "--idle-timeout", "--max-frame"],
        "transmit": ["DRAW_ID", "--transport"],
        "test-connection": ["--transport"],
    }.items():
        result = run_lotas(command, "--help")
        assert result.returncode == 0
        for word in words:
            assert word in result.stdout, (command, word)


def test_epop_server_bad_allow_is_a_usage_error(tmp_path):
    result = run_lotas("epop-server", "--port", "0", "--no-forward", "--spool",
                       str(tmp_path / "s"), "--allow", "300.1.2.3")
    assert result.returncode == 2
    assert "lotas: erreur : --allow" in result.stderr and "Traceback" not in result.stderr


def test_epmsi_server_fault_options_reach_the_client(servers, config_file):
    receiver = start(servers, "epmsi-server", "--port", "0", "--force-status", "407",
                     "--store", str(config_file.parent / "r"))
    config_file.write_text(
        "[transport.options.transport_direct]\n"
        f"base_url = \"http://127.0.0.1:{receiver.port}\"\n", encoding="utf-8")
    result = run_lotas("test-connection")
    assert result.returncode == 2
    assert "proxy demande une authentification (HTTP 407)" in result.stderr
    assert receiver.terminate() == 0


def test_epmsi_server_user_without_password_is_a_usage_error(monkeypatch):
    monkeypatch.delenv("LOTAS_EPMSI_PASSWORD", raising=False)
    result = run_lotas("epmsi-server", "--port", "0", "--user", "dim01")
    assert result.returncode == 2 and "LOTAS_EPMSI_PASSWORD" in result.stderr


@pytest.mark.parametrize("argv", [
    ["epop-server", "--max-frame", "-1"],
    ["epop-server", "--max-clients", "0"],
    ["epop-server", "--idle-timeout", "0"],
    ["epmsi-server", "--error-rate", "7"],
    ["epmsi-server", "--drop-rate", "-0.5"],
    ["epmsi-server", "--max-size", "abc"],
])
def test_server_numbers_out_of_range_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--port", "0"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert argv[1] in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command, option", [("epmsi-server", "--store"),
                                             ("epop-server", "--spool")])
def test_server_storage_under_a_file_is_named(capsys, tmp_path, command, option):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    argv = [command, "--port", "0", option, str(blocker / "sub")]
    assert main(argv + (["--no-forward"] if command == "epop-server" else [])) == 2
    err = capsys.readouterr().err
    assert f"Dossier {blocker / 'sub'} inutilisable" in err and option in err
    assert "écouter" not in err and err.count("\n") == 1


def test_epop_server_bad_upstream_names_the_option(capsys, tmp_path):
    assert main(["epop-server", "--port", "0", "--spool", str(tmp_path / "s"),
                 "--upstream", "ftp://relay.example"]) == 2
    err = capsys.readouterr().err
    assert "--upstream ftp://relay.example invalide" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["epmsi-server", "epop-server"])
def test_server_unreadable_certificate_is_named(capsys, tmp_path, command):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    argv = [command, "--port", "0", "--tls-cert", str(bad), "--tls-key", str(bad)]
    if command == "epop-server":
        argv += ["--no-forward", "--spool", str(tmp_path / "spool")]
    else:
        argv += ["--store", str(tmp_path / "store")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"Certificat TLS {bad} ou sa clé illisible" in err and "écouter" not in err
    assert err.count("\n") == 1
