"""The core's own hook implementations: defaults that any plugin can override."""

from __future__ import annotations

from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.selection.campaign import Campaign, SampleSizes


def cap_sizes(wanted: SampleSizes, eligible_count: int) -> SampleSizes:
    """Spec section 5: ``main = min(80, N)``, ``reserve = min(30, N - main)``, for any sizes."""
    main = min(wanted.main, max(eligible_count, 0))
    reserve = min(wanted.reserve, max(eligible_count - main, 0))
    return SampleSizes(main, reserve)


@hookimpl(trylast=True)
def lotas_sample_sizes(campaign: Campaign, eligible_count: int) -> SampleSizes:
    return cap_sizes(campaign.default_sizes, eligible_count)
