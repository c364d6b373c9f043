"""Framework test fixtures: run the real ``lotas`` executable, build plugin distributions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

LOTAS = Path(sys.executable).with_name("lotas")


@pytest.fixture
def run_lotas():
    """Run the installed ``lotas`` command in a subprocess; returns the CompletedProcess."""

    def run(*args: str, env: dict[str, str] | None = None, pythonpath: Path | None = None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        if pythonpath is not None:
            full_env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(pythonpath), full_env.get("PYTHONPATH", "")) if p
            )
        return subprocess.run(
            [str(LOTAS), *args], capture_output=True, text=True, env=full_env, timeout=120
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
        root = tmp_path / f"site-{dist_name}"
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
