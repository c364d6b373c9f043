"""The psy_sma_2021 plugin as the core sees it: registrations, rules, parameters."""

from __future__ import annotations

import pandas as pd


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
