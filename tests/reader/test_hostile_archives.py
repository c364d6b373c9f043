"""Archives built to hurt: zip bombs, lying sizes, passwords, duplicate names (issue 12).

Each is refused with one French line naming the archive and what to do, exit code 2. The bombs
run ``lotas eligible`` in a child process whose peak memory (``ru_maxrss``) is measured: a
memory bound, not a timing. The archives are written as streams into the test's folder
(``hostile_zip``) and never committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from lotas_core.errors import ArchiveError
from lotas_core.reading.archives import read_archive
from lotas_core.reading.inflate import InflateLimits

sys.path.insert(0, str(Path(__file__).parent))
import hostile_zip  # noqa: E402

ARCHIVE = "000000001.2019.12.31012020093000.in.zip"


def read_members(path, wanted, limits=None):
    """The members and names of ``read_archive``."""
    return read_archive(path, wanted, limits=limits)[1:]


RAA = "000000001.2019.12.rpa.txt"
#: The child's peak resident memory must stay below this (issue 12: the 10 GiB bomb used 10.6 GB).
PEAK_LIMIT_MB = 600

#: Runs argv[1:] and prints the child's exit code, standard error and peak RSS.
WRAPPER = r"""
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": proc.returncode, "err": proc.stderr, "peak_mb": peak_kb / 1024}))
"""


def run_eligible(folder: Path, **env: str) -> dict:
    """``lotas eligible`` on ``folder`` as a whole process: exit code, stderr and peak RSS."""
    command = [sys.executable, "-m", "lotas_core.cli.main", "eligible", "--archives", str(folder),
               "--finess", "000000001"]
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True, check=True,
        env={**os.environ, **env}, timeout=300,
    )
    return json.loads(proc.stdout)


def assert_refused(result: dict, *fragments: str) -> None:
    assert result["code"] == 2, result
    lines = result["err"].strip().splitlines()
    assert len(lines) == 1, result["err"]  # one line, never a traceback
    assert lines[0].startswith("lotas: erreur : ") and ARCHIVE in lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    assert result["peak_mb"] < PEAK_LIMIT_MB, result


def test_ten_gib_zero_bomb_is_refused_with_little_memory(tmp_path):
    path = hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=160)  # 10 GiB, ~10 MB
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo(RAA).file_size == 10 << 30
    assert path.stat().st_size < 11 << 20
    result = run_eligible(tmp_path)
    assert_refused(result, "10,0 Gio", "au-delà de la limite", "reading.max_member_mib")


def test_ten_gib_bomb_declaring_less_than_the_limit_is_stopped_by_its_ratio(tmp_path):
    """Declares 1.9 GiB (under the size limit): its declared ratio (about 190) is refused."""
    hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=160, declared=1900 << 20)
    result = run_eligible(tmp_path)
    assert_refused(result, "fois plus gros", "limite : 100", "reading.max_compression_ratio")


def test_bomb_hidden_behind_incompressible_bytes_is_stopped_while_inflating(tmp_path):
    """1 MiB of noise then 10 GiB of zeros, declaring 1.1 GB: the declared ratio (about 97)
    passes, the real one is seen going above 100 during the stream and stops it early."""
    head = os.urandom(1 << 20)
    path = hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=160, head=head,
                                       declared=1_100_000_000)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(RAA)
        assert info.file_size < 100 * info.compress_size  # passes the declared checks
    result = run_eligible(tmp_path)
    assert_refused(result, "fois plus gros", "limite : 100")


def test_member_inflating_far_beyond_its_declared_1000_bytes_is_refused(tmp_path):
    path = hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=27, declared=1000)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo(RAA).file_size == 1000  # 27 x 64 MiB = 1.8 GB really
    result = run_eligible(tmp_path)
    assert_refused(result, "ne fait pas la taille que l'archive annonce (1000 octets)")


def test_three_kb_archive_declaring_4_gb_is_refused_before_any_allocation(tmp_path):
    path = hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=0,
                                       head=os.urandom(3000), declared=4_000_000_000)
    assert path.stat().st_size < 4096
    result = run_eligible(tmp_path)
    assert_refused(result, "3,7 Gio", "au-delà de la limite")


def test_three_kb_archive_declaring_1_gb_is_refused_for_its_ratio(tmp_path):
    path = hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=0,
                                       head=os.urandom(3000), declared=1_000_000_000)
    with pytest.raises(ArchiveError, match="fois plus gros"):
        read_members(path, {"raa": (".rpa.txt",)})


def test_member_smaller_than_declared_is_refused(tmp_path):
    path = hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=0, head=b"x" * 5000,
                                       declared=6000)
    with pytest.raises(ArchiveError, match=r"ne fait pas la taille .*\(6000 octets\)"):
        read_members(path, {"raa": (".rpa.txt",)})


def test_honest_zero_member_within_the_limits_is_read(tmp_path):
    """The bounded stream still reads what it accepts: 128 MiB of zeros with a little text,
    under a limit raised for it (the sliced path, the map buffer, the CRC)."""
    path = hostile_zip.write_zero_bomb(tmp_path / ARCHIVE, RAA, chunks=2, head=b"line\r\n")
    members, _ = read_members(path, {"raa": (".rpa.txt",)},
                              limits=InflateLimits(1 << 30, 2000))
    assert len(members["raa"]) == 6 + (128 << 20)
    assert bytes(members["raa"][:6]) == b"line\r\n"
    with pytest.raises(ArchiveError, match="fois plus gros"):
        read_members(path, {"raa": (".rpa.txt",)})  # the default ratio limit (100)


def test_limits_are_settings(tmp_path, build, capsys):
    from lotas_core.cli.main import main

    build.archive(tmp_path, [build.raa(f"P{i:05d}") for i in range(20_000)])  # about 1.9 MB
    args = ["eligible", "--archives", str(tmp_path), "--finess", "000000001"]
    assert main(args) == 0
    capsys.readouterr()
    os.environ["LOTAS_READING__MAX_MEMBER_MIB"] = "1"
    try:
        assert main(args) == 2
    finally:
        del os.environ["LOTAS_READING__MAX_MEMBER_MIB"]
    err = capsys.readouterr().err
    assert "au-delà de la limite de lotas (1,0 Mio)" in err and err.count("\n") == 1
    os.environ["LOTAS_READING__MAX_COMPRESSION_RATIO"] = "2"
    try:
        assert main(args) == 2
    finally:
        del os.environ["LOTAS_READING__MAX_COMPRESSION_RATIO"]
    assert "(limite : 2)" in capsys.readouterr().err


def test_password_protected_archive_is_refused(tmp_path, build):
    lines = "".join(line + "\r\n" for line in build.eligible_pair()).encode("latin-1")
    path = hostile_zip.write_encrypted_zip(tmp_path / ARCHIVE, {RAA: lines}, b"secret")
    with zipfile.ZipFile(path) as zf:  # a real encrypted zip: readable with its password
        assert zf.read(RAA, pwd=b"secret") == lines
    from lotas_core.cli.main import main

    with pytest.raises(ArchiveError, match=f"« {ARCHIVE} » est protégée par un mot de passe"):
        read_members(path, {"raa": (".rpa.txt",)})
    assert main(["eligible", "--archives", str(tmp_path), "--finess", "000000001"]) == 2


@pytest.mark.parametrize("second", [RAA, RAA.upper()])
def test_duplicate_member_names_are_refused(tmp_path, build, second):
    path = tmp_path / ARCHIVE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it writes
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(RAA, "".join(line + "\r\n" for line in build.eligible_pair()))
            zf.writestr(second, "".join(line + "\r\n" for line in build.eligible_pair("PAT9")))
    with pytest.raises(ArchiveError, match="contient plusieurs fichiers nommés"):
        read_members(path, {"raa": (".rpa.txt",)})


#: Imports everything ``lotas eligible`` needs by running it once on a readable archive.
WARM_ELIGIBLE = """
import io, contextlib
from lotas_core.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    assert main(["eligible", "--archives", {ok!r}, "--finess", "000000001"]) == 0
"""
ELIGIBLE = """
from lotas_core.cli.main import main
sys.exit(main(["eligible", "--archives", {folder!r}, "--finess", "000000001"]))
"""


@pytest.mark.parametrize(
    ("folder_mode", "parent_mode", "target"),
    [
        (0o000, 0o755, "folder"),  # no right at all on the folder
        (0o311, 0o755, "folder"),  # can enter, cannot list
        (0o644, 0o755, "folder"),  # can list, cannot look at the files
        (0o755, 0o000, "folder"),  # cannot reach the folder at all
        (0o755, 0o755, "file"),  # the archive itself is unreadable
    ],
)
def test_unreadable_folder_or_archive_is_one_french_line(
    shared_dir, run_as_nobody, build, folder_mode, parent_mode, target
):
    ok = shared_dir / "ok"
    build.archive(ok, build.eligible_pair())
    for path in [ok, *ok.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    parent = shared_dir / "parent"
    folder = parent / "archives"
    archive = build.archive(folder, build.eligible_pair())
    archive.chmod(0o000 if target == "file" else 0o644)
    folder.chmod(folder_mode)
    parent.chmod(parent_mode)
    proc = run_as_nobody(ELIGIBLE.format(folder=str(folder)), WARM_ELIGIBLE.format(ok=str(ok)))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "(permission refusée)" in lines[0]
    if target == "file":
        assert f"Archive illisible « {archive.name} »" in lines[0]
        assert "lisible par votre compte" in lines[0]
    else:
        assert f"« {folder} » n'est pas lisible" in lines[0]
        assert "donnez à votre compte le droit" in lines[0]


def test_other_compression_methods_are_bounded_too(tmp_path, build):
    """A bzip2 member goes through ``zipfile``, with the same limits and size checks."""
    path = tmp_path / ARCHIVE
    lines = [line for i in range(300) for line in build.eligible_pair(f"PAT{i:04d}")]
    text = "".join(line + "\r\n" for line in lines).encode("latin-1")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr(RAA, text)
    members, _ = read_members(path, {"raa": (".rpa.txt",)})
    assert bytes(members["raa"]) == text
    with pytest.raises(ArchiveError, match="au-delà de la limite"):
        read_members(path, {"raa": (".rpa.txt",)}, limits=InflateLimits(len(text) - 1, 100))
    data = bytearray(path.read_bytes())  # declare one byte less than the member holds
    size = len(text).to_bytes(4, "little")
    at = data.find(size)
    while at >= 0:  # local header and central directory
        data[at:at + 4] = (len(text) - 1).to_bytes(4, "little")
        at = data.find(size, at + 4)
    path.write_bytes(bytes(data))
    # zipfile stops at the declared size, then finds the CRC-32 wrong: refused as corrupt
    with pytest.raises(ArchiveError, match="ne fait pas la taille|est corrompue"):
        read_members(path, {"raa": (".rpa.txt",)})
