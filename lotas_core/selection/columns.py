"""The columns of a campaign's rows: what each is called, shown as, and whether it may leave.

A campaign declares its columns as data (``RowColumn``); the core builds every table, export and
payload from them, so it knows no campaign's columns. The core adds only the two columns of the
draw itself: the rank (NUMTAS) and the sample (TYPECH, ``P`` main or ``R`` reserve).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lotas_core.french import french_date

#: How a column's values are stored and shown:
#: ``text`` as is; ``int`` a whole number; ``date`` ISO in files and the history, ``DD/MM/YYYY``
#: on screen and in the TSV, CSV and report; ``codes`` a space-separated list of codes, the
#: column that gives way on a narrow screen.
ColumnFormat = Literal["text", "int", "date", "codes"]
FORMATS: tuple[str, ...] = ("text", "int", "date", "codes")


@dataclass(frozen=True)
class RowColumn:
    """One column of a patient's row."""

    name: str
    label_fr: str
    format: ColumnFormat = "text"
    #: True for a column that identifies a patient (an IPP): never transmitted, never logged.
    identifying: bool = False

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"column {self.name!r}: unknown format {self.format!r}")

    def text(self, value: Any) -> str:
        """A cell as the table, the TSV, the CSV and the report show it: a ``date`` as
        ``DD/MM/YYYY``, a missing value as empty, line breaks and tabs as spaces."""
        if self.format == "date":
            return french_date(value)
        text = "" if value is None else str(value)
        return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


#: The rank of a drawn patient (1 first), then P (main sample) or R (reserve).
NUMTAS = RowColumn("NUMTAS", "Numéro de tirage", "int")
TYPECH = RowColumn("TYPECH", "Échantillon (P principal, R réserve)")
RANK_COLUMNS: tuple[RowColumn, ...] = (NUMTAS, TYPECH)


@dataclass(frozen=True)
class RowLayout:
    """The drawn rows of a campaign: their columns in table order and those that may be sent."""

    #: NUMTAS, TYPECH, then the campaign's columns in the order of its table.
    columns: tuple[RowColumn, ...]
    #: The columns a transport may send, in this order; never an identifying one.
    transmitted: tuple[str, ...]

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"duplicate columns {dupes}")
        unknown = [name for name in self.transmitted if name not in names]
        if unknown:
            raise ValueError(f"transmitted columns {unknown} are not row columns")
        identifying = [name for name in self.transmitted if self.column(name).identifying]
        if identifying:
            raise ValueError(f"identifying columns {identifying} cannot be transmitted")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> RowColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def identifying(self) -> frozenset[str]:
        return frozenset(column.name for column in self.columns if column.identifying)

    @property
    def flexible(self) -> str | None:
        """The column that gives way on a narrow screen: the last ``codes`` column, if any."""
        codes = [column.name for column in self.columns if column.format == "codes"]
        return codes[-1] if codes else None

    @classmethod
    def of(cls, columns: Iterable[RowColumn], transmitted: Iterable[str] | None = None
           ) -> RowLayout:
        """NUMTAS and TYPECH, then ``columns``; ``transmitted`` defaults to every column that
        does not identify a patient, in table order."""
        full = RANK_COLUMNS + tuple(columns)
        if transmitted is None:
            transmitted = [column.name for column in full if not column.identifying]
        return cls(full, tuple(transmitted))

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> RowLayout:
        """A layout guessed from stored rows, for a draw whose campaign is not installed: its
        columns in stored order, shown as text, none transmitted."""
        seen: list[str] = [column.name for column in RANK_COLUMNS]
        for row in rows:
            seen += [name for name in row if name not in seen]
        known = {column.name: column for column in RANK_COLUMNS}
        return cls(tuple(known.get(name) or RowColumn(name, name) for name in seen), ())
