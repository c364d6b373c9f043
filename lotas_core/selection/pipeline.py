"""From an archive folder to the eligible patients: the run every campaign shares.

Campaign-specific knowledge lives in the campaign plugin (facts, rows) and its rules; this module
only chains them and computes the funnel, so a new campaign is a new plugin, not a new pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lotas_core.reading.records import ArchiveInfo, ParseReport, ProgressCallback

if TYPE_CHECKING:
    import pandas as pd

    from lotas_core.plugin_host.facade import Lotas


@dataclass
class Selection:
    """The eligible patients of one archive, with the funnel and the parse report."""

    campaign_id: str
    finess: str
    archive: ArchiveInfo
    report: ParseReport
    #: ``base``, then one count per rule id in order, then ``eligible``.
    funnel: dict[str, int]
    #: ``PATIENT_COLUMNS``, one row per eligible patient, sorted by IPP; DATACTE is a ``date``.
    patients: pd.DataFrame

    @property
    def eligible_keys(self) -> list[str]:
        return list(self.patients["IPP"])

    def funnel_dict(self) -> dict[str, Any]:
        return dict(self.funnel)


def select(
    lotas: Lotas,
    campaign_id: str,
    folder: Path,
    finess: str,
    progress: ProgressCallback | None = None,
) -> Selection:
    """Read the archive in ``folder`` and apply the campaign's rules in order."""
    campaign = lotas.campaign(campaign_id)
    source = lotas.record_source(campaign.record_source)
    records = source.read(Path(folder), finess, campaign, progress)
    # Imported only now: a record source may import pandas while it inflates the archive.
    import pandas as pd

    if progress:
        progress("Sélection des patients", 0.95)
    facts = campaign.patient_facts(records)
    rules = lotas.eligibility_rules(campaign)
    funnel: dict[str, int] = {"base": len(facts)}
    remaining = pd.Series(True, index=facts.index)
    for rule in rules:
        excluded = rule.excludes(facts).reindex(facts.index, fill_value=False).astype(bool)
        hit = remaining & excluded
        funnel[rule.id] = int(hit.sum())
        remaining &= ~hit
    eligible = facts.index[remaining.to_numpy()]
    funnel["eligible"] = len(eligible)
    patients = campaign.patient_rows(records, facts, eligible)
    if progress:
        progress("Terminé", 1.0)
    return Selection(
        campaign_id=campaign.id,
        finess=finess,
        archive=records.archive,
        report=records.report,
        funnel=funnel,
        patients=patients.reset_index(drop=True),
    )
