"""Record sources: from an archive folder to named tables plus a parse report."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from lotas_core.selection.campaign import Campaign

#: ``progress(stage, fraction)``: a French stage label and a fraction in [0, 1].
ProgressCallback = Callable[[str, float], None]

#: How many line numbers the parse report keeps per skip reason and per warning.
FIRST_LINES_KEPT = 5


@dataclass
class FileReport:
    """How one member file was read: lines read, kept, skipped per blocking reason, and kept
    lines per warning (a line may carry several warnings; ``first_lines`` holds the first line
    numbers of each blocking reason and of each warning)."""

    member: str
    lines_read: int = 0
    lines_kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    first_lines: dict[str, list[int]] = field(default_factory=dict)
    kept_with_warning: dict[str, int] = field(default_factory=dict)


@dataclass
class ParseReport:
    """The parse report of an archive: one ``FileReport`` per member, plus warnings."""

    files: dict[str, FileReport] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": {name: asdict(report) for name, report in self.files.items()},
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ArchiveInfo:
    """The archive a selection was made from (recorded in the history)."""

    path: Path
    name: str
    sha256: str
    size: int


@dataclass
class Records:
    """What a record source read: tables by name (``raa``, ``rps``...), the report, the archive."""

    tables: dict[str, pd.DataFrame]
    report: ParseReport
    archive: ArchiveInfo
    #: The reader's objects behind the tables (e.g. ``fixedwidth.FixedWidthTable``),
    #: by table name: they give the variable parts of a few rows without materialising them all.
    parsed: dict[str, Any] = field(default_factory=dict)


class RecordSource(ABC):
    """Turns an archive folder into ``Records`` for a campaign."""

    id: ClassVar[str]

    @abstractmethod
    def read(
        self,
        folder: Path,
        finess: str,
        campaign: Campaign,
        progress: ProgressCallback | None = None,
    ) -> Records:
        """Find the campaign's archive in ``folder`` for ``finess`` and read it.

        Raises ``lotas_core.errors.ArchiveError`` when no usable archive is found.
        """

    def locate(self, folder: Path, finess: str) -> Path | None:
        """The archive ``read`` would use, without reading it (``ArchiveError`` if none).

        The screen's folder picker shows it before any draw. ``None``: this source cannot
        tell (the default, so existing sources keep working).
        """
        return None
