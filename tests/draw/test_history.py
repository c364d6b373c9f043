"""The history store: append-only, hash-chained, concurrent, crash-safe, private."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lotas_core.draws.history import GENESIS_HASH, History, canonical_json, entry_hash
from lotas_core.errors import UsageError
from lotas_core.transmission.contract import Receipt

HERE = Path(__file__).parent



def _raw(history: History) -> sqlite3.Connection:
    conn = sqlite3.connect(history.path)
    for name in ("draws_no_update", "draws_no_delete", "transmissions_no_update",
                 "transmissions_no_delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    return conn


def test_add_get_list_and_label(cf, history: History):
    first = cf.add_sample_draw(history)
    second = cf.add_sample_draw(history)
    other = cf.add_sample_draw(history, finess="2A0000001")
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert other.prev_hash == GENESIS_HASH  # its own chain
    assert [r.draw_id for r in history.list()] == [other.draw_id, second.draw_id, first.draw_id]
    assert [r.draw_id for r in history.list(finess=cf.TOY_FINESS)] == [second.draw_id,
                                                                     first.draw_id]
    again = history.get(first.draw_id)
    assert again == first
    assert again.rows[0]["DATACTE"] == "2019-12-01" and again.rows[0]["NUMTAS"] == 1
    assert again.sizes.main == 3 and again.sizes.reserve == 2
    assert history.check() == []


def test_entry_hash_is_sha256_of_canonical_json(cf, history: History):
    record = cf.add_sample_draw(history)
    stored = sqlite3.connect(history.path).execute(
        "SELECT entry_json, entry_hash FROM draws"
    ).fetchone()
    content = json.loads(stored[0])
    assert stored[0].encode("utf-8") == canonical_json(content)
    assert " " not in stored[0].replace("F200 Z590", "")  # no whitespace
    import hashlib

    assert stored[1] == hashlib.sha256(stored[0].encode("utf-8")).hexdigest() == record.entry_hash
    assert entry_hash(record.content()) == record.entry_hash
    for name in ("draw_id", "created_at", "finess", "financing", "campaign_id", "archive_name",
                 "archive_sha256", "sizes", "funnel", "parse_report", "algorithm", "seed",
                 "population_digest", "rows", "prev_hash"):
        assert name in content


def test_label_is_local_time():
    from lotas_core.draws.history import DrawRecord
    from lotas_core.selection.campaign import SampleSizes

    when = datetime(2021, 4, 22, 9, 16, 56).astimezone()
    record = DrawRecord(
        draw_id="x", created_at=when.astimezone(UTC), finess="000000001", financing="DGF",
        campaign_id="c", archive_name="a", archive_sha256="", sizes=SampleSizes(0, 0),
        funnel={}, parse_report={}, algorithm="lotas-draw/1", seed="", population_digest="",
        rows=[],
    )
    assert record.label() == "000000001- 22/04/2021 09:16:56"


def test_unknown_draw_is_a_usage_error(history: History):
    with pytest.raises(UsageError, match="Tirage inconnu"):
        history.get("nope")
    with pytest.raises(UsageError):
        history.add_transmission("nope", Receipt("t", "r", "s"))


def test_database_is_owner_only(cf, history: History):
    cf.add_sample_draw(history)
    assert stat.S_IMODE(os.stat(history.path).st_mode) == 0o600
    leftovers = [p.name for p in history.path.parent.iterdir() if p.name != history.path.name]
    assert leftovers == []  # no -journal/-wal left behind


def test_triggers_refuse_update_and_delete(cf, history: History):
    cf.add_sample_draw(history)
    conn = sqlite3.connect(history.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE draws SET finess = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM draws")


def test_transmissions_are_appended_and_chained(cf, history: History):
    record = cf.add_sample_draw(history)
    history.add_transmission(record.draw_id, Receipt("transport_direct", "R-1", "cafe"))
    history.add_transmission(record.draw_id, Receipt("transport_direct", "R-1", "cafe",
                                                     duplicate=True))
    sent = history.transmissions(record.draw_id)
    assert [t["receipt"] for t in sent] == ["R-1", "R-1"]
    assert sent[1]["duplicate"] is True and sent[0]["recorded_at"]
    again = history.get(record.draw_id)
    assert again.entry_hash == record.entry_hash  # the draw entry is never rewritten
    assert len(again.transmissions) == 2
    assert history.check() == []
    conn = _raw(history)
    conn.execute("UPDATE transmissions SET entry_json = replace(entry_json, 'R-1', 'R-2') "
                 "WHERE seq = 1")
    conn.commit()
    problems = history.check()
    assert any("Transmission du tirage" in p and record.draw_id in p for p in problems)


def test_check_names_an_edited_row(cf, history: History):
    records = [cf.add_sample_draw(history) for _ in range(3)]
    conn = _raw(history)
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, 'SECRETIPP002', "
                 "'SECRETIPP999') WHERE draw_id = ?", (records[1].draw_id,))
    conn.commit()
    problems = history.check()
    assert len(problems) == 1
    assert records[1].draw_id in problems[0]
    assert "NUMTAS 2" in problems[0] and "modifiée" in problems[0]
    assert "SECRETIPP" not in " ".join(problems)


def test_check_names_an_edited_field(cf, history: History):
    record = cf.add_sample_draw(history)
    conn = _raw(history)
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, '\"seed\":\"00', "
                 "'\"seed\":\"01') WHERE draw_id = ?", (record.draw_id,))
    conn.commit()
    (problem,) = history.check()
    assert record.draw_id in problem and "seed" in problem


def test_check_finds_a_rehashed_edit_by_the_chain(cf, history: History):
    """An attacker who also recomputes the entry's own hash breaks the next link."""
    records = [cf.add_sample_draw(history) for _ in range(3)]
    conn = _raw(history)
    content = json.loads(conn.execute("SELECT entry_json FROM draws WHERE seq = 2").fetchone()[0])
    content["rows"][0]["AGE"] = 99
    conn.execute("UPDATE draws SET entry_json = ?, entry_hash = ? WHERE seq = 2",
                 (canonical_json(content).decode(), entry_hash(content)))
    conn.commit()
    problems = history.check()
    assert any(records[2].draw_id in p and "lien" in p for p in problems)


