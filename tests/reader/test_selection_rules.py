"""Spec section 3 line by line: base population, consultations, exclusions and their order."""

from __future__ import annotations

import pytest

from lotas_core.errors import ArchiveError

KEYS = ["base", "fulltime", "lt2", "noh2", "delay", "eligible"]


def check_funnel(selection) -> dict[str, int]:
    funnel = selection.funnel
    assert list(funnel) == KEYS
    assert funnel["base"] == sum(funnel[key] for key in KEYS[1:])
    return funnel


def test_eligible_patient_gives_one_row(select_lines, build):
    sel = select_lines(build.eligible_pair("PAT01"))
    assert check_funnel(sel) == dict(base=1, fulltime=0, lt2=0, noh2=0, delay=0, eligible=1)
    assert list(sel.patients["IPP"]) == ["PAT01"]


@pytest.mark.parametrize(("last", "funnel_key"), [("30072019", "eligible"), ("29072019", "delay")])
def test_gap_of_90_days_is_eligible_89_is_not(select_lines, build, last, funnel_key):
    # 01/05/2019 + 90 days = 30/07/2019
    sel = select_lines(build.consultations("PAT01", "01052019", last))
    assert check_funnel(sel)[funnel_key] == 1


@pytest.mark.parametrize(("last", "funnel_key"), [("30062019", "noh2"), ("01072019", "delay")])
def test_second_half_starts_on_1_july(select_lines, build, last, funnel_key):
    # 15/06 -> 30/06 has no H2 consultation; 15/06 -> 01/07 has one, but only 16 days later.
    sel = select_lines(build.consultations("PAT01", "15062019", last))
    assert check_funnel(sel)[funnel_key] == 1


def test_h2_on_1_july_with_long_gap_is_eligible(select_lines, build):
    sel = select_lines(build.consultations("PAT01", "01012019", "01072019"))
    assert check_funnel(sel)["eligible"] == 1
    assert sel.patients["DATACTE"][0].isoformat() == "2019-07-01"


def test_category_x_counts_as_medical(select_lines, build):
    lines = [build.raa("PAT01", "01052019", categ="X"), build.raa("PAT01", "01092019", categ="X")]
    assert check_funnel(select_lines(lines))["eligible"] == 1


@pytest.mark.parametrize(
    "change", [{"categ": "I"}, {"categ": "Y"}, {"lieu": "L02"}, {"nature": "G"}]
)
def test_non_medical_acts_do_not_count(select_lines, build, change):
    lines = [build.raa("PAT01", "01052019"), build.raa("PAT01", "01092019", **change)]
    funnel = check_funnel(select_lines(lines))
    assert funnel["base"] == 1
    assert funnel["lt2"] == 1


def test_fa_31_is_not_in_base_and_does_not_count(select_lines, build):
    lines = [
        build.raa("PAT01", "01052019", fa="31"),
        build.raa("PAT01", "01092019", fa="31"),
        *build.consultations("PAT02", "01052019"),
        build.raa("PAT02", "01092019", fa="32"),
    ]
    funnel = check_funnel(select_lines(lines))
    assert funnel["base"] == 1  # PAT02 only, through its FA 30 line
    assert funnel["lt2"] == 1


@pytest.mark.parametrize("date", ["31122018", "01012020"])
def test_acts_outside_2019_are_valid_but_not_counted(select_lines, build, date):
    sel = select_lines(
        [
            build.raa("PAT01", date),
            build.raa("PAT02", date),
            *build.consultations("PAT02", "01092019"),
        ]
    )
    report = sel.report.files["raa"]
    assert report.lines_kept == 3 and not report.skipped
    funnel = check_funnel(sel)
    assert funnel["base"] == 1  # PAT01 has no act in 2019
    assert funnel["lt2"] == 1  # PAT02: the 2018/2020 act is not a 2019 consultation


def test_year_bounds_are_inclusive(select_lines, build):
    sel = select_lines(build.consultations("PAT01", "01012019", "31122019"))
    assert check_funnel(sel)["eligible"] == 1


