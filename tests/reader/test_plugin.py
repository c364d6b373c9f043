"""The psy_sma_2021 plugin as the core sees it: registrations, rules, parameters."""

from __future__ import annotations

import pandas as pd
import pytest


def test_registrations(lotas):
    campaign = lotas.campaign("psy_sma_2021")
    assert campaign.year == 2019 and campaign.period_month == 12
    assert (campaign.default_sizes.main, campaign.default_sizes.reserve) == (80, 30)
    source = lotas.record_source(campaign.record_source)
    assert source.id == "pivoine_in_2019"
    rules = lotas.eligibility_rules(campaign)
    assert [(rule.id, rule.order) for rule in rules] == [
        ("fulltime", 10), ("lt2", 20), ("noh2", 30), ("delay", 40)
    ]
    assert all(rule.label_fr for rule in rules)


def test_rules_only_for_their_campaign():
    from lotas_plugins import psy_sma_2021

    class Other:
        id = "other"

    assert psy_sma_2021.lotas_eligibility_rules(campaign=Other()) is None


def test_the_campaign_declares_the_spec_columns(lotas):
    campaign = lotas.campaign("psy_sma_2021")
    # spec section 7: the eligible CSV header and the clipboard TSV header
    assert [column.name for column in campaign.patient_columns] == [
        "IPP", "SEXE", "AGE", "DATACTE", "LISTEDA", "MODENT", "PROV", "MODSORT", "DEST"]
    layout = campaign.row_layout()
    assert layout.names == ("NUMTAS", "TYPECH", "IPP", "SEXE", "AGE", "MODENT", "MODSORT",
                            "DEST", "PROV", "LISTEDA", "DATACTE")
    # spec section 8: what leaves the hospital, never the IPP
    assert layout.transmitted == ("NUMTAS", "TYPECH", "SEXE", "AGE", "MODENT", "MODSORT", "DEST",
                                  "PROV", "LISTEDA", "DATACTE")
    assert layout.identifying == {"IPP"} and campaign.key() == "IPP"
    assert campaign.title == "LOTAS PSY SMA 2021"
    assert campaign.archive_folder_name() == "PSY"


def test_entry_point_is_declared():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="lotas")}
    assert names["psy_sma_2021"] == "lotas_plugins.psy_sma_2021"


def test_rules_on_facts():
    from lotas_plugins.psy_sma_2021.rules import default_rules

    day = pd.Timestamp
    facts = pd.DataFrame(
        {
            "fulltime": [True, False, False, False, False],
            "consultations": [5, 1, 3, 3, 3],
            "first_consultation": [day("2019-01-01")] * 5,
            "last_h2_consultation": [day("2019-09-01"), pd.NaT, pd.NaT, day("2019-03-31"),
                                     day("2019-04-01")],
        },
        index=pd.Index(["A", "B", "C", "D", "E"], name="IPP"),
    )
    fulltime, lt2, noh2, delay = default_rules()
    assert fulltime.excludes(facts).tolist() == [True, False, False, False, False]
    assert lt2.excludes(facts).tolist() == [False, True, False, False, False]
    assert noh2.excludes(facts).tolist() == [False, True, True, False, False]
    # 2019-01-01 -> 2019-03-31 is 89 days, -> 2019-04-01 is 90 days
    assert delay.excludes(facts).tolist() == [False, False, False, True, False]


def test_the_2021_parameters_are_the_specs_values():
    from datetime import date

    from lotas_plugins.psy_sma_2021 import PSY_SMA_2021

    p = PSY_SMA_2021
    assert (p.campaign_id, p.data_year, p.period_month) == ("psy_sma_2021", 2019, 12)
    assert (p.activity_form, p.consultation_place, p.consultation_nature) == ("30", "L01", "E")
    assert p.consultation_categories == {"M", "X"} and p.fulltime_forms == {"01"}
    assert (p.min_consultations, p.min_follow_up_days) == (2, 90)
    assert (p.main_size, p.reserve_size, p.archive_subfolder) == (80, 30, "PSY")
    assert p.second_half_from == date(2019, 7, 1) and p.source_id == "pivoine_in_2019"


@pytest.mark.parametrize("change", [
    {"second_half_start": "2020-07-01"},  # not in the data year
    {"main_size": 0, "reserve_size": 0},
    {"min_consultations": 0},
    {"campaign_id": "PSY SMA"},
    {"consultation_categories": []},
    {"unknown_value": 1},
])
def test_parameters_are_validated(change):
    from pydantic import ValidationError

    from lotas_plugins.psy_sma_2021 import PSY_SMA_2021

    with pytest.raises(ValidationError):
        PSY_SMA_2021.replace(**change)


def test_rule_labels_and_the_years_derived_values_follow_the_parameters():
    from datetime import date

    from lotas_plugins.psy_sma_2021 import PSY_SMA_2021, PsySmaCampaign
    from lotas_plugins.psy_sma_2021.rules import default_rules

    p = PSY_SMA_2021.replace(campaign_id="x", data_year=2020, min_consultations=3,
                             min_follow_up_days=45, second_half_start=date(2020, 6, 1))
    assert [rule.label_fr for rule in default_rules(p)] == [
        "hospitalisation à temps plein", "moins de 3 entretiens médicaux",
        "aucun entretien à partir du 01/06/2020", "moins de 45 jours entre entretiens"]
    assert [rule.label_fr for rule in default_rules(PSY_SMA_2021)] == [
        "hospitalisation à temps plein", "moins de 2 entretiens médicaux",
        "aucun entretien au 2e semestre", "moins de 90 jours entre entretiens"]
    assert p.source_id == "pivoine_in_2020" and p.second_half_from == date(2020, 6, 1)
    campaign = PsySmaCampaign(p)
    assert (campaign.id, campaign.year, campaign.record_source) == ("x", 2020, "pivoine_in_2020")
    assert PSY_SMA_2021.campaign_id == "psy_sma_2021"  # replace() made a new value


def test_the_facts_contract_on_the_demo_archive(lotas, tmp_path):
    from lotas_plugins.psy_sma_2021 import FACT_COLUMNS
    from lotas_plugins.psy_sma_2021.demo import write_demo_archive

    write_demo_archive(tmp_path, raa_lines=6000, seed=7)
    campaign = lotas.campaign("psy_sma_2021")
    records = lotas.record_source(campaign.record_source).read(tmp_path, "000000001", campaign)
    facts = campaign.patient_facts(records)
    assert {name: str(facts[name].dtype) for name in FACT_COLUMNS} == {
        name: dtype for name, (dtype, _) in FACT_COLUMNS.items()}
    assert facts.index.is_unique and facts.index.dtype == object
    with_act = facts["last_h2_consultation"].notna()
    assert with_act.any() and (~with_act).any()
    known = facts["birth_date"].notna()
    assert not (known & ~with_act).any()  # a birth date comes from the reference act
    assert known.sum() >= with_act.sum() - 10  # unreadable ones are rare in the demo
    assert facts["age_at_reference"].isna().tolist() == (~known).tolist()
    # the row's AGE is the facts' age at the reference act
    eligible = facts.index[with_act.to_numpy()][:50]
    rows = campaign.patient_rows(records, facts, eligible).set_index("IPP")
    assert (rows["AGE"] == facts.loc[rows.index, "age_at_reference"].astype(int)).all()
    assert (pd.to_datetime(rows["DATACTE"]) == facts.loc[rows.index, "last_h2_consultation"]).all()