def test_check_finds_a_deleted_middle_entry(cf, history: History):
    records = [cf.add_sample_draw(history) for _ in range(3)]
    conn = _raw(history)
    conn.execute("DELETE FROM draws WHERE draw_id = ?", (records[1].draw_id,))
    conn.commit()
    problems = history.check()
    assert any(records[2].draw_id in p and "position 3" in p for p in problems)
    assert any("supprimée" in p for p in problems)


def test_check_finds_a_deleted_last_entry(cf, history: History):
    records = [cf.add_sample_draw(history) for _ in range(3)]
    conn = _raw(history)
    conn.execute("DELETE FROM draws WHERE draw_id = ?", (records[2].draw_id,))
    conn.commit()
    problems = history.check()
    assert any("3 tirage(s) enregistré(s), 2 présent(s)" in p for p in problems)


def test_check_finds_reordering(cf, history: History):
    records = [cf.add_sample_draw(history) for _ in range(3)]
    conn = _raw(history)
    conn.execute("UPDATE draws SET seq = -1 WHERE seq = 1")
    conn.execute("UPDATE draws SET seq = 1 WHERE seq = 2")
    conn.execute("UPDATE draws SET seq = 2 WHERE seq = -1")
    conn.commit()
    problems = history.check()
    assert any(records[1].draw_id in p and "position 1" in p for p in problems)
    assert any(records[0].draw_id in p and "position 2" in p for p in problems)


def test_unreadable_database_is_a_usage_error(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UsageError, match="Historique des tirages endommagé.*Restaurez une"):
        History(path).list()


def test_exception_mid_transaction_leaves_no_half_entry(cf, history: History, monkeypatch):
    cf.add_sample_draw(history)

    def boom(*args, **kwargs):
        raise RuntimeError("injected after the INSERT, before COMMIT")

    monkeypatch.setattr(History, "_advance_head", boom)
    with pytest.raises(RuntimeError):
        cf.add_sample_draw(history)
    monkeypatch.undo()
    assert len(history.list()) == 1
    assert history.check() == []
    assert cf.add_sample_draw(history).chain_pos == 2
    assert history.check() == []


#: Start of the writer scripts run in other processes: argv[1] = database, argv[2] = conftest.
_LOAD_CONFTEST = """
    import importlib.util, os, signal, sys, time
    spec = importlib.util.spec_from_file_location("cf", sys.argv[2])
    cf = importlib.util.module_from_spec(spec); spec.loader.exec_module(cf)
    from lotas_core.draws.history import History
"""

