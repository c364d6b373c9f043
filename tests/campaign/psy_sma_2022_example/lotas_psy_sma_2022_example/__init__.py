"""PSY SMA 2022 (worked example): next year's campaign as its own small distribution.

The same family as PSY SMA 2021 (``lotas_plugins.psy_sma_2021``), other values: 2020 data, at
least 60 days between consultations, 60 + 20 patients; and one more exclusion, patients under
18 at the reference act. Nothing is copied and nothing private is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotas_core import EligibilityRule
from lotas_plugins.psy_sma_2021 import PSY_SMA_2021, PsySmaPlugin

if TYPE_CHECKING:
    import pandas as pd

__version__ = "0.1.0"

#: The 2021 values, changed where the 2022 campaign differs (validated again).
PARAMS = PSY_SMA_2021.replace(
    campaign_id="psy_sma_2022_example",
    title="LOTAS PSY SMA 2022 (exemple)",
    data_year=2020,
    min_follow_up_days=60,
    main_size=60,
    reserve_size=20,
    archive_subfolder="PSY-2022",
)

#: Age limit of the extra exclusion, in completed years at the reference act.
ADULT_AGE = 18


class UnderAgeRule(EligibilityRule):
    """Patients under ``ADULT_AGE`` at the reference act (``age_at_reference`` of the facts)."""

    id = "minor"
    label_fr = f"moins de {ADULT_AGE} ans à l'acte de référence"
    order = 50  # after the family's four exclusions (10, 20, 30, 40)

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        # <NA> (age unknown: unreadable birth date) does not exclude; a patient without a
        # reference act is already out (noh2).
        return facts["age_at_reference"] < ADULT_AGE


#: What the entry point names: the campaign, its record source and its five rules.
plugin = PsySmaPlugin(PARAMS, extra_rules=[UnderAgeRule()], version=__version__)
