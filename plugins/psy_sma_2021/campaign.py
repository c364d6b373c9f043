"""A PSY SMA campaign: per-patient facts and the row of an eligible patient (spec 3-4).

``PsySmaCampaign(params)`` is any campaign of the family; ``PsySma2021`` is the 2021 one. The
work is vectorised over the RAA lines with numpy: patients are the integer codes of the ``IPP``
categorical, so counting and min/max per patient are ``bincount`` and ``ufunc.at``. Only
eligible patients (a few thousand at most) get per-row Python work.

The facts a rule sees (``patient_facts``) are a contract, ``FACT_COLUMNS``: one row per patient
of the base population, indexed by IPP (object dtype, text).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from lotas_core.selection.campaign import Campaign, SampleSizes
from lotas_core.selection.columns import RowColumn
from lotas_plugins.psy_sma_2021.params import PSY_SMA_2021, PsySmaParams

if TYPE_CHECKING:
    import pandas as pd

    from lotas_core.reading.records import Records

_NO_DAY = np.iinfo(np.int64).max

#: The row of an eligible patient (spec section 4), in ``lotas eligible`` order.
PATIENT_COLUMNS: tuple[RowColumn, ...] = (
    RowColumn("IPP", "Identifiant permanent du patient", identifying=True),
    RowColumn("SEXE", "Sexe"),
    RowColumn("AGE", "Âge à la date de l'acte de référence", "int"),
    RowColumn("DATACTE", "Date de l'acte de référence", "date"),
    RowColumn("LISTEDA", "Diagnostics de l'acte de référence (DP puis DA)", "codes"),
    RowColumn("MODENT", "Mode d'entrée"),
    RowColumn("PROV", "Provenance"),
    RowColumn("MODSORT", "Mode de sortie"),
    RowColumn("DEST", "Destination"),
)
#: The LOTAS table's order after NUMTAS and TYPECH (the manual's screen and its TSV copy).
TABLE_ORDER = ("IPP", "SEXE", "AGE", "MODENT", "MODSORT", "DEST", "PROV", "LISTEDA", "DATACTE")
#: NaT as int64 days (``_days`` of an invalid date).
_NAT_DAYS = np.iinfo(np.int64).min

#: The facts of one patient, as ``patient_facts`` gives them to the rules (name: dtype, meaning).
#: Dates are ``datetime64[s]``, NaT when there is none.
FACT_COLUMNS: dict[str, tuple[str, str]] = {
    "consultations": ("int64", "medical consultations in the data year"),
    "first_consultation": ("datetime64[s]", "date of the first medical consultation of the year"),
    "last_h2_consultation": (
        "datetime64[s]", "date of the last medical consultation of the second half: the date of "
        "the reference act (NaT: none in the second half)"),
    "fulltime": ("bool", "a full-time stay (fulltime_forms) whose sequence meets the year"),
    "birth_date": (
        "datetime64[s]", "birth date written on the reference act (NaT: no act, or unreadable)"),
    "age_at_reference": (
        "Int64", "completed years from birth_date to the reference act (a birthday on that day "
        "counts); <NA> without reference act or readable birth date"),
    "code": ("int64", "the patient's position in the IPP categorical (for patient_rows)"),
    "reference_line": ("int64", "the RAA line of the reference act, -1 without (for patient_rows)"),
}


def _day(value: date) -> int:
    """Days since 1970-01-01."""
    return int(np.datetime64(value, "D").astype(np.int64))


def _days(series: pd.Series) -> np.ndarray:
    """A datetime column as int64 days since 1970-01-01 (NaT becomes a very small number)."""
    return series.to_numpy().astype("datetime64[D]").astype(np.int64)


def _code_mask(series: pd.Series, values: frozenset[str] | set[str]) -> np.ndarray:
    """Rows of a categorical column whose value is in ``values``, compared on integer codes."""
    categories = series.cat.categories
    lookup = np.zeros(len(categories) + 1, bool)  # the extra slot is for code -1 (missing)
    for i, name in enumerate(categories):
        lookup[i] = name in values
    return lookup[series.cat.codes.to_numpy()]


def _codes_in(series: pd.Series, categories: pd.Index) -> np.ndarray:
    """Codes of ``series`` values in ``categories`` (-1 when absent)."""
    mapping = categories.get_indexer(series.cat.categories)
    mapping = np.append(mapping, -1)
    return mapping[series.cat.codes.to_numpy()]


class PsySmaCampaign(Campaign):
    """A PSY SMA campaign: patients followed in CMP in the data year (RAA), sampled main +
    reserve; every value comes from its ``PsySmaParams``."""

    patient_columns: ClassVar[tuple[RowColumn, ...]] = PATIENT_COLUMNS
    table_order: ClassVar[tuple[str, ...]] = TABLE_ORDER

    def __init__(self, params: PsySmaParams) -> None:
        self.params = params
        self.id = params.campaign_id  # type: ignore[misc]
        self.title = params.title  # type: ignore[misc]
        self.year = params.data_year  # type: ignore[misc]
        self.period_month = params.period_month  # type: ignore[misc]
        self.record_source = params.source_id  # type: ignore[misc]
        self.archive_subfolder = params.archive_subfolder  # type: ignore[misc]
        self.default_sizes = SampleSizes(params.main_size, params.reserve_size)  # type: ignore[misc]
        self.fulltime_forms = params.fulltime_forms
        #: Where the per-line masks are kept in ``Records.parsed``.
        self._masks_key = f"{params.campaign_id}.line_masks"

    def write_demo_archive(
        self, folder: Path, *, finess: str, raa_lines: int = 20000, seed: int = 1
    ) -> Path:
        """A synthetic PIVOINE in-archive of the data year (``demo.py``)."""
        from lotas_plugins.psy_sma_2021.demo import write_demo_archive

        return write_demo_archive(folder, raa_lines=raa_lines, seed=seed, finess=finess,
                                  year=self.year)

    # -- facts ---------------------------------------------------------------------------------

    def _line_masks(self, records: Records) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(in base, medical consultation, consultation of the second half) per RAA line.

        Computed once per ``records`` (facts and rows both need them) and kept beside the tables.
        """
        cached = records.parsed.get(self._masks_key)
        if cached is not None:
            return cached
        p = self.params
        raa = records.tables["raa"]
        days = _days(raa["DATE_ACTE"])
        in_year = (days >= _day(p.year_start)) & (days <= _day(p.year_end))
        base = in_year & _code_mask(raa["FORMACT"], {p.activity_form})
        consult = (
            base
            & _code_mask(raa["LIEU_ACTE"], {p.consultation_place})
            & _code_mask(raa["NATURE_ACTE"], {p.consultation_nature})
            & _code_mask(raa["CATEGINTERV"], p.consultation_categories)
        )
        h2 = consult & (days >= _day(p.second_half_from))
        records.parsed[self._masks_key] = (base, consult, h2)
        return base, consult, h2

    def patient_facts(self, records: Records) -> pd.DataFrame:
        """One row per base patient, the ``FACT_COLUMNS``: consultations, first, last of H2,
        full-time stay, birth date and age at the reference act."""
        import pandas as pd

        raa = records.tables["raa"]
        codes = raa["IPP"].cat.codes.to_numpy()
        categories = raa["IPP"].cat.categories
        k = len(categories)
        days = _days(raa["DATE_ACTE"])
        base, consult, h2 = self._line_masks(records)
        in_base = np.bincount(codes[base], minlength=k) > 0
        consultations = np.bincount(codes[consult], minlength=k)
        first = np.full(k, _NO_DAY, np.int64)
        np.minimum.at(first, codes[consult], days[consult])
        last_h2 = np.full(k, -_NO_DAY, np.int64)
        np.maximum.at(last_h2, codes[h2], days[h2])
        fulltime = np.zeros(k, bool)
        rps = records.tables.get("rps")
        if rps is not None and len(rps):
            stays = self._rps_in_year(rps) & _code_mask(rps["FORMACT"], self.fulltime_forms)
            rps_codes = _codes_in(rps["IPP"], categories)[stays]
            fulltime[rps_codes[rps_codes >= 0]] = True
        patients = np.flatnonzero(in_base)
        first_p, last_p = first[patients], last_h2[patients]
        reference = np.full(k, -1, np.int64)
        lines = self._reference_lines(records)
        reference[codes[lines]] = lines
        reference_p = reference[patients]
        with_act = reference_p >= 0
        birth = np.full(len(patients), np.datetime64("NaT"), "datetime64[D]")
        birth[with_act] = np.asarray(
            _field(records, "DTNAIS", reference_p[with_act])
        ).astype("datetime64[D]")
        act = np.full(len(patients), np.datetime64("NaT"), "datetime64[D]")
        act[with_act] = raa["DATE_ACTE"].to_numpy()[reference_p[with_act]].astype("datetime64[D]")
        known = ~np.isnat(birth) & ~np.isnat(act)
        age = pd.array(np.zeros(len(patients), np.int64), dtype="Int64")
        age[known] = completed_years_array(birth[known], act[known])
        age[~known] = pd.NA
        facts = pd.DataFrame(
            {
                "code": patients,
                "consultations": consultations[patients],
                "first_consultation": np.where(first_p == _NO_DAY, np.iinfo(np.int64).min, first_p)
                .astype("datetime64[D]")
                .astype("datetime64[s]"),
                "last_h2_consultation": np.where(last_p == -_NO_DAY, np.iinfo(np.int64).min, last_p)
                .astype("datetime64[D]")
                .astype("datetime64[s]"),
                "fulltime": fulltime[patients],
                "birth_date": birth.astype("datetime64[s]"),
                "age_at_reference": age,
                "reference_line": reference_p,
            },
            index=pd.Index(categories[patients], name="IPP", dtype=object),
        )
        return facts

    def _reference_lines(self, records: Records) -> np.ndarray:
        """The RAA line of each patient's reference act (spec 4): the medical consultation with
        the latest date of the second half; on that date, the first in file order. Computed once
        per ``records``."""
        key = f"{self._masks_key}.reference"
        cached = records.parsed.get(key)
        if cached is not None:
            return cached
        raa = records.tables["raa"]
        codes = raa["IPP"].cat.codes.to_numpy()
        _, _, h2 = self._line_masks(records)
        rows = np.flatnonzero(h2)
        days = _days(raa["DATE_ACTE"])[rows]
        # Latest date first, then file order (table order is file order): first row per patient.
        order = np.lexsort((rows, -days, codes[rows]))
        sorted_codes = codes[rows][order]
        firsts = np.ones(len(order), bool)
        firsts[1:] = sorted_codes[1:] != sorted_codes[:-1]
        reference = rows[order][firsts]
        records.parsed[key] = reference
        return reference

    def _rps_in_year(self, rps: pd.DataFrame) -> np.ndarray:
        """RPS lines whose sequence [start, end] intersects the data year."""
        start, end = sequence_days(rps)
        return (start <= _day(self.params.year_end)) & (end >= _day(self.params.year_start))

    # -- rows ----------------------------------------------------------------------------------

    def patient_rows(
        self, records: Records, facts: pd.DataFrame, eligible: pd.Index
    ) -> pd.DataFrame:
        """The ``PATIENT_COLUMNS`` of each eligible patient, sorted by IPP (spec section 4)."""
        import pandas as pd

        raa = records.tables["raa"]
        codes = raa["IPP"].cat.codes.to_numpy()
        categories = raa["IPP"].cat.categories
        wanted = np.zeros(len(categories) + 1, bool)
        wanted[facts.loc[eligible, "code"].to_numpy()] = True
        reference = facts.loc[eligible, "reference_line"].to_numpy()
        reference = np.sort(reference[reference >= 0])  # no reference act, no row
        movements = self._movements(records, categories, wanted)
        raa_table = records.parsed.get("raa")
        das = raa_table.repeat("DA", reference) if raa_table is not None else [[]] * len(reference)
        names = np.asarray(categories, dtype=object)
        ref_codes = codes[reference]
        ipp = names[ref_codes]
        order = np.argsort(ipp, kind="stable")
        reference, ref_codes, ipp = reference[order], ref_codes[order], ipp[order]
        das = [das[i] for i in order.tolist()]
        birth = np.asarray(_field(records, "DTNAIS", reference)).astype("datetime64[D]")
        act = raa["DATE_ACTE"].to_numpy()[reference].astype("datetime64[D]")
        blank = ("", "", "", "")
        moves = [movements.get(code, blank) for code in ref_codes.tolist()]
        columns: dict[str, object] = {
            "IPP": ipp.tolist(),
            "SEXE": [_text(v) for v in _field(records, "SEXE", reference)],
            "AGE": completed_years_array(birth, act),
            "DATACTE": act.tolist(),
            "LISTEDA": [
                list_diagnoses(_text(dp), da)
                for dp, da in zip(_field(records, "DP", reference), das, strict=True)
            ],
        }
        for i, name in enumerate(("MODENT", "PROV", "MODSORT", "DEST")):
            columns[name] = [move[i] for move in moves]
        frame = pd.DataFrame(columns, columns=[column.name for column in PATIENT_COLUMNS])
        # Spec section 2 v2: AGE is blank (NA) when the reference act's own birth date is
        # invalid; no other line's birth date is borrowed.
        unknown = np.isnat(birth)
        ages = np.where(unknown, 0, np.asarray(columns["AGE"])).astype(np.int64)
        frame["AGE"] = pd.arrays.IntegerArray(ages, unknown)
        return frame

    def _movements(
        self, records: Records, categories: pd.Index, wanted: np.ndarray
    ) -> dict[int, tuple[str, str, str, str]]:
        """MODENT, PROV, MODSORT, DEST of each wanted patient's RPS line of the year that ends
        last (ties: last in file order)."""
        rps = records.tables.get("rps")
        if rps is None or not len(rps):
            return {}
        rps_codes = _codes_in(rps["IPP"], categories)
        rows = np.flatnonzero(self._rps_in_year(rps) & wanted[rps_codes])
        if not len(rows):
            return {}
        ends = _days(rps["DTFINSEQ"])[rows]
        order = np.lexsort((rows, ends, rps_codes[rows]))
        sorted_codes = rps_codes[rows][order]
        lasts = np.ones(len(order), bool)
        lasts[:-1] = sorted_codes[:-1] != sorted_codes[1:]
        chosen = rows[order][lasts]
        columns = [rps[name].to_numpy()[chosen] for name in ("MDENTR", "PROV", "MDSOR", "DEST")]
        return {
            int(rps_codes[row]): tuple(_text(col[i]) for col in columns)  # type: ignore[misc]
            for i, row in enumerate(chosen.tolist())
        }


