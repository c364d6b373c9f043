"""CSV and TSV cells a spreadsheet would run as a formula are neutralised (issue 12)."""

from __future__ import annotations

import csv
import io

import pytest

from lotas_core.draws.exports import to_csv, to_tsv
from lotas_core.draws.spreadsheet import neutralise_column, neutralise_formula, neutralise_row


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("F200 =1", "F200 =1"),  # not at the start: plain text
        ("-1", "-1"),  # a plain number is its own formula: left as it is
        ("+33", "+33"),
        ("4.5", "4.5"),
        ("-", "'-"),
        ("", ""),
        (None, ""),
        ("SECRETIPP001", "SECRETIPP001"),
    ],
)
def test_neutralise_formula(cell, shown):
    assert neutralise_formula(cell) == shown


def test_neutralise_row_keeps_numbers_and_blanks():
    assert neutralise_row([1, None, "=1", 2.5, "x"]) == [1, None, "'=1", 2.5, "x"]


def hostile_record(cf, history):
    rows = cf.sample_rows(2, 1)
    rows[0].update(IPP="=1+1", LISTEDA="=HYPERLINK(\"http://evil\")", SEXE="@A1")
    rows[1].update(MODENT="+1+1", PROV="-2+3", DEST="-", IPP="-0042", SEXE="+2")
    return cf.add_sample_draw(history, rows=rows)


def test_tsv_and_clipboard_copy_neutralise_formulas(cf, history):
    lines = to_tsv(hostile_record(cf, history), cf.TOY_LAYOUT).splitlines()
    first = lines[1].split("\t")
    assert first[2:4] == ["'=1+1", "'@A1"]
    assert first[9] == "'=HYPERLINK(\"http://evil\")"
    second = lines[2].split("\t")
    assert second[2] == "-0042"  # a plain number: left alone
    assert second[3] == "+2"  # a plain number
    assert second[5:9] == ["'+1+1", "", "'-", "'-2+3"]  # MODENT, MODSORT, DEST, PROV


def test_csv_neutralises_formulas(cf, history):
    rows = list(csv.reader(io.StringIO(to_csv(hostile_record(cf, history), cf.TOY_LAYOUT))))
    assert rows[1][2] == "'=1+1" and rows[1][9] == "'=HYPERLINK(\"http://evil\")"
    assert rows[2][5] == "'+1+1" and rows[2][1] == "P"


def test_neutralise_column_matches_the_cell_rule():
    values = ["=1", "PAT", "=1", None, 3, "-1", "-x", ""]
    assert neutralise_column(values) == [neutralise_formula(v) if isinstance(v, str) else v
                                         for v in values]
    safe = ["PAT01", "PAT02", None]
    assert neutralise_column(safe) is safe  # nothing risky: the same list, no copy


def test_csv_for_excel_neutralises_formulas(cf, history):
    from lotas_core.draws.exports import to_csv_excel

    text = to_csv_excel(hostile_record(cf, history), cf.TOY_LAYOUT).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][2] == "'=1+1" and rows[1][9] == "'=HYPERLINK(\"http://evil\")"
