"""Delivered means delivered (issue 11): through the e-POP relay a draw is "remis au serveur
e-POP, en attente", then "transmis à QUALHAS" with QUALHAS's receipt once the relay forwarded it;
each change is a chained history event; ``lotas status`` and ``lotas history`` show it."""

from __future__ import annotations

import json
import socket
import time

from lotas_core.cli.main import main
from lotas_core.draws.service import open_history
from lotas_core.settings import load_settings

from .conftest import start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_draw(tmp_path, capsys) -> tuple[str, list[str]]:
    archives = tmp_path / "archives"
    assert main(["demo-archive", str(archives), "--raa-lines", "3000"]) == 0
    capsys.readouterr()
    assert main(["draw", "--archives", str(archives), "--finess", "000000001",
                 "--format", "json"]) == 0
    drawn = json.loads(capsys.readouterr().out)
    return drawn["draw_id"], [row["IPP"] for row in drawn["rows"]]


def status(capsys, draw_id: str) -> dict:
    assert main(["status", draw_id, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_relay_up_receiver_down_then_up(tmp_path, config_file, monkeypatch, servers, capsys):
    draw_id, ipps = make_draw(tmp_path, capsys)
    monkeypatch.setenv("LOTAS_EPMSI_USER", "dim01")
    monkeypatch.setenv("LOTAS_EPMSI_PASSWORD", "e2e-Pa55")
    receiver_port = free_port()  # nothing listens there yet: e-PMSI is down
    relay = start(servers, "epop-server", "--port", "0", "--spool", str(tmp_path / "spool"),
                  "--upstream", f"http://127.0.0.1:{receiver_port}",
                  "--forward-backoff", "0.2", "--forward-backoff-max", "0.5")
    config_file.write_text(
        '[transport]\nname = "transport_epop"\n'
        "[transport.options.transport_epop]\n"
        f'host = "127.0.0.1"\nport = {relay.port}\nconnect_timeout = 2.0\n', encoding="utf-8")

    assert main(["transmit", draw_id]) == 0
    out = capsys.readouterr().out
    assert "remis au serveur e-POP, en attente de transmission" in out
    assert "transmis à QUALHAS" not in out
    deadline = time.monotonic() + 30
    queued = status(capsys, draw_id)
    while not (queued["state"] == "queued" and queued["reason_fr"]) and (
            time.monotonic() < deadline):  # until the relay has tried, and failed, once
        time.sleep(0.1)
        queued = status(capsys, draw_id)
    assert queued["state"] == "queued" and queued["receipt"] is None
    assert "Aucune connexion n'a pu être établie" in queued["reason_fr"]
    assert queued["handoff"]["receipt"].startswith("EPOP-") and queued["sent_at"]
    assert main(["history"]) == 0
    assert "remis au serveur e-POP, en attente" in capsys.readouterr().out
    assert main(["test-connection"]) == 0  # "Tester" shows the relay's queue
    assert "1 envoi(s) en attente de transmission à QUALHAS, le plus ancien depuis le" in (
        capsys.readouterr().out)

    receiver = start(servers, "epmsi-server", "--port", str(receiver_port), "--user", "dim01",
                     "--store", str(tmp_path / "received"))
    deadline = time.monotonic() + 30
    delivered = status(capsys, draw_id)
    while delivered["state"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.2)
        delivered = status(capsys, draw_id)
    assert delivered["state"] == "delivered", delivered
    assert delivered["receipt"]["receipt"].startswith("QH-") and delivered["delivered_at"]
    assert delivered["handoff"]["receipt"] == queued["handoff"]["receipt"]
    assert delivered["label_fr"] == "transmis à QUALHAS"
    assert main(["history", "--format", "json"]) == 0
    entry = json.loads(capsys.readouterr().out)["draws"][0]
    assert entry["delivery"]["state"] == "delivered"
    assert entry["delivery"]["receipt"]["receipt"] == delivered["receipt"]["receipt"]
    assert main(["history"]) == 0
    assert "transmis à QUALHAS" in capsys.readouterr().out

    events = open_history(load_settings().settings).transmissions(draw_id)
    states = [event["state"] for event in events]
    assert states[0] == "queued" and states[-1] == "delivered"
    report = tmp_path / "pv.html"
    assert main(["export", draw_id, "--format", "html", "--output", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "remis au serveur e-POP" in html and "accusé de dépôt" in html
    assert "transmis à QUALHAS" in html and delivered["receipt"]["receipt"] in html
    assert main(["history", "--check"]) == 0  # every event chained and intact
    capsys.readouterr()
    assert main(["transmit", draw_id]) == 0  # delivered: never sent again
    assert "déjà transmis à QUALHAS" in capsys.readouterr().out
    assert len(list((tmp_path / "received" / "payloads").glob("*.json"))) == 1

    assert receiver.terminate() == 0
    assert relay.terminate() == 0
    log = relay.proc.stderr.read()
    attempts = [line for line in log.splitlines() if "forward " in line]
    assert any("upstream unavailable" in line for line in attempts), log
    assert any("delivered, receipt QH-" in line for line in attempts), log
    assert not any(ipp in log for ipp in ipps)
    assert "e2e-Pa55" not in log


def test_a_payload_refused_upstream_is_failed_with_its_reason(tmp_path, config_file,
                                                               monkeypatch, servers, capsys):
    draw_id, _ = make_draw(tmp_path, capsys)
    monkeypatch.setenv("LOTAS_EPMSI_USER", "dim01")
    monkeypatch.setenv("LOTAS_EPMSI_PASSWORD", "e2e-Pa55")
    receiver = start(servers, "epmsi-server", "--port", "0", "--user", "dim01",  # refuses: 413
                     "--store", str(tmp_path / "received"), "--max-size", "10")
    relay = start(servers, "epop-server", "--port", "0", "--spool", str(tmp_path / "spool"),
                  "--upstream", f"http://127.0.0.1:{receiver.port}")
    config_file.write_text(
        '[transport]\nname = "transport_epop"\n'
        f"[transport.options.transport_epop]\nport = {relay.port}\n", encoding="utf-8")
    assert main(["transmit", draw_id]) == 0
    capsys.readouterr()
    deadline = time.monotonic() + 30
    answer = status(capsys, draw_id)
    while answer["state"] not in ("failed", "delivered") and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = status(capsys, draw_id)
    assert answer["state"] == "failed"
    assert "refusé le fichier (HTTP 413" in answer["reason_fr"]
    assert answer["label_fr"].startswith("échec de la transmission : ")
    assert main(["status", draw_id]) == 0
    assert "échec de la transmission" in capsys.readouterr().out
    assert relay.terminate() == 0
