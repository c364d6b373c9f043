"""The LOTAS table of one draw: the manual's columns, DATACTE as DD/MM/YYYY.

When the terminal is narrow (100 columns), LISTEDA gives way so that DATACTE stays visible.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from lotas_tui.formatting import cell_text

#: The columns of the LOTAS table, in the manual's order (``campaign.DRAW_COLUMNS``).
TABLE_COLUMNS = (
    "NUMTAS", "TYPECH", "IPP", "SEXE", "AGE", "MODENT", "MODSORT", "DEST", "PROV", "LISTEDA",
    "DATACTE",
)


def draw_cells(record: Any) -> list[list[str]]:
    """The table's text, row by row (an empty list for no draw)."""
    rows = record.rows if record is not None else []
    return [[cell_text(column, row.get(column)) for column in TABLE_COLUMNS] for row in rows]


class DrawTable(DataTable):
    """The drawn patients, rank 1 first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)
        self._cells: list[list[str]] = []
        self._widths: list[int] = []

    def on_mount(self) -> None:
        self.show(None)

    def _fit(self, cells: list[list[str]]) -> list[int]:
        """Every column as wide as its widest cell, except LISTEDA, cut to the space left.

        Explicit widths: auto-sized columns refilled during a resize kept their header's width
        (an IPP shown as 3 characters on a wide terminal).
        """
        widths = [
            max([len(name)] + [len(row[index]) for row in cells])
            for index, name in enumerate(TABLE_COLUMNS)
        ]
        listeda = TABLE_COLUMNS.index("LISTEDA")
        padding = 2 * self.cell_padding * len(TABLE_COLUMNS)
        others = sum(widths) - widths[listeda] + padding
        available = max(self.app.size.width, 40) - others - 2  # the 1-cell scrollbar
        widths[listeda] = max(len("LISTEDA"), min(widths[listeda], available))
        return widths

    def show(self, record: Any) -> None:
        """Replace the rows with those of ``record`` (``None`` empties the table)."""
        self._cells = draw_cells(record)
        self._fill()

    def _fill(self) -> None:
        self._widths = self._fit(self._cells)
        self.clear(columns=True)
        for column, width in zip(TABLE_COLUMNS, self._widths, strict=True):
            self.add_column(column, key=column, width=width)
        self.add_rows(self._cells)

    def on_resize(self) -> None:
        if self._fit(self._cells) != self._widths:
            self._fill()
