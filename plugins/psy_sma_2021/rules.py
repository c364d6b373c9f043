"""The exclusions of PSY SMA 2021, in order (spec section 3); each reads one column of the facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotas_core.selection.campaign import EligibilityRule
from lotas_plugins.psy_sma_2021 import params

if TYPE_CHECKING:
    import pandas as pd


class FulltimeRule(EligibilityRule):
    """A valid RPS line of a full-time form (``FULLTIME_FORMS``) whose sequence meets the year."""

    id = "fulltime"
    label_fr = "hospitalisation à temps plein"
    order = 10

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["fulltime"].astype(bool)


class FewConsultationsRule(EligibilityRule):
    """Fewer than ``MIN_CONSULTATIONS`` medical consultations in the year."""

    id = "lt2"
    label_fr = "moins de 2 entretiens médicaux"
    order = 20

    def __init__(self, minimum: int = params.MIN_CONSULTATIONS) -> None:
        self.minimum = minimum

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["consultations"] < self.minimum


class NoSecondHalfRule(EligibilityRule):
    """No medical consultation from ``SECOND_HALF_START`` to the end of the year."""

    id = "noh2"
    label_fr = "aucun entretien au 2e semestre"
    order = 30

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["last_h2_consultation"].isna()


class FollowUpDelayRule(EligibilityRule):
    """Last consultation of the second half minus first of the year below ``MIN_FOLLOW_UP_DAYS``."""

    id = "delay"
    label_fr = "moins de 90 jours entre entretiens"
    order = 40

    def __init__(self, min_days: int = params.MIN_FOLLOW_UP_DAYS) -> None:
        self.min_days = min_days

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        gap = facts["last_h2_consultation"] - facts["first_consultation"]
        return (gap.dt.days < self.min_days).fillna(False).astype(bool)


def default_rules() -> list[EligibilityRule]:
    """The campaign's four exclusions, in the order they are tested."""
    return [FulltimeRule(), FewConsultationsRule(), NoSecondHalfRule(), FollowUpDelayRule()]
