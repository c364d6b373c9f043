"""Next year's campaign, the worked example of docs/plugin-authors.md, run end to end.

``psy_sma_2022_example`` is a separate distribution (2020 data, 60 days, 60 + 20, one more rule:
under 18 at the reference act) of at most 80 lines that imports only public names.
"""

from __future__ import annotations

import ast
import html
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).with_name("psy_sma_2022_example")
SOURCE = EXAMPLE / "lotas_psy_sma_2022_example" / "__init__.py"
CAMPAIGN = "psy_sma_2022_example"
FINESS = "000000001"
MINOR_LABEL = "moins de 18 ans à l'acte de référence"

pytestmark = pytest.mark.timeout(300)


def doc_example(marker: str) -> str:
    """The code block that follows ``<!-- example: marker`` in docs/plugin-authors.md."""
    text = (ROOT / "docs" / "plugin-authors.md").read_text(encoding="utf-8")
    after = text[text.index(f"<!-- example: {marker}"):]
    block = after[after.index("```python\n") + len("```python\n"):]
    return block[: block.index("```")]


def test_the_example_is_small_public_and_the_documented_one():
    code = SOURCE.read_text(encoding="utf-8")
    assert len(code.splitlines()) <= 80
    assert doc_example("campaign") == code
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom):
            assert node.module.split(".")[0] in ("__future__", "typing", "lotas_core",
                                                 "lotas_plugins", "pandas"), node.module
            assert not any(part.startswith("_") for part in node.module.split(".")
                           if part != "__future__")
            assert not any(alias.name.startswith("_") for alias in node.names), ast.dump(node)
    pyproject = (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    assert 'psy_sma_2022_example = "lotas_psy_sma_2022_example:plugin"' in doc_example_toml()
    assert 'psy_sma_2022_example = "lotas_psy_sma_2022_example:plugin"' in pyproject


def doc_example_toml() -> str:
    text = (ROOT / "docs" / "plugin-authors.md").read_text(encoding="utf-8")
    after = text[text.index("<!-- example: campaign"):]
    block = after[after.index("```toml\n") + len("```toml\n"):]
    return block[: block.index("```")]


def test_the_values_and_the_rules(example_installed):
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.plugin_host.manager import get_plugin_manager

    lotas = Lotas(get_plugin_manager())  # the example is installed (its entry point)
    campaign = lotas.campaign(CAMPAIGN)
    assert (campaign.year, campaign.title) == (2020, "LOTAS PSY SMA 2022 (exemple)")
    assert (campaign.default_sizes.main, campaign.default_sizes.reserve) == (60, 20)
    assert lotas.record_source(campaign.record_source).id == "pivoine_in_2020"
    labels = lotas.funnel_labels(CAMPAIGN)
    assert labels == {
        "base": "vus en 2020 (base)",
        "fulltime": "exclus : hospitalisation à temps plein",
        "lt2": "exclus : moins de 2 entretiens médicaux",
        "noh2": "exclus : aucun entretien au 2e semestre",
        "delay": "exclus : moins de 60 jours entre entretiens",
        "minor": f"exclus : {MINOR_LABEL}",
        "eligible": "éligibles",
    }
    # the 2021 campaign is untouched beside it
    delay_2021 = lotas.funnel_labels("psy_sma_2021")["delay"]
    assert delay_2021 == "exclus : moins de 90 jours entre entretiens"


def test_the_command_line_end_to_end(run_lotas, archive_2020, tmp_path, example_project):
    plugins = json.loads(run_lotas("plugins", "--format", "json").stdout)
    listed = {p["name"]: p for p in plugins["plugins"]}[CAMPAIGN]
    assert listed["distribution"] == example_project["name"]
    assert listed["version"] == example_project["version"]
    assert listed["module"] == f"lotas_plugins.psy_sma_2021.PsySmaPlugin({CAMPAIGN})"
    assert "lotas_eligibility_rules" in listed["hooks"]
    assert CAMPAIGN in plugins["campaigns"]
    detail = plugins["campaign_details"][CAMPAIGN]
    assert (detail["title"], detail["year"]) == ("LOTAS PSY SMA 2022 (exemple)", 2020)
    assert detail["sizes"] == {"main": 60, "reserve": 20}
    assert detail["archive_subfolder"] == "PSY-2022"
    assert detail["funnel"]["minor"] == f"exclus : {MINOR_LABEL}"
    table = run_lotas("plugins").stdout
    assert "psy_sma_2022_example : LOTAS PSY SMA 2022 (exemple), données 2020, 60 + 20" in table
    assert "exclus : moins de 60 jours entre entretiens" in table

    demo = run_lotas("demo-archive", str(tmp_path / "demo"), "--campaign", CAMPAIGN)
    assert demo.returncode == 0, demo.stderr
    assert Path(demo.stdout.strip()).name == f"{FINESS}.2020.12.31012021093000.in.zip"

    eligible = run_lotas("eligible", "--archives", str(archive_2020), "--finess", FINESS,
                         "--campaign", CAMPAIGN, "--format", "json")
    assert eligible.returncode == 0, eligible.stderr
    data = json.loads(eligible.stdout)
    funnel = data["funnel"]
    assert list(funnel) == ["base", "fulltime", "lt2", "noh2", "delay", "minor", "eligible"]
    assert funnel["minor"] > 0 and funnel["eligible"] >= 80
    assert funnel["base"] == sum(v for k, v in funnel.items() if k != "base")
    assert all(patient["AGE"] >= 18 for patient in data["patients"])
    assert all(patient["DATACTE"] >= "2020-07-01" for patient in data["patients"])
    # the same archive under the 2021 campaign: the 2019 archive is what it looks for
    wrong = run_lotas("eligible", "--archives", str(archive_2020), "--finess", FINESS)
    assert wrong.returncode == 2 and "2019" in wrong.stderr

    draw = run_lotas("draw", "--archives", str(archive_2020), "--finess", FINESS,
                     "--campaign", CAMPAIGN, "--format", "json")
    assert draw.returncode == 0, draw.stderr
    record = json.loads(draw.stdout)
    assert record["campaign_id"] == CAMPAIGN and record["funnel"] == funnel
    assert record["sizes"] == {"main": 60, "reserve": 20} and len(record["rows"]) == 80
    draw_id = record["draw_id"]

    # verify takes the draw's own campaign, not the settings' (still psy_sma_2021)
    verify = run_lotas("verify", draw_id, "--archives", str(archive_2020))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "vérifié" in verify.stdout

    report = tmp_path / "pv.html"
    export = run_lotas("export", draw_id, "--format", "html", "--output", str(report))
    assert export.returncode == 0, export.stderr
    page = report.read_text(encoding="utf-8")
    assert html.escape(MINOR_LABEL) in page and "moins de 60 jours entre entretiens" in page
    assert "NB DOSSIERS TAS : 80 [ECHANT PRINC : 60 + ECHANT RESERV : 20]" in page
    tsv = run_lotas("export", draw_id, "--format", "tsv").stdout.splitlines()
    assert len(tsv) == 81 and tsv[0].startswith("NUMTAS\tTYPECH\tIPP")


def test_the_campaign_setting_chooses_it_everywhere(run_lotas, archive_2020, data_dir):
    """``campaign = "psy_sma_2022_example"``: its own default archive folder, no --campaign."""
    import shutil

    folder = data_dir / "archives" / "PSY-2022"
    shutil.copytree(archive_2020, folder)
    env = {"LOTAS_CAMPAIGN": CAMPAIGN, "LOTAS_FINESS": FINESS}
    config = json.loads(run_lotas("config", "--format", "json", env=env).stdout)
    assert config["archive_folder"] == str(folder)
    draw = run_lotas("draw", "--format", "json", env=env)
    assert draw.returncode == 0, draw.stderr
    assert json.loads(draw.stdout)["campaign_id"] == CAMPAIGN
    # ``lotas --campaign ID`` (the screen's option) replaces the setting for any command
    config = json.loads(run_lotas("--campaign", CAMPAIGN, "config", "--format", "json").stdout)
    assert config["settings"]["campaign"] == CAMPAIGN and config["archive_folder"] == str(folder)


def test_the_screen_shows_the_new_campaign(example_installed, archive_2020, data_dir):
    import asyncio
    import shutil

    from textual.widgets import Static

    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.plugin_host.manager import get_plugin_manager
    from lotas_core.settings import load_settings
    from lotas_tui.app import create_app

    shutil.copytree(archive_2020, data_dir / "archives" / "PSY-2022")
    settings = load_settings(None, campaign=CAMPAIGN, finess=FINESS).settings
    lotas = Lotas(get_plugin_manager())  # the example is installed (its entry point)

    async def scenario() -> None:
        app = create_app(settings, lotas=lotas, draw_seed=bytes(32))
        async with app.run_test(size=(120, 40)) as pilot:
            assert str(app.screen.query_one("#title", Static).render()) == (
                "LOTAS PSY SMA 2022 (exemple)")
            await pilot.press("n")
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
            footer = str(app.screen.query_one("#draw-footer", Static).render())
            assert footer == "NB DOSSIERS TAS : 80 [ECHANT PRINC : 60 + ECHANT RESERV : 20]"
            funnel = str(app.screen.query_one("#funnel", Static).render())
            assert f"exclus : {MINOR_LABEL}" in funnel
            assert "exclus : moins de 60 jours entre entretiens" in funnel

    asyncio.run(scenario())
