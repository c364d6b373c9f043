"""End to end on a synthetic PIVOINE archive with the real PSY SMA 2021 plugin:
``lotas draw``, ``verify``, ``history --check``, ``export``, two processes at once."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lotas_core.cli.main import main
from lotas_core.draws.algorithm import draw, population_digest

FINESS = "000000001"
SEED = "5a" * 32


@pytest.fixture
def archives(tmp_path: Path, capsys) -> Path:
    folder = tmp_path / "archives"
    code, out, err = _run(capsys, "demo-archive", str(folder), "--raa-lines", "20000",
                          "--seed", "3")
    assert code == 0, err
    assert len(list(folder.glob("000000001.2019.12.*.in.zip"))) == 1
    return folder


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _eligible(capsys, archives: Path) -> dict:
    """The eligible patients as ``lotas eligible --format json`` gives them."""
    code, out, err = _run(capsys, "eligible", "--archives", str(archives), "--finess", FINESS,
                          "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _draw_json(capsys, archives: Path, *extra: str) -> dict:
    code, out, err = _run(capsys, "draw", "--archives", str(archives), "--finess", FINESS,
                          "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def _rewrite_raa(archive: Path, edit) -> None:
    """Rewrite the zip with the RAA member's lines passed through ``edit``."""
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    raa = next(name for name in members if name.endswith(".rpa.txt"))
    lines = members[raa].split(b"\r\n")
    members[raa] = b"\r\n".join(edit(lines))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    archive.write_bytes(buffer.getvalue())


def test_draw_twice_same_rows_equal_to_the_spec_algorithm_and_verify(capsys, archives):
    first = _draw_json(capsys, archives, "--seed", SEED)
    second = _draw_json(capsys, archives, "--seed", SEED)
    assert first["rows"] == second["rows"]
    assert first["draw_id"] != second["draw_id"]
    eligible = _eligible(capsys, archives)
    keys = [patient["IPP"] for patient in eligible["patients"]]
    assert len(keys) > 110
    expected = draw(keys, bytes.fromhex(SEED), 80, 30)
    assert [row["IPP"] for row in first["rows"]] == list(expected.ranked)
    assert first["population_digest"] == population_digest(keys).hex()
    assert first["funnel"] == eligible["funnel"]
    assert list(first["funnel"]) == ["base", "fulltime", "lt2", "noh2", "delay", "eligible"]
    assert first["algorithm"] == "lotas-draw/1" and first["seed"] == SEED
    assert [row["TYPECH"] for row in first["rows"]] == ["P"] * 80 + ["R"] * 30
    by_key = {patient["IPP"]: patient for patient in eligible["patients"]}
    for rank, row in enumerate(first["rows"], start=1):
        assert row["NUMTAS"] == rank
        assert {k: v for k, v in row.items() if k not in ("NUMTAS", "TYPECH")} == by_key[row["IPP"]]
    code, out, _ = _run(capsys, "verify", first["draw_id"], "--archives", str(archives))
    assert code == 0 and "vérifié" in out


def test_verify_after_editing_one_line_of_the_archive(capsys, archives):
    result = _draw_json(capsys, archives, "--seed", SEED)
    first = result["rows"][0]
    key = first["IPP"].encode("latin-1")
    act_date = "".join(reversed(first["DATACTE"].split("-"))).encode()  # DDMMYYYY
    changed = []

    def flip_reference_act_sex(lines):
        out = []
        for line in lines:
            if not changed and line[21:41].rstrip() == key and line[67:75] == act_date:
                sex = b"1" if line[49:50] == b"2" else b"2"
                line = line[:49] + sex + line[50:]
                changed.append(1)
            out.append(line)
        return out

    archive = archives / result["archive"]["name"]
    _rewrite_raa(archive, flip_reference_act_sex)
    assert changed == [1]
    code, out, err = _run(capsys, "verify", result["draw_id"], "--archives", str(archives))
    assert code == 1
    assert "SHA-256" in out and result["archive"]["name"] in out
    assert "Ligne NUMTAS 1 : SEXE" in out
    assert "n'est pas reproduit" in err
    assert first["IPP"] not in out + err


