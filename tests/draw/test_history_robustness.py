"""The history under a full disk, read-only, with a damaged entry, with an edited seed (issue 12).

Restoring a backup is advised only when the file really is damaged; a full disk or a read-only
file leave the history whole and say what to do instead.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from lotas_core.cli.context import CommandContext
from lotas_core.cli.main import main
from lotas_core.draws import history as history_module
from lotas_core.draws.history import History
from lotas_core.errors import UsageError

SEED = "0f" * 32


@pytest.fixture
def toy_cli(cf, monkeypatch):
    toy = cf.toy_lotas()
    monkeypatch.setattr(CommandContext, "lotas", property(lambda self: toy))
    monkeypatch.setenv("LOTAS_CAMPAIGN", cf.TOY_CAMPAIGN)


def fill_the_disk(monkeypatch) -> None:
    """Every connection of the history module can no longer grow its file: SQLite itself then
    answers SQLITE_FULL ("database or disk is full"), as on a full disk."""
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return conn

    monkeypatch.setattr(history_module.sqlite3, "connect", connect)


def test_disk_full_while_storing_a_draw_says_so_and_keeps_the_history(cf, history, monkeypatch):
    first = cf.add_sample_draw(history)
    with monkeypatch.context() as patch:
        fill_the_disk(patch)
        with pytest.raises(UsageError) as info:
            cf.add_sample_draw(history, rows=cf.sample_rows(80, 30))
    message = info.value.user_message
    assert message.startswith("Disque plein : rien n'a été enregistré")
    assert "Restaurez" not in message and "rollback" not in message
    assert [r.draw_id for r in history.list()] == [first.draw_id]
    assert history.check() == []
    assert cf.add_sample_draw(history).chain_pos == 2  # room again: the chain goes on


def test_disk_full_in_lotas_draw_is_one_line_exit_2(cf, toy_cli, capsys, archives, monkeypatch,
                                                    data_dir):
    assert main(["draw", "--archives", str(archives), "--finess", cf.TOY_FINESS]) == 0
    capsys.readouterr()
    fill_the_disk(monkeypatch)
    assert main(["draw", "--archives", str(archives), "--finess", cf.TOY_FINESS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lotas: erreur : Disque plein")
    assert str(data_dir / "history.sqlite3") in err and "Restaurez" not in err
    monkeypatch.undo()
    assert History(data_dir / "history.sqlite3").check() == []


def test_a_real_corruption_advises_the_backup(cf, history):
    cf.add_sample_draw(history)
    data = bytearray(history.path.read_bytes())
    data[100:4096] = os.urandom(4096 - 100)  # the schema page
    history.path.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="endommagé.*Restaurez une sauvegarde"):
        history.list()


def _insert_undecodable(path: Path, draw_id: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO draws (draw_id, finess, campaign_id, created_at, entry_json, prev_hash,"
        " entry_hash) VALUES (?, '000000001', 'toy_campaign', '2021-04-22T07:16:56+00:00',"
        " '{\"draw_id\": broken', ?, ?)", (draw_id, "0" * 64, "f" * 64),
    )
    conn.commit()
    conn.close()


def test_history_shows_a_damaged_entry_without_hiding_the_others(cf, toy_cli, capsys, data_dir):
    history = History(data_dir / "history.sqlite3")
    kept = [cf.add_sample_draw(history).draw_id for _ in range(2)]
    _insert_undecodable(history.path, "000000001-20210422-091656-badbad")
    edited = cf.add_sample_draw(history).draw_id
    conn = sqlite3.connect(history.path)
    conn.execute("DROP TRIGGER draws_no_update")
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, '\"LISTEDA\":\"',"
                 " '\"LISTEDA\":\"X') WHERE draw_id = ?", (edited,))
    conn.commit()
    conn.close()
    assert main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert all(any(draw_id in line and "ENDOMMAGÉ" not in line for line in lines)
               for draw_id in kept)
    assert any("-badbad  ENDOMMAGÉ : contenu illisible" in line for line in lines)
    assert any(edited in line and "ENDOMMAGÉ : entrée modifiée" in line and "(endommagé)" in line
               for line in lines)
    assert main(["history", "--format", "json"]) == 0
    entries = {e["draw_id"]: e["damage"] for e in json.loads(capsys.readouterr().out)["draws"]}
    assert entries == {kept[0]: None, kept[1]: None, edited: "entrée modifiée après enregistrement",
                       "000000001-20210422-091656-badbad": "contenu illisible (JSON invalide)"}
    assert main(["export", "000000001-20210422-091656-badbad", "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "endommagé" in err and "restaurez une sauvegarde" in err
    assert main(["history", "--check"]) == 1
    out, err = capsys.readouterr()
    assert "badbad" in out and edited in out
    assert "restaurez une sauvegarde" in err


#: Runs ``lotas history`` and ``history --check`` once with the test's identity (imports).
WARM_HISTORY = """
import io, contextlib
from lotas_core.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(["history"]); main(["history", "--check"]); main(["history", "--format", "json"])
"""
HISTORY = """
import contextlib
from lotas_core.cli.main import main
codes = [main(["history"]), main(["history", "--check"])]
print("codes", codes)
with open({path!r}, "ab"):
    pass
