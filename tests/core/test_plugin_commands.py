"""Commands from plugins (``lotas_register_commands``): the shipped servers and a third party's."""

from __future__ import annotations

import argparse

import pytest

from lotas_core.errors import PluginError
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.plugin_host.manager import get_plugin_manager

GREETER = '''
from lotas_core import hookimpl

__version__ = "0.0.1"


def run(ctx, args):
    print(f"bonjour {args.name} ({ctx.settings.campaign})")
    return 3


@hookimpl
def lotas_register_commands(subparsers):
    hello = subparsers.add_parser("bonjour", help="dit bonjour")
    hello.add_argument("name")
    hello.set_defaults(func=run)
'''


def test_the_servers_are_commands_of_their_transport_plugins() -> None:
    lotas = Lotas(get_plugin_manager())
    subparsers = argparse.ArgumentParser().add_subparsers()
    lotas.register_commands(subparsers)
    assert lotas.command_owners == {"epmsi-server": "transport_direct",
                                    "epop-server": "transport_epop"}


def test_a_disabled_transport_takes_its_command_away(run_lotas) -> None:
    env = {"LOTAS_DISABLED_PLUGINS": '["transport_epop"]'}
    result = run_lotas("epop-server", "--help", env=env)
    assert result.returncode == 2
    assert "choix invalide" in result.stderr and "epop-server" in result.stderr
    assert "epop-server" not in run_lotas("--help", env=env).stdout
    assert "epmsi-server" in run_lotas("--help", env=env).stdout


def test_a_third_party_command_runs_with_the_command_context(run_lotas, make_distribution
                                                             ) -> None:
    site = make_distribution("lotas-greeter", {"lotas_greeter/__init__.py": GREETER},
                             {"greeter": "lotas_greeter"})
    result = run_lotas("bonjour", "Alice", pythonpath=site)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "bonjour Alice (psy_sma_2021)\n"
    assert "bonjour" in run_lotas("--help", pythonpath=site).stdout


def test_a_taken_command_name_is_refused_naming_the_plugin() -> None:
    class Clash:
        @hookimpl
        def lotas_register_commands(self, subparsers):
            subparsers.add_parser("epop-server")

    lotas = Lotas(get_plugin_manager(extra_plugins=[("clash", Clash())]))
    with pytest.raises(PluginError) as caught:
        lotas.register_commands(argparse.ArgumentParser().add_subparsers())
    assert "« clash »" in caught.value.message_fr


def test_a_broken_plugin_leaves_the_core_commands_working(run_lotas, make_distribution) -> None:
    site = make_distribution("lotas-broken", {"lotas_broken/__init__.py": "raise ImportError('x')"},
                             {"broken": "lotas_broken"})
    config = run_lotas("config", pythonpath=site)
    assert config.returncode == 0, config.stderr
    assert "campaign = " in config.stdout
    # a command that needs the plugins says why, in one French line
    plugins = run_lotas("plugins", pythonpath=site)
    assert plugins.returncode == 2 and "« broken »" in plugins.stderr
    assert "Traceback" not in plugins.stderr
