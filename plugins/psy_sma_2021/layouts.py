"""RAA P09 and RPS P08, the 2019 input formats of PIVOINE, declared as data for the core reader.

Positions are 1-based and inclusive as in the ATIH manuals (lotas' reference:
``docs/formats.md``). Only the fields this campaign uses are listed for the RPS; the RAA lists
its whole fixed part.
"""

from __future__ import annotations

from lotas_core.reading.layouts import Field, Layout, Repeat

#: The head both files share: who sent the line, its format, the patient and the activity form.
_HEAD = (
    Field("FINESS", 1, 9),
    Field("FINESS_GEO", 10, 9),
    Field("FORMAT", 19, 3),
    Field("IPP", 22, 20),
    Field("DTNAIS", 42, 8, "date"),
    Field("SEXE", 50, 1),
    Field("CDRESI", 51, 5),
    Field("FORMACT", 56, 2),
)

RAA_P09 = Layout(
    name="RAA P09",
    format_code="P09",
    fields=(
        *_HEAD,
        Field("NOUM", 58, 4),
        Field("NOSDI", 62, 5),
        Field("MODLS", 67, 1),
        Field("DATE_ACTE", 68, 8, "date"),
        Field("NATURE_ACTE", 76, 1),
        Field("LIEU_ACTE", 77, 3),
        Field("CATEGINTERV", 80, 1),
        Field("NBINTERV", 81, 1, "int"),
        Field("INDACTLIB", 82, 1),
        Field("DP", 83, 8),
        Field("NBDA", 91, 2, "int"),
    ),
    repeats=(Repeat("DA", "NBDA", 8),),
    # Spec section 2 v2: an invalid birth date is a warning (PIVOINE control 5.0/5.1).
    date_checks=(("DATE_ACTE", "date"),),
    warning_checks=(("DTNAIS", "birth_date"),),
)

RPS_P08 = Layout(
    name="RPS P08",
    format_code="P08",
    fields=(
        *_HEAD,
        Field("NAS", 58, 20),
        Field("DTENT", 78, 8, "date"),
        Field("MDENTR", 86, 1),
        Field("PROV", 87, 1),
        Field("DTSORT", 88, 8, "date"),
        Field("MDSOR", 96, 1),
        Field("DEST", 97, 1),
        Field("NOUM", 98, 4),
        Field("DTDEBSEQ", 109, 8, "date"),
        Field("DTFINSEQ", 117, 8, "date"),
        Field("DP", 141, 8),
        Field("NBDA", 149, 2, "int"),
        Field("NBZA", 151, 2, "int"),
    ),
    repeats=(Repeat("DA", "NBDA", 8), Repeat("ZA", "NBZA", 23)),
    # Spec section 2 v2: the sequence end decides the period (PIVOINE B005) and blocks; an
    # invalid start is a warning (PIVOINE 18.0/18.1) and the sequence is read as [end, end].
    date_checks=(("DTFINSEQ", "date"),),
    warning_checks=(("DTDEBSEQ", "sequence_start"),),
)

#: The RAA columns the campaign reads for every line. The others stay in the bytes and are read
#: for the reference acts only (``FixedWidthTable.values``): SEXE, DTNAIS, DP and the DAs.
RAA_COLUMNS = ("IPP", "FORMACT", "DATE_ACTE", "NATURE_ACTE", "LIEU_ACTE", "CATEGINTERV")
#: The RPS columns the campaign reads.
RPS_COLUMNS = ("IPP", "FORMACT", "MDENTR", "PROV", "MDSOR", "DEST", "DTDEBSEQ", "DTFINSEQ")
