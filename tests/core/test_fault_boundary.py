"""The fault boundary and the checks at the door, in process (the CLI runs are in
test_broken_plugins.py)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from lotas_core import Campaign, Transport, UsageError
from lotas_core.errors import PluginError
from lotas_core.plugin_host.boundary import PluginFault, PluginOrigin, call_plugin
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.selection.campaign import EligibilityRule, SampleSizes
from lotas_core.transmission.contract import TransportAction


class DummyCampaign(Campaign):
    id = "dummy"
    title = "Campagne factice"
    year = 2019
    record_source = "none"
    patient_columns = ()
    default_sizes = SampleSizes(3, 2)

    def patient_facts(self, records):  # pragma: no cover - not run here
        raise NotImplementedError

    def patient_rows(self, records, facts, eligible):  # pragma: no cover - not run here
        raise NotImplementedError


ORIGIN = PluginOrigin("site_rules", "lotas-site", "1.0")
FACTS = pd.DataFrame({"age": [10, 40, 70]}, index=pd.Index(["A", "B", "C"], name="IPP"))


class Campaigns:
    @hookimpl
    def lotas_register_campaigns(self, register):
        register(DummyCampaign())


def lotas_with(*plugins: tuple[str, object]) -> Lotas:
    return Lotas(get_plugin_manager(load_entry_points=False, extra_plugins=plugins))


def test_an_unexpected_exception_is_named_by_type_only() -> None:
    def leaky() -> None:
        raise ValueError("IPP 0099887766")

    with pytest.raises(PluginFault) as info:
        call_plugin(ORIGIN, "excludes", leaky)
    message = info.value.user_message
    assert "« site_rules » (distribution lotas-site 1.0)" in message
    assert "excludes" in message and "ValueError" in message and "0099887766" not in message
    assert isinstance(info.value.__cause__, ValueError)  # LOTAS_DEBUG shows it


def test_a_plugin_lotas_error_passes_unchanged_and_sys_exit_is_caught() -> None:
    def own() -> None:
        raise UsageError("Fichier local introuvable.")

    with pytest.raises(UsageError, match="Fichier local introuvable"):
        call_plugin(ORIGIN, "read", own)
    with pytest.raises(PluginFault, match="SystemExit"):
        call_plugin(ORIGIN, "send", sys.exit, 0)


class Rule(EligibilityRule):
    id = "minor"
    label_fr = "mineurs"
    order = 45

    def __init__(self, result) -> None:
        self.result = result

    def excludes(self, facts):
        return self.result


def mask(result) -> list[bool]:
    class Plugin:
        @hookimpl
        def lotas_eligibility_rules(self, campaign):
            return [rule]

    rule = Rule(result)
    lotas = lotas_with(("site_rules", Plugin()))
    lotas._owners[id(rule)] = ORIGIN
    return list(lotas.exclusions(rule, FACTS))


def test_masks_in_numpy_or_pandas_are_accepted_and_aligned() -> None:
    assert mask(np.array([True, False, True])) == [True, False, True]
    assert mask(FACTS["age"] < 18) == [True, False, False]
    shuffled = pd.Series([False, True, False], index=["C", "A", "B"])
    assert mask(shuffled) == [True, False, False]  # aligned on the patients, not the position
    nullable = pd.Series([True, pd.NA, False], index=FACTS.index, dtype="boolean")
    assert mask(nullable) == [True, False, False]  # a missing answer does not exclude


@pytest.mark.parametrize("result, words", [
    (["A"], "list"),
    (pd.Series([1, 0, 1], index=FACTS.index), "int64"),
    (pd.Series([True, False], index=["A", "B"]), "2 valeurs pour 3"),
    (pd.Series([True, False, True], index=["A", "B", "Z"]), "indexée"),
    (np.array([1, 0, 1]), "int"),
    (None, "None"),
])
def test_other_results_are_refused_naming_the_plugin(result, words) -> None:
    with pytest.raises(PluginFault) as info:
        mask(result)
    assert words in info.value.user_message and "lotas-site 1.0" in info.value.user_message


def test_first_result_sizes_follow_pluggy_order_and_are_checked() -> None:
    class Abstains:
        @hookimpl(tryfirst=True)
        def lotas_sample_sizes(self, campaign, eligible_count):
            return None

    class Floats:
        @hookimpl
        def lotas_sample_sizes(self, campaign, eligible_count):
            return SampleSizes(1.5, 2)

    lotas = lotas_with(("campaign", Campaigns()), ("abstains", Abstains()))
    assert lotas.sample_sizes(lotas.campaign("dummy"), 100) == SampleSizes(3, 2)
    lotas = lotas_with(("campaign", Campaigns()), ("floats", Floats()))
    with pytest.raises(PluginFault, match="« floats ».*entiers"):
        lotas.sample_sizes(lotas.campaign("dummy"), 100)


def test_hook_wrappers_and_unknown_arguments_are_refused_before_any_call() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def lotas_eligibility_rules(self, campaign):
            return (yield)

    class Misnamed:
        @hookimpl
        def lotas_eligibility_rules(self, campain):
            raise AssertionError("never called")

    with pytest.raises(PluginError, match="« wrapper »"):
        get_plugin_manager(load_entry_points=False, extra_plugins=[("wrapper", Wrapper())])
    with pytest.raises(PluginError, match="« campain »"):
        get_plugin_manager(load_entry_points=False, extra_plugins=[("misnamed", Misnamed())])


class Options(BaseModel):
    pass


class Finder(Transport):
    name = "finder"
    title_fr = "Chercheur"
    options_model = Options
    actions = (TransportAction("import", "Importer", lambda: ["not", "a", "dict"]),)

    def check(self):
        return "ok"

    def send(self, payload):  # pragma: no cover - not sent here
        raise NotImplementedError


class FinderPlugin:
    @hookimpl
    def lotas_register_transports(self, register):
        register(Finder)


def test_a_transport_action_returning_no_options_is_refused() -> None:
    lotas = lotas_with(("finder_plugin", FinderPlugin()))
    with pytest.raises(PluginFault, match="« finder_plugin ».*« import »"):
        lotas.run_transport_action("finder", "import")
    assert lotas.run_transport_action("finder", "nothing") == {}


def test_the_screen_loads_without_a_broken_plugin_and_names_it() -> None:
    class Broken:
        @hookimpl
        def lotas_register_transports(self, register):
            raise RuntimeError("secret")

    lotas, faults = Lotas.without_broken_plugins(
        load_entry_points=False,
        extra_plugins=[("campaign", Campaigns()), ("second", Campaigns()),
                       ("broken", Broken()), ("finder_plugin", FinderPlugin())])
    assert sorted(fault.plugin for fault in faults) == ["broken", "second"]
    assert "dummy" in lotas.campaigns() and "finder" in lotas.transports()
    assert all("secret" not in fault.user_message for fault in faults)


#: Methods of what plugins register; only the facade (plugin_host) calls them.
PLUGIN_METHODS = ("patient_facts", "patient_rows", "excludes", "archive_folder_name",
                  "size_notice", "write_demo_archive", "delivery_status", "funnel_labels",
                  "row_layout", "locate")


def test_the_core_and_the_screen_call_plugin_methods_only_through_the_facade() -> None:
    """``x.excludes(...)`` outside lotas_core/plugin_host would skip the fault boundary; the
    facade's own methods of the same names (``lotas.``, ``backend.``, the app's) are the door."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"(\w+)\.(" + "|".join(PLUGIN_METHODS) + r")\(")
    allowed = {"lotas", "backend", "self", "lotas_app", "app"}
    found = []
    for folder in ("lotas_core", "tui"):
        for path in (root / folder).rglob("*.py"):
            if "plugin_host" in path.parts:
                continue
            for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                for match in pattern.finditer(line):
                    if match.group(1) not in allowed:
                        found.append(f"{path.relative_to(root)}:{number}: {match.group(0)}")
    assert found == []


class LostSource:
    """A record source whose ``locate`` breaks (the folder picker asks it)."""

    id = "none"

    def read(self, folder, finess, campaign, progress=None):  # pragma: no cover - not run here
        raise NotImplementedError

    def locate(self, folder, finess):
        raise KeyError("IPP 0099887766")


class LostSources:
    @hookimpl
    def lotas_register_record_sources(self, register):
        from lotas_core.reading.records import RecordSource

        register(type("Lost", (LostSource, RecordSource), {})())


def test_locating_the_archive_is_a_fault_boundary(tmp_path) -> None:
    lotas = lotas_with(("dummy_campaign", Campaigns()), ("lost_sources", LostSources()))
    with pytest.raises(PluginFault) as info:
        lotas.locate_archive("dummy", tmp_path, "000000001")
    assert "« lost_sources »" in info.value.user_message and "locate" in info.value.user_message
    assert "0099887766" not in info.value.user_message
