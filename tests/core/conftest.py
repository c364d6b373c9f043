"""Framework test fixtures: run the real ``lotas`` executable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
