"""The French words every front end shares (``lotas_core.french``): one of each."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from lotas_core.french import french_date, french_datetime, sizes_footer, validation_problem


def test_footer_is_the_manuals():
    assert sizes_footer(80, 30) == "NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]"
    assert sizes_footer(3, 0) == "NB DOSSIERS TAS : 3 [ECHANT PRINC : 3 + ECHANT RESERV : 0]"


@pytest.mark.parametrize("value,text", [
    ("2019-12-28", "28/12/2019"),
    (date(2019, 7, 1), "01/07/2019"),
    (datetime(2020, 2, 29, 23, 59), "29/02/2020"),
    (date(999, 1, 2), "02/01/0999"),
    ("not a date", "not a date"),  # an edited history row stays readable
    ("", ""),
    (None, ""),
])
def test_french_date(value, text):
    assert french_date(value) == text


class _Options(BaseModel):
    port: int = Field(gt=0)
    name: str = "x"

    @field_validator("name")
    @classmethod
    def _french(cls, value: str) -> str:
        if value == "bad":
            raise ValueError("nom refusé : choisissez-en un autre")
        return value


def test_validation_problem_names_the_field_and_keeps_a_french_reason():
    with pytest.raises(ValidationError) as caught:
        _Options(port=1, name="bad")
    assert validation_problem(caught.value) == ("name", "nom refusé : choisissez-en un autre")
    with pytest.raises(ValidationError) as caught:
        _Options(port=0)
    field, reason = validation_problem(caught.value)
    assert field == "port" and "0" in reason


def test_french_time_is_local_and_leaves_odd_values_alone(monkeypatch):
    import time

    from lotas_core.french import french_time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        assert french_time("2026-11-28T14:03:05+00:00") == "28/11/2026 15:03:05"
        assert french_time("2026-07-01T23:30:00.123+00:00") == "02/07/2026 01:30:00"
        assert french_time("") == "" and french_time("pas une date") == "pas une date"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_french_datetime_in_local_time():

    naive = datetime(2021, 4, 22, 9, 16, 56)
    assert french_datetime(naive) == "22/04/2021 09:16:56"
    assert french_datetime(naive, " à ") == "22/04/2021 à 09:16:56"
    aware = datetime(2021, 4, 22, 9, 16, 56, tzinfo=UTC)
    assert french_datetime(aware) == french_datetime(aware.astimezone().replace(tzinfo=None))
