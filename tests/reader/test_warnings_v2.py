"""Spec section 2 version 2: what a line kept with a warning means for the selection and the row.

PIVOINE warns (does not reject) on an invalid birth date (control 5.0/5.1) and an invalid sequence
start (18.0/18.1); the sequence end and the act date stay blocking.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest


def only_row(selection) -> dict[str, object]:
    rows = selection.patients.to_dict("records")
    assert len(rows) == 1
    return rows[0]


def test_patient_whose_every_birth_date_is_invalid_is_still_selected(select_lines, build):
    raa = build.consultations("PAT01", "01052019", "09082019", birth="31022000")
    sel = select_lines(raa)
    assert sel.funnel["base"] == 1 and sel.funnel["eligible"] == 1
    report = sel.report.files["raa"]
    assert report.lines_kept == 2 and not report.skipped
    assert report.kept_with_warning == {"birth_date": 2}
    assert report.first_lines == {"birth_date": [1, 2]}
    assert pd.isna(only_row(sel)["AGE"])


def test_age_comes_only_from_the_reference_acts_own_birth_date(select_lines, build):
    raa = [
        build.raa("PAT01", "01052019", birth="15061980"),  # readable, but not the reference act
        build.raa("PAT01", "09082019", birth="1506198X"),  # the reference act: unreadable
    ]
    row = only_row(select_lines(raa))
    assert row["DATACTE"] == date(2019, 8, 9)
    assert pd.isna(row["AGE"])  # no borrowing from the other line


def test_invalid_birth_date_on_another_line_leaves_the_age(select_lines, build):
    raa = [
        build.raa("PAT01", "01052019", birth="00000000"),
        build.raa("PAT01", "09082019", birth="15061980"),  # the reference act
    ]
    assert only_row(select_lines(raa))["AGE"] == 39


def test_line_with_invalid_birth_date_counts_as_a_consultation(select_lines, build):
    raa = [build.raa("PAT01", "01052019"), build.raa("PAT01", "09082019", birth="        ")]
    sel = select_lines(raa)
    assert sel.funnel["eligible"] == 1  # two consultations, not one (lt2)


@pytest.mark.parametrize(
    ("end", "excluded"),
    [
        ("10032019", True),  # [end, end] in 2019: full-time stay, excluded
        ("15012020", False),  # [end, end] in 2020: does not meet 2019 (a start in 2019 would)
        ("31122018", False),
    ],
)
def test_fulltime_sequence_with_invalid_start_is_end_to_end(select_lines, build, end, excluded):
    rps = [build.rps("PAT01", "31022019", end, fa="01")]
    sel = select_lines(build.eligible_pair("PAT01"), rps)
    assert sel.funnel["fulltime"] == int(excluded)
    assert sel.report.files["rps"].kept_with_warning == {"sequence_start": 1}
    assert not sel.report.files["rps"].skipped


def test_fulltime_sequence_starting_in_2019_and_ending_in_2020_excludes(select_lines, build):
    """The same line as above with a readable start: the difference is the start alone."""
    rps = [build.rps("PAT01", "20122019", "15012020", fa="01")]
    sel = select_lines(build.eligible_pair("PAT01"), rps)
    assert sel.funnel["fulltime"] == 1


def test_fulltime_sequence_with_invalid_end_is_skipped(select_lines, build):
    rps = [build.rps("PAT01", "01032019", "31022019", fa="01")]
    sel = select_lines(build.eligible_pair("PAT01"), rps)
    assert sel.funnel["fulltime"] == 0 and sel.funnel["eligible"] == 1
    assert sel.report.files["rps"].skipped == {"date": 1}
    assert not sel.report.files["rps"].kept_with_warning


def test_movements_of_a_sequence_with_invalid_start_use_end_to_end(select_lines, build):
    rps = [
        build.rps("PAT01", "01022019", "10022019", fa="20", modent="6", modsort="7"),
        # start unreadable, end 2020-01-15: [end, end] does not meet 2019, so not chosen
        build.rps("PAT01", "XXXXXXXX", "15012020", fa="20", modent="8", modsort="8"),
        # start unreadable, end in 2019 after the first: chosen
        build.rps("PAT02", "00000000", "20112019", fa="20", modent="7", modsort="6"),
    ]
    raa = build.eligible_pair("PAT01") + build.eligible_pair("PAT02")
    sel = select_lines(raa, rps)
    rows = {row["IPP"]: row for row in sel.patients.to_dict("records")}
    assert (rows["PAT01"]["MODENT"], rows["PAT01"]["MODSORT"]) == ("6", "7")
    assert (rows["PAT02"]["MODENT"], rows["PAT02"]["MODSORT"]) == ("7", "6")


@pytest.mark.parametrize(
    ("line_kw", "reason"),
    [
        (dict(act="31022019"), "date"),
        (dict(finess="000000002"), "finess"),
        (dict(fmt="P14"), "format"),
        (dict(nbda="0X"), "length"),
    ],
)
def test_each_blocking_raa_reason_skips_even_with_a_valid_birth_date(
    select_lines, build, line_kw, reason
):
    raa = [build.raa("PAT01", "01052019"), build.raa("PAT01", **{"act": "09082019", **line_kw})]
    sel = select_lines(raa)
    assert sel.report.files["raa"].skipped == {reason: 1}
    assert sel.funnel["lt2"] == 1


def test_blank_ipp_blocks_before_the_birth_date_warning(select_lines, build):
    raa = build.eligible_pair("PAT01") + [build.raa("", "09082019", birth="99999999")]
    report = select_lines(raa).report.files["raa"]
    assert report.skipped == {"ipp": 1}
    assert not report.kept_with_warning


def test_blank_age_goes_blank_through_draw_history_exports_and_payload(tmp_path, lotas, build):
    from openpyxl import load_workbook

    from lotas_core.draws.exports import to_csv, to_tsv, xlsx_bytes
    from lotas_core.draws.service import make_draw, verify_draw
    from lotas_core.settings import Settings
    from lotas_core.transmission.sending import payload_document

    raa = build.consultations("PAT01", "01052019", "09082019", birth="31022000")
    raa += build.eligible_pair("PAT02")
    build.archive(tmp_path / "arch", raa, [])
    settings = Settings(data_dir=tmp_path / "data", finess="000000001")
    record, _ = make_draw(lotas, settings, folder=tmp_path / "arch", seed=bytes(32))
    ages = {row["IPP"]: row["AGE"] for row in record.rows}
    assert ages == {"PAT01": None, "PAT02": 39}
    assert verify_draw(lotas, settings, record.draw_id, tmp_path / "arch") == []
    layout = lotas.campaign("psy_sma_2021").row_layout()
    for text, sep in ((to_tsv(record, layout), "\t"), (to_csv(record, layout), ",")):
        line = next(line for line in text.splitlines() if "PAT01" in line)
        assert line.split(sep)[4] == ""  # AGE
    (tmp_path / "t.xlsx").write_bytes(xlsx_bytes(record, layout))
    sheet = load_workbook(tmp_path / "t.xlsx")["Tirage"]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[2] == "PAT01")
    assert row[4] is None
    sent = {row["NUMTAS"]: row["AGE"] for row in payload_document(record, layout)["rows"]}
    assert sorted(sent.values(), key=str) == [39, None]
