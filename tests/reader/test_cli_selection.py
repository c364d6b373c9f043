"""``lotas eligible`` and ``lotas demo-archive`` as scripts use them (spec section 7)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lotas_core.cli.main import main

HEADER = "IPP,SEXE,AGE,DATACTE,LISTEDA,MODENT,PROV,MODSORT,DEST"


def eligible(capsys, folder: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["eligible", "--archives", str(folder), "--finess", "000000001", *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small_archive(tmp_path, build) -> Path:
    raa = [
        *build.consultations("PAT02", "01052019", "09082019"),
        build.raa("PAT01", "01022019"),
        build.raa("PAT01", "01102019", dp="F322", das=["Z590", "F322"], sexe="2"),
        *build.consultations("LT2", "01092019"),
        build.raa("BAD", "01092019", finess="000000002"),
    ]
    rps = [build.rps("PAT01", "01032019", "05032019", fa="20", modent="6", prov="1")]
    build.archive(tmp_path / "arch", raa, rps)
    return tmp_path / "arch"


def test_eligible_csv(capsys, small_archive):
    code, out, err = eligible(capsys, small_archive)
    assert code == 0
    assert out.splitlines() == [
        HEADER,
        "PAT01,2,39,01/10/2019,F322 Z590,6,1,8,",
        "PAT02,1,39,09/08/2019,F200,,,,",
    ]
    assert "RAA « 000000001.2019.12.rpa.txt » : 6 lignes lues, 5 gardées, 1 rejetées" in err
    assert "  rejetées, autre FINESS : 1 (ligne 6)" in err
    assert ("entonnoir : vus en 2019 (base) 3 ; exclus : hospitalisation à temps plein 0 ; "
            "exclus : moins de 2 entretiens médicaux 1 ; exclus : aucun entretien au 2e "
            "semestre 0 ; exclus : moins de 90 jours entre entretiens 0 ; éligibles 2") in err
    assert "fulltime" not in err and "eligible=" not in err  # French labels, not keys
    assert "PAT0" not in err  # never an IPP on stderr


def test_eligible_json(capsys, small_archive):
    code, out, _ = eligible(capsys, small_archive, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["funnel", "parse_report", "patients"]
    assert data["funnel"] == {
        "base": 3, "fulltime": 0, "lt2": 1, "noh2": 0, "delay": 0, "eligible": 2
    }
    assert data["parse_report"]["files"]["raa"]["skipped"] == {"finess": 1}
    assert data["parse_report"]["files"]["raa"]["first_lines"] == {"finess": [6]}
    assert data["parse_report"]["labels"] == {"finess": "autre FINESS"}
    assert data["patients"][0] == {
        "IPP": "PAT01", "SEXE": "2", "AGE": 39, "DATACTE": "2019-10-01", "LISTEDA": "F322 Z590",
        "MODENT": "6", "PROV": "1", "MODSORT": "8", "DEST": "",
    }
    assert [p["IPP"] for p in data["patients"]] == ["PAT01", "PAT02"]


def test_eligible_output_file_is_private(capsys, small_archive, tmp_path):
    target = tmp_path / "out" / "eligible.csv"
    target.parent.mkdir()
    code, out, _ = eligible(capsys, small_archive, "--output", str(target))
    assert code == 0 and out == ""
    assert target.read_text().startswith(HEADER + "\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_eligible_defaults_come_from_the_settings(capsys, small_archive, monkeypatch):
    monkeypatch.setenv("LOTAS_FINESS", "000000001")
    monkeypatch.setenv("LOTAS_ARCHIVES__USE_DEFAULT", "false")
    monkeypatch.setenv("LOTAS_ARCHIVES__PATH", str(small_archive))
    code = main(["eligible"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[0] == HEADER and len(out.splitlines()) == 3


def test_eligible_progress_only_when_asked(capsys, small_archive):
    _, _, quiet = eligible(capsys, small_archive)
    assert "Contrôle" not in quiet and "\r" not in quiet
    _, _, loud = eligible(capsys, small_archive, "--progress")
    assert "Contrôle des lignes RAA" in loud and "\r" not in loud


def test_missing_rps_warns_on_stderr(capsys, tmp_path, build):
    build.archive(tmp_path, build.eligible_pair("PAT01"), None)
    code, out, err = eligible(capsys, tmp_path)
    assert code == 0
    assert "lotas: attention : Aucun fichier RPS" in err
    assert len(out.splitlines()) == 2


def _garbage(folder: Path, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "000000001.2019.12.31012020093000.in.zip").write_bytes(content)


def _zip_raa(folder: Path, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "000000001.2019.12.31012020093000.in.zip", "w") as zf:
        zf.writestr("000000001.2019.12.rpa.txt", content)


def _corrupt(folder: Path, build) -> None:
    path = build.archive(folder, [build.raa(f"P{i}") for i in range(300)])
    data = bytearray(path.read_bytes())
    data[data.index(b"rpa.txt") + 300] ^= 0x55
    path.write_bytes(bytes(data))


BAD_INPUTS = {
    "missing folder": (lambda folder, build: None, "n'existe pas"),
    "no matching archive": (
        lambda folder, build: build.archive(
            folder, [build.raa()], name="000000001.2019.12.31012020093000.out.zip"
        ),
        "trouvé à la place : 000000001.2019.12.31012020093000.out.zip",
    ),
    "corrupt zip": (_corrupt, "corrompue"),
    "zip without raa": (lambda folder, build: build.archive(folder, None, [build.rps()]), "RAA"),
    "other year format": (
        lambda folder, build: build.archive(
            folder, [build.raa(f"P{i}", fmt="P14") + "    " for i in range(5)]
        ),
        "P14",
    ),
    "other year rps": (
        lambda folder, build: build.archive(
            folder, build.eligible_pair(), [build.rps(f"P{i}", fmt="P12") for i in range(3)]
        ),
        "« P12 » et non P08",
    ),
    "binary garbage": (lambda folder, build: _garbage(folder, os.urandom(3000)), "corrompue"),
    "binary raa member": (
        lambda folder, build: _zip_raa(folder, os.urandom(3000)), "n'est pas un fichier texte"
    ),
    "zero bytes": (lambda folder, build: _garbage(folder, b""), "vide (0 octet)"),
    "zero-byte raa member": (lambda folder, build: _zip_raa(folder, b""), "est vide"),
    "folder named like the archive": (
        lambda folder, build: (folder / "000000001.2019.12.31012020093000.in.zip").mkdir(
            parents=True
        ),
        "trouvé à la place : 000000001.2019.12.31012020093000.in.zip/",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_exit_2(capsys, tmp_path, build, case):
    make, words = BAD_INPUTS[case]
    folder = tmp_path / "archives"
    make(folder, build)
    code, out, err = eligible(capsys, folder)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lotas: erreur : ")
    assert words in lines[0]
    assert "Traceback" not in err


def test_bad_input_through_the_real_command(tmp_path):
    _garbage(tmp_path, b"not a zip at all")
    proc = subprocess.run(
        [sys.executable, "-m", "lotas_core.cli.main", "eligible", "--archives", str(tmp_path),
         "--finess", "000000001"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "corrompue" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_finess_is_a_usage_error(capsys, small_archive):
    code = main(["eligible", "--archives", str(small_archive), "--finess", "12"])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("lotas: erreur : FINESS invalide")


def test_demo_archive_then_eligible_as_processes(tmp_path):
    exe = [sys.executable, "-m", "lotas_core.cli.main"]
    made = subprocess.run(
        [*exe, "demo-archive", str(tmp_path), "--raa-lines", "3000", "--seed", "7"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    path = Path(made.stdout.strip())
    assert path.parent == tmp_path and path.name.startswith("000000001.2019.12.")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["000000001.2019.12.rpa.txt", "000000001.2019.12.rps.txt"]
    proc = subprocess.run(
        [*exe, "eligible", "--archives", str(tmp_path), "--finess", "000000001"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == HEADER
    ipps = [line.split(",")[0] for line in lines[1:]]
    assert ipps == sorted(ipps) and len(ipps) > 20
    assert "entonnoir : vus en 2019 (base) " in proc.stderr
    assert "\r" not in proc.stderr and "Contrôle" not in proc.stderr  # no progress off a TTY


def test_demo_archive_rejects_bad_counts(capsys, tmp_path):
    assert main(["demo-archive", str(tmp_path), "--raa-lines", "0"]) == 2
    assert "--raa-lines" in capsys.readouterr().err


def test_progress_printer_on_a_terminal():
    import io

    from lotas_core.cli.cmd_selection import ProgressPrinter

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    printer = ProgressPrinter(stream)
    for i in range(101):
        printer("Contrôle des lignes RAA", i / 100)
    printer("Terminé", 1.0)
    printer.close()
    text = stream.getvalue()
    assert text.count("\r") <= 25  # throttled to steps of 5 %
    assert "Contrôle des lignes RAA : 100 %" in text and "Terminé : 100 %" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared before the funnel is printed


def test_parse_report_shows_warnings_with_french_labels(capsys, tmp_path, build):
    raa = [build.raa("PAT01", "01052019", birth="31022000"),
           build.raa("PAT01", "09082019", birth="31022000"),
           build.raa("PAT02", "31022019")]
    rps = [build.rps("PAT03", "XXXXXXXX", "05032019")]
    build.archive(tmp_path, raa, rps)
    code, out, err = eligible(capsys, tmp_path)
    assert code == 0
    assert out.splitlines()[1] == "PAT01,1,,09/08/2019,F200,,,,"  # AGE blank
    assert ("  gardées avec avertissement, date de naissance invalide (AGE vide) : 2 "
            "(lignes 1, 2)") in err
    assert "  rejetées, date d'acte ou de fin de séquence invalide : 1 (ligne 3)" in err
    assert ("  gardées avec avertissement, début de séquence invalide (séquence prise comme "
            "[fin, fin]) : 1 (ligne 1)") in err
    code, out, _ = eligible(capsys, tmp_path, "--format", "json")
    data = json.loads(out)
    assert data["patients"][0]["AGE"] is None
    files = data["parse_report"]["files"]
    assert files["raa"]["kept_with_warning"] == {"birth_date": 2}
    assert files["rps"]["kept_with_warning"] == {"sequence_start": 1}
    assert data["parse_report"]["labels"] == {
        "date": "date d'acte ou de fin de séquence invalide",
        "birth_date": "date de naissance invalide (AGE vide)",
        "sequence_start": "début de séquence invalide (séquence prise comme [fin, fin])",
    }


@pytest.mark.parametrize("where", ["/proc/x", "/proc/x/y", "file/under"])
def test_demo_archive_where_nothing_can_be_written_is_one_line(capsys, tmp_path, where):
    if where == "file/under":
        (tmp_path / "file").write_text("x")
        where = str(tmp_path / "file" / "under")
    assert main(["demo-archive", where]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"lotas: erreur : Impossible d'écrire l'archive de démonstration "
                          f"dans « {where} »")
    assert "choisissez un dossier" in err


def test_eligible_csv_neutralises_formulas(capsys, tmp_path, build):
    """A hostile RAA (an IPP or a DP a spreadsheet would run) gives inert CSV cells."""
    raa = build.consultations("=1+1", "01052019", "09082019", dp="@SUM")
    raa += build.consultations("PAT02", "01052019", "09082019", dp="-F20")
    build.archive(tmp_path, raa, [])
    code, out, _ = eligible(capsys, tmp_path)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][0] == "'=1+1" and rows[1][4] == "'@SUM"
    assert rows[2][0] == "PAT02" and rows[2][4] == "'-F20"
    code, out, _ = eligible(capsys, tmp_path, "--format", "json")
    assert json.loads(out)["patients"][0]["IPP"] == "=1+1"  # JSON is data, not a spreadsheet
