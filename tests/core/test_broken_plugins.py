"""Deliberately broken plugins, each a separate distribution, installed one at a time.

Every row of issue 10's table: lotas answers with one French line naming the plugin and its
distribution, exit code 2 (0 and a warning for a failing notification), no traceback, and never
the identifier or the password the plugin put in its exception's text.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

#: What the broken plugins put in their exceptions and bad return values.
SECRETS = ("0099887766", "Tr0ub4dor")
BROKEN_PLUGINS = Path(__file__).with_name("broken_plugins")
FINESS = "000000001"


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic PIVOINE archive (the project's generator)."""
    from lotas_plugins.psy_sma_2021.demo import write_demo_archive

    folder = tmp_path_factory.mktemp("pivoine")
    write_demo_archive(folder, finess=FINESS, raa_lines=4000)
    return folder


@pytest.fixture
def install(install_broken):
    return install_broken


def assert_one_line(result: subprocess.CompletedProcess, *names: str, code: int = 2) -> str:
    """Exit ``code``, one line on stderr naming each of ``names``, no traceback, no secret."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output
    for secret in SECRETS:
        assert secret not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def draw_id(run_lotas, archives: Path, pythonpath: Path | None = None) -> str:
    result = run_lotas("draw", "--archives", str(archives), "--finess", FINESS, "--format",
                       "json", pythonpath=pythonpath)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["draw_id"]


def test_a_campaign_hook_that_raises(run_lotas, install, archives) -> None:
    site = install("lotas-broken-campaigns")
    for args in (("plugins",),
                 ("eligible", "--archives", str(archives), "--finess", FINESS),
                 ("draw", "--archives", str(archives), "--finess", FINESS)):
        line = assert_one_line(run_lotas(*args, pythonpath=site), "« broken_campaigns »",
                               "lotas-broken-campaigns 1.0", "lotas_register_campaigns")
        assert "RuntimeError" in line and "LOTAS_DISABLED_PLUGINS" in line


def test_the_traceback_is_shown_with_lotas_debug(run_lotas, install) -> None:
    site = install("lotas-broken-campaigns")
    result = run_lotas("plugins", pythonpath=site, env={"LOTAS_DEBUG": "1"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "RuntimeError" in result.stderr


def test_a_disabled_broken_plugin_is_not_called(run_lotas, install) -> None:
    site = install("lotas-broken-campaigns")
    result = run_lotas("plugins", pythonpath=site,
                       env={"LOTAS_DISABLED_PLUGINS": '["broken_campaigns"]'})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("dist, plugin, words", [
    ("lotas-broken-rules-hook", "broken_rules_hook", ("lotas_eligibility_rules", "KeyError")),
    ("lotas-broken-excludes", "broken_excludes", ("« minor »", "excludes", "ValueError")),
    ("lotas-list-excludes", "list_excludes", ("« minor »", "excludes", "list", "masque")),
    ("lotas-short-mask", "short_mask", ("« minor »", "valeurs pour")),
    ("lotas-single-rule", "single_rule", ("lotas_eligibility_rules", "Minor", "liste")),
    ("lotas-string-rules", "string_rules", ("lotas_eligibility_rules", "str", "EligibilityRule")),
])
def test_broken_rules_stop_eligible_and_draw(run_lotas, install, archives, dist, plugin,
                                             words) -> None:
    site = install(dist)
    for command in ("eligible", "draw"):
        result = run_lotas(command, "--archives", str(archives), "--finess", FINESS,
                           pythonpath=site)
        assert_one_line(result, f"« {plugin} »", f"{dist} 1.0", *words)
    assert "0 tirage" in run_lotas("history", "--check").stdout  # nothing was stored


def test_verify_with_a_broken_rules_hook_is_an_error_not_a_difference(run_lotas, install,
                                                                      archives) -> None:
    drawn = draw_id(run_lotas, archives)
    result = run_lotas("verify", drawn, "--archives", str(archives),
                       pythonpath=install("lotas-broken-rules-hook"))
    assert_one_line(result, "« broken_rules_hook »", "lotas-broken-rules-hook 1.0")
    assert "différence" not in result.stdout


def test_verify_with_a_rule_broken_since_the_draw_is_an_error(run_lotas, install, archives,
                                                              make_distribution) -> None:
    """The site rule of the draw, upgraded to a version whose excludes raises."""
    site = install("lotas-site-rule")
    drawn = draw_id(run_lotas, archives, site)
    code = (BROKEN_PLUGINS / "lotas-broken-excludes" / "lotas_broken_excludes" / "__init__.py")
    upgraded = make_distribution("lotas-site-rule", {"lotas_site_rule/__init__.py":
                                                     code.read_text("utf-8")},
                                 {"site_rule": "lotas_site_rule"}, version="1.1")
    result = run_lotas("verify", drawn, "--archives", str(archives), pythonpath=upgraded)
    assert_one_line(result, "« site_rule »", "lotas-site-rule 1.1", "« minor »", "excludes",
                    "ValueError")
    assert "différence" not in result.stdout


def test_a_plugin_own_lotas_error_is_shown(run_lotas, install, archives) -> None:
    result = run_lotas("eligible", "--archives", str(archives), "--finess", FINESS,
                       pythonpath=install("lotas-own-error"))
    line = assert_one_line(result)
    assert "Fichier des exclusions locales introuvable : /etc/lotas/exclusions.csv." in line


def test_a_hook_with_a_wrong_argument_name(run_lotas, install) -> None:
    result = run_lotas("plugins", pythonpath=install("lotas-wrong-argument"))
    assert_one_line(result, "« wrong_argument »", "lotas-wrong-argument 1.0",
                    "lotas_eligibility_rules", "« campain »", "campaign")


@pytest.mark.parametrize("dist, plugin, words", [
    ("lotas-transport-instance", "transport_instance", ("instance", "Pigeon")),
    ("lotas-transport-no-options", "transport_no_options", ("options_model",)),
])
def test_a_bad_transport_registration_is_refused(run_lotas, install, dist, plugin,
                                                 words) -> None:
    site = install(dist)
    for args in (("plugins",), ("test-connection", "--transport", "pigeon")):
        assert_one_line(run_lotas(*args, pythonpath=site), f"« {plugin} »", f"{dist} 1.0",
                        "lotas_register_transports", *words)


def test_check_returning_a_number_is_refused(run_lotas, install) -> None:
    result = run_lotas("test-connection", "--transport", "sloppy",
                       pythonpath=install("lotas-bad-returns"))
    assert_one_line(result, "« bad_returns »", "lotas-bad-returns 1.0", "check()", "int")
    assert "42" not in result.stdout


def transmissions(run_lotas, drawn: str) -> list:
    result = run_lotas("history", "--format", "json")
    assert result.returncode == 0, result.stderr
    (entry,) = [d for d in json.loads(result.stdout)["draws"] if d["draw_id"] == drawn]
    return entry["transmissions"]


def test_send_returning_a_dict_is_refused_and_nothing_is_stored(run_lotas, install,
                                                                archives) -> None:
    site = install("lotas-bad-returns")
    drawn = draw_id(run_lotas, archives, site)
    result = run_lotas("transmit", drawn, "--transport", "sloppy", pythonpath=site)
    assert_one_line(result, "« bad_returns »", "lotas-bad-returns 1.0", "send()", "dict",
                    "Receipt")
    assert transmissions(run_lotas, drawn) == []


def test_an_exception_from_send_never_shows_its_text(run_lotas, install, archives) -> None:
    site = install("lotas-leaky-send")
    drawn = draw_id(run_lotas, archives, site)
    result = run_lotas("transmit", drawn, "--transport", "leaky", pythonpath=site)
    assert_one_line(result, "« leaky_send »", "lotas-leaky-send 1.0", "send()", "ValueError")
    assert transmissions(run_lotas, drawn) == []
    result = run_lotas("test-connection", "--transport", "leaky", pythonpath=site)
    assert_one_line(result, "« leaky_send »", "check()", "ValueError")


def test_a_failing_notification_is_a_warning_after_the_stored_receipt(run_lotas, install,
                                                                      archives) -> None:
    site = install("lotas-failing-notifier")
    drawn = draw_id(run_lotas, archives, site)
    result = run_lotas("transmit", drawn, "--transport", "drop", pythonpath=site)
    line = assert_one_line(result, "« failing_notifier »", "lotas-failing-notifier 1.0",
                           "lotas_draw_transmitted", "OSError", code=0)
    assert line.startswith("lotas: avertissement : transmission faite")
    assert "ACK-1" in result.stdout
    assert [t["receipt"] for t in transmissions(run_lotas, drawn)] == ["ACK-1"]


def test_two_distributions_with_one_entry_point_name_are_refused(run_lotas, install) -> None:
    result = run_lotas("plugins", pythonpath=install("lotas-evil-direct"))
    assert_one_line(result, "« transport_direct »", "lotas 0.1.0", "lotas-evil-direct 2.0")


def test_a_duplicate_campaign_id_names_both_plugins(run_lotas, install) -> None:
    result = run_lotas("plugins", pythonpath=install("lotas-duplicate-campaign"))
    assert_one_line(result, "« psy_sma_2021 »", "« duplicate_campaign »",
                    "lotas-duplicate-campaign 1.0")


def test_a_draw_made_before_a_site_rule_was_added_fails_verify_in_one_line(run_lotas, install,
                                                                          archives) -> None:
    drawn = draw_id(run_lotas, archives)
    site = install("lotas-site-rule")
    result = run_lotas("verify", drawn, "--archives", str(archives), pythonpath=site)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "- règles différentes depuis le tirage : + minor (lotas-site-rule 1.0)"]
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    # without the site rule, the same draw is reproduced
    result = run_lotas("verify", drawn, "--archives", str(archives))
    assert result.returncode == 0, result.stdout + result.stderr
    # a draw made with it records it: history --format json shows the rules and their plugins
    with_site = draw_id(run_lotas, archives, site)
    entries = json.loads(run_lotas("history", "--format", "json").stdout)["draws"]
    (entry,) = [e for e in entries if e["draw_id"] == with_site]
    rules = {rule["id"]: rule for rule in entry["provenance"]["rules"]}
    assert rules["minor"]["distribution"] == "lotas-site-rule"
    assert rules["minor"]["version"] == "1.0" and rules["fulltime"]["distribution"] == "lotas"
    assert entry["provenance"]["campaign"]["id"] == "psy_sma_2021"
    assert run_lotas("history", "--check").returncode == 0


def test_a_plugin_command_that_raises(run_lotas, install) -> None:
    result = run_lotas("audit-export", pythonpath=install("lotas-broken-command"))
    assert_one_line(result, "« broken_command »", "lotas-broken-command 1.0",
                    "« audit-export »", "PermissionError")
