"""PIVOINE archive discovery: names, timestamps, the newest archive, members, errors."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from lotas_core.errors import ArchiveError
from lotas_core.reading.archives import (
    find_archive,
    parse_archive_name,
    parse_timestamp,
    read_archive,
)


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_timestamp_ddmmyyyy_first_then_iso():
    assert parse_timestamp("31012020093000") == datetime(2020, 1, 31, 9, 30)
    assert parse_timestamp("20200131093000") == datetime(2020, 1, 31, 9, 30)  # ISO fallback
    assert parse_timestamp("01022020101010") == datetime(2020, 2, 1, 10, 10, 10)  # DD first
    assert parse_timestamp("99999999999999") is None


def test_archive_names_month_with_or_without_leading_zero():
    assert parse_archive_name("000000001.2019.3.31012020093000.in.zip").month == 3
    assert parse_archive_name("000000001.2019.03.31012020093000.in.zip").month == 3
    cand = parse_archive_name("2A0000001.2019.12.31012020093000.out.zip")
    assert (cand.finess, cand.year, cand.month, cand.kind) == ("2A0000001", 2019, 12, "out")
    assert parse_archive_name("000000001.2019.12.3101202009300.in.zip") is None  # 13 digits
    assert parse_archive_name("000000001.2019.12.31012020093000.in.zip.bak") is None
    assert parse_archive_name("000000001.2019.12.99999999999999.in.zip") is None


def test_newest_timestamp_wins_across_both_timestamp_forms(tmp_path):
    touch(
        tmp_path,
        "000000001.2019.12.15012020100000.in.zip",  # 15/01/2020
        "000000001.2019.12.20200201080000.in.zip",  # ISO: 01/02/2020, the newest
        "000000001.2019.12.31012020235959.in.zip",  # 31/01/2020
        "000000001.2019.12.01032020000000.out.zip",  # out archive: ignored
        "000000001.2019.11.01032020000000.in.zip",  # other period
        "000000001.2020.12.01032021000000.in.zip",  # other year
        "000000002.2019.12.01032020000000.in.zip",  # other FINESS
        "notes.txt",
    )
    assert find_archive(tmp_path, "000000001", 2019, 12).name == (
        "000000001.2019.12.20200201080000.in.zip"
    )


def test_no_matching_archive_names_folder_pattern_and_what_was_found(tmp_path):
    touch(
        tmp_path,
        "000000001.2019.12.01032020000000.out.zip",
        "000000001.2018.12.01032019000000.in.zip",
    )
    with pytest.raises(ArchiveError) as info:
        find_archive(tmp_path, "000000001", 2019, 12)
    message = info.value.user_message
    assert str(tmp_path) in message
    assert "000000001.2019.12.<horodatage à 14 chiffres>.in.zip" in message
    assert "000000001.2019.12.01032020000000.out.zip" in message
    assert "000000001.2018.12.01032019000000.in.zip" in message
    assert "\n" not in message


def test_empty_and_missing_folders(tmp_path):
    with pytest.raises(ArchiveError, match="vide"):
        find_archive(tmp_path, "000000001", 2019, 12)
    with pytest.raises(ArchiveError, match="n'existe pas"):
        find_archive(tmp_path / "nope", "000000001", 2019, 12)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError, match="n'est pas un dossier"):
        find_archive(tmp_path / "file", "000000001", 2019, 12)


def read_members(path, wanted):
    """The members and names of ``read_archive`` (its info is tested below)."""
    return read_archive(path, wanted)[1:]


def test_read_members_by_suffix_and_raa_alias(tmp_path, build):
    path = build.archive(tmp_path, [build.raa()], None, raa_member="X.2019.12.RAA.TXT")
    members, names = read_members(path, {"raa": (".rpa.txt", ".raa.txt"), "rps": (".rps.txt",)})
    assert set(members) == {"raa"}
    assert names == ["X.2019.12.RAA.TXT"]
    assert bytes(members["raa"]).startswith(b"000000001000000001P09")


def test_stored_members_are_read(tmp_path, build):
    path = tmp_path / "000000001.2019.12.31012020093000.in.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.rpa.txt", b"hello\r\n")
    members, _ = read_members(path, {"raa": (".rpa.txt",)})
    assert bytes(members["raa"]) == b"hello\r\n"


def test_bzip2_members_go_through_zipfile(tmp_path):
    path = tmp_path / "000000001.2019.12.31012020093000.in.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("a.rpa.txt", b"hello\r\n" * 1000)
    members, _ = read_members(path, {"raa": (".rpa.txt",)})
    assert bytes(members["raa"]) == b"hello\r\n" * 1000


def test_corrupt_member_data_is_an_archive_error(tmp_path, build):
    path = build.archive(tmp_path, [build.raa(f"P{i}") for i in range(200)])
    data = bytearray(path.read_bytes())
    middle = data.index(b"rpa.txt") + 400  # inside the compressed RAA data
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="corrompue"):
        read_members(path, {"raa": (".rpa.txt",)})


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "vide"),
        (b"\x00\xff garbage \x13" * 50, "corrompue"),
        (b"PK\x03\x04trunc", "corrompue"),
    ],
)
def test_not_a_zip(tmp_path, content, match):
    path = tmp_path / "000000001.2019.12.31012020093000.in.zip"
    path.write_bytes(content)
    with pytest.raises(ArchiveError, match=match):
        read_members(path, {"raa": (".rpa.txt",)})


def test_plain_zlib_inflate_when_isal_is_missing(tmp_path, build, monkeypatch):
    import zlib

    import lotas_core.reading.inflate as inflate

    monkeypatch.setattr(inflate, "_decompressobj", zlib.decompressobj)
    path = build.archive(tmp_path, [build.raa(f"P{i}") for i in range(200)])
    members, _ = read_members(path, {"raa": (".rpa.txt",)})
    assert bytes(members["raa"]).count(b"\r\n") == 200
    data = bytearray(path.read_bytes())
    data[data.index(b"rpa.txt") + 400] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="corrompue"):
        read_members(path, {"raa": (".rpa.txt",)})


def test_read_archive_hashes_the_bytes_it_unzips(tmp_path, build):
    """One read gives both the recorded SHA-256 / size and the members."""
    import hashlib

    path = build.archive(tmp_path, [build.raa(f"P{i}") for i in range(50)], [build.rps()])
    info, members, names = read_archive(path, {"raa": (".rpa.txt",), "rps": (".rps.txt",)})
    data = path.read_bytes()
    assert (info.path, info.name, info.size) == (path, path.name, len(data))
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert set(members) == {"raa", "rps"} and len(names) == 2
    with zipfile.ZipFile(path) as zf:
        assert bytes(members["raa"]) == zf.read("000000001.2019.12.rpa.txt")
