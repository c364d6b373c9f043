"""Spec section 4: the row of an eligible patient (reference act, age, LISTEDA, RPS movements)."""

from __future__ import annotations

from datetime import date

import pytest


def row(selection, ipp: str = "PAT01") -> dict[str, object]:
    rows = selection.patients.to_dict("records")
    return next(item for item in rows if item["IPP"] == ipp)


def test_row_columns_and_types(select_lines, build):
    sel = select_lines(build.eligible_pair("PAT01"))
    assert list(sel.patients.columns) == [
        "IPP", "SEXE", "AGE", "DATACTE", "LISTEDA", "MODENT", "PROV", "MODSORT", "DEST"
    ]
    item = row(sel)
    assert item["DATACTE"] == date(2019, 8, 9)
    assert type(item["DATACTE"]) is date
    assert isinstance(item["AGE"], int) and item["AGE"] == 39
    assert item["SEXE"] == "1"
    assert item["LISTEDA"] == "F200"
    assert (item["MODENT"], item["PROV"], item["MODSORT"], item["DEST"]) == ("", "", "", "")


def test_reference_act_is_the_latest_h2_consultation(select_lines, build):
    raa = [
        build.raa("PAT01", "01022019", dp="F100"),
        build.raa("PAT01", "20122019", dp="F999", categ="I"),  # later, but not medical
        build.raa("PAT01", "10112019", dp="F311", sexe="2"),
        build.raa("PAT01", "05082019", dp="F322"),
        build.raa("PAT01", "31122019", dp="F401", fa="31"),  # later, but FA 31
    ]
    item = row(select_lines(raa))
    assert item["DATACTE"] == date(2019, 11, 10)
    assert item["LISTEDA"] == "F311"
    assert item["SEXE"] == "2"


def test_ties_on_the_reference_date_take_the_first_in_file_order(select_lines, build):
    raa = [
        build.raa("PAT01", "01022019", dp="F100"),
        build.raa("PAT01", "10112019", dp="F311", das=["Z590"], sexe="2", birth="01011990"),
        build.raa("PAT01", "10112019", dp="F322", sexe="1", birth="01011980"),
    ]
    item = row(select_lines(raa))
    assert (item["LISTEDA"], item["SEXE"], item["AGE"]) == ("F311 Z590", "2", 29)


@pytest.mark.parametrize(
    ("birth", "age"),
    [("15091980", 39), ("16091980", 38), ("14091980", 39), ("15092019", 0)],
)
def test_age_in_completed_years_birthday_on_datacte_counts(select_lines, build, birth, age):
    raa = [build.raa("PAT01", "01052019", birth=birth), build.raa("PAT01", "15092019", birth=birth)]
    assert row(select_lines(raa))["AGE"] == age


def test_leap_day_birthdays():
    import numpy as np

    from lotas_plugins.psy_sma_2021.campaign import completed_years, completed_years_array

    born = date(2000, 2, 29)
    # Decision: in a non-leap year the birthday is reached on 1 March, not on 28 February.
    assert completed_years(born, date(2019, 2, 28)) == 18
    assert completed_years(born, date(2019, 3, 1)) == 19
    assert completed_years(born, date(2020, 2, 29)) == 20
    assert completed_years(born, date(2020, 2, 28)) == 19
    births = np.array(["2000-02-29"] * 4, dtype="M8[D]")
    acts = np.array(["2019-02-28", "2019-03-01", "2020-02-29", "2020-02-28"], dtype="M8[D]")
    assert completed_years_array(births, acts).tolist() == [18, 19, 20, 19]


def test_leap_day_birth_is_a_valid_birth_date(select_lines, build):
    raa = [build.raa("PAT01", "01052019", birth="29022000"),
           build.raa("PAT01", "15092019", birth="29022000")]
    sel = select_lines(raa)
    assert row(sel)["AGE"] == 19
    assert not sel.report.files["raa"].skipped


def test_listeda_trims_drops_blanks_and_duplicates(select_lines, build):
    raa = [
        build.raa("PAT01", "01052019"),
        build.raa("PAT01", "15092019", dp="F200", das=["F200", "", "Z590", "F329", "Z590"]),
    ]
    assert row(select_lines(raa))["LISTEDA"] == "F200 Z590 F329"


def test_listeda_with_blank_dp(select_lines, build):
    raa = [build.raa("PAT01", "01052019"), build.raa("PAT01", "15092019", dp="", das=["Z590"])]
    assert row(select_lines(raa))["LISTEDA"] == "Z590"


def test_movements_come_from_the_rps_line_ending_last_in_2019(select_lines, build):
    rps = [
        build.rps("PAT01", "01022019", "10022019", fa="20", modent="6", prov="1"),
        build.rps("PAT01", "01102019", "20102019", fa="20", modent="7", prov="4", modsort="6",
                  dest="1"),
        build.rps("PAT01", "01042019", "15042019", fa="21", modent="8"),
        build.rps("PAT01", "05012020", "20012020", fa="20", modent="0", prov="5"),  # 2020: ignored
        build.rps("PAT02", "01122019", "31122019", fa="20", modent="0", prov="5"),  # other patient
    ]
    item = row(select_lines(build.eligible_pair("PAT01"), rps))
    assert (item["MODENT"], item["PROV"], item["MODSORT"], item["DEST"]) == ("7", "4", "6", "1")


def test_movement_ties_take_the_last_in_file_order(select_lines, build):
    rps = [
        build.rps("PAT01", "01102019", "20102019", fa="20", modent="6", prov="1"),
        build.rps("PAT01", "05102019", "20102019", fa="20", modent="7", prov="4"),
    ]
    item = row(select_lines(build.eligible_pair("PAT01"), rps))
    assert (item["MODENT"], item["PROV"]) == ("7", "4")


def test_movements_blank_without_rps_line_of_2019(select_lines, build):
    rps = [build.rps("PAT01", "01102018", "20102018", fa="01", modent="6", prov="1")]
    item = row(select_lines(build.eligible_pair("PAT01"), rps))
    assert (item["MODENT"], item["PROV"], item["MODSORT"], item["DEST"]) == ("", "", "", "")


def test_rows_are_sorted_by_ipp(select_lines, build):
    raa = [line for ipp in ("PAT09", "PAT10", "PAT02", "A") for line in build.eligible_pair(ipp)]
    sel = select_lines(raa)
    assert list(sel.patients["IPP"]) == ["A", "PAT02", "PAT09", "PAT10"]
    assert sel.eligible_keys == ["A", "PAT02", "PAT09", "PAT10"]
