"""build_payload / transmit / test_connection with the real history and the demo archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lotas_core.draws.service import make_draw, open_history
from lotas_core.errors import ConfigError, UsageError
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.settings import load_settings
from lotas_core.transmission.sending import (
    build_payload,
    idempotency_key,
    make_transport,
    test_connection,
    transmit,
)
from lotas_plugins.psy_sma_2021.demo import write_demo_archive


class Spy:
    def __init__(self) -> None:
        self.calls: list[tuple[object, object]] = []

    @hookimpl
    def lotas_draw_transmitted(self, draw, receipt):
        self.calls.append((draw, receipt))


@pytest.fixture(scope="module")
def archive_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("archives")
    write_demo_archive(folder, raa_lines=4000, seed=3)
    return folder


@pytest.fixture
def spy() -> Spy:
    return Spy()


@pytest.fixture
def lotas(spy) -> Lotas:
    return Lotas(get_plugin_manager(extra_plugins=[("spy", spy)]))


#: Spec section 8: the row columns that leave the hospital (never the IPP).
TRANSMITTED_COLUMNS = (
    "NUMTAS", "TYPECH", "SEXE", "AGE", "MODENT", "MODSORT", "DEST", "PROV", "LISTEDA", "DATACTE",
)


def layout_of(lotas):
    return lotas.campaign("psy_sma_2021").row_layout()


def settings_for(url: str):
    return load_settings(transport={"name": "transport_direct", "options": {
        "transport_direct": {"base_url": url, "connect_timeout": 2, "read_timeout": 5,
                             "backoff_base": 0.01, "backoff_max": 0.05}}}).settings


@pytest.fixture
def drawn(lotas, archive_folder):
    settings = settings_for("http://127.0.0.1:9")
    record, selection = make_draw(lotas, settings, folder=archive_folder, finess="000000001")
    return record, selection


def test_payload_holds_exactly_the_allowed_fields_and_no_ipp(drawn, lotas):
    record, selection = drawn
    payload = build_payload(record, settings_for("http://127.0.0.1:9"), layout_of(lotas))
    raw = payload.path.read_bytes()
    document = json.loads(raw)
    assert payload.path.parent.name == "outbox"
    assert payload.path.stat().st_mode & 0o777 == 0o600
    assert set(document) == {"format", "finess", "financing", "campaign", "draw_id", "algorithm",
                             "seed", "population_digest", "sizes", "rows"}
    assert document["sizes"] == {"main": record.sizes.main, "reserve": record.sizes.reserve}
    assert len(document["rows"]) == len(record.rows) > 0
    for row in document["rows"]:
        assert set(row) == set(TRANSMITTED_COLUMNS)
    for ipp in selection.patients["IPP"]:
        assert str(ipp).encode() not in raw  # no IPP anywhere, quoted or not
    assert b'"IPP"' not in raw


def test_payload_bytes_and_key_are_stable(drawn, lotas):
    record, _ = drawn
    settings = settings_for("http://127.0.0.1:9")
    layout = layout_of(lotas)
    first, second = build_payload(record, settings, layout), build_payload(record, settings, layout)
    assert first.sha256 == second.sha256
    assert first.idempotency_key == second.idempotency_key == idempotency_key(record)
    assert len(first.idempotency_key) == 64


def test_transmit_stores_receipt_calls_hook_and_never_sends_twice(
        lotas, spy, drawn, receiver_factory, monkeypatch, creds):
    record, selection = drawn
    receiver = receiver_factory()
    settings = settings_for(receiver.url)
    receipt = transmit(lotas, settings, record.draw_id, credentials=creds())
    assert receipt.duplicate is False
    history = open_history(settings)
    stored = history.transmissions(record.draw_id)
    assert [item["receipt"] for item in stored] == [receipt.receipt]
    assert [(d.draw_id, r.receipt) for d, r in spy.calls] == [(record.draw_id, receipt.receipt)]
    again = transmit(lotas, settings, record.draw_id, credentials=creds())
    assert again.duplicate is True and again.receipt == receipt.receipt
    assert len(history.transmissions(record.draw_id)) == 1
    assert len(spy.calls) == 1
    uploads = [e for e in receiver.events if e["path"] == "/qualhas/upload"]
    assert len(uploads) == 1
    [path] = receiver.stored_payloads()
    data = path.read_bytes()
    for ipp in selection.patients["IPP"]:
        assert str(ipp).encode() not in data
    assert b"IPP" not in data
    assert history.check() == []


def test_transmit_failure_stores_nothing(lotas, spy, drawn, closed_port, creds):
    record, _ = drawn
    settings = settings_for(f"http://127.0.0.1:{closed_port}")
    settings.transport.options["transport_direct"]["max_retries"] = 0
    from lotas_core.transmission.contract import ConnectionRefused

    with pytest.raises(ConnectionRefused):
        transmit(lotas, settings, record.draw_id, credentials=creds())
    assert open_history(settings).transmissions(record.draw_id) == []
    assert spy.calls == []


def test_an_edited_draw_is_never_transmitted(lotas, spy, drawn, receiver_factory, creds):
    import sqlite3

    from lotas_core.errors import CheckFailed

    record, _ = drawn
    receiver = receiver_factory()
    settings = settings_for(receiver.url)
    conn = sqlite3.connect(settings.history_path)
    conn.execute("DROP TRIGGER draws_no_update")
    # (AGE may be null: an edit of LISTEDA keeps the JSON valid whatever the rows hold)
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, '\"LISTEDA\":\"',"
                 " '\"LISTEDA\":\"X') WHERE draw_id = ?", (record.draw_id,))
    conn.commit()
    conn.close()
    with pytest.raises(CheckFailed, match="entrée modifiée après enregistrement"):
        transmit(lotas, settings, record.draw_id, credentials=creds())
    assert receiver.events == [] and receiver.stored_payloads() == []
    assert open_history(settings).transmissions(record.draw_id) == [] and spy.calls == []


def test_transmit_unknown_draw(lotas):
    with pytest.raises(UsageError):
        transmit(lotas, settings_for("http://127.0.0.1:9"), "no-such-draw")


def test_make_transport_validates_options(lotas):
    settings = load_settings(transport={"name": "transport_direct", "options": {
        "transport_direct": {"proxy_mode": "manual", "proxy_host": "p", "proxy_port": 70000}}}
    ).settings
    with pytest.raises(ConfigError, match="proxy_port"):
        make_transport(lotas, settings)
    with pytest.raises(UsageError, match="inconnu"):
        make_transport(lotas, settings, "carrier_pigeon")


def test_test_connection_both_transports(lotas, receiver_factory, creds):
    receiver = receiver_factory()
    assert "réussi" in test_connection(lotas, settings_for(receiver.url), credentials=creds())
    assert [e["path"] for e in receiver.events] == ["/qualhas/ping"]
