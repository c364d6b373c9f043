"""The layers hold: import-linter's contracts (pyproject.toml, ``[tool.importlinter]``).

The core imports no plugin and no screen (one launch point), the screen imports no plugin, and
plugins import no screen; checked on the real code, and shown to catch a violation.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(config: Path, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), str(config), "--no-cache"], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=120,
    )


def test_the_import_contracts_are_kept() -> None:
    result = lint(ROOT / "pyproject.toml", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_the_contracts_catch_a_core_module_importing_a_plugin(tmp_path: Path) -> None:
    # A miniature of the three packages, with the core importing a plugin inside a function:
    # the same contracts (copied from pyproject.toml) must break.
    for package, source in {
        "lotas_core": "def run():\n    import lotas_plugins.campaign\n",
        "lotas_plugins": "",
        "lotas_tui": "import lotas_core\n",
    }.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(source, encoding="utf-8")
    (tmp_path / "lotas_plugins" / "campaign.py").write_text("", encoding="utf-8")
    (tmp_path / "lotas_tui" / "launch.py").write_text("", encoding="utf-8")
    (tmp_path / "lotas_core" / "cli").mkdir()
    (tmp_path / "lotas_core" / "cli" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "lotas_core" / "cli" / "main.py").write_text(
        "def ui():\n    import lotas_tui.launch\n", encoding="utf-8")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    section = config["tool"]["importlinter"]
    lines = ["[importlinter]", "root_packages =",
             *[f"    {name}" for name in section["root_packages"]]]
    for index, contract in enumerate(section["contracts"]):
        lines.append(f"[importlinter:contract:{index}]")
        for key, value in contract.items():
            if isinstance(value, list):
                lines.append(f"{key} =")
                lines += [f"    {item}" for item in value]
            else:
                lines.append(f"{key} = {value}")
    ini = tmp_path / ".importlinter"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = lint(ini, tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lotas_core -> lotas_plugins.campaign" in result.stdout
    # the core's contract breaks, and the screen's too (it reaches the plugin through the core);
    # the one launch point stays allowed
    assert "1 kept, 2 broken" in result.stdout
    assert "main -> lotas_tui" not in result.stdout
