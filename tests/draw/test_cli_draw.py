"""``lotas draw / verify / history / export`` in process, on the toy campaign."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat

import pytest

from lotas_core.cli.context import CommandContext
from lotas_core.cli.main import main

SEED = "0f" * 32
TOY_FINESS = "000000001"  # the toy archives' FINESS (conftest.TOY_FINESS)



@pytest.fixture(autouse=True)
def toy_cli(cf, monkeypatch):
    toy = cf.toy_lotas()
    monkeypatch.setattr(CommandContext, "lotas", property(lambda self: toy))
    monkeypatch.setenv("LOTAS_CAMPAIGN", cf.TOY_CAMPAIGN)


def _draw(capsys, archives, *extra):
    code = main(["draw", "--archives", str(archives), "--finess", TOY_FINESS, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_draw_json_twice_same_rows_then_verify(capsys, archives):
    code, out, err = _draw(capsys, archives, "--seed", SEED, "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    code, out, _ = _draw(capsys, archives, "--seed", SEED, "--format", "json")
    second = json.loads(out)
    assert first["rows"] == second["rows"] and first["draw_id"] != second["draw_id"]
    for key in ("draw_id", "algorithm", "seed", "population_digest", "funnel", "rows"):
        assert key in first
    assert first["seed"] == SEED
    assert main(["verify", first["draw_id"], "--archives", str(archives)]) == 0
    assert "vérifié" in capsys.readouterr().out


def test_draw_table_and_tsv(capsys, archives):
    code, out, err = _draw(capsys, archives, "--seed", SEED)
    assert code == 0
    assert "NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]" in out
    assert "tirage enregistré" in err
    code, out, _ = _draw(capsys, archives, "--seed", SEED, "--format", "tsv")
    lines = out.splitlines()
    assert lines[0] == (
        "NUMTAS\tTYPECH\tIPP\tSEXE\tAGE\tMODENT\tMODSORT\tDEST\tPROV\tLISTEDA\tDATACTE"
    )
    assert len(lines) == 111


def test_draw_output_file_is_owner_only(capsys, archives, tmp_path):
    target = tmp_path / "out" / "tirage.csv"
    target.parent.mkdir()
    code, out, _ = _draw(capsys, archives, "--format", "csv", "--output", str(target))
    assert code == 0 and out == ""
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_text().startswith("NUMTAS,TYPECH,IPP")


@pytest.mark.parametrize("seed", ["abc", "00" * 31, "g" * 64])
def test_bad_seed_exit_2_one_line(capsys, archives, seed):
    code, out, err = _draw(capsys, archives, "--seed", seed)
    assert code == 2
    assert err.count("\n") == 1 and "Graine invalide" in err and "Traceback" not in err


def test_unknown_draw_id_exit_2(capsys):
    for argv in (["verify", "nope"], ["export", "nope", "--format", "tsv"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("lotas: erreur : Tirage inconnu") and err.count("\n") == 1


def test_small_population_notice_on_stderr(cf, capsys, tmp_path):
    folder = tmp_path / "small"
    cf.write_toy_archive(folder, cf.toy_lines(7, excluded_every=0))
    code, out, err = _draw(capsys, folder, "--format", "json")
    assert code == 0
    assert "7 patients éligibles seulement : tous sont tirés" in err
    assert len(json.loads(out)["rows"]) == 7


def test_no_eligible_exit_2(cf, capsys, tmp_path):
    folder = tmp_path / "none"
    cf.write_toy_archive(folder, cf.toy_lines(3, excluded_every=1))
    code, _out, err = _draw(capsys, folder)
    assert code == 2 and "Aucun patient éligible" in err


def test_history_list_json_and_check(cf, capsys, archives, data_dir):
    _draw(capsys, archives, "--seed", SEED)
    _draw(capsys, archives, "--seed", SEED)
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert out.count(f"{cf.TOY_FINESS}- ") == 2
    assert main(["history", "--format", "json", "--finess", cf.TOY_FINESS]) == 0
    entries = json.loads(capsys.readouterr().out)["draws"]
    assert len(entries) == 2 and "rows" not in entries[0]
    assert main(["history", "--check"]) == 0
    assert "intact" in capsys.readouterr().out
    path = data_dir / "history.sqlite3"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER draws_no_update")
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, '\"AGE\":', '\"AGE\":1') "
                 "WHERE seq = 1")
    conn.commit()
    assert main(["history", "--check"]) == 1
    out, err = capsys.readouterr()
    assert entries[1]["draw_id"] in out and "NUMTAS" in out
    assert "Historique altéré" in err


def test_export_every_format(capsys, archives, tmp_path):
    _code, out, _ = _draw(capsys, archives, "--seed", SEED, "--format", "json")
    draw_id = json.loads(out)["draw_id"]
    for fmt in ("tsv", "csv", "csv-excel", "xlsx", "json", "html"):
        target = tmp_path / f"x.{fmt}"
        assert main(["export", draw_id, "--format", fmt, "--output", str(target)]) == 0
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    excel = (tmp_path / "x.csv-excel").read_bytes()
    assert excel.startswith(b"\xef\xbb\xbfNUMTAS;TYPECH;") and b"\r\n" in excel
    assert main(["export", draw_id, "--format", "tsv"]) == 0
    assert capsys.readouterr().out.startswith("NUMTAS\tTYPECH")
    assert main(["export", draw_id, "--format", "xlsx"]) == 2


def test_no_ipp_in_logs_or_errors(cf, capsys, caplog, archives):
    caplog.set_level(logging.DEBUG)
    code, out, err = _draw(capsys, archives, "--seed", SEED, "--format", "json")
    data = json.loads(out)
    keys = {line.split(";")[0] for line in cf.toy_lines(200)}
    assert data["rows"][0]["IPP"] in keys  # stdout legitimately holds IPPs; logs must not
    main(["verify", data["draw_id"], "--archives", str(archives)])
    main(["history", "--check"])
    main(["verify", data["draw_id"], "--archives", str(archives / "missing")])
    _, err2 = capsys.readouterr()
    logged = caplog.text + err + err2
    assert "tirage enregistré" in logged  # something was logged/printed
    assert not [key for key in keys if key in logged]


def test_output_under_a_file_fails_before_any_draw(capsys, archives, tmp_path, data_dir):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, out, err = _draw(capsys, archives, "--format", "csv",
                           "--output", str(blocker / "sub" / "tirage.csv"))
    assert code == 2 and out == ""
    assert err.startswith("lotas: erreur : Impossible d'écrire") and err.count("\n") == 1
    assert "tirage enregistré" not in err
    assert main(["history", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["draws"] == []  # nothing was stored


def test_export_onto_a_folder_is_refused(capsys, archives, tmp_path):
    _code, out, _ = _draw(capsys, archives, "--seed", SEED, "--format", "json")
    folder = tmp_path / "exports"
    folder.mkdir()
    code = main(["export", json.loads(out)["draw_id"], "--format", "csv", "--output", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and "c'est un dossier" in err and err.count("\n") == 1
    assert list(folder.iterdir()) == []
