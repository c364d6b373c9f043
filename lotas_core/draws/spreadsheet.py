"""Cells a spreadsheet would run as a formula, made inert: the one rule every CSV and TSV output
of lotas applies (``lotas export``, ``lotas draw --format tsv|csv``, the clipboard copy,
``lotas eligible --format csv``).

Excel, LibreOffice and Google Sheets read a cell starting with ``=``, ``+``, ``-`` or ``@`` as a
formula, and a leading tab or carriage return can hide one ("CSV injection"). Such a cell gets a
leading apostrophe, the spreadsheets' own mark for "this is text", as OWASP advises. A cell that
is only a number (``-1``, ``+33``, ``4.5``) is left alone: as a formula it is the number itself.
"""

from __future__ import annotations

import re

#: First characters that make a spreadsheet read a cell as a formula (or hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FIRST = frozenset(FORMULA_STARTS)
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+([.,][0-9]+)?")


def neutralise_formula(cell: object) -> str:
    """``cell`` as text that no spreadsheet runs as a formula (see the module docstring)."""
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def neutralise_row(cells: list[object] | tuple[object, ...]) -> list[object]:
    """A row of cells with every text cell neutralised; numbers and empty cells stay as they are
    (the CSV writer prints them as usual)."""
    return [cell if cell is None or isinstance(cell, int | float) else neutralise_formula(cell)
            for cell in cells]


def neutralise_column(values: list[object]) -> list[object]:
    """``neutralise_row`` for a whole column, fast on the large ones (``lotas eligible``): the
    distinct texts are searched at once for a risky first character, and a column without one
    is returned as is."""
    uniques = set(values)
    uniques.discard(None)
    try:
        joined = "\n" + "\n".join(uniques)  # type: ignore[arg-type]
    except TypeError:  # numbers among the texts: look at each distinct value
        joined = None
    if joined is not None and not any("\n" + first in joined for first in FORMULA_STARTS):
        return values
    risky = {
        value for value in uniques
        if isinstance(value, str) and value[:1] in _FIRST and neutralise_formula(value) != value
    }
    if not risky:
        return values
    return [neutralise_formula(value) if value in risky else value for value in values]
