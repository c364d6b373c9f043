"""Settings: file < environment, FINESS validation, no password in the file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lotas_core.errors import ConfigError
from lotas_core.settings import Settings, load_settings, save_settings, validate_finess


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(config_file: Path, data_dir: Path) -> None:
    loaded = load_settings()
    assert loaded.config_file == config_file
    assert loaded.config_file_found is False
    assert loaded.settings.finess is None
    assert loaded.settings.financing == "DGF"
    assert loaded.settings.data_dir == data_dir
    # the default folder is the campaign's sub-folder (given by the facade from the plugin)
    assert loaded.settings.archive_folder_for("PSY") == data_dir / "archives" / "PSY"


def test_file_values_are_read(config_file: Path) -> None:
    write(
        config_file,
        'finess = "750712184"\nfinancing = "OQN"\n'
        '[archives]\nuse_default = false\npath = "/srv/pivoine"\n',
    )
    settings = load_settings().settings
    assert settings.finess == "750712184"
    assert settings.financing == "OQN"
    assert settings.archive_folder_for("PSY") == Path("/srv/pivoine")


def test_environment_overrides_the_file(config_file: Path, monkeypatch) -> None:
    write(config_file, 'finess = "750712184"\n[transport]\nname = "transport_direct"\n')
    monkeypatch.setenv("LOTAS_FINESS", "2A0000001")
    monkeypatch.setenv("LOTAS_TRANSPORT__NAME", "transport_epop")
    monkeypatch.setenv("LOTAS_TRANSPORT__OPTIONS__TRANSPORT_EPOP__HOST", "127.0.0.2")
    settings = load_settings().settings
    assert settings.finess == "2A0000001"
    assert settings.transport.name == "transport_epop"
    assert settings.transport_options("transport_epop") == {"host": "127.0.0.2"}


def test_disabled_plugins_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("LOTAS_DISABLED_PLUGINS", '["transport_epop"]')
    assert load_settings().settings.disabled_plugins == ["transport_epop"]


@pytest.mark.parametrize("value", ["000000001", "2A0000001", "2b1234567", " 750712184 "])
def test_valid_finess(value: str) -> None:
    assert validate_finess(value) == value.strip().upper()


@pytest.mark.parametrize("value",
    ["", "12345678", "1234567890", "2C0000001", "AB1234567", "00000000X"],
)
def test_invalid_finess(value: str) -> None:
    with pytest.raises(ValueError, match="FINESS invalide"):
        validate_finess(value)


def test_bad_finess_in_file_names_the_field_and_the_file(config_file: Path) -> None:
    write(config_file, 'finess = "12345"\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "finess" in info.value.user_message
    assert str(config_file) in info.value.user_message


def test_bad_finess_in_environment(monkeypatch) -> None:
    monkeypatch.setenv("LOTAS_FINESS", "2C0000001")
    with pytest.raises(ConfigError, match="finess"):
        load_settings()


def test_unreadable_toml_is_a_config_error(config_file: Path) -> None:
    write(config_file, "finess = \n")
    with pytest.raises(ConfigError, match="illisible"):
        load_settings()


def test_a_password_in_the_file_is_refused(config_file: Path) -> None:
    write(
        config_file,
        '[transport.options.transport_direct]\nproxy_host = "p"\nproxy_password = "hunter2"\n',
    )
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "hunter2" not in info.value.user_message
    assert "proxy_password" in info.value.user_message


def test_save_never_writes_a_password(tmp_path: Path) -> None:
    settings = Settings(
        finess="000000001",
        transport={
            "name": "transport_direct",
            "options": {"transport_direct": {"proxy_host": "p", "proxy_password": "s3cr3t"}},
        },
    )
    target = save_settings(settings, tmp_path / "saved.toml")
    text = target.read_text(encoding="utf-8")
    assert "s3cr3t" not in text
    data = tomllib.loads(text)
    assert data["finess"] == "000000001"
    assert data["transport"]["options"]["transport_direct"] == {"proxy_host": "p"}
    # What was saved loads back.
    assert load_settings(target).settings.finess == "000000001"


def test_config_pointing_at_a_folder_is_an_error(tmp_path: Path, capsys) -> None:
    from lotas_core.cli.main import main

    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(ConfigError, match="n'est pas un fichier"):
        load_settings(folder)
    assert main(["--config", str(folder), "config"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(folder) in err and "--config" in err
    assert main(["--config", str(folder), "history"]) == 2
    assert "n'est pas un fichier" in capsys.readouterr().err


def test_missing_config_file_is_still_an_empty_configuration(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml").config_file_found is False


def test_os_reasons_are_french() -> None:
    import errno

    from lotas_core.errors import os_reason_fr

    assert os_reason_fr(PermissionError(errno.EACCES, "Permission denied")) == "permission refusée"
    assert os_reason_fr(OSError(errno.ENOSPC, "No space left on device")) == "disque plein"
    assert os_reason_fr(OSError(errno.EXDEV, "Invalid cross-device link")) == (
        "déplacement impossible entre deux disques"
    )
    # A code the table does not know: no English words, the code's name for a technician.
    assert os_reason_fr(OSError(errno.ENOTSOCK, "Socket operation on non-socket")) == (
        "erreur du système (ENOTSOCK)"
    )
