"""The core and the plugins never import the UI toolkit (harlequin's test_import_hygiene)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import lotas_core, lotas_plugins
names = []
for package in (lotas_core, lotas_plugins):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        names.append(info.name)
        importlib.import_module(info.name)
heavy = sorted(m for m in ("textual", "rich", "openpyxl") if m in sys.modules)
print(len(names), heavy)
"""


def test_core_and_plugins_do_not_import_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    count, heavy = result.stdout.strip().split(" ", 1)
    assert int(count) > 10  # the walk really imported the modules
    assert "textual" not in heavy
    assert "rich" not in heavy


def test_the_cli_module_does_not_import_textual() -> None:
    probe = "import sys, lotas_core.cli.main; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr
