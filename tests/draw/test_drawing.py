"""make_draw and verify_draw on a toy campaign (the real campaign is tested end to end in
test_cli_end_to_end.py)."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import pytest

from lotas_core.draws.algorithm import draw
from lotas_core.draws.service import make_draw, open_history, verify_draw
from lotas_core.errors import UsageError

SEED = bytes(range(32))


def _rewrite(archive: Path, edit) -> None:
    with zipfile.ZipFile(archive) as zf:
        lines = zf.read("patients.txt").decode("latin-1").splitlines()
    lines = edit(lines)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("patients.txt", "\n".join(lines) + "\n")
    archive.write_bytes(buffer.getvalue())


def test_make_draw_follows_the_algorithm_and_is_stored(lotas, settings, archives):
    record, selection = make_draw(lotas, settings, folder=archives, seed=SEED)
    eligible = selection.eligible_keys
    assert len(eligible) == 160 and selection.funnel == {"base": 200, "excluded": 40,
                                                         "eligible": 160}
    expected = draw(eligible, SEED, 80, 30)
    assert [row["IPP"] for row in record.rows] == list(expected.ranked)
    assert [row["NUMTAS"] for row in record.rows] == list(range(1, 111))
    assert {row["TYPECH"] for row in record.rows[:80]} == {"P"}
    assert {row["TYPECH"] for row in record.rows[80:]} == {"R"}
    assert record.seed == SEED.hex()
    assert record.population_digest == expected.digest_hex
    assert record.archive_name == selection.archive.name
    assert record.archive_sha256 == selection.archive.sha256
    assert record.notice == ""
    first = record.rows[0]
    assert isinstance(first["AGE"], int) and len(first["DATACTE"]) == 10
    assert open_history(settings).get(record.draw_id) == record
    again, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    assert again.rows == record.rows and again.draw_id != record.draw_id


def test_random_seed_when_none_given(lotas, settings, archives):
    one, _ = make_draw(lotas, settings, folder=archives)
    two, _ = make_draw(lotas, settings, folder=archives)
    assert len(one.seed) == 64 and one.seed != two.seed


def test_small_population_draws_everyone_with_a_notice(cf, lotas, settings, tmp_path):
    folder = tmp_path / "small"
    cf.write_toy_archive(folder, cf.toy_lines(12, excluded_every=0))
    record, _ = make_draw(lotas, settings, folder=folder, seed=SEED)
    assert (record.sizes.main, record.sizes.reserve) == (12, 0)
    assert record.notice == "12 patients éligibles seulement : tous sont tirés"
    assert len(record.rows) == 12


def test_between_80_and_110_fills_the_reserve_partly(cf, lotas, settings, tmp_path):
    folder = tmp_path / "mid"
    cf.write_toy_archive(folder, cf.toy_lines(95, excluded_every=0))
    record, _ = make_draw(lotas, settings, folder=folder, seed=SEED)
    assert (record.sizes.main, record.sizes.reserve) == (80, 15)
    assert "95 patients éligibles seulement" in record.notice


def test_no_eligible_patient_makes_no_draw(cf, lotas, settings, tmp_path):
    folder = tmp_path / "none"
    cf.write_toy_archive(folder, cf.toy_lines(5, excluded_every=1))
    with pytest.raises(UsageError, match="Aucun patient éligible.*aucun tirage"):
        make_draw(lotas, settings, folder=folder, seed=SEED)
    assert open_history(settings).list() == []


def test_verify_identical(lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    assert verify_draw(lotas, settings, record.draw_id, archives) == []


def test_verify_uses_the_recorded_archive_not_a_newer_one(cf, lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    cf.write_toy_archive(archives, cf.toy_lines(50), stamp="31012021093000")
    assert verify_draw(lotas, settings, record.draw_id, archives) == []


def test_verify_names_each_difference_without_ipp(lotas, settings, archives, caplog):
    caplog.set_level(logging.DEBUG)
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    first_key = record.rows[0]["IPP"]
    archive = archives / record.archive_name

    def flip_sex(lines):
        out = []
        for line in lines:
            parts = line.split(";")
            if parts[0] == first_key:
                parts[1] = "2" if parts[1] == "1" else "1"
            out.append(";".join(parts))
        return out

    _rewrite(archive, flip_sex)
    differences = verify_draw(lotas, settings, record.draw_id, archives)
    text = "\n".join(differences)
    assert "SHA-256" in text and record.archive_name in text
    assert any(d.startswith("Ligne NUMTAS 1 : SEXE") for d in differences)
    assert len(differences) == 2
    keys = {row["IPP"] for row in record.rows}
    assert not any(key in text for key in keys)
    assert not any(key in caplog.text for key in keys)


def test_verify_sees_a_changed_population(lotas, settings, archives):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    _rewrite(archives / record.archive_name, lambda lines: lines[:-1])
    text = "\n".join(verify_draw(lotas, settings, record.draw_id, archives))
    assert "Entonnoir : base = 199 au lieu de 200" in text
    assert "Empreinte de la population" in text
    assert "le patient tiré diffère (IPP)" in text


def test_verify_missing_archive_is_a_usage_error(lotas, settings, archives, tmp_path):
    record, _ = make_draw(lotas, settings, folder=archives, seed=SEED)
    with pytest.raises(UsageError, match="introuvable"):
        verify_draw(lotas, settings, record.draw_id, tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="Tirage inconnu"):
        verify_draw(lotas, settings, "000000001-nope", archives)


def test_sizes_come_from_the_sample_sizes_hook(cf, settings, archives):
    from lotas_core import SampleSizes, hookimpl

    class SmallSample:
        @hookimpl
        def lotas_sample_sizes(self, campaign, eligible_count):
            return SampleSizes(10, 5)

    lotas = cf.toy_lotas(("small", SmallSample()))
    record, selection = make_draw(lotas, settings, folder=archives, seed=SEED)
    assert (record.sizes.main, record.sizes.reserve) == (10, 5) and len(record.rows) == 15
    expected = draw(selection.eligible_keys, SEED, 10, 5)
    assert [r["IPP"] for r in record.rows] == list(expected.ranked)
    assert verify_draw(lotas, settings, record.draw_id, archives) == []
    # verified with the default sizes, the draw is flagged
    text = "\n".join(verify_draw(cf.toy_lotas(), settings, record.draw_id, archives))
    assert "Tailles : 80 + 30 attendues, 10 + 5 enregistrées." in text


def test_blank_cells_become_empty_strings(cf):
    import pandas as pd

    from lotas_core.draws.service import draw_rows
    from lotas_core.reading.records import ArchiveInfo, ParseReport
    from lotas_core.selection.pipeline import Selection

    patients = pd.DataFrame([{"IPP": "K1", "SEXE": "1", "AGE": 40, "DATACTE": pd.Timestamp(
        "2019-12-01"), "LISTEDA": "F20", "MODENT": pd.NA, "PROV": None, "MODSORT": float("nan"),
        "DEST": pd.NaT}])
    selection = Selection(
        campaign_id=cf.TOY_CAMPAIGN, finess=cf.TOY_FINESS,
        archive=ArchiveInfo(path=None, name="a.zip", sha256="", size=0), report=ParseReport(),
        funnel={}, patients=patients, key_column="IPP", columns=cf.TOY_COLUMNS,
    )
    (row,) = draw_rows(selection, draw(["K1"], SEED, 1, 0), cf.TOY_LAYOUT)
    assert row == {"NUMTAS": 1, "TYPECH": "P", "IPP": "K1", "SEXE": "1", "AGE": 40, "MODENT": "",
                   "MODSORT": "", "DEST": "", "PROV": "", "LISTEDA": "F20",
                   "DATACTE": "2019-12-01"}


@pytest.mark.parametrize("finess", [None, "12"])
def test_make_draw_and_the_cli_word_a_missing_or_bad_finess_alike(lotas, archives, finess):
    from lotas_core.cli.context import CommandContext
    from lotas_core.settings import load_settings

    settings = load_settings(None, campaign="toy_campaign").settings
    with pytest.raises(UsageError) as from_core:
        make_draw(lotas, settings, folder=archives, finess=finess, seed=SEED)
    with pytest.raises(UsageError) as from_cli:
        CommandContext(_loaded=load_settings(None)).finess(finess)
    assert from_core.value.user_message == from_cli.value.user_message
    assert ("Aucun FINESS" if finess is None else "FINESS invalide") in from_core.value.user_message


def test_no_everyone_drawn_notice_when_a_plugin_draws_fewer(cf, settings, tmp_path):
    from lotas_core import SampleSizes, hookimpl

    class Fewer:
        @hookimpl
        def lotas_sample_sizes(self, campaign, eligible_count):
            return SampleSizes(5, 2)

    lotas = cf.toy_lotas(("fewer", Fewer()))
    folder = tmp_path / "small"
    cf.write_toy_archive(folder, cf.toy_lines(12, excluded_every=0))
    record, _ = make_draw(lotas, settings, folder=folder, seed=SEED)
    assert len(record.rows) == 7
    assert "tous sont tirés" not in record.notice
