"""Exports of a stored draw: clipboard TSV, CSV, JSON, typed XLSX, the HTML report."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from datetime import date, datetime

import pytest

from lotas_core.draws.exports import (
    export,
    footer,
        to_csv,
    to_json,
    to_tsv,
)
from lotas_core.draws.proces_verbal import html_report
from lotas_core.errors import UsageError

HEADER = "NUMTAS\tTYPECH\tIPP\tSEXE\tAGE\tMODENT\tMODSORT\tDEST\tPROV\tLISTEDA\tDATACTE"


@pytest.fixture
def record(cf, history):
    return cf.add_sample_draw(history)


def test_tsv_is_the_clipboard_copy(cf, record):
    text = to_tsv(record, cf.TOY_LAYOUT)
    lines = text.split("\n")
    assert lines[0] == HEADER
    assert lines[1] == "1\tP\tSECRETIPP001\t2\t31\t\t\t\t\tF200 Z590\t01/12/2019"
    assert lines[5] == "5\tR\tSECRETIPP005\t2\t35\t\t\t\t\tF200 Z590\t05/12/2019"
    assert text.endswith("\n") and len(lines) == 7 and lines[6] == ""


def test_csv(cf, record):
    rows = list(csv.reader(io.StringIO(to_csv(record, cf.TOY_LAYOUT))))
    assert rows[0] == HEADER.split("\t")
    assert rows[1] == ["1", "P", "SECRETIPP001", "2", "31", "", "", "", "", "F200 Z590",
                       "01/12/2019"]


def test_json(cf, record):
    data = json.loads(to_json(record, cf.TOY_LAYOUT))
    for key in ("draw_id", "algorithm", "seed", "population_digest", "funnel", "rows", "sizes"):
        assert key in data
    assert data["rows"][0]["DATACTE"] == "2019-12-01"
    assert data["rows"][0]["NUMTAS"] == 1 and data["rows"][0]["AGE"] == 31
    assert data["archive"]["sha256"] == record.archive_sha256
    assert data["history"]["entry_hash"] == record.entry_hash


def test_footer(record):
    assert footer(record) == "NB DOSSIERS TAS : 5 [ECHANT PRINC : 3 + ECHANT RESERV : 2]"


def test_xlsx_is_typed_with_a_parameters_sheet(cf, record, tmp_path):
    from openpyxl import load_workbook

    (tmp_path / "out").mkdir()
    path = export(record, "xlsx", tmp_path / "out" / "tirage.xlsx", cf.TOY_LAYOUT)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    book = load_workbook(path)
    assert book.sheetnames == ["Tirage", "Paramètres"]
    sheet = book["Tirage"]
    assert [c.value for c in sheet[1]] == HEADER.split("\t")
    numtas, typech, ipp, sexe, age = (c.value for c in sheet[2][:5])
    assert numtas == 1 and isinstance(numtas, int)
    assert age == 31 and isinstance(age, int)
    assert ipp == "SECRETIPP001" and sheet[2][2].data_type == "s"
    assert sexe == "2" and isinstance(sexe, str)  # codes stay text
    datacte = sheet[2][10]
    assert isinstance(datacte.value, datetime | date)
    value = datacte.value
    assert (value.date() if isinstance(value, datetime) else value) == date(2019, 12, 1)
    assert datacte.is_date and datacte.number_format == "DD/MM/YYYY"
    assert sheet.max_row == 6
    params = {row[0].value: row[1].value for row in book["Paramètres"].iter_rows(min_row=2)}
    assert params["FINESS"] == record.finess
    assert params["Graine"] == record.seed
    assert params["Empreinte de la population"] == record.population_digest
    assert params["Archive"] == record.archive_name
    assert params["SHA-256 de l'archive"] == record.archive_sha256
    assert params["Algorithme"] == "lotas-draw/1"
    assert params["Entonnoir : eligible"] == 5
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", params["Date du tirage"])


def test_xlsx_never_turns_text_into_a_formula(cf, history, tmp_path):
    rows = cf.sample_rows(1, 0)
    rows[0]["IPP"] = "=HYPERLINK(\"x\")"
    record = cf.add_sample_draw(history, rows=rows)
    from openpyxl import load_workbook

    sheet = load_workbook(export(record, "xlsx", tmp_path / "t.xlsx", cf.TOY_LAYOUT))["Tirage"]
    assert sheet["C2"].data_type == "s" and sheet["C2"].value == "=HYPERLINK(\"x\")"


@pytest.mark.parametrize("fmt", ["tsv", "csv", "json", "xlsx", "html"])
def test_export_writes_owner_only_files(cf, record, tmp_path, fmt):
    path = export(record, fmt, tmp_path / f"tirage.{fmt}", cf.TOY_LAYOUT)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.stat().st_size > 100
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unknown_format(cf, record, tmp_path):
    with pytest.raises(UsageError, match="Format d'export inconnu"):
        export(record, "pdf", tmp_path / "x.pdf", cf.TOY_LAYOUT)


def test_html_report_is_self_contained_french_and_escaped(cf, history):
    rows = cf.sample_rows(2, 1)
    rows[0]["LISTEDA"] = "<script>alert(1)</script>"
    record = cf.add_sample_draw(history, rows=rows)
    page = html_report(record, cf.TOY_LAYOUT)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert "Procès-verbal du tirage au sort" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"(src|href)\s*=", page)  # no external resource
    assert "@import" not in page and "url(" not in page
    for needed in (record.finess, "DGF", record.archive_name, record.archive_sha256, record.seed,
                   record.population_digest, record.entry_hash, record.algorithm,
                   f"lotas verify {record.draw_id}", "01/12/2019", "SECRETIPP001",
                   'class="bar', "NB DOSSIERS TAS : 3"):
        assert needed in page, needed


def test_html_report_labels_the_funnel_with_the_given_labels(cf, history):
    record = cf.add_sample_draw(history, rows=cf.sample_rows(2, 1))
    labels = {key: f"étape {key}" for key in record.funnel}
    page = html_report(record, cf.TOY_LAYOUT, labels)
    for key in record.funnel:
        assert f"Étape {key}" in page


def test_unwritable_target_is_a_usage_error(cf, record, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="Impossible d'écrire"):
        export(record, "tsv", blocker / "sub" / "x.tsv", cf.TOY_LAYOUT)


def test_xlsx_of_an_edited_row_keeps_the_text_instead_of_crashing(cf, history, tmp_path):
    rows = cf.sample_rows(1, 0)
    rows[0].update(AGE="trente", DATACTE="2019-13-45")
    record = cf.add_sample_draw(history, rows=rows)
    from openpyxl import load_workbook

    sheet = load_workbook(export(record, "xlsx", tmp_path / "t.xlsx", cf.TOY_LAYOUT))["Tirage"]
    assert [sheet["E2"].value, sheet["K2"].value] == ["trente", "2019-13-45"]
    assert sheet["A2"].value == 1 and sheet["A2"].data_type == "n"


def test_csv_for_excel_is_semicolon_bom_crlf(cf, record):
    from lotas_core.draws.exports import render, to_csv_excel

    data = to_csv_excel(record, cf.TOY_LAYOUT)
    assert data.startswith("\ufeff".encode())
    assert render(record, "csv-excel", cf.TOY_LAYOUT) == data
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == HEADER.replace("\t", ";")
    assert lines[1] == "1;P;SECRETIPP001;2;31;;;;;F200 Z590;01/12/2019"
    assert "\n" not in text.replace("\r\n", "")


def test_xlsx_and_report_name_the_funnel_in_french(cf, history, tmp_path):
    from openpyxl import load_workbook

    from lotas_core.draws.exports import PARAMETERS_SHEET

    record = cf.add_sample_draw(history, rows=cf.sample_rows(2, 1))
    labels = {key: f"étape française {key}" for key in record.funnel}
    path = export(record, "xlsx", tmp_path / "x.xlsx", cf.TOY_LAYOUT, labels)
    sheet = load_workbook(path)[PARAMETERS_SHEET]
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    for key in record.funnel:
        assert f"Entonnoir : étape française {key}" in names
        assert f"Entonnoir : {key}" not in names
    page = html_report(record, cf.TOY_LAYOUT, labels)
    for key in record.funnel:
        assert f"({key})" not in page  # the label alone, not "label (key)"
