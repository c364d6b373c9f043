"""Fixtures of the campaign tests: next year's campaign installed as pip would install it, and
archives of its data year."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).with_name("psy_sma_2022_example")
PACKAGE = "lotas_psy_sma_2022_example"
LOTAS = Path(sys.executable).with_name("lotas")


@pytest.fixture(scope="session")
def example_project() -> dict:
    return tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory, example_project: dict) -> Path:
    """The example distribution as ``pip install`` leaves it: its package and a ``.dist-info``
    declaring its entry point, in a folder to put on ``PYTHONPATH``."""
    root = tmp_path_factory.mktemp("site-psy-sma-2022")
    shutil.copytree(EXAMPLE / PACKAGE, root / PACKAGE)
    info = root / f"{PACKAGE}-{example_project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {example_project['name']}\n"
        f"Version: {example_project['version']}\n", encoding="utf-8")
    points = example_project["entry-points"]["lotas"]
    (info / "entry_points.txt").write_text(
        "[lotas]\n" + "".join(f"{name} = {target}\n" for name, target in points.items()),
        encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    return root


@pytest.fixture
def run_lotas(example_site: Path):
    """Run the installed ``lotas`` with the example distribution installed."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(example_site), full_env.get("PYTHONPATH", "")) if p)
        return subprocess.run([str(LOTAS), *args], capture_output=True, text=True,
                              env=full_env, timeout=180)

    return run


@pytest.fixture
def example_installed(example_site: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example installed in this process too (its entry point found by the plugin manager,
    for the screen's pilot tests); returns its module."""
    import importlib

    monkeypatch.syspath_prepend(str(example_site))
    sys.modules.pop(PACKAGE, None)
    return importlib.import_module(PACKAGE)


@pytest.fixture(scope="session")
def archive_2020(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the synthetic PIVOINE archive of 2020 (FINESS 000000001)."""
    from lotas_plugins.psy_sma_2021.demo import write_demo_archive

    folder = tmp_path_factory.mktemp("pivoine-2020")
    write_demo_archive(folder, year=2020)
    return folder
