"""Hook specifications for lotas plugins.

A plugin is a module or object with functions marked ``@lotas_core.hookimpl``, published under the
``lotas`` entry-point group. Plugins register *objects that carry behaviour* (a ``Campaign``, a
``RecordSource``, a ``Transport`` class) through a ``register`` callback; the hooks stay few and
stable. The random draw is deliberately not a hook: no plugin can change how patients are picked.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from lotas_core.reading.records import RecordSource
    from lotas_core.selection.campaign import Campaign, EligibilityRule, SampleSizes
    from lotas_core.transmission.contract import Receipt, Transport

PROJECT_NAME = "lotas"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def lotas_register_campaigns(register: Callable[[Campaign], None]) -> None:
    """Register the campaigns this plugin provides.

    :param register: call ``register(campaign)`` once per ``Campaign`` instance. Ids must be unique
        across all plugins; a duplicate raises an error naming both plugins.

    Example::

        @hookimpl
        def lotas_register_campaigns(register):
            register(PsySma2022())
    """


@hookspec
def lotas_register_record_sources(register: Callable[[RecordSource], None]) -> None:
    """Register record sources, which turn an archive folder into named tables.

    :param register: call ``register(source)`` once per ``RecordSource`` instance; a campaign names
        the source it needs by its ``id``.
    """


@hookspec
def lotas_eligibility_rules(campaign: Campaign) -> list[EligibilityRule] | None:
    """Return the eligibility rules this plugin applies to ``campaign``, or None.

    Rules from every plugin are merged and applied in their ``order`` (ties: registration order).
    A patient is counted under the first rule that excludes him; the rest are eligible. A site can
    add a local exclusion this way without touching the campaign.

    :param campaign: the campaign being run.
    """


@hookspec(firstresult=True)
def lotas_sample_sizes(campaign: Campaign, eligible_count: int) -> SampleSizes | None:
    """Return the sizes of the main and reserve samples for ``campaign``.

    The core's default (``trylast``) takes ``campaign.default_sizes`` and caps them at
    ``eligible_count``. Stops at first non-None result.

    :param campaign: the campaign being drawn.
    :param eligible_count: the number of eligible patients.
    """


@hookspec
def lotas_register_transports(register: Callable[[type[Transport]], None]) -> None:
    """Register transport classes that send a draw to QUALHAS.

    :param register: call ``register(TransportClass)``; the class has a unique ``name`` and an
        ``options_model`` (pydantic) from which the settings screen builds its form.
    """


@hookspec
def lotas_draw_transmitted(draw: object, receipt: Receipt) -> None:
    """Notification after a draw was transmitted and its receipt stored (audit, archiving).

    :param draw: the ``lotas_core.draws.history.DrawRecord`` that was sent.
    :param receipt: the receipt the far end returned. ``receipt.final`` is false for a hand-off
        to an intermediary (the e-POP relay); the hook is called again with QUALHAS's receipt
        once lotas learns that the draw was delivered (``lotas status``, the screen).
    """


@hookspec
def lotas_register_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add commands to ``lotas`` (llm's and datasette's ``register_commands``, with argparse).

    :param subparsers: the ``lotas`` sub-commands. Add yours with
        ``subparsers.add_parser(name, help=..., description=...)`` (help in French) and
        ``set_defaults(func=run)``, where ``run(ctx, args) -> int`` receives the command's
        ``lotas_core.cli.context.CommandContext`` (settings, plugins) and the parsed arguments,
        returns the exit code, and raises ``LotasError`` subclasses for what the user must fix.
        A name that is already taken stops lotas with an error naming the plugin.

    Example::

        @hookimpl
        def lotas_register_commands(subparsers):
            server = subparsers.add_parser("epop-server", help="serveur relais e-POP")
            server.add_argument("--port", type=int, default=3358)
            server.set_defaults(func=run_epop_server)
    """
