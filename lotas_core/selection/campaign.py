"""What a campaign is: the base types a campaign plugin implements.

A campaign knows one year's rules (which records, which patients, which row); the core knows how
to run any campaign (``selection.pipeline``) and how to draw (``draws.algorithm``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from lotas_core.reading.records import Records

#: The columns of a drawn row, in the order of the LOTAS table and of the TSV copy.
DRAW_COLUMNS: tuple[str, ...] = (
    "NUMTAS", "TYPECH", "IPP", "SEXE", "AGE", "MODENT", "MODSORT", "DEST", "PROV", "LISTEDA",
    "DATACTE",
)
#: The columns of an eligible patient (``lotas eligible --format csv`` order).
PATIENT_COLUMNS: tuple[str, ...] = (
    "IPP", "SEXE", "AGE", "DATACTE", "LISTEDA", "MODENT", "PROV", "MODSORT", "DEST",
)


@dataclass(frozen=True)
class SampleSizes:
    """How many patients go to the main sample and to the reserve."""

    main: int
    reserve: int

    @property
    def total(self) -> int:
        return self.main + self.reserve

    def __post_init__(self) -> None:
        if self.main < 0 or self.reserve < 0:
            raise ValueError("sample sizes cannot be negative")


class EligibilityRule(ABC):
    """One exclusion of the funnel, applied in ``order``; the first rule that applies counts.

    ``id`` is the funnel key (``fulltime``, ``lt2``...); ``label_fr`` is shown in the funnel
    (``Campaign.funnel_labels``).
    A site plugin can add its own rules for a campaign through ``lotas_eligibility_rules``.
    """

    id: ClassVar[str]
    label_fr: ClassVar[str]
    order: ClassVar[int] = 100

    @abstractmethod
    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        """A boolean Series aligned on ``facts``: True for each patient this rule excludes."""


class Campaign(ABC):
    """A quality campaign: its records, its per-patient facts and the row of an eligible patient."""

    id: ClassVar[str]
    title: ClassVar[str]
    year: ClassVar[int]
    period_month: ClassVar[int] = 12
    #: The id of the ``RecordSource`` that reads this campaign's archives.
    record_source: ClassVar[str]
    columns: ClassVar[tuple[str, ...]] = DRAW_COLUMNS
    default_sizes: ClassVar[SampleSizes] = SampleSizes(80, 30)

    @abstractmethod
    def patient_facts(self, records: Records) -> pd.DataFrame:
        """One row per patient of the base population, indexed by patient key (``IPP``)."""

    @abstractmethod
    def patient_rows(
        self, records: Records, facts: pd.DataFrame, eligible: pd.Index
    ) -> pd.DataFrame:
        """The ``PATIENT_COLUMNS`` row of each eligible patient, sorted by IPP."""

    def funnel_labels(self, rules: Iterable[EligibilityRule]) -> dict[str, str]:
        """French labels of the funnel steps, in reading order: base, ``rules``, eligible.

        Shown by the screen's funnel panel and the draw report; each exclusion counts the
        patients it removed (the first rule that applies), hence "exclus :".
        """
        labels = {"base": f"vus en {self.year} (base)"}
        labels.update({rule.id: f"exclus : {rule.label_fr}" for rule in rules})
        labels["eligible"] = "éligibles"
        return labels

    def describe(self) -> dict[str, object]:
        """Parameters shown by ``lotas plugins`` and recorded in the history."""
        return {"id": self.id, "title": self.title, "year": self.year}
