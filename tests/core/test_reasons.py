"""The one table of French reasons: OS, zip, settings file and network failures (issue 13)."""

from __future__ import annotations

import errno
import socket
import ssl
import zipfile

import pytest

from lotas_core.reasons import (
    MSG_REFUSED,
    MSG_TIMEOUT,
    NETWORK_REASONS_FR,
    ZIP_REASON_FR,
    file_reason_fr,
    network_kind,
    network_reason_fr,
    os_reason_fr,
    sqlite_reason_fr,
)

ENGLISH = ("Name or service not known", "File is not a zip file", "No such file",
           "Permission denied", "Connection refused", "timed out", "Errno")


@pytest.mark.parametrize(("error", "words"), [
    (PermissionError(errno.EACCES, "Permission denied", "/x"), "permission refusée"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory"), "introuvable"),
    (OSError(errno.ENOSPC, "No space left on device"), "disque plein"),
    (OSError(errno.EROFS, "Read-only file system"), "lecture seule"),
    (OSError(errno.EXDEV, "Invalid cross-device link"), "deux disques"),
    (OSError(9999, "Strange"), "erreur du système"),
])
def test_os_errors_read_in_french(error, words):
    assert words in os_reason_fr(error)
    assert not any(english in os_reason_fr(error) for english in ENGLISH)


def test_the_errors_module_reads_the_same_table():
    from lotas_core import errors

    error = OSError(errno.ENOSPC, "No space left on device")
    assert errors.os_reason_fr(error) == os_reason_fr(error) == "disque plein"


def test_settings_file_and_history_reasons_are_french():
    import sqlite3
    import tomllib

    with pytest.raises(tomllib.TOMLDecodeError) as bad_toml:
        tomllib.loads("finess = = 1")
    assert file_reason_fr(bad_toml.value) == "erreur de syntaxe ligne 1, colonne 10"
    assert "disque plein" in sqlite_reason_fr(sqlite3.OperationalError("database or disk is full"))
    assert "historique" in sqlite_reason_fr(sqlite3.DatabaseError("file is not a database"))
    assert "Errno" not in sqlite_reason_fr(PermissionError(13, "Permission denied"))


@pytest.mark.parametrize(("error", "kind"), [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "dns"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "refused"),
    (TimeoutError("timed out"), "timeout"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "reset"),
    (ssl.SSLCertVerificationError("certificate verify failed"), "tls"),
])
def test_network_failures_are_classified_through_wrappers(error, kind):
    import requests

    assert network_kind(error) == kind
    try:
        try:
            raise error
        except OSError as inner:
            raise requests.exceptions.ConnectionError(inner) from inner
    except requests.exceptions.ConnectionError as wrapped:
        assert network_kind(wrapped) == kind
    sentence = network_reason_fr(error, "relais.chu.local")
    assert not any(english in sentence for english in ENGLISH)


def test_the_manual_sentences_are_kept_word_for_word():
    assert NETWORK_REASONS_FR["timeout"] == MSG_TIMEOUT
    assert NETWORK_REASONS_FR["refused"] == MSG_REFUSED
    assert "« relais.chu.local »" in network_reason_fr(socket.gaierror(-2, "x"),
                                                       "relais.chu.local")


def test_a_corrupt_archive_names_no_english_zip_error(tmp_path):
    from lotas_core.errors import ArchiveError
    from lotas_core.reading.archives import read_archive

    path = tmp_path / "000000001.2019.12.31012020093000.in.zip"
    path.write_bytes(b"this is not a zip at all")
    with pytest.raises(ArchiveError) as caught:
        read_archive(path, {"raa": (".rpa.txt",)})
    assert ZIP_REASON_FR in caught.value.message_fr
    assert "zip file" not in caught.value.message_fr.lower()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(path)


def test_a_missing_archive_folder_says_the_backup_goes_there(tmp_path):
    from lotas_core.errors import ArchiveError
    from lotas_core.reading.archives import find_archive

    with pytest.raises(ArchiveError) as caught:
        find_archive(tmp_path / "PSY", "000000001", 2019, 12)
    text = caught.value.message_fr
    assert "n'existe pas" in text and "sauvegarde PIVOINE" in text
    assert "000000001.2019.12.<horodatage à 14 chiffres>.in.zip" in text
    assert "--archives" not in text


def test_cli_turns_a_stray_os_error_into_one_french_line(monkeypatch, capsys):
    from lotas_core.cli import main as cli

    def broken(ctx, args):
        raise PermissionError(errno.EACCES, "Permission denied", "/srv/pivoine")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda *args, **kwargs: parser)
    args = parser.parse_args(["plugins"])
    monkeypatch.setattr(parser, "parse_args", lambda argv=None: args)
    monkeypatch.setattr(args, "func", broken)
    assert cli.main(["plugins"]) == 2
    err = capsys.readouterr().err
    assert err == "lotas: erreur : permission refusée (/srv/pivoine).\n"
