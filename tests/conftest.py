"""Every test runs with its own settings file, data folder and no proxy from the environment."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from textwrap import dedent

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


#: The child of ``run_as_nobody``: ``WARM`` runs with the test's identity (it imports what the
#: command needs: the interpreter may live where the unprivileged user cannot read), then the
#: process drops to ``nobody`` when it is root, and runs ``CODE``.
_AS_NOBODY = r"""
import os, sys
exec(sys.argv[1])
if os.geteuid() == 0:
    import pwd
    user = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
assert os.geteuid() != 0, "still root"
exec(sys.argv[2])
"""


@pytest.fixture
def shared_dir():
    """A folder an unprivileged user can reach (``tmp_path`` lies under a root-only folder)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="lotas-test-"))
    path.chmod(0o755)
    yield path
    for sub in [path, *path.rglob("*")]:  # give back what a test took away, then remove
        try:
            sub.chmod(0o755 if sub.is_dir() else 0o644)
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def run_as_nobody(shared_dir: Path):
    """``run_as_nobody(code, warm="")``: run Python ``code`` in a child process as the
    unprivileged user ``nobody`` (tests run as root here, and root reads every file whatever
    its mode), with HOME, the settings file and the data folder in ``shared_dir``. ``warm``
    runs first with the test's identity. Returns the ``CompletedProcess`` (text)."""
    import subprocess
    import sys

    def run(code: str, warm: str = "") -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "HOME": str(shared_dir),
            "LOTAS_CONFIG_FILE": str(shared_dir / "lotas-config.toml"),
            "LOTAS_DATA_DIR": str(shared_dir / "data"),
        }
        return subprocess.run(
            [sys.executable, "-c", _AS_NOBODY, warm, code], capture_output=True, text=True,
            env=env, timeout=120, check=False,
        )

    return run


@pytest.fixture
def make_distribution(tmp_path: Path):
    """Write a plugin distribution (package + ``.dist-info`` with entry points) into a folder.

    This is exactly what ``pip install`` leaves in site-packages, so putting the folder on
    ``PYTHONPATH`` makes ``importlib.metadata`` find the plugin through its entry point.
    """

    def make(
        dist_name: str,
        modules: dict[str, str],
        entry_points: dict[str, str],
        version: str = "1.2.3",
    ) -> Path:
        root = tmp_path / f"site-{dist_name}-{version}"
        root.mkdir()
        for relative, source in modules.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dedent(source), encoding="utf-8")
        info = root / f"{dist_name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = ["[lotas]"] + [f"{name} = {target}" for name, target in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (info / "RECORD").write_text("", encoding="utf-8")
        return root

    return make


#: Small broken plugin distributions, one folder each (tests/core/test_broken_plugins.py).
BROKEN_PLUGINS = Path(__file__).parent / "core" / "broken_plugins"


@pytest.fixture
def install_broken(make_distribution):
    """Install the broken distribution ``name`` (a folder of tests/core/broken_plugins) into a
    folder of its own, and return that folder (to put on ``PYTHONPATH`` or ``sys.path``)."""

    def make(name: str) -> Path:
        folder = BROKEN_PLUGINS / name
        project = tomllib.loads((folder / "pyproject.toml").read_text("utf-8"))["project"]
        modules = {
            str(path.relative_to(folder)): path.read_text("utf-8")
            for path in folder.rglob("*.py")
        }
        return make_distribution(project["name"], modules, project["entry-points"]["lotas"],
                                 version=project["version"])

    return make