def test_two_acts_on_the_same_day_count_twice(select_lines, build):
    # Both on the same day: 2 consultations (not lt2), then delay (gap 0).
    sel = select_lines(build.consultations("PAT01", "01092019", "01092019"))
    assert check_funnel(sel)["delay"] == 1


def test_exclusions_apply_in_order(select_lines, build):
    raa = [
        # fulltime AND lt2: counted under fulltime
        *build.consultations("FT", "01092019"),
        # lt2 AND noh2: counted under lt2
        *build.consultations("LT2", "01032019"),
        # noh2 AND (no H2 so no gap): noh2
        *build.consultations("NOH2", "01022019", "01032019"),
        *build.consultations("DELAY", "01082019", "01092019"),
        *build.eligible_pair("OK"),
    ]
    sel = select_lines(raa, [build.rps("FT", "01032019", "05032019")])
    assert check_funnel(sel) == dict(base=5, fulltime=1, lt2=1, noh2=1, delay=1, eligible=1)
    assert list(sel.patients["IPP"]) == ["OK"]


def test_patient_key_strips_trailing_spaces_and_is_case_sensitive(select_lines, build):
    raa = [
        build.raa("AB12", "01052019"),
        build.raa("AB12   ", "09082019"),  # same key once padded and trimmed
        *build.eligible_pair("ab12"),  # another patient: keys are case-sensitive
        *build.eligible_pair(" AB12"),  # leading spaces are kept
    ]
    sel = select_lines(raa)
    assert check_funnel(sel) == dict(base=3, fulltime=0, lt2=0, noh2=0, delay=0, eligible=3)
    assert sorted(sel.patients["IPP"]) == [" AB12", "AB12", "ab12"]


def test_rps_other_full_time_forms_do_not_exclude(select_lines, build):
    raa = [line for fa in range(1, 8) for line in build.eligible_pair(f"P0{fa}")]
    rps = [build.rps(f"P0{fa}", "01032019", "05032019", fa=f"0{fa}") for fa in range(1, 8)]
    sel = select_lines(raa, rps)
    funnel = check_funnel(sel)
    assert funnel["fulltime"] == 1
    assert "P01" not in set(sel.patients["IPP"])
    assert funnel["eligible"] == 6


@pytest.mark.parametrize(
    ("start", "end", "excluded"),
    [
        ("01122018", "31122018", False),
        ("15122018", "01012019", True),
        ("31122019", "31122019", True),
        ("01012020", "15012020", False),
    ],
)
def test_full_time_stay_must_intersect_2019(select_lines, build, start, end, excluded):
    sel = select_lines(build.eligible_pair("PAT01"), [build.rps("PAT01", start, end)])
    assert check_funnel(sel)["fulltime"] == int(excluded)


def test_invalid_rps_line_does_not_exclude(select_lines, build):
    rps = [build.rps("PAT01", "01032019", "05032019", extra="XX")]  # bad length
    sel = select_lines(build.eligible_pair("PAT01"), rps)
    assert check_funnel(sel)["eligible"] == 1
    assert sel.report.files["rps"].skipped == {"length": 1}


def test_missing_rps_member_is_a_warning_and_excludes_nobody(select_lines, build):
    sel = select_lines(build.eligible_pair("PAT01"), None)
    assert check_funnel(sel)["eligible"] == 1
    assert "rps" not in sel.report.files
    assert any("RPS" in warning for warning in sel.report.warnings)


def test_invalid_raa_lines_do_not_count(select_lines, build):
    raa = [
        build.raa("PAT01", "01052019"),
        build.raa("PAT01", "09082019", finess="000000002"),  # other FINESS: skipped
        build.raa("PAT02", "01052019"),
        build.raa("PAT02", "31092019"),  # bad date: skipped
    ]
    sel = select_lines(raa)
    assert check_funnel(sel) == dict(base=2, fulltime=0, lt2=2, noh2=0, delay=0, eligible=0)
    assert sel.report.files["raa"].skipped == {"finess": 1, "date": 1}


def test_no_valid_line_at_all_gives_an_empty_selection_and_a_warning(select_lines, build):
    sel = select_lines([build.raa("PAT01", "01052019", finess="000000002")])
    assert check_funnel(sel)["base"] == 0
    assert sel.patients.empty
    assert list(sel.patients.columns) == [
        "IPP", "SEXE", "AGE", "DATACTE", "LISTEDA", "MODENT", "PROV", "MODSORT", "DEST"
    ]
    assert any("motif principal : autre FINESS" in warning for warning in sel.report.warnings)


