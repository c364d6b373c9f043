"""The plugin manager and the facade: loading, blocking, validation, registries."""

from __future__ import annotations

import importlib.metadata
import types

import pytest

import lotas_core.plugin_host.manager as plugins_module
from lotas_core.errors import PluginError, UsageError
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.selection.campaign import Campaign, EligibilityRule, SampleSizes


class DummyCampaign(Campaign):
    id = "dummy"
    title = "Campagne factice"
    year = 2019
    record_source = "none"
    default_sizes = SampleSizes(3, 2)

    def patient_facts(self, records):  # pragma: no cover - not run here
        raise NotImplementedError

    def patient_rows(self, records, facts, eligible):  # pragma: no cover - not run here
        raise NotImplementedError


class CampaignPlugin:
    @hookimpl
    def lotas_register_campaigns(self, register):
        register(DummyCampaign())


def lotas_only(*extra) -> Lotas:
    return Lotas(get_plugin_manager(load_entry_points=False, extra_plugins=extra))


def test_core_default_caps_sizes_at_the_eligible_count() -> None:
    lotas = lotas_only(("campaign", CampaignPlugin()))
    campaign = lotas.campaign("dummy")
    assert lotas.sample_sizes(campaign, 100) == SampleSizes(3, 2)
    assert lotas.sample_sizes(campaign, 4) == SampleSizes(3, 1)
    assert lotas.sample_sizes(campaign, 2) == SampleSizes(2, 0)
    assert lotas.sample_sizes(campaign, 0) == SampleSizes(0, 0)


def test_a_plugin_can_override_sample_sizes() -> None:
    class Sizes:
        @hookimpl
        def lotas_sample_sizes(self, campaign, eligible_count):
            return SampleSizes(1, 1)

    lotas = lotas_only(("campaign", CampaignPlugin()), ("sizes", Sizes()))
    assert lotas.sample_sizes(lotas.campaign("dummy"), 100) == SampleSizes(1, 1)


def test_sizes_larger_than_the_population_are_refused() -> None:
    class Greedy:
        @hookimpl
        def lotas_sample_sizes(self, campaign, eligible_count):
            return SampleSizes(eligible_count + 1, 0)

    lotas = lotas_only(("campaign", CampaignPlugin()), ("greedy", Greedy()))
    with pytest.raises(PluginError, match="supérieures"):
        lotas.sample_sizes(lotas.campaign("dummy"), 10)


def test_duplicate_campaign_id_names_both_plugins() -> None:
    lotas = lotas_only(("first_plugin", CampaignPlugin()), ("second_plugin", CampaignPlugin()))
    with pytest.raises(PluginError) as info:
        lotas.campaigns()
    message = info.value.user_message
    assert "dummy" in message and "first_plugin" in message and "second_plugin" in message


def test_registering_a_wrong_type_names_the_plugin() -> None:
    class Wrong:
        @hookimpl
        def lotas_register_campaigns(self, register):
            register("not a campaign")

    with pytest.raises(PluginError, match="wrong_plugin"):
        lotas_only(("wrong_plugin", Wrong())).campaigns()


def test_misspelt_hook_names_the_plugin() -> None:
    class Misspelt:
        @hookimpl
        def lotas_register_campaign(self, register):  # missing "s"
            pass

    with pytest.raises(PluginError) as info:
        get_plugin_manager(load_entry_points=False, extra_plugins=[("typo_plugin", Misspelt())])
    assert info.value.plugin == "typo_plugin"
    assert "typo_plugin" in info.value.user_message
    assert "lotas_register_campaign" in info.value.user_message


def test_a_plugin_whose_import_fails_is_named(monkeypatch) -> None:
    broken = importlib.metadata.EntryPoint(
        name="broken_plugin", value="lotas_no_such_module_xyz", group="lotas"
    )
    monkeypatch.setattr(plugins_module, "_entry_points", lambda: [broken])
    with pytest.raises(PluginError) as info:
        get_plugin_manager()
    assert info.value.plugin == "broken_plugin"
    assert "broken_plugin" in info.value.user_message
    assert "LOTAS_DISABLED_PLUGINS" in info.value.user_message


def test_a_disabled_plugin_is_not_even_imported(monkeypatch) -> None:
    broken = importlib.metadata.EntryPoint(
        name="broken_plugin", value="lotas_no_such_module_xyz", group="lotas"
    )
    monkeypatch.setattr(plugins_module, "_entry_points", lambda: [broken])
    pm = get_plugin_manager(disabled=["broken_plugin"])
    assert pm.is_blocked("broken_plugin")


def test_rules_from_several_plugins_are_sorted_by_order() -> None:
    def rule(rule_id: str, rule_order: int) -> EligibilityRule:
        cls = type(
            f"Rule_{rule_id}",
            (EligibilityRule,),
            {"id": rule_id, "label_fr": rule_id, "order": rule_order,
             "excludes": lambda self, facts: facts},
        )
        return cls()

    class CampaignRules:
        @hookimpl
        def lotas_eligibility_rules(self, campaign):
            return [rule("a", 10), rule("c", 30)]

    class SiteRules:
        @hookimpl
        def lotas_eligibility_rules(self, campaign):
            return [rule("b", 20)]

    lotas = lotas_only(("campaign", CampaignPlugin()), ("rules", CampaignRules()),
                       ("site", SiteRules()))
    assert [r.id for r in lotas.eligibility_rules(lotas.campaign("dummy"))] == ["a", "b", "c"]


def test_unknown_campaign_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="inconnu"):
        lotas_only().campaign("nope")


def test_draw_transmitted_reaches_every_plugin() -> None:
    seen = []

    class Audit:
        @hookimpl
        def lotas_draw_transmitted(self, draw, receipt):
            seen.append((draw, receipt))

    lotas = lotas_only(("audit", Audit()))
    marker = types.SimpleNamespace(draw_id="d1")
    lotas.draw_transmitted(marker, "receipt")
    assert seen == [(marker, "receipt")]


def test_shipped_plugins_are_found_through_entry_points() -> None:
    names = {info.name for info in Lotas(get_plugin_manager()).plugins()}
    assert {"psy_sma_2021", "transport_direct", "transport_epop"} <= names


def test_funnel_labels_follow_the_rules_and_tolerate_a_missing_campaign() -> None:
    class Rule(EligibilityRule):
        id = "site_rule"
        label_fr = "règle locale"
        order = 15

        def excludes(self, facts):  # pragma: no cover - not run here
            return facts

    class SiteRules:
        @hookimpl
        def lotas_eligibility_rules(self, campaign):
            return [Rule()]

    lotas = lotas_only(("campaign", CampaignPlugin()), ("site", SiteRules()))
    assert lotas.funnel_labels("dummy") == {
        "base": "vus en 2019 (base)",
        "site_rule": "exclus : règle locale",
        "eligible": "éligibles",
    }
    assert lotas.funnel_labels("campaign_no_longer_installed") == {}
