"""lotas plugin transport_epop: the e-POP client and relay ("Utiliser un serveur epop").

The protocol is described in this folder's README.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from lotas_core.plugin_host.hookspecs import hookimpl

__version__ = "0.1.0"


@hookimpl
def lotas_register_transports(register: Callable[[type], None]) -> None:
    from lotas_plugins.transport_epop.client import EpopTransport

    register(EpopTransport)


@hookimpl
def lotas_register_commands(subparsers: argparse._SubParsersAction) -> None:
    """The e-POP relay server (``lotas epop-server``)."""
    from lotas_plugins.transport_epop.commands import register

    register(subparsers)
