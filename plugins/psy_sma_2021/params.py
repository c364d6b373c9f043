"""The parameters of a PSY SMA campaign, as one typed value (spec sections 2-5).

``PsySmaParams`` is the family's parameter model: everything that changes from one campaign to
the next (data year, second-half window, what counts as a medical consultation, the delays, the
sizes, the title). The 2021 campaign is one set of values, ``PSY_SMA_2021``; next year's is
another (``PSY_SMA_2021.replace(data_year=2020, ...)``), in its own distribution. Rule labels and
error messages are built from the values, so they never say "90" when the delay is 60.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Member names of the PIVOINE in-archive (suffixes, case-insensitive; "rpa" is PIVOINE's name).
RAA_MEMBER_SUFFIXES = (".rpa.txt", ".raa.txt")
RPS_MEMBER_SUFFIXES = (".rps.txt",)


class PsySmaParams(BaseModel):
    """One PSY SMA campaign: its identity, its data and its rules' values (validated)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    campaign_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The campaign's id (``lotas --campaign``, the ``campaign`` setting, the history)."""
    title: str = Field(min_length=1)
    """The window title of the screen (``LOTAS PSY SMA 2021``)."""
    data_year: int = Field(ge=2000, le=2100)
    """The year of the data read (the 2021 campaign samples 2019 patients)."""
    period_month: int = Field(12, ge=1, le=12)
    """The PIVOINE period of the archive: M12 holds the whole year."""
    second_half_start: date | None = None
    """First day of the "second half" (``noh2``, reference act); default 1 July of the data year.
    **Decision** (spec 3): the manual's "2ème semestre 2018" is read as the data year's."""
    activity_form: str = Field("30", min_length=1)
    """Forme d'activité of the RAA lines that make the base population: CMP."""
    consultation_place: str = Field("L01", min_length=1)
    """Lieu de l'acte of a medical consultation: CMP."""
    consultation_nature: str = Field("E", min_length=1)
    """Nature de l'acte of a medical consultation: entretien."""
    consultation_categories: frozenset[str] = Field(frozenset({"M", "X"}), min_length=1)
    """Catégories professionnelles of a medical consultation: a physician (M), or several
    professionals with one (X)."""
    fulltime_forms: frozenset[str] = Field(frozenset({"01"}), min_length=1)
    """RPS formes d'activité that exclude (``fulltime``). **Decision** (spec 3): only 01
    (hospitalisation à temps plein); 02-07 are other full-time forms and do not."""
    min_consultations: int = Field(2, ge=1)
    """Fewer medical consultations than this excludes (``lt2``)."""
    min_follow_up_days: int = Field(90, ge=0)
    """Last second-half consultation minus first of the year below this many days excludes
    (``delay``); exactly this many days is eligible."""
    main_size: int = Field(80, ge=0)
    """Size of the main sample (P)."""
    reserve_size: int = Field(30, ge=0)
    """Size of the reserve (R)."""
    archive_subfolder: str = Field("PSY", min_length=1)
    """Default archive folder: ``<data_dir>/archives/<archive_subfolder>``."""
    record_source_id: str = ""
    """The id of the record source reading the archives; default ``pivoine_in_<data_year>``."""

    @model_validator(mode="after")
    def _coherent(self) -> PsySmaParams:
        start = self.second_half_start
        if start is not None and start.year != self.data_year:
            raise ValueError(
                f"second_half_start {start} is not in the data year {self.data_year}"
            )
        if self.main_size + self.reserve_size < 1:
            raise ValueError("main_size + reserve_size must be at least 1")
        return self

    # -- derived values ------------------------------------------------------------------------

    @property
    def year_start(self) -> date:
        return date(self.data_year, 1, 1)

    @property
    def year_end(self) -> date:
        return date(self.data_year, 12, 31)

    @property
    def second_half_from(self) -> date:
        """The first day of the second half (``second_half_start`` or 1 July)."""
        return self.second_half_start or date(self.data_year, 7, 1)

    @property
    def source_id(self) -> str:
        """The record source's id (``record_source_id`` or ``pivoine_in_<data_year>``)."""
        return self.record_source_id or f"pivoine_in_{self.data_year}"

    def replace(self, **changes: Any) -> PsySmaParams:
        """These values with ``changes``, validated again (``PSY_SMA_2021.replace(...)``)."""
        return type(self).model_validate({**self.model_dump(), **changes})


#: HAS PSY SMA 2021: patients followed in CMP in 2019, sampled 80 + 30.
PSY_SMA_2021 = PsySmaParams(
    campaign_id="psy_sma_2021",
    title="LOTAS PSY SMA 2021",
    data_year=2019,
)
