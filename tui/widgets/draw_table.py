"""The LOTAS table of one draw: the campaign's columns, dates as DD/MM/YYYY.

Every value is always whole: the campaign's list-of-codes column (LISTEDA for PSY SMA 2021) wraps
onto more lines of its row when it is longer than the space left (a cut ``F29 F322 F329`` would
read as the valid-looking ``F29 F32``). On a narrow terminal (80 columns) the headers are split
on two lines (``NUM``/``TAS``) so that every column, the last date included, stays on screen; the
copy and the exports always hold the one-line header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from lotas_core.draws.history import DrawRecord
    from lotas_core.selection.columns import RowLayout

#: Where the manual's names split best on two lines; other names split in halves.
SPLIT_HEADERS = {
    "NUMTAS": "NUM\nTAS", "TYPECH": "TYPE\nCH", "MODENT": "MOD\nENT", "MODSORT": "MOD\nSORT",
    "LISTEDA": "LIST\nEDA", "DATACTE": "DAT\nACTE",
}
#: Space between two columns, and the vertical scrollbar.
GAP = 1
SCROLLBAR = 1


def draw_cells(record: DrawRecord | None, layout: RowLayout) -> list[list[str]]:
    """The table's text, row by row (an empty list for no draw)."""
    rows = record.rows if record is not None else []
    return [[column.text(row.get(column.name)) for column in layout.columns] for row in rows]


def split_header(name: str) -> str:
    """A column name on two lines, never abbreviated (``NUM``/``TAS``)."""
    if name in SPLIT_HEADERS:
        return SPLIT_HEADERS[name]
    if len(name) <= 4:
        return name
    half = (len(name) + 1) // 2
    return f"{name[:half]}\n{name[half:]}"


def header_lines(name: str, split: bool) -> list[str]:
    return (split_header(name) if split else name).split("\n")


def fit_columns(names: Sequence[str], cells: list[list[str]], width: int,
                flexible: str | None) -> tuple[list[int], bool]:
    """Column widths for a table ``width`` cells wide, and whether headers are split.

    Every column is as wide as its widest cell (and header line); the ``flexible`` column takes
    what is left, at least its header, and wraps. Headers are split only when one-line headers
    would not leave the flexible column its widest value (or the columns do not fit).
    """
    widths: list[int] = []
    for split in (False, True):
        widths = [
            max([len(line) for line in header_lines(name, split)]
                + [len(row[index]) for row in cells])
            for index, name in enumerate(names)
        ]
        if flexible is None or flexible not in names:
            if sum(widths) + GAP * len(names) + SCROLLBAR <= width:
                return widths, split
            continue
        index = names.index(flexible)
        longest = max([0] + [len(row[index]) for row in cells])
        header = max(len(line) for line in header_lines(flexible, split))
        others = sum(widths) - widths[index] + GAP * len(names)
        available = width - others - SCROLLBAR
        widths[index] = max(header, min(max(longest, header), available))
        if widths[index] >= longest:
            return widths, split
    return widths, True


class DrawTable(DataTable):
    """The drawn patients, rank 1 first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", cell_padding=0, **kwargs)
        self._cells: list[list[str]] = []
        self._fitted: tuple[list[int], bool] = ([], False)
        self._layout: RowLayout | None = None

    def on_mount(self) -> None:
        self.show(None, self.app.row_layout(None))  # type: ignore[attr-defined]

    def _fit(self) -> tuple[list[int], bool]:
        assert self._layout is not None
        width = max(self.size.width or self.app.size.width, 40)
        return fit_columns(self.column_names, self._cells, width, self._layout.flexible)

    def show(self, record: DrawRecord | None, layout: RowLayout) -> None:
        """Replace the rows with those of ``record`` in ``layout``'s columns (``None`` empties
        the table)."""
        self._layout = layout
        self._cells = draw_cells(record, layout)
        self._fill()

    @property
    def column_names(self) -> tuple[str, ...]:
        return self._layout.names if self._layout is not None else ()

    def _fill(self) -> None:
        self._fitted = self._fit()
        widths, split = self._fitted
        self.clear(columns=True)
        self.header_height = 2 if split else 1
        for column, width in zip(self.column_names, widths, strict=True):
            label = split_header(column) if split else column
            self.add_column(Text(label), key=column, width=width + GAP)
        flexible = self._layout.flexible if self._layout is not None else None
        index = self.column_names.index(flexible) if flexible in self.column_names else None
        for row in self._cells:
            # A row whose codes must wrap gets its height; the others stay one line (fast).
            wraps = index is not None and len(row[index]) > widths[index]
            self.add_row(*row, height=None if wraps else 1)

    def on_resize(self) -> None:
        if self._layout is not None and self._fit() != self._fitted:
            self._fill()
