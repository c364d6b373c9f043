"""The French words every front end shares: dates, the table footer, validation errors.

One function each, so that the command line, the exports, the report and the screen say the
same thing the same way.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


def french_date(value: object) -> str:
    """``DD/MM/YYYY`` from an ISO date text, a ``date`` or a ``datetime`` (the LOTAS table's
    form); any other value is shown as it is (an edited history row stays readable)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if value is None:
        return ""
    text = str(value)
    try:
        return french_date(date.fromisoformat(text))
    except ValueError:
        return text


def french_time(value: object) -> str:
    """``french_datetime`` of an ISO date-time text (the history's UTC times, a relay's
    answer); any other value is shown as it is."""
    if value is None or value == "":
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return french_datetime(moment)


def french_datetime(value: datetime, between: str = " ") -> str:
    """``DD/MM/YYYY HH:MM:SS`` in local time (an aware ``datetime`` is converted; a naive one is
    shown as it is); ``between`` separates date and time (`` à `` in sentences)."""
    local = value.astimezone() if value.tzinfo else value
    return f"{french_date(local)}{between}{local:%H:%M:%S}"


def sizes_footer(main: int, reserve: int) -> str:
    """The manual's footer: ``NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]``."""
    return (
        f"NB DOSSIERS TAS : {main + reserve} "
        f"[ECHANT PRINC : {main} + ECHANT RESERV : {reserve}]"
    )


def validation_problem(error: ValidationError) -> tuple[str, str]:
    """``(field, French reason)`` of the first problem of a pydantic ``ValidationError``.

    The field is dotted (``transport.options.x``); the reason drops pydantic's "Value error, "
    prefix, so that a validator's own French sentence reads as written.
    """
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "?"
    reason = str(first.get("msg", "valeur invalide")).removeprefix("Value error, ")
    return where, reason
