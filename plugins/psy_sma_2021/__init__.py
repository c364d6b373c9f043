"""lotas plugin psy_sma_2021: the HAS PSY SMA 2021 campaign on PIVOINE 2019 data.

Registers the campaign, its record source (the PIVOINE *in* archive of 2019 M12, RAA P09 and
RPS P08) and its four exclusions. It is the model for next year's campaign: see README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotas_core.plugin_host.hookspecs import hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable

    from lotas_core.reading.records import RecordSource
    from lotas_core.selection.campaign import Campaign, EligibilityRule

__version__ = "0.1.0"

CAMPAIGN_ID = "psy_sma_2021"


@hookimpl
def lotas_register_campaigns(register: Callable[[Campaign], None]) -> None:
    from lotas_plugins.psy_sma_2021.campaign import PsySma2021

    register(PsySma2021())


@hookimpl
def lotas_register_record_sources(register: Callable[[RecordSource], None]) -> None:
    from lotas_plugins.psy_sma_2021.source import PivoineInSource

    register(PivoineInSource())


@hookimpl
def lotas_eligibility_rules(campaign: Campaign) -> list[EligibilityRule] | None:
    if campaign.id != CAMPAIGN_ID:
        return None
    from lotas_plugins.psy_sma_2021.rules import default_rules

    return default_rules()
