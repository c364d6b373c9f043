"""The explicit package list in pyproject.toml covers every package folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    mapping = config["tool"]["setuptools"]["package-dir"]
    found = set()
    for import_name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__snapshots__" in init.parts:
                continue
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join((import_name, *relative.parts)))
    assert found == listed


def test_shipped_plugins_are_declared_as_entry_points() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["entry-points"]["lotas"] == {
        "psy_sma_2021": "lotas_plugins.psy_sma_2021",
        "transport_direct": "lotas_plugins.transport_direct",
        "transport_epop": "lotas_plugins.transport_epop",
    }
