"""Line layouts declared as data: fixed fields and variable parts of a fixed-width record.

Kept apart from the reader engine (``reading.fixedwidth``) so that a campaign declares its
formats without numpy: a layout is a plain value, the engine is what reads bytes with it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FIELD_KINDS", "Field", "Layout", "Repeat"]

#: Kinds of field: ``code`` (text, trailing spaces removed, stored as a pandas Categorical),
#: ``date`` (``DDMMYYYY`` to ``datetime64``, NaT when invalid), ``int`` (digits, -1 if not).
FIELD_KINDS = ("code", "date", "int")


@dataclass(frozen=True)
class Field:
    """One fixed field: ``start`` is 1-based and inclusive, as in the ATIH manuals."""

    name: str
    start: int
    length: int
    kind: str = "code"

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for {self.name}")
        if self.kind == "date" and self.length != 8:
            raise ValueError(f"date field {self.name} must be 8 characters (DDMMYYYY)")

    @property
    def stop(self) -> int:
        """0-based exclusive end, for slicing."""
        return self.start - 1 + self.length


@dataclass(frozen=True)
class Repeat:
    """A variable part after the fixed part: ``count_field`` items of ``item_length`` bytes."""

    name: str
    count_field: str
    item_length: int


@dataclass(frozen=True)
class Layout:
    """A line format: its fields, variable parts and which fields the validation looks at."""

    name: str
    format_code: str
    fields: tuple[Field, ...]
    repeats: tuple[Repeat, ...] = ()
    #: ``(field name, reason)`` of the dates whose invalidity skips the line (a **blocking**
    #: error), e.g. ``("DATE_ACTE", "date")``.
    date_checks: tuple[tuple[str, str], ...] = ()
    #: ``(field name, warning)`` of the dates whose invalidity only warns: the line is kept, the
    #: field is NaT, and the report counts the line under the warning (PIVOINE's non-blocking
    #: controls), e.g. ``("DTNAIS", "birth_date")``.
    warning_checks: tuple[tuple[str, str], ...] = ()
    format_field: str = "FORMAT"
    finess_field: str = "FINESS"
    key_field: str = "IPP"

    @property
    def fixed_length(self) -> int:
        """Length of the fixed part (the line length when every count is zero)."""
        return max(f.stop for f in self.fields)

    def field(self, name: str) -> Field:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(f"{self.name} has no field {name!r}")
