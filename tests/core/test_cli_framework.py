"""``lotas plugins``, ``lotas config``, usage errors and third-party plugins, run for real."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).with_name("example_plugin")


def doc_example(marker: str) -> str:
    """The code block that follows ``<!-- example: marker`` in docs/plugin-authors.md."""
    text = (ROOT / "docs" / "plugin-authors.md").read_text(encoding="utf-8")
    after = text[text.index(f"<!-- example: {marker}"):]
    block = after[after.index("```python\n") + len("```python\n"):]
    return block[: block.index("```")]


def plugins_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_plugins_json_lists_the_shipped_plugins_with_hooks_and_versions(run_lotas) -> None:
    data = plugins_json(run_lotas("plugins", "--format", "json"))
    by_name = {p["name"]: p for p in data["plugins"]}
    assert {"psy_sma_2021", "transport_direct", "transport_epop"} <= set(by_name)
    for name in ("psy_sma_2021", "transport_direct", "transport_epop"):
        assert by_name[name]["version"], name
        assert by_name[name]["distribution"] == "lotas"
    assert "lotas_register_campaigns" in by_name["psy_sma_2021"]["hooks"]
    assert "lotas_register_transports" in by_name["transport_direct"]["hooks"]
    assert "lotas_register_transports" in by_name["transport_epop"]["hooks"]
    assert "psy_sma_2021" in data["campaigns"]


def test_disabled_plugin_is_omitted(run_lotas) -> None:
    data = plugins_json(
        run_lotas("plugins", "--format", "json",
                  env={"LOTAS_DISABLED_PLUGINS": '["transport_epop"]'})
    )
    names = {p["name"] for p in data["plugins"]}
    assert "transport_epop" not in names
    assert {"psy_sma_2021", "transport_direct"} <= names
    assert data["disabled"] == ["transport_epop"]


def test_the_documented_example_is_the_tested_distribution() -> None:
    code = (EXAMPLE / "lotas_folder_drop" / "__init__.py").read_text(encoding="utf-8")
    assert doc_example("transport") == code
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    doc = (ROOT / "docs" / "plugin-authors.md").read_text(encoding="utf-8")
    assert f'folder_drop = "{project["entry-points"]["lotas"]["folder_drop"]}"' in doc


def test_third_party_distribution_is_picked_up(run_lotas, make_distribution) -> None:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    code = (EXAMPLE / "lotas_folder_drop" / "__init__.py").read_text(encoding="utf-8")
    site = make_distribution(
        project["name"],
        {"lotas_folder_drop/__init__.py": code},
        project["entry-points"]["lotas"],
        version=project["version"],
    )
    data = plugins_json(run_lotas("plugins", "--format", "json", pythonpath=site))
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["folder_drop"]["distribution"] == "lotas-folder-drop"
    assert by_name["folder_drop"]["version"] == "1.2.3"
    assert by_name["folder_drop"]["hooks"] == ["lotas_register_transports"]
    assert "folder_drop" in data["transports"]
    # The plugin is not only listed: the core uses it.
    result = run_lotas("test-connection", "--transport", "folder_drop", pythonpath=site)
    assert result.returncode == 0, result.stderr
    assert "Dossier accessible" in result.stdout


def test_a_third_party_plugin_that_fails_to_import_gives_one_line(run_lotas, make_distribution):
    site = make_distribution(
        "lotas-broken",
        {"lotas_broken/__init__.py": "import lotas_dependency_that_is_missing\n"},
        {"broken": "lotas_broken"},
    )
    result = run_lotas("plugins", pythonpath=site)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "« broken »" in lines[0] and "lotas-broken" in lines[0]


def test_a_misspelt_hook_in_a_third_party_plugin_gives_one_line(run_lotas, make_distribution):
    site = make_distribution(
        "lotas-typo",
        {"lotas_typo/__init__.py": "from lotas_core import hookimpl\n\n"
                                   "@hookimpl\ndef lotas_register_transport(register):\n"
                                   "    pass\n"},
        {"typo": "lotas_typo"},
    )
    result = run_lotas("plugins", pythonpath=site)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "« typo »" in result.stderr and "lotas_register_transport" in result.stderr


def test_config_shows_the_file_and_the_resolved_values(run_lotas, config_file) -> None:
    config_file.write_text('finess = "750712184"\nfinancing = "OQN"\n', encoding="utf-8")
    result = run_lotas("config", "--format", "json", env={"LOTAS_FINANCING": "DGF"})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["config_file"] == str(config_file)
    assert data["config_file_found"] is True
    assert data["settings"]["finess"] == "750712184"
    assert data["settings"]["financing"] == "DGF"  # the environment wins over the file
    text = run_lotas("config").stdout
    assert str(config_file) in text and "chargé" in text


def test_bad_finess_gives_one_line_and_exit_2(run_lotas) -> None:
    result = run_lotas("config", env={"LOTAS_FINESS": "12"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "FINESS invalide" in result.stderr and "LOTAS_FINESS" in result.stderr


def test_unknown_subcommand_is_a_usage_error(run_lotas) -> None:
    result = run_lotas("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--help" in result.stderr


def test_usage_errors_and_help_are_in_french(run_lotas) -> None:
    result = run_lotas("export")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "lotas export: erreur : arguments obligatoires manquants: DRAW_ID, --format "
        "(voir « lotas export --help »)"
    )
    help_text = run_lotas("--help").stdout
    assert help_text.startswith("utilisation : lotas")
    assert "affiche cette aide" in help_text and "show this help" not in help_text