def sequence_days(rps: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Start and end days of each kept RPS sequence.

    Spec section 2 v2: a line whose start date is invalid is kept (a warning) and its sequence is
    ``[end, end]`` everywhere (the full-time exclusion and the movement codes); the end is always
    valid (an invalid end skips the line).
    """
    start, end = _days(rps["DTDEBSEQ"]), _days(rps["DTFINSEQ"])
    return np.where(start == _NAT_DAYS, end, start), end


class PsySma2021(PsySmaCampaign):
    """HAS PSY SMA 2021: patients followed in CMP in 2019 (RAA), sampled 80 + 30."""

    def __init__(self) -> None:
        super().__init__(PSY_SMA_2021)


def _field(records: Records, name: str, rows: np.ndarray) -> list[object] | np.ndarray:
    """RAA field ``name`` of ``rows``: from the table when it is a column, else from the bytes."""
    raa = records.tables["raa"]
    if name in raa.columns:
        values = raa[name].to_numpy()[rows]
        return values if values.dtype.kind == "M" else values.tolist()
    return records.parsed["raa"].values(name, rows)


def _text(value: object) -> str:
    """A categorical cell as text; missing becomes blank."""
    return "" if value is None or value != value else str(value).strip()


def completed_years(birth: date, on: date) -> int:
    """Age in completed years on ``on``; a birthday falling on ``on`` counts.

    **Decision**: someone born on 29 February has not reached the birthday on 28 February of a
    non-leap year; it is reached on 1 March (plain (month, day) comparison).
    """
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def completed_years_array(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """``completed_years`` over datetime64[D] arrays."""
    by, bm, bd = _ymd(birth)
    oy, om, od = _ymd(on)
    return oy - by - ((om < bm) | ((om == bm) & (od < bd)))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    months = days.astype("M8[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("M8[D]")).astype(np.int64) + 1
    return year, month, day


def list_diagnoses(dp: str, das: list[str]) -> str:
    """LISTEDA: DP then DAs, trimmed, blanks dropped, duplicates dropped (first kept)."""
    if not das:  # most acts: the DP alone
        return dp.strip()
    seen: list[str] = []
    for code in [dp, *das]:
        code = code.strip()
        if code and code not in seen:
            seen.append(code)
    return " ".join(seen)
