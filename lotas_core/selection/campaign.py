"""What a campaign is: the base types a campaign plugin implements.

A campaign knows one year's rules (which records, which patients, which row); the core knows how
to run any campaign (``selection.pipeline``) and how to draw (``draws.algorithm``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from lotas_core.errors import UsageError
from lotas_core.selection.columns import RowColumn, RowLayout

if TYPE_CHECKING:
    import pandas as pd

    from lotas_core.reading.records import Records


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
    (``Campaign.funnel_labels``): a class attribute, or set per instance when it says the rule's
    values ("moins de 60 jours entre entretiens").
    A site plugin can add its own rules for a campaign through ``lotas_eligibility_rules``.
    """

    id: ClassVar[str]
    label_fr: str
    order: ClassVar[int] = 100

    @abstractmethod
    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        """A boolean Series aligned on ``facts``: True for each patient this rule excludes."""


class Campaign(ABC):
    """A quality campaign: its records, its per-patient facts and the row of an eligible patient.

    Besides its rules, a campaign says, as data, everything the core and the screen show of it:
    its title, the columns of its rows (``patient_columns``), which of them may be transmitted,
    where its archives are by default and how a demonstration archive is made.
    """

    id: ClassVar[str]
    #: The window title of the screen (``LOTAS PSY SMA 2021``).
    title: ClassVar[str]
    year: ClassVar[int]
    period_month: ClassVar[int] = 12
    #: The id of the ``RecordSource`` that reads this campaign's archives.
    record_source: ClassVar[str]
    #: The columns of an eligible patient's row (``patient_rows``), in ``lotas eligible`` order.
    patient_columns: ClassVar[tuple[RowColumn, ...]]
    #: The column holding the key the draw is made on (default: the first identifying column).
    key_column: ClassVar[str] = ""
    #: The drawn table's order after NUMTAS and TYPECH (default: ``patient_columns``' order).
    table_order: ClassVar[tuple[str, ...]] = ()
    #: The columns that may be transmitted, in order (default: every column that does not
    #: identify a patient, in table order); an identifying column is refused.
    transmitted_columns: ClassVar[tuple[str, ...] | None] = None
    #: Default archive folder: ``<data_dir>/archives/<archive_subfolder>`` (default: the id).
    archive_subfolder: ClassVar[str] = ""
    default_sizes: ClassVar[SampleSizes] = SampleSizes(80, 30)

    @abstractmethod
    def patient_facts(self, records: Records) -> pd.DataFrame:
        """One row per patient of the base population, indexed by patient key."""

    @abstractmethod
    def patient_rows(
        self, records: Records, facts: pd.DataFrame, eligible: pd.Index
    ) -> pd.DataFrame:
        """The ``patient_columns`` row of each eligible patient, sorted by key."""

    # -- what the core and the screen show -----------------------------------------------------

    def row_layout(self) -> RowLayout:
        """The drawn rows: NUMTAS, TYPECH, the columns in table order, and the transmitted ones."""
        by_name = {column.name: column for column in self.patient_columns}
        order = self.table_order or tuple(by_name)
        unknown = [name for name in order if name not in by_name]
        if unknown or len(set(order)) != len(by_name):
            raise ValueError(
                f"campaign {self.id!r}: table_order {order} is not an order of its columns"
            )
        return RowLayout.of((by_name[name] for name in order), self.transmitted_columns)

    def key(self) -> str:
        """The name of the column holding the patient key."""
        if self.key_column:
            return self.key_column
        for column in self.patient_columns:
            if column.identifying:
                return column.name
        raise ValueError(f"campaign {self.id!r} has no identifying column to draw on")

    def archive_folder_name(self) -> str:
        """The default archive sub-folder of ``<data_dir>/archives``."""
        return self.archive_subfolder or self.id

    def size_notice(self, eligible: int, drawn: SampleSizes) -> str:
        """The French notice of a draw with fewer eligible patients than wanted (spec section 5):
        everyone is drawn, and we say so (not when a ``lotas_sample_sizes`` plugin chose to draw
        fewer than everyone); empty otherwise."""
        if 0 < eligible < self.default_sizes.total and drawn.total == eligible:
            return f"{eligible} patients éligibles seulement : tous sont tirés"
        return ""

    def write_demo_archive(
        self, folder: Path, *, finess: str, raa_lines: int = 20000, seed: int = 1
    ) -> Path:
        """Write a synthetic archive this campaign reads into ``folder``; return its path.

        The same arguments always give the same bytes. The default: this campaign has none.
        """
        raise UsageError(
            f"La campagne « {self.id} » ne fournit pas d'archive de démonstration : choisissez "
            "une autre campagne (--campaign) ou une vraie archive.",
            f"campaign {self.id!r} has no demo archive",
        )

    def funnel_labels(self, rules: Iterable[EligibilityRule]) -> dict[str, str]:
        """French labels of the funnel steps, in reading order: base, ``rules``, eligible.

        Shown by the screen's funnel panel and the draw report; each exclusion counts the
        patients it removed (the first rule that applies), hence "exclus :".
        """
        labels = {"base": f"vus en {self.year} (base)"}
        labels.update({rule.id: f"exclus : {rule.label_fr}" for rule in rules})
        labels["eligible"] = "éligibles"
        return labels
