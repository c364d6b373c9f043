"""The core reader engine: line splitting, validation reasons and their order, the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lotas_core.reading.fixedwidth import (
    REASONS,
    Field,
    Layout,
    Repeat,
    categorical,
    parse_dates,
    read_fixed_width,
    split_lines,
)
from lotas_plugins.psy_sma_2021.layouts import RAA_COLUMNS, RAA_P09, RPS_COLUMNS, RPS_P08


def read_raa(text: str | bytes, columns=RAA_COLUMNS):
    data = text.encode("latin-1") if isinstance(text, str) else text
    return read_fixed_width(
        data, RAA_P09, finess="000000001", member="x.rpa.txt", columns=columns
    )


def test_split_lines_lf_crlf_empty_and_no_final_newline():
    buffer = np.frombuffer(b"ab\r\n\r\ncde\n\nf", np.uint8)
    starts, lengths, numbers = split_lines(buffer)
    assert starts.tolist() == [0, 6, 11]
    assert lengths.tolist() == [2, 3, 1]
    assert numbers.tolist() == [1, 3, 5]  # physical line numbers, empty lines skipped


def test_split_lines_empty_buffer():
    starts, lengths, numbers = split_lines(np.zeros(0, np.uint8))
    assert len(starts) == len(lengths) == len(numbers) == 0


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_lf_and_crlf_give_the_same_table(build, eol):
    lines = [build.raa("PAT01", "01052019", das=["Z590"]), build.raa("PAT02", "09082019")]
    table = read_raa("".join(line + eol for line in lines))
    assert table.report.lines_read == 2 and table.report.lines_kept == 2
    assert list(table.frame["IPP"]) == ["PAT01", "PAT02"]
    assert table.repeat("DA", [0, 1]) == [["Z590"], []]


def test_empty_lines_are_ignored_and_not_counted(build):
    text = "\r\n" + build.raa("PAT01") + "\r\n\r\n\r\n" + build.raa("PAT02", fmt="P08") + "\r\n\n"
    table = read_raa(text)
    report = table.report
    assert report.lines_read == 2
    assert report.lines_kept == 1
    assert report.skipped == {"format": 1}
    assert report.first_lines == {"format": [5]}
    assert table.frame["LINE"].tolist() == [2]


def test_each_reason_and_first_failing_reason_wins(build):
    good = build.raa("PAT01")
    lines = [
        good,
        good + "X",  # length
        build.raa("PAT01", nbda="0A"),  # NBDA not digits: length
        build.raa("PAT01", das=["F200"])[:-8],  # NBDA says 1, no DA: length
        build.raa("PAT01", fmt="P08"),  # format
        build.raa("PAT01", fmt="P08", finess="000000002"),  # format before finess
        build.raa("PAT01", finess="000000002"),  # finess
        build.raa("PAT01", act="29022019"),  # date (2019 is not a leap year)
        build.raa("PAT01", act="15132019", birth="99999999"),  # date (blocking) wins
        build.raa("PAT01", birth="3206198A"),  # birth_date: a warning, the line is kept
        build.raa("", ),  # ipp blank
        build.raa("", act="00000000"),  # date before ipp
        good[:50],  # too short to hold the fixed part: length
        build.raa("", birth="00000000"),  # ipp blank: skipped, so not counted as a warning
    ]
    table = read_raa("\r\n".join(lines) + "\r\n")
    report = table.report
    assert report.lines_read == 14
    assert report.lines_kept == 2
    assert report.skipped == {"length": 4, "format": 2, "finess": 1, "date": 3, "ipp": 2}
    assert report.kept_with_warning == {"birth_date": 1}
    assert report.first_lines == {
        "length": [2, 3, 4, 13], "format": [5, 6], "finess": [7], "date": [8, 9, 12],
        "ipp": [11, 14], "birth_date": [10],
    }
    assert list(report.skipped) == [r for r in REASONS if r in report.skipped]
    assert "birth_date" not in REASONS
    assert table.frame["LINE"].tolist() == [1, 10]


def test_birth_date_warning_keeps_the_line_with_a_missing_birth_date(build):
    lines = [build.raa("PAT01", birth="31022000"), build.raa("PAT02", birth="        "),
             build.raa("PAT03", birth="01012000")]
    table = read_raa("\n".join(lines), columns=("IPP", "DTNAIS"))
    assert table.report.lines_kept == 3 and not table.report.skipped
    assert table.report.kept_with_warning == {"birth_date": 2}
    assert table.report.first_lines == {"birth_date": [1, 2]}
    births = table.frame["DTNAIS"]
    assert births.isna().tolist() == [True, True, False]
    assert np.isnat(np.asarray(table.values("DTNAIS", [0, 1, 2]))).tolist() == [True, True, False]


def read_rps(lines):
    return read_fixed_width(
        "\n".join(lines).encode(), RPS_P08, finess="000000001", member="x.rps.txt",
        columns=RPS_COLUMNS,
    )


def test_rps_invalid_sequence_start_is_a_warning_and_invalid_end_blocks(build):
    lines = [
        build.rps("PAT01", start="31022019", end="10032019"),  # start invalid: kept
        build.rps("PAT02", start="01022019", end="31022019"),  # end invalid: skipped (date)
        build.rps("PAT03", start="XXXXXXXX", end="YYYYYYYY"),  # both: skipped, no warning
        build.rps("PAT04"),
        build.rps("", start="00000000"),  # ipp blank: skipped, no warning
    ]
    table = read_rps(lines)
    report = table.report
    assert report.lines_kept == 2
    assert report.skipped == {"date": 2, "ipp": 1}
    assert report.kept_with_warning == {"sequence_start": 1}
    assert report.first_lines == {"date": [2, 3], "ipp": [5], "sequence_start": [1]}
    assert table.frame["IPP"].tolist() == ["PAT01", "PAT04"]
    assert table.frame["DTDEBSEQ"].isna().tolist() == [True, False]


def test_first_lines_keeps_five_line_numbers(build):
    lines = [build.raa("PAT01", finess="000000009")] * 8
    report = read_raa("\n".join(lines)).report
    assert report.skipped == {"finess": 8}
    assert report.first_lines == {"finess": [1, 2, 3, 4, 5]}


def test_other_year_format_codes_are_reported(build):
    line_2022 = build.raa("PAT01", fmt="P14") + "  "  # longer layout: fails on length
    table = read_raa("\n".join([line_2022] * 3))
    assert table.report.skipped == {"length": 3}
    assert table.format_codes == {"P14": 3}


def test_rps_length_includes_das_and_acts(build):
    lines = [
        build.rps("PAT01", das=["F200", "Z590"], acts=2),
        build.rps("PAT02", extra="X"),
        build.rps("PAT03", fmt="P09"),
        build.rps("PAT04", end="31042019"),
    ]
    table = read_fixed_width(
        "\n".join(lines).encode(), RPS_P08, finess="000000001", member="x.rps.txt",
        columns=RPS_COLUMNS,
    )
    assert table.report.lines_kept == 1
    assert table.report.skipped == {"length": 1, "format": 1, "date": 1}
    assert table.repeat("DA", [0]) == [["F200", "Z590"]]
    assert table.repeat("ZA", [0]) == [["01022019YYYY010    1101"] * 2]


def test_columns_types(build):
    line = build.raa("PAT01   ", "05092019", birth="29022000", dp="F32  ") + "\n"
    table = read_raa(line, columns=("IPP", "DP", "DATE_ACTE", "DTNAIS"))
    frame = table.frame
    assert frame["IPP"].tolist() == ["PAT01"]
    assert frame["DP"].tolist() == ["F32"]
    assert str(frame["DATE_ACTE"].dtype).startswith("datetime64")
    assert frame["DTNAIS"].iloc[0].date().isoformat() == "2000-02-29"
    assert frame["LINE"].tolist() == [1]


def test_values_read_fields_left_out_of_the_table(build):
    lines = [
        build.raa("PAT01", birth="29022000", dp="F32", sexe="2"),
        build.raa("PAT02", fmt="P08"),
        build.raa("PAT03", birth="01011990", dp="", sexe="1"),
    ]
    table = read_raa("\n".join(lines))
    assert "DP" not in table.frame.columns
    assert table.values("DP", [1, 0]) == ["", "F32"]
    assert table.values("SEXE", [0, 1]) == ["2", "1"]
    assert [str(d) for d in table.values("DTNAIS", [0, 1])] == ["2000-02-29", "1990-01-01"]
    assert table.values("NBDA", [0]).tolist() == [0]
    assert table.values("DP", []) == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("01012019", "2019-01-01"),
        ("31122019", "2019-12-31"),
        ("29022020", "2020-02-29"),
        ("29022000", "2000-02-29"),
        ("29021900", None),
        ("29022019", None),
        ("31042019", None),
        ("00012019", None),
        ("01132019", None),
        ("01002019", None),
        ("0101201A", None),
        ("        ", None),
        ("01010000", None),
        ("31129999", "9999-12-31"),
        ("01011900", "1900-01-01"),
    ],
)
def test_parse_dates(text, iso):
    valid, dates = parse_dates(np.frombuffer(text.encode(), np.uint8).reshape(1, 8))
    assert bool(valid[0]) is (iso is not None)
    if iso is None:
        assert np.isnat(dates[0])
    else:
        assert str(dates[0]) == iso


def test_parse_dates_agrees_with_python_on_every_day_of_a_leap_cycle():
    from datetime import date, timedelta

    days = [date(1999, 1, 1) + timedelta(n) for n in range(366 * 4 + 60)]
    text = "".join(d.strftime("%d%m%Y") for d in days).encode()
    valid, dates = parse_dates(np.frombuffer(text, np.uint8).reshape(-1, 8))
    assert valid.all()
    assert dates.astype("M8[D]").tolist() == days


def test_parse_dates_agrees_with_python_on_near_digit_garbage():
    """Bytes around the digits ('/', ':', '?', 0x00, 0xB0...) must never pass for digits."""
    from datetime import datetime

    rng = np.random.default_rng(5)
    alphabet = np.frombuffer(b"0123456789012345678901/:?@ \x00\xb0\xb9\x39\x30", np.uint8)
    rows = alphabet[rng.integers(0, len(alphabet), size=(20000, 8))]
    rows[::3, 2:4] = np.frombuffer(b"02", np.uint8)  # many plausible months
    rows[::5, 4:8] = np.frombuffer(b"2019", np.uint8)
    wide = np.zeros((len(rows), 12), np.uint8)
    wide[:, 2:10] = rows
    valid, dates = parse_dates(wide[:, 2:10])  # a column slice, as the reader passes it
    for row, ok, day in zip(rows, valid.tolist(), dates.astype("M8[D]").tolist(), strict=True):
        text = bytes(row).decode("latin-1")
        expected = None
        if text.isascii() and text.isdigit():
            try:
                expected = datetime.strptime(text, "%d%m%Y").date()
            except ValueError:
                pass
        assert ok is (expected is not None), text
        assert day == expected


def test_categorical_is_exact_and_keeps_case_and_leading_spaces():
    rng = np.random.default_rng(3)
    alphabet = np.frombuffer(b"AaBb 01", np.uint8)
    rows = alphabet[rng.integers(0, len(alphabet), size=(5000, 20))]
    cat = categorical(rows)
    expected = [bytes(r).decode().rstrip(" ") for r in rows]
    assert list(cat) == expected
    assert len(cat.categories) == len(set(expected))


def test_categorical_small_fields_use_the_lookup_path():
    rows = np.frombuffer(b"L01L02L01M X ", np.uint8)[:12].reshape(4, 3)
    assert list(categorical(rows)) == ["L01", "L02", "L01", "M X"]
    one = np.frombuffer(b"MXM ", np.uint8).reshape(4, 1)
    assert list(categorical(one)) == ["M", "X", "M", ""]


def test_layout_declared_as_data():
    layout = Layout(
        name="T",
        format_code="T01",
        fields=(
            Field("FINESS", 1, 9), Field("FORMAT", 10, 3), Field("IPP", 13, 4),
            Field("N", 17, 1, "int"),
        ),
        repeats=(Repeat("X", "N", 2),),
    )
    assert layout.fixed_length == 17
    data = b"000000001T01AB  2xxyy\n000000001T01CD  0\n000000001T01EF  1\n"
    table = read_fixed_width(data, layout, finess="000000001", member="t")
    assert table.frame["IPP"].tolist() == ["AB", "CD"]
    assert table.frame["N"].tolist() == [2, 0]
    assert table.repeat("X", [0, 1]) == [["xx", "yy"], []]
    assert table.report.skipped == {"length": 1}
    with pytest.raises(ValueError):
        Field("bad", 1, 1, "float")
    with pytest.raises(ValueError, match="DDMMYYYY"):
        Field("short date", 1, 6, "date")  # dates are read as one 8-byte word


def test_large_input_spans_several_blocks(build, monkeypatch):
    import lotas_core.reading.fixedwidth as fixedwidth

    monkeypatch.setattr(fixedwidth, "BLOCK_LINES", 7)
    monkeypatch.setattr(fixedwidth, "SCAN_BYTES", 100)
    lines = [build.raa(f"P{i:03d}", finess="000000002" if i % 10 == 3 else "000000001")
             for i in range(50)]
    table = read_raa("\r\n".join(lines))
    assert table.report.lines_kept == 45
    assert table.report.first_lines == {"finess": [4, 14, 24, 34, 44]}
    assert table.frame["IPP"].tolist() == [f"P{i:03d}" for i in range(50) if i % 10 != 3]


@pytest.mark.parametrize("threads", [1, 3])
def test_blocks_checked_on_threads_give_the_same_table(tmp_path, monkeypatch, threads):
    """Blocks may be checked in any order on several threads; the table keeps file order."""
    import zipfile

    import lotas_core.reading.fixedwidth as fixedwidth
    from lotas_plugins.psy_sma_2021.demo import write_demo_archive

    with zipfile.ZipFile(write_demo_archive(tmp_path, raa_lines=3000, seed=4)) as zf:
        data = zf.read("000000001.2019.12.rpa.txt")
    expected = read_raa(data)
    monkeypatch.setattr(fixedwidth, "BLOCK_LINES", 97)
    monkeypatch.setattr(fixedwidth, "READ_THREADS", threads)
    table = read_raa(data)
    assert table.report == expected.report
    pd.testing.assert_frame_equal(table.frame, expected.frame)
    rows = np.arange(len(table.frame))
    assert table.repeat("DA", rows) == expected.repeat("DA", rows)


def test_hash_collisions_fall_back_to_exact_grouping(monkeypatch):
    import lotas_core.reading.bytecols as bytecols

    monkeypatch.setattr(bytecols, "_MIX", np.uint64(0))  # the hash keeps the last word only
    rows = np.frombuffer(b"AAAAAAAAxxxxxxxxZZZZ" b"BBBBBBBBxxxxxxxxZZZZ" b"AAAAAAAAxxxxxxxxZZZZ",
                         np.uint8).reshape(3, 20)
    assert list(categorical(rows)) == ["AAAAAAAAxxxxxxxxZZZZ", "BBBBBBBBxxxxxxxxZZZZ",
                                       "AAAAAAAAxxxxxxxxZZZZ"]
    assert len(categorical(rows).categories) == 2