def test_history_check_after_editing_deleting_reordering_in_sqlite(capsys, archives, data_dir):
    ids = [_draw_json(capsys, archives)["draw_id"] for _ in range(3)]
    assert _run(capsys, "history", "--check")[0] == 0
    path = data_dir / "history.sqlite3"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    original = path.read_bytes()

    def tamper(*statements: str) -> tuple[int, str]:
        path.write_bytes(original)
        conn = sqlite3.connect(path)
        conn.execute("DROP TRIGGER draws_no_update")
        conn.execute("DROP TRIGGER draws_no_delete")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()
        code, out, _err = _run(capsys, "history", "--check")
        return code, out

    code, out = tamper("UPDATE draws SET entry_json = replace(entry_json, '\"TYPECH\":\"R\"', "
                       "'\"TYPECH\":\"P\"') WHERE seq = 2")
    assert code == 1 and ids[1] in out and "NUMTAS 81" in out
    code, out = tamper("DELETE FROM draws WHERE seq = 2")
    assert code == 1 and ids[2] in out and "supprimée" in out
    code, out = tamper("UPDATE draws SET seq = 10 WHERE seq = 1",
                       "UPDATE draws SET seq = 1 WHERE seq = 3",
                       "UPDATE draws SET seq = 3 WHERE seq = 10")
    assert code == 1 and ids[0] in out and ids[2] in out


def test_two_processes_drawing_at_the_same_moment(archives, data_dir):
    command = [sys.executable, "-m", "lotas_core.cli.main", "draw", "--archives", str(archives),
               "--finess", FINESS, "--format", "json"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out))
    check = subprocess.run([sys.executable, "-m", "lotas_core.cli.main", "history", "--format",
                            "json"], capture_output=True, timeout=120)
    entries = json.loads(check.stdout)["draws"]
    assert {e["draw_id"] for e in entries} == {r["draw_id"] for r in results}
    assert sorted(e["history"]["chain_pos"] for e in entries) == [1, 2]
    check = subprocess.run([sys.executable, "-m", "lotas_core.cli.main", "history", "--check"],
                           capture_output=True, timeout=120)
    assert check.returncode == 0, check.stdout.decode()


def test_exports_owner_only_and_typed_xlsx(capsys, archives, tmp_path):
    from openpyxl import load_workbook

    result = _draw_json(capsys, archives, "--seed", SEED)
    (tmp_path / "exports").mkdir()
    for fmt in ("tsv", "csv", "xlsx", "json", "html"):
        target = tmp_path / "exports" / f"tirage.{fmt}"
        code, _out, err = _run(capsys, "export", result["draw_id"], "--format", fmt,
                               "--output", str(target))
        assert code == 0, err
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    code, tsv, _ = _run(capsys, "draw", "--archives", str(archives), "--finess", FINESS,
                        "--seed", SEED, "--format", "tsv")
    assert (tmp_path / "exports" / "tirage.tsv").read_text(encoding="utf-8") == tsv
    book = load_workbook(tmp_path / "exports" / "tirage.xlsx")
    sheet = book["Tirage"]
    assert isinstance(sheet["A2"].value, int) and isinstance(sheet["E2"].value, int)
    assert sheet["K2"].is_date and sheet["C2"].data_type == "s"
    assert sheet["C2"].value == result["rows"][0]["IPP"]
    params = {row[0].value: row[1].value for row in book["Paramètres"].iter_rows(min_row=2)}
    assert params["SHA-256 de l'archive"] == result["archive"]["sha256"]
    page = (tmp_path / "exports" / "tirage.html").read_text(encoding="utf-8")
    assert result["archive"]["sha256"] in page and "Procès-verbal" in page
    # The funnel steps carry the campaign's own labels (from its rules).
    for label in ("Vus en 2019 (base)", "Exclus : hospitalisation à temps plein",
                  "Exclus : moins de 90 jours entre entretiens", "Éligibles"):
        assert label in page, label


def test_no_ipp_in_logs_or_error_messages(capsys, caplog, archives, tmp_path):
    caplog.set_level(logging.DEBUG)
    eligible = _eligible(capsys, archives)
    keys = [patient["IPP"] for patient in eligible["patients"]]
    errors = []
    code, out, err = _run(capsys, "draw", "--archives", str(archives), "--finess", FINESS,
                          "--format", "json", "--seed", SEED)
    errors.append(err)
    draw_id = json.loads(out)["draw_id"]
    errors.append(_run(capsys, "verify", draw_id, "--archives", str(archives))[2])
    errors.append(_run(capsys, "history", "--check")[2])
    errors.append(_run(capsys, "history")[2])
    errors.append(_run(capsys, "verify", "nope")[2])
    errors.append(_run(capsys, "draw", "--archives", str(archives), "--seed", "zz")[2])
    _rewrite_raa(archives / json.loads(out)["archive"]["name"], lambda lines: lines[5:])
    code, verify_out, verify_err = _run(capsys, "verify", draw_id, "--archives", str(archives))
    assert code == 1
    errors += [verify_out, verify_err]  # the list of differences is a message too
    text = "\n".join(errors) + caplog.text
    assert "tirage enregistré" in text
    assert [key for key in keys if key in text] == []
