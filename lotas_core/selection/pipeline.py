"""From an archive folder to the eligible patients: the run every campaign shares.

Campaign-specific knowledge lives in the campaign plugin (facts, rows) and its rules; this module
only chains them and computes the funnel, so a new campaign is a new plugin, not a new pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lotas_core.reading.inflate import InflateLimits, limits_scope
from lotas_core.reading.records import ArchiveInfo, ParseReport, ProgressCallback
from lotas_core.selection.columns import RowColumn

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
    #: The campaign's ``patient_columns``, one row per eligible patient, sorted by key; a
    #: ``date`` column holds ``datetime.date`` values.
    patients: pd.DataFrame
    #: The column of ``patients`` holding the patient key (``Campaign.key()``).
    key_column: str
    #: The columns of ``patients`` (``Campaign.patient_columns``).
    columns: tuple[RowColumn, ...]

    @property
    def eligible_keys(self) -> list[str]:
        return list(self.patients[self.key_column])


def select(
    lotas: Lotas,
    campaign_id: str,
    folder: Path,
    finess: str,
    progress: ProgressCallback | None = None,
    limits: InflateLimits | None = None,
) -> Selection:
    """Read the archive in ``folder`` and apply the campaign's rules in order.

    ``limits`` bound the inflation of the archive's members (``Settings.reading``); None keeps
    the current ones (the defaults unless a ``limits_scope`` is open).
    """
    campaign = lotas.campaign(campaign_id)
    source = lotas.record_source(campaign.record_source)
    with limits_scope(limits):
        records = lotas.read_records(source, Path(folder), finess, campaign, progress)
    # Imported only now: a record source may import pandas while it inflates the archive.
    import pandas as pd

    if progress:
        progress("Sélection des patients", 0.95)
    facts = lotas.patient_facts(campaign, records)
    rules = lotas.eligibility_rules(campaign)
    funnel: dict[str, int] = {"base": len(facts)}
    remaining = pd.Series(True, index=facts.index)
    for rule in rules:
        # A missing answer (NA: no birth date, no act...) does not exclude (checks).
        hit = remaining & lotas.exclusions(rule, facts)
        funnel[rule.id] = int(hit.sum())
        remaining &= ~hit
    eligible = facts.index[remaining.to_numpy()]
    funnel["eligible"] = len(eligible)
    patients = lotas.patient_rows(campaign, records, facts, eligible)
    wanted = [column.name for column in campaign.patient_columns]
    if progress:
        progress("Terminé", 1.0)
    return Selection(
        campaign_id=campaign.id,
        finess=finess,
        archive=records.archive,
        report=records.report,
        funnel=funnel,
        patients=patients[wanted].reset_index(drop=True),
        key_column=lotas.ask_campaign(campaign, "key", returns=str),
        columns=tuple(campaign.patient_columns),
    )
