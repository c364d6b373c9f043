"""The LOTAS table of one draw: the campaign's columns, dates as DD/MM/YYYY.

When the terminal is narrow (100 columns), the campaign's list-of-codes column (LISTEDA for
PSY SMA 2021) gives way so that the columns after it stay visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import DataTable

if TYPE_CHECKING:
    from lotas_core.draws.history import DrawRecord
    from lotas_core.selection.columns import RowLayout


def draw_cells(record: DrawRecord | None, layout: RowLayout) -> list[list[str]]:
    """The table's text, row by row (an empty list for no draw)."""
    rows = record.rows if record is not None else []
    return [[column.text(row.get(column.name)) for column in layout.columns] for row in rows]


class DrawTable(DataTable):
    """The drawn patients, rank 1 first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)
        self._cells: list[list[str]] = []
        self._widths: list[int] = []
        self._layout: RowLayout | None = None

    def on_mount(self) -> None:
        self.show(None, self.app.row_layout(None))  # type: ignore[attr-defined]

    def _fit(self, cells: list[list[str]]) -> list[int]:
        """Every column as wide as its widest cell, except the flexible one (the layout's list
        of codes), cut to the space left.

        Explicit widths: auto-sized columns refilled during a resize kept their header's width
        (an IPP shown as 3 characters on a wide terminal).
        """
        assert self._layout is not None
        names = self._layout.names
        widths = [
            max([len(name)] + [len(row[index]) for row in cells])
            for index, name in enumerate(names)
        ]
        flexible = self._layout.flexible
        if flexible is None:
            return widths
        index = names.index(flexible)
        padding = 2 * self.cell_padding * len(names)
        others = sum(widths) - widths[index] + padding
        available = max(self.app.size.width, 40) - others - 2  # the 1-cell scrollbar
        widths[index] = max(len(flexible), min(widths[index], available))
        return widths

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
        self._widths = self._fit(self._cells)
        self.clear(columns=True)
        for column, width in zip(self.column_names, self._widths, strict=True):
            self.add_column(column, key=column, width=width)
        self.add_rows(self._cells)

    def on_resize(self) -> None:
        if self._layout is not None and self._fit(self._cells) != self._widths:
            self._fill()