def test_empty_raa_member_is_an_error(select_lines, build):
    with pytest.raises(ArchiveError, match=r"fichier RAA .* est vide"):
        select_lines([], [build.rps("PAT01")])


def test_empty_rps_member_is_a_warning(select_lines, build):
    sel = select_lines(build.eligible_pair("PAT01"), [])
    assert check_funnel(sel)["eligible"] == 1
    assert sel.report.files["rps"].lines_read == 0
    assert any("RPS" in warning and "vide" in warning for warning in sel.report.warnings)


@pytest.mark.parametrize("kind", ["raa", "rps"])
def test_binary_member_is_an_error_not_a_count_of_bad_lines(tmp_path, lotas, build, kind):
    import zipfile

    from lotas_core.selection.pipeline import select

    garbage = bytes(range(256)) * 40 + b"\r\n" * 3
    text = {
        "raa": "".join(line + "\r\n" for line in build.eligible_pair("PAT01")).encode(),
        "rps": (build.rps("PAT02") + "\r\n").encode(),
    }
    text[kind] = garbage
    with zipfile.ZipFile(tmp_path / f"{build.FINESS}.2019.12.{build.TIMESTAMP}.in.zip", "w") as zf:
        zf.writestr(f"{build.FINESS}.2019.12.rpa.txt", text["raa"])
        zf.writestr(f"{build.FINESS}.2019.12.rps.txt", text["rps"])
    with pytest.raises(ArchiveError, match=f"fichier {kind.upper()} .* n'est pas un fichier texte"):
        select(lotas, "psy_sma_2021", tmp_path, build.FINESS)


def test_selection_records_the_archive(select_lines, build):
    import hashlib

    sel = select_lines(build.eligible_pair("PAT01"))
    archive = sel.archive
    assert archive.name == f"{build.FINESS}.2019.12.{build.TIMESTAMP}.in.zip"
    assert archive.sha256 == hashlib.sha256(archive.path.read_bytes()).hexdigest()
    assert archive.size == archive.path.stat().st_size


def test_progress_callback_reaches_the_end(tmp_path, lotas, build):
    from lotas_core.selection.pipeline import select

    build.archive(tmp_path, build.eligible_pair("PAT01"))
    seen: list[tuple[str, float]] = []
    select(lotas, "psy_sma_2021", tmp_path, build.FINESS, progress=lambda s, f: seen.append((s, f)))
    assert seen[-1] == ("Terminé", 1.0)
    assert all(0.0 <= fraction <= 1.0 for _, fraction in seen)
    assert any(stage.startswith("Contrôle des lignes RAA") for stage, _ in seen)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_lf_and_crlf_archives_select_the_same(select_lines, build, eol):
    raa = [*build.eligible_pair("PAT01"), *build.consultations("PAT02", "01092019")]
    sel = select_lines(raa, [build.rps("PAT02", "01032019", "05032019", fa="20")], eol=eol)
    assert check_funnel(sel) == dict(base=2, fulltime=0, lt2=1, noh2=0, delay=0, eligible=1)


def test_the_newest_of_several_archives_is_read(tmp_path, lotas, build):
    from lotas_core.selection.pipeline import select

    build.archive(tmp_path, build.eligible_pair("OLD"), timestamp="15012020100000")
    build.archive(tmp_path, build.eligible_pair("NEW"), timestamp="20200201080000")  # ISO form
    build.archive(tmp_path, build.eligible_pair("OUT"),
                  name=f"{build.FINESS}.2019.12.01032020000000.out.zip")
    build.archive(tmp_path, build.eligible_pair("M11"),
                  name=f"{build.FINESS}.2019.11.01032020000000.in.zip")
    sel = select(lotas, "psy_sma_2021", tmp_path, build.FINESS)
    assert sel.archive.name == f"{build.FINESS}.2019.12.20200201080000.in.zip"
    assert list(sel.patients["IPP"]) == ["NEW"]
