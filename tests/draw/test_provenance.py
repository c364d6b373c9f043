"""Each draw records which code made it; verify compares that first; old entries still read."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd

from lotas_core import EligibilityRule, __version__, hookimpl
from lotas_core.draws.exports import render, to_dict
from lotas_core.draws.provenance import compare, draw_provenance
from lotas_core.draws.service import make_draw, open_history, verify_draw

SEED = bytes(range(32))


class SiteRule(EligibilityRule):
    id = "minor"
    label_fr = "exclusion locale"
    order = 15

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["AGE"].astype(int) < 30


class SitePlugin:
    @hookimpl
    def lotas_eligibility_rules(self, campaign):
        return [SiteRule()]


def test_a_draw_records_lotas_the_campaign_its_rules_and_the_plugins(cf, lotas, settings,
                                                                     archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    provenance = open_history(settings).get(record.draw_id).provenance
    assert provenance == record.provenance
    assert provenance["lotas_version"] == __version__
    campaign = provenance["campaign"]
    assert campaign["id"] == cf.TOY_CAMPAIGN and campaign["plugin"] == "toy"
    assert len(campaign["parameters_sha256"]) == 64
    assert campaign["parameters"]["year"] == 2019
    assert provenance["rules"] == [{"id": "excluded", "order": 10, "plugin": "toy",
                                    "distribution": None, "version": None}]
    names = [plugin["name"] for plugin in provenance["plugins"]]
    assert names == ["lotas_core.plugin_host.defaults", "toy"]
    # it is part of the hashed entry: the history is whole, and says so
    assert open_history(settings).check() == []
    assert "provenance" in json.loads(
        sqlite3.connect(settings.history_path).execute(
            "SELECT entry_json FROM draws").fetchone()[0])


def test_a_rule_added_since_the_draw_fails_verify_in_one_line(cf, lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    with_site = cf.toy_lotas(("site_rules", SitePlugin()))
    differences = verify_draw(with_site, settings, record.draw_id, archives)
    assert list(differences) == ["règles différentes depuis le tirage : + minor (site_rules)"]
    # back without the site rule, the draw is reproduced
    assert verify_draw(lotas, settings, record.draw_id, archives) == []


def test_a_draw_made_with_a_rule_since_removed_says_so(cf, settings, archives):
    with_site = cf.toy_lotas(("site_rules", SitePlugin()))
    record, _ = make_draw(with_site, settings, folder=archives, seed=SEED)
    differences = verify_draw(cf.toy_lotas(), settings, record.draw_id, archives)
    assert list(differences) == ["règles différentes depuis le tirage : - minor (site_rules)"]


def test_changed_parameters_are_named(cf, lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    now = draw_provenance(lotas, lotas.campaign(cf.TOY_CAMPAIGN))
    now["campaign"]["parameters"] = {**now["campaign"]["parameters"], "year": 2020}
    now["campaign"]["parameters_sha256"] = "0" * 64
    result = compare(record.provenance, now)
    assert result.blocking == "paramètres de la campagne différents depuis le tirage (year)"


def test_new_versions_alone_are_notes_not_differences(cf, lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    now = json.loads(json.dumps(record.provenance))
    now["lotas_version"] = "9.9.9"
    now["rules"][0]["version"] = "2.0"
    now["plugins"].append({"name": "audit", "distribution": "lotas-audit", "version": "1.0"})
    result = compare(record.provenance, now)
    assert result.blocking == ""
    assert any("lotas 9.9.9" in note for note in result.notes)
    assert any("+ audit (lotas-audit 1.0)" in note for note in result.notes)


def test_entries_without_provenance_still_read_check_and_verify(cf, lotas, settings, archives):
    """An entry written before provenance was recorded: same hash, same check, verify notes."""
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    history = open_history(settings)
    content = json.loads(sqlite3.connect(history.path).execute(
        "SELECT entry_json FROM draws").fetchone()[0])
    content.pop("provenance")
    # rewrite it as an older lotas wrote it, in a fresh history (hash and digests recomputed)
    old = cf.History(settings.data_dir / "old.sqlite3")
    old_record = old.add_draw(
        finess=record.finess, financing=record.financing, campaign_id=record.campaign_id,
        archive_name=record.archive_name, archive_sha256=record.archive_sha256,
        archive_size=record.archive_size, sizes=record.sizes, funnel=record.funnel,
        parse_report=record.parse_report, algorithm=record.algorithm, seed=record.seed,
        population_digest=record.population_digest, rows=record.rows,
    )
    stored = json.loads(sqlite3.connect(old.path).execute(
        "SELECT entry_json FROM draws").fetchone()[0])
    assert "provenance" not in stored
    assert old.check() == []
    read = old.get(old_record.draw_id)
    assert read.provenance is None and read.rows == record.rows
    assert to_dict(read, cf.TOY_LAYOUT)["provenance"] is None
    assert "Non enregistrée" in render(read, "html", cf.TOY_LAYOUT).decode("utf-8")


def test_an_edited_provenance_is_caught_by_history_check(cf, lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    conn = sqlite3.connect(settings.history_path)
    conn.execute("DROP TRIGGER draws_no_update")
    conn.execute("UPDATE draws SET entry_json = replace(entry_json, '\"excluded\",\"order\"', "
                 "'\"other\",\"order\"')")
    conn.commit()
    (problem,) = open_history(settings).check()
    assert record.draw_id in problem and "champ(s) provenance" in problem


def test_the_report_and_the_json_show_the_provenance(cf, lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    page = render(record, "html", cf.TOY_LAYOUT).decode("utf-8")
    assert "<h2>Provenance</h2>" in page
    assert record.provenance["campaign"]["parameters_sha256"] in page
    assert "<td>excluded</td>" in page and f"Version de lotas</th><td>{__version__}" in page
    assert to_dict(record, cf.TOY_LAYOUT)["provenance"] == record.provenance


def test_the_parameters_digest_does_not_depend_on_the_hash_seed() -> None:
    """The 2021 campaign's parameters hold sets: their digest is the same in every process."""
    import os
    import subprocess
    import sys

    code = ("from lotas_core.plugin_host.facade import Lotas\n"
            "from lotas_core.draws.provenance import draw_provenance\n"
            "lotas = Lotas.from_settings(None)\n"
            "campaign = lotas.campaign('psy_sma_2021')\n"
            "print(draw_provenance(lotas, campaign)['campaign']['parameters_sha256'])\n")
    digests = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}, timeout=60).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_the_xlsx_parameters_sheet_shows_the_provenance(cf, lotas, settings, archives) -> None:
    import io

    from openpyxl import load_workbook

    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    sheet = load_workbook(io.BytesIO(render(record, "xlsx", cf.TOY_LAYOUT)))["Paramètres"]
    cells = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert cells["Version de lotas"] == __version__
    assert cells["Règles appliquées"] == "excluded (toy)"
    assert cells["Empreinte des paramètres"] == record.provenance["campaign"]["parameters_sha256"]
