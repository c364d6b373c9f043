"""The parameters of the PSY SMA 2021 campaign, as named values (spec sections 2-5).

Next year's campaign copies this file and changes the values; the reader and the pipeline stay.
"""

from __future__ import annotations

from datetime import date

#: The year of the data read (the campaign of 2021 samples 2019 patients).
DATA_YEAR = 2019
#: The PIVOINE period of the archive: M12 holds the whole year.
PERIOD_MONTH = 12
#: Forme d'activité of the RAA lines that make the base population: CMP.
CMP_ACTIVITY_FORM = "30"
#: Lieu de l'acte of a medical consultation: CMP.
CONSULTATION_PLACE = "L01"
#: Nature de l'acte of a medical consultation: entretien.
CONSULTATION_NATURE = "E"
#: Catégories professionnelles of a medical consultation: a physician (M) or several with one (X).
CONSULTATION_CATEGORIES = frozenset({"M", "X"})
#: **Decision** (spec 3): only RPS forme d'activité 01 (hospitalisation à temps plein) excludes;
#: 02-07 are other full-time forms and do not.
FULLTIME_FORMS = frozenset({"01"})
#: Fewer medical consultations than this excludes (``lt2``).
MIN_CONSULTATIONS = 2
#: **Decision** (spec 3): the manual's "2ème semestre 2018" is read as the second half of the data
#: year; it starts on this date.
SECOND_HALF_START = date(DATA_YEAR, 7, 1)
#: Last H2 consultation minus first consultation of the year below this many days excludes
#: (``delay``); exactly this many days is eligible.
MIN_FOLLOW_UP_DAYS = 90
#: Sizes of the main sample and of the reserve.
MAIN_SAMPLE_SIZE = 80
RESERVE_SAMPLE_SIZE = 30

YEAR_START = date(DATA_YEAR, 1, 1)
YEAR_END = date(DATA_YEAR, 12, 31)

#: The id under which the campaign's record source is registered.
RECORD_SOURCE_ID = "pivoine_in_2019"
#: Member names of the PIVOINE in-archive (suffixes, case-insensitive; "rpa" is PIVOINE's name).
RAA_MEMBER_SUFFIXES = (".rpa.txt", ".raa.txt")
RPS_MEMBER_SUFFIXES = (".rps.txt",)