_KILLED_WRITER = textwrap.dedent(_LOAD_CONFTEST + """
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    History._advance_head = die
    cf.add_sample_draw(History(sys.argv[1]))
""")


def test_killed_writer_leaves_no_half_entry(cf, history: History):
    cf.add_sample_draw(history)
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITER, str(history.path), str(HERE / "conftest.py")],
        capture_output=True, timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert len(history.list()) == 1
    assert history.check() == []
    assert cf.add_sample_draw(history).chain_pos == 2
    assert history.check() == []


_WRITER = textwrap.dedent(_LOAD_CONFTEST + """
    history = History(sys.argv[1])
    start = float(sys.argv[3])
    while time.time() < start:
        time.sleep(0.005)
    for _ in range(int(sys.argv[4])):
        cf.add_sample_draw(history)
""")


def test_two_processes_drawing_at_once_both_land(history: History):
    import time

    start = str(time.time() + 1.5)
    per_process = 15
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(history.path),
                          str(HERE / "conftest.py"), start, str(per_process)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()
    records = history.list()
    assert len(records) == 2 * per_process
    assert sorted(r.chain_pos for r in records) == list(range(1, 2 * per_process + 1))
    assert len({r.draw_id for r in records}) == 2 * per_process
    assert history.check() == []


def test_journal_is_owner_only_during_a_transaction(cf, history: History):
    cf.add_sample_draw(history)
    conn = sqlite3.connect(history.path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO chains VALUES ('x', 'y', 0, 'z')")
    journal = history.path.with_name(history.path.name + "-journal")
    assert journal.exists()
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    conn.execute("ROLLBACK")
    conn.close()


def test_funnel_order_survives_the_canonical_json(cf, history: History):
    record = cf.add_sample_draw(history)
    assert list(history.get(record.draw_id).funnel) == ["base", "excluded", "eligible"]


def test_uncreatable_database_is_a_usage_error(cf, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    history = History(blocker / "history.sqlite3")
    with pytest.raises(UsageError, match="Impossible de lire l'historique des tirages") as info:
        history.list()
    assert "Restaurez" not in str(info.value)
    with pytest.raises(UsageError, match="Impossible de modifier l'historique des tirages") as info:
        cf.add_sample_draw(history)
    assert "Restaurez" not in str(info.value)


def test_draw_id_is_readable_and_unique(cf, history: History):
    import re

    ids = {cf.add_sample_draw(history).draw_id for _ in range(20)}
    assert len(ids) == 20
    for draw_id in ids:
        assert re.fullmatch(rf"{cf.TOY_FINESS}-\d{{8}}-\d{{6}}-[0-9a-f]{{6}}", draw_id)
    record = history.get(sorted(ids)[0])
    assert record.draw_id[10:25] == record.created_at.astimezone().strftime("%Y%m%d-%H%M%S")


def test_a_colliding_draw_id_gets_a_new_one(cf, history: History, monkeypatch):
    import lotas_core.draws.history as module

    first = cf.add_sample_draw(history)
    ids = iter([first.draw_id, first.draw_id, "000000001-fresh"])
    monkeypatch.setattr(module, "make_draw_id", lambda finess, when: next(ids))
    second = cf.add_sample_draw(history)
    assert second.draw_id == "000000001-fresh" and second.chain_pos == 2
    assert history.check() == []


def test_known_fields_cover_the_entry(cf, history: History):
    from lotas_core.draws.history_check import KNOWN_FIELDS

    record = cf.add_sample_draw(history, provenance={"format": 1})
    assert set(record.content()) - {"digests"} == KNOWN_FIELDS
    # an entry written before provenance was recorded has every field but that one
    old = cf.add_sample_draw(history)
    assert set(old.content()) - {"digests"} == KNOWN_FIELDS - {"provenance"}


def test_an_added_field_is_reported_without_repeating_its_name(cf, history: History):
    record = cf.add_sample_draw(history)
    conn = _raw(history)
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, '{\"algorithm\"', "
                 "'{\"SECRETIPP001\":1,\"algorithm\"')")
    conn.commit()
    (problem,) = history.check()
    assert record.draw_id in problem and "champ inconnu" in problem
    assert "SECRETIPP" not in problem