"""


def test_read_only_history_can_be_listed_and_checked(cf, shared_dir, run_as_nobody):
    data = shared_dir / "data"
    history = History(data / "history.sqlite3")
    ids = [cf.add_sample_draw(history).draw_id for _ in range(2)]
    _insert_undecodable(history.path, "000000001-20210422-091656-badbad")
    before = history.path.read_bytes()
    if os.geteuid() == 0:  # owned by the user who reads it, but without the right to write
        os.chown(data, 65534, 65534)
        os.chown(history.path, 65534, 65534)
    history.path.chmod(0o400)
    data.chmod(0o500)
    proc = run_as_nobody(HISTORY.format(path=str(history.path)), WARM_HISTORY)
    assert "Traceback" in proc.stderr and "PermissionError" in proc.stderr, proc.stderr  # really RO
    assert "codes [0, 1]" in proc.stdout, proc.stderr
    for draw_id in ids:
        assert draw_id in proc.stdout
    assert "badbad  ENDOMMAGÉ" in proc.stdout
    assert "contenu de l'entrée illisible" in proc.stdout  # the check names the damaged entry
    assert history.path.read_bytes() == before
    assert sorted(p.name for p in data.iterdir()) == ["history.sqlite3"]  # no journal left


def test_non_hex_seed_in_the_history_makes_verify_say_so(cf, toy_cli, capsys, archives, data_dir):
    assert main(["draw", "--archives", str(archives), "--finess", cf.TOY_FINESS,
                 "--seed", SEED]) == 0
    draw_id = capsys.readouterr().err.split("tirage enregistré : ")[1].strip()
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    conn.execute("DROP TRIGGER draws_no_update")
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, ?, ?)",
                 (f'"seed":"{SEED}"', '"seed":"pas-une-graine"'))
    conn.commit()
    conn.close()
    assert main(["verify", draw_id, "--archives", str(archives)]) == 1
    out, err = capsys.readouterr()
    seed_lines = [line for line in out.splitlines() if "Graine" in line]
    assert seed_lines == ["- Graine enregistrée « pas-une-graine » illisible (64 chiffres "
                          "hexadécimaux attendus) : le tirage ne peut pas être refait."]
    assert "Traceback" not in err and err.count("\n") == 1


def test_verify_with_an_unreadable_archive_is_one_line(shared_dir, run_as_nobody, monkeypatch,
                                                       capsys):
    data, archives = shared_dir / "data", shared_dir / "archives"
    monkeypatch.setenv("LOTAS_DATA_DIR", str(data))
    assert main(["demo-archive", str(archives), "--raa-lines", "3000"]) == 0
    assert main(["draw", "--archives", str(archives), "--finess", "000000001"]) == 0
    draw_id = capsys.readouterr().err.split("tirage enregistré : ")[1].strip()
    archives.chmod(0o755)
    (archive,) = archives.iterdir()
    history = data / "history.sqlite3"
    if os.geteuid() == 0:
        os.chown(data, 65534, 65534)
        os.chown(history, 65534, 65534)
    warm = (f"from lotas_core.cli.main import main\n"
            f"assert main(['verify', {draw_id!r}, '--archives', {str(archives)!r}]) == 0\n")
    code = f"sys.exit(main(['verify', {draw_id!r}, '--archives', {str(archives)!r}]))\n"
    archive.chmod(0o000)  # root (the warm-up) still reads it; nobody may not
    proc = run_as_nobody(code, warm)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and f"Archive {archive.name} illisible" in lines[0]
    assert "(permission refusée)" in lines[0]


def test_history_lists_stored_states_when_a_new_state_cannot_be_recorded(
    cf, toy_cli, capsys, data_dir, monkeypatch
):
    """A read-only history cannot record a relay's new answer: the list still shows."""
    import errno

    from lotas_core.transmission import delivery

    history = History(data_dir / "history.sqlite3")
    record = cf.add_sample_draw(history)
    history.add_transmission(record.draw_id, None, state="queued", transport="transport_epop")

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(data_dir / "locks"))

    monkeypatch.setattr(delivery, "refresh_many", read_only)
    assert main(["history"]) == 0
    out, err = capsys.readouterr()
    assert record.draw_id in out and "en attente" in out
    assert "non actualisé : nouvel état non enregistré (permission refusée)" in err
    assert "Traceback" not in err
