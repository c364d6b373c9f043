"""lotas plugin psy_sma_2021: the HAS PSY SMA 2021 campaign on PIVOINE 2019 data, and the family
of PSY SMA campaigns it belongs to.

Registers the campaign, its record source (the PIVOINE *in* archive of 2019 M12, RAA P09 and
RPS P08) and its four exclusions. Next year's campaign is not a copy of this folder: it is a
small distribution that imports the public names below, changes values and may add rules
(``PsySmaPlugin(PSY_SMA_2021.replace(...), extra_rules=[...])``; see README.md and
``docs/plugin-authors.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_plugins.psy_sma_2021.params import PSY_SMA_2021, PsySmaParams

if TYPE_CHECKING:
    from lotas_core.reading.layouts import Layout
    from lotas_core.reading.records import RecordSource
    from lotas_core.selection.campaign import Campaign, EligibilityRule

__version__ = "0.1.0"

__all__ = [
    "FACT_COLUMNS",
    "PSY_SMA_2021",
    "PsySmaCampaign",
    "PsySmaParams",
    "PsySmaPlugin",
    "__version__",
]


class PsySmaPlugin:
    """The hooks of one PSY SMA campaign: the campaign, its record source and its rules (the
    family's four, with its values, then ``extra_rules``).

    A distribution's entry point names an instance: ``psy_sma_2022 = "lotas_psy_sma_2022:plugin"``.
    """

    def __init__(
        self,
        params: PsySmaParams,
        extra_rules: Iterable[EligibilityRule] = (),
        *,
        version: str | None = None,
        raa_layout: Layout | None = None,
        rps_layout: Layout | None = None,
    ) -> None:
        self.params = params
        self.extra_rules = tuple(extra_rules)
        self.__version__ = version
        #: What ``lotas plugins`` shows as its module: the family's class and the campaign.
        self.__name__ = f"{__name__}.PsySmaPlugin({params.campaign_id})"
        self.layouts = {k: v for k, v in (("raa_layout", raa_layout), ("rps_layout", rps_layout))
                        if v is not None}

    @hookimpl
    def lotas_register_campaigns(self, register: Callable[[Campaign], None]) -> None:
        from lotas_plugins.psy_sma_2021.campaign import PsySmaCampaign

        register(PsySmaCampaign(self.params))

    @hookimpl
    def lotas_register_record_sources(self, register: Callable[[RecordSource], None]) -> None:
        from lotas_plugins.psy_sma_2021.source import PivoineInSource

        register(PivoineInSource(self.params, **self.layouts))

    @hookimpl
    def lotas_eligibility_rules(self, campaign: Campaign) -> list[EligibilityRule] | None:
        if campaign.id != self.params.campaign_id:
            return None
        from lotas_plugins.psy_sma_2021.rules import default_rules

        return default_rules(self.params) + list(self.extra_rules)


_PSY_SMA_2021 = PsySmaPlugin(PSY_SMA_2021)

# The 2021 campaign's hooks, as functions of this module (its entry point is the module).
lotas_register_campaigns = _PSY_SMA_2021.lotas_register_campaigns
lotas_register_record_sources = _PSY_SMA_2021.lotas_register_record_sources
lotas_eligibility_rules = _PSY_SMA_2021.lotas_eligibility_rules


def __getattr__(name: str) -> object:
    """``PsySmaCampaign`` and ``FACT_COLUMNS`` on first use: importing the plugin stays light
    (numpy is imported only when a campaign is built)."""
    if name in ("PsySmaCampaign", "FACT_COLUMNS"):
        from lotas_plugins.psy_sma_2021 import campaign

        return getattr(campaign, name)
    raise AttributeError(name)
