"""Every test runs with its own settings file, data folder and no proxy from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def isolated_lotas_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point lotas at a private config file and data folder; drop LOTAS_* and proxy variables."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("LOTAS_") or name.lower() in _PROXY_VARS:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("LOTAS_CONFIG_FILE", str(home / "lotas-config.toml"))
    monkeypatch.setenv("LOTAS_DATA_DIR", str(home / "lotas-data"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return home


@pytest.fixture
def config_file(isolated_lotas_env: Path) -> Path:
    """The (not yet written) settings file of this test."""
    return isolated_lotas_env / "lotas-config.toml"


@pytest.fixture
def data_dir(isolated_lotas_env: Path) -> Path:
    """The data folder of this test (history, spools)."""
    return isolated_lotas_env / "lotas-data"
