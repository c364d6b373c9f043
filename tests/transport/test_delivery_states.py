"""Delivery states read back from the history events: hand-off, forwarding, delivery, failure,
and what may be sent again (issue 11)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from lotas_core.draws.history import History
from lotas_core.selection.campaign import SampleSizes
from lotas_core.transmission.contract import Receipt
from lotas_core.transmission.delivery import stored_receipt, summarize

HANDOFF = Receipt(transport="transport_epop", receipt="EPOP-1", sha256="ab" * 32, final=False,
                  handoff_fr="remis au serveur e-POP, en attente de transmission à QUALHAS")
QUALHAS = Receipt(transport="transport_direct", receipt="QH-1", sha256="ab" * 32)


@pytest.fixture
def history(tmp_path) -> History:
    return History(tmp_path / "history.sqlite3")


@pytest.fixture
def draw_id(history) -> str:
    record = history.add_draw(
        finess="000000001", financing="DGF", campaign_id="psy_sma_2021", archive_name="a.zip",
        archive_sha256="00" * 32, sizes=SampleSizes(1, 0), funnel={"eligible": 1},
        parse_report={}, algorithm="lotas-draw/1", seed="11" * 32, population_digest="22" * 32,
        rows=[{"NUMTAS": 1, "TYPECH": "P", "IPP": "X1", "AGE": 40}],
    )
    return record.draw_id


def states(history, draw_id) -> list[str]:
    return [event["state"] for event in history.transmissions(draw_id)]


def test_not_sent(history, draw_id):
    delivery = summarize(draw_id, history.transmissions(draw_id))
    assert (delivery.state, delivery.label_fr, delivery.pending) == (
        "not_sent", "pas encore transmis", False)
    assert stored_receipt(delivery) is None


def test_handoff_then_forwarding_then_delivered(history, draw_id):
    history.add_transmission(draw_id, HANDOFF, transport="transport_epop")
    queued = summarize(draw_id, history.transmissions(draw_id))
    assert queued.state == "queued" and queued.pending
    assert queued.label_fr == "remis au serveur e-POP, en attente de transmission à QUALHAS"
    assert queued.handoff["receipt"] == "EPOP-1" and queued.receipt is None
    again = stored_receipt(queued)
    assert again is not None and again.receipt == "EPOP-1" and again.final is False

    history.add_transmission(draw_id, None, state="forwarding", transport="transport_epop")
    history.add_transmission(draw_id, QUALHAS, state="delivered", transport="transport_epop")
    delivered = summarize(draw_id, history.transmissions(draw_id))
    assert states(history, draw_id) == ["queued", "forwarding", "delivered"]
    assert delivered.state == "delivered" and delivered.label_fr == "transmis à QUALHAS"
    assert delivered.receipt["receipt"] == "QH-1" and delivered.handoff["receipt"] == "EPOP-1"
    assert delivered.transport == "transport_epop" and delivered.delivered_at
    assert stored_receipt(delivered).receipt == "QH-1"
    assert history.check() == []


def test_a_failed_draw_may_be_sent_again(history, draw_id):
    history.add_transmission(draw_id, HANDOFF, transport="transport_epop")
    history.add_transmission(draw_id, None, state="failed", transport="transport_epop",
                             reason="Le service e-PMSI a refusé le fichier (HTTP 413).")
    failed = summarize(draw_id, history.transmissions(draw_id))
    assert failed.state == "failed" and not failed.pending
    assert failed.label_fr == ("échec de la transmission : Le service e-PMSI a refusé le fichier"
                               " (HTTP 413).")
    assert stored_receipt(failed) is None  # transmit sends it again
    history.add_transmission(draw_id, HANDOFF, transport="transport_epop")
    assert summarize(draw_id, history.transmissions(draw_id)).state == "queued"


def test_every_state_event_is_chained(history, draw_id, tmp_path):
    history.add_transmission(draw_id, HANDOFF, transport="transport_epop")
    history.add_transmission(draw_id, QUALHAS, state="delivered", transport="transport_epop")
    conn = sqlite3.connect(tmp_path / "history.sqlite3")
    conn.execute("DROP TRIGGER transmissions_no_update")
    (entry,) = conn.execute("SELECT entry_json FROM transmissions ORDER BY seq DESC").fetchone()
    edited = json.loads(entry)
    edited["state"] = "queued"
    conn.execute("UPDATE transmissions SET entry_json = ? WHERE seq = 2", (json.dumps(edited),))
    conn.commit()
    conn.close()
    assert any("reçu modifié" in problem for problem in history.check())
    assert history.check_draw(draw_id)


def test_entries_recorded_before_delivery_states_still_read(history, draw_id, tmp_path):
    """An e-POP receipt stored by an older lotas (no state, detail.state = queued)."""
    from lotas_core.draws.history_entry import canonical_json, entry_hash

    conn = sqlite3.connect(tmp_path / "history.sqlite3")
    (draw_hash,) = conn.execute("SELECT entry_hash FROM draws").fetchone()
    old = {"format": 1, "draw_id": draw_id, "recorded_at": "2026-01-02T03:04:05+00:00",
           "receipt": {"transport": "transport_epop", "receipt": "EPOP-OLD", "sha256": "ab",
                       "duplicate": False, "received_at": "", "detail": {"state": "queued"}},
           "prev_hash": draw_hash}
    conn.execute("INSERT INTO transmissions (draw_id, entry_json, prev_hash, entry_hash)"
                 " VALUES (?, ?, ?, ?)", (draw_id, canonical_json(old).decode(), draw_hash,
                                          entry_hash(old)))
    conn.commit()
    conn.close()
    delivery = summarize(draw_id, history.transmissions(draw_id))
    assert delivery.state == "queued" and delivery.handoff["receipt"] == "EPOP-OLD"
    assert stored_receipt(delivery).final is False
    assert history.check() == []
