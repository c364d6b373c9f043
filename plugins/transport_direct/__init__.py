"""lotas plugin transport_direct: HTTPS to e-PMSI with an explicit proxy ("Connexion directe")."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from lotas_core.plugin_host.hookspecs import hookimpl

__version__ = "0.1.0"

#: The local receiver's port (``lotas epmsi-server``), here so that building the command line
#: does not import the receiver and its HTTP server.
RECEIVER_DEFAULT_PORT = 8765


@hookimpl
def lotas_register_transports(register: Callable[[type], None]) -> None:
    from lotas_plugins.transport_direct.client import DirectTransport

    register(DirectTransport)


@hookimpl
def lotas_register_commands(subparsers: argparse._SubParsersAction) -> None:
    """The local e-PMSI receiver (``lotas epmsi-server``)."""
    from lotas_plugins.transport_direct.commands import register

    register(subparsers)
