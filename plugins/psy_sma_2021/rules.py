"""The exclusions of a PSY SMA campaign, in order (spec section 3); each reads the facts.

Every rule takes its values from the campaign's ``PsySmaParams`` and says them in its label, so
the funnel of a campaign with a 60-day delay reads "moins de 60 jours entre entretiens". The
facts a rule sees are documented in ``campaign.py`` (``FACT_COLUMNS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotas_core.french import french_date
from lotas_core.selection.campaign import EligibilityRule
from lotas_plugins.psy_sma_2021.params import PSY_SMA_2021, PsySmaParams

if TYPE_CHECKING:
    import pandas as pd


class FulltimeRule(EligibilityRule):
    """A valid RPS line of a full-time form (``fulltime_forms``) whose sequence meets the year."""

    id = "fulltime"
    label_fr = "hospitalisation à temps plein"
    order = 10

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["fulltime"].astype(bool)


class FewConsultationsRule(EligibilityRule):
    """Fewer than ``min_consultations`` medical consultations in the year."""

    id = "lt2"
    order = 20

    def __init__(self, minimum: int = PSY_SMA_2021.min_consultations) -> None:
        self.minimum = minimum
        self.label_fr = f"moins de {minimum} entretiens médicaux"

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["consultations"] < self.minimum


class NoSecondHalfRule(EligibilityRule):
    """No medical consultation from the second half's first day to the end of the year."""

    id = "noh2"
    order = 30

    def __init__(self, params: PsySmaParams = PSY_SMA_2021) -> None:
        start = params.second_half_from
        self.label_fr = (
            "aucun entretien au 2e semestre" if (start.month, start.day) == (7, 1)
            else f"aucun entretien à partir du {french_date(start)}"
        )

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["last_h2_consultation"].isna()


class FollowUpDelayRule(EligibilityRule):
    """Last consultation of the second half minus first of the year below ``min_follow_up_days``."""

    id = "delay"
    order = 40

    def __init__(self, min_days: int = PSY_SMA_2021.min_follow_up_days) -> None:
        self.min_days = min_days
        self.label_fr = f"moins de {min_days} jours entre entretiens"

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        gap = facts["last_h2_consultation"] - facts["first_consultation"]
        return (gap.dt.days < self.min_days).fillna(False).astype(bool)


def default_rules(params: PsySmaParams = PSY_SMA_2021) -> list[EligibilityRule]:
    """The campaign's four exclusions, with its values, in the order they are tested."""
    return [
        FulltimeRule(),
        FewConsultationsRule(params.min_consultations),
        NoSecondHalfRule(params),
        FollowUpDelayRule(params.min_follow_up_days),
    ]
