"""Transports declare their mode of the manual's "Paramétrage ePop" form (``manual_form``); the
declaration is checked where it enters the core and its converters run at the fault boundary."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from lotas_core.plugin_host.boundary import PluginFault
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.transmission.contract import (
    DIRECT_ROLE,
    RELAY_ROLE,
    FormConverter,
    ManualForm,
    Transport,
)


class RelayOptions(BaseModel):
    adresse: str = ""
    porte: int = 4444
    chiffrer: bool = False


def relay_transport(name: str, form: object) -> type[Transport]:
    def check(self):  # pragma: no cover - not called here
        return "ok"

    def send(self, payload):  # pragma: no cover - not sent here
        raise NotImplementedError

    return type(f"T_{name}", (Transport,), {
        "name": name, "title_fr": name, "options_model": RelayOptions, "manual_form": form,
        "check": check, "send": send})


def plugin_of(*classes: type[Transport]) -> object:
    class Plugin:
        @hookimpl
        def lotas_register_transports(self, register):
            for cls in classes:
                register(cls)

    return Plugin()


GOOD = ManualForm(RELAY_ROLE, {"host": "adresse", "port": "porte", "encrypt": "chiffrer"},
                  default_port=4444)


def test_the_shipped_transports_declare_the_two_modes() -> None:
    lotas = Lotas(get_plugin_manager())
    assert lotas.manual_forms() == {DIRECT_ROLE: "transport_direct", RELAY_ROLE: "transport_epop"}
    relay = lotas.manual_form("transport_epop")
    assert relay is not None and relay.default_port == 3358
    assert lotas.manual_form_values("transport_direct", {"proxy_mode": "system"})["use_proxy"]
    assert lotas.manual_form_hints("transport_direct", {"proxy_mode": "system"}) == {
        "use_proxy": "proxy du système"}


def test_a_third_party_relay_is_found_under_its_own_name_and_option_names() -> None:
    lotas = Lotas(get_plugin_manager(load_entry_points=False, extra_plugins=[
        ("colombe_plugin", plugin_of(relay_transport("colombe", GOOD)))]))
    assert lotas.manual_forms() == {RELAY_ROLE: "colombe"}
    assert lotas.manual_form_values("colombe", {"adresse": "10.0.0.1"}) == {
        "host": "10.0.0.1", "port": 4444, "encrypt": False}
    assert lotas.manual_form_options("colombe", {"porte": 1}, {"host": "h", "port": 2}) == {
        "adresse": "h", "porte": 2}


def test_the_first_registered_keeps_a_role_and_no_declaration_is_no_role() -> None:
    lotas = Lotas(get_plugin_manager(load_entry_points=False, extra_plugins=[
        ("first", plugin_of(relay_transport("one", GOOD), relay_transport("plain", None))),
        ("second", plugin_of(relay_transport("two", GOOD)))]))
    assert lotas.manual_forms() == {RELAY_ROLE: "one"}
    assert lotas.manual_form("plain") is None and lotas.manual_form_values("plain", {}) == {}


@pytest.mark.parametrize("form,words", [
    ({"role": "relay"}, "dict au lieu d'un ManualForm"),
    (ManualForm("pigeon", {}), "rôle inconnu"),
    (ManualForm(RELAY_ROLE, {"proxy_host": "adresse"}), "champ du formulaire inconnu"),
    (ManualForm(RELAY_ROLE, {"host": "nowhere"}), "aucune option de options_model"),
    (ManualForm(RELAY_ROLE, {"host": "adresse"}, default_port=70000), "default_port"),
    (ManualForm(RELAY_ROLE, {"host": "adresse"}, password_keys={"pin": "pin"}),
     "mot de passe du formulaire inconnu"),
    (ManualForm(RELAY_ROLE, {"host": "adresse"}, converters={"adresse": len}),
     "pas un FormConverter"),
])
def test_a_wrong_declaration_is_refused_naming_the_plugin(form, words) -> None:
    lotas = Lotas(get_plugin_manager(load_entry_points=False, extra_plugins=[
        ("bad_relay", plugin_of(relay_transport("colombe", form)))]))
    with pytest.raises(PluginFault) as info:
        lotas.transports()
    assert "« bad_relay »" in info.value.user_message and "manual_form" in str(info.value)
    assert words in info.value.user_message


def test_the_screen_leaves_out_a_wrong_declaration_and_names_it() -> None:
    lotas, faults = Lotas.without_broken_plugins(load_entry_points=False, extra_plugins=[
        ("bad_relay", plugin_of(relay_transport("colombe", ManualForm("pigeon", {})))),
        ("good_relay", plugin_of(relay_transport("good", GOOD)))])
    assert [fault.plugin for fault in faults] == ["bad_relay"]
    assert lotas.manual_forms() == {RELAY_ROLE: "good"}


def test_a_converter_that_breaks_is_a_fault_naming_the_plugin() -> None:
    def explode(value, previous=None, values=None):
        raise KeyError("IPP 0099887766")

    form = ManualForm(RELAY_ROLE, {"host": "adresse"},
                      converters={"adresse": FormConverter(explode, explode)})
    lotas = Lotas(get_plugin_manager(load_entry_points=False, extra_plugins=[
        ("odd_relay", plugin_of(relay_transport("colombe", form)))]))
    for call in (lambda: lotas.manual_form_values("colombe", {}),
                 lambda: lotas.manual_form_options("colombe", {}, {"host": "h"})):
        with pytest.raises(PluginFault) as info:
            call()
        assert "« odd_relay »" in info.value.user_message
        assert "0099887766" not in info.value.user_message
