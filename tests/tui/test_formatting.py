"""The screens' pure text helpers."""

from __future__ import annotations

import pytest

from lotas_core.transmission.manual_form import form_hints, form_options, form_values
from lotas_plugins.psy_sma_2021.campaign import PsySma2021
from lotas_plugins.psy_sma_2021.rules import default_rules
from lotas_tui.formatting import (
    bar,
    display_path,
    funnel_lines,
    ordered_funnel,
    parse_port,
)


@pytest.mark.parametrize("text", ["0", "65536", "-1", "abc", "", "3128x"])
def test_bad_ports_are_refused_in_french(text):
    with pytest.raises(ValueError, match="N° de port invalide"):
        parse_port(text)


@pytest.mark.parametrize("text,port", [("1", 1), ("3358", 3358), (" 65535 ", 65535)])
def test_good_ports(text, port):
    assert parse_port(text) == port


def test_funnel_is_ordered_and_labelled_by_the_campaign_rules():
    stored = {"base": 10, "delay": 1, "eligible": 4, "fulltime": 2, "lt2": 2, "noh2": 1,
              "site_rule": 0}
    labels = PsySma2021().funnel_labels(default_rules())
    keys = [key for key, _ in ordered_funnel(stored, labels)]
    assert keys == ["base", "fulltime", "lt2", "noh2", "delay", "site_rule", "eligible"]
    lines = funnel_lines(stored, labels)
    assert lines[0].startswith("vus en 2019 (base)") and "100.0 %" in lines[0]
    assert lines[1].startswith("exclus : hospitalisation")
    assert lines[-1].startswith("éligibles") and " 40.0 %" in lines[-1]


def test_small_helpers(monkeypatch, tmp_path):
    assert bar(0, 10) == "" and bar(1, 1000, 20) == "█" and bar(10, 10, 20) == "█" * 20
    monkeypatch.setenv("HOME", str(tmp_path))
    assert display_path(tmp_path / "a" / "b") == "~/a/b"
    assert display_path("/elsewhere") == "/elsewhere"


def test_direct_form_maps_onto_the_options_model():
    from lotas_plugins.transport_direct.options import DIRECT_FORM, DirectOptions

    values = form_values(DIRECT_FORM, DirectOptions, {"proxy_mode": "system"})
    assert values["use_proxy"] is True and values["proxy_port"] is None
    assert form_hints(DIRECT_FORM, DirectOptions, {"proxy_mode": "system"}) == {
        "use_proxy": "proxy du système"}
    assert form_hints(DIRECT_FORM, DirectOptions, {}) == {}
    options = form_options(
        DIRECT_FORM, {"proxy_mode": "none", "read_timeout": 5.0},
        {"use_proxy": True, "proxy_host": "p", "proxy_port": 8080, "use_auth": False},
    )
    assert options == {"proxy_mode": "manual", "read_timeout": 5.0, "proxy_host": "p",
                       "proxy_port": 8080, "proxy_auth": False}
    DirectOptions.model_validate(options)
    assert form_options(DIRECT_FORM, {}, {"use_proxy": False}) == {"proxy_mode": "none"}
    # Ticked over the system's proxy with nothing typed: still the system's; typed: manual.
    assert form_options(DIRECT_FORM, {"proxy_mode": "system"}, {"use_proxy": True}) == {
        "proxy_mode": "system"}
    assert form_options(DIRECT_FORM, {"proxy_mode": "system"},
                        {"use_proxy": True, "proxy_host": "p", "proxy_port": 1})["proxy_mode"] \
        == "manual"
