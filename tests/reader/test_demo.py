"""The synthetic PIVOINE archive: deterministic, realistic, exercising every funnel step."""

from __future__ import annotations

import stat
import zipfile

import pytest

from lotas_core.reading.fixedwidth import REASONS
from lotas_core.selection.pipeline import select
from lotas_plugins.psy_sma_2021.demo import write_demo_archive


@pytest.fixture(scope="module")
def demo_selection(tmp_path_factory):
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.plugin_host.manager import get_plugin_manager
    from lotas_plugins import psy_sma_2021

    folder = tmp_path_factory.mktemp("demo")
    path = write_demo_archive(folder)
    pm = get_plugin_manager(load_entry_points=False, extra_plugins=[("psy_sma_2021", psy_sma_2021)])
    return path, select(Lotas(pm), "psy_sma_2021", folder, "000000001")


def test_default_demo_has_well_over_110_eligible_and_every_reason(demo_selection):
    _, sel = demo_selection
    funnel = sel.funnel
    assert funnel["eligible"] > 300
    for key in ("fulltime", "lt2", "noh2", "delay"):
        assert funnel[key] >= 20, funnel
    assert funnel["base"] == sum(v for k, v in funnel.items() if k != "base")
    raa = sel.report.files["raa"]
    assert raa.lines_read == 20000
    assert set(raa.skipped) == set(REASONS)
    assert all(1 <= count <= 10 for count in raa.skipped.values())
    # The demo's lines with a broken birth date are kept with a warning (spec section 2 v2).
    assert set(raa.kept_with_warning) == {"birth_date"}
    assert 1 <= raa.kept_with_warning["birth_date"] <= 10
    assert sel.report.files["rps"].lines_kept > 100
    assert not sel.report.warnings


def test_demo_rows_look_real(demo_selection):
    _, sel = demo_selection
    patients = sel.patients
    assert set(patients["SEXE"]) == {"1", "2"}
    assert patients["AGE"].between(0, 100).all()
    assert all(code.startswith(("F", "Z", "R")) for text in patients["LISTEDA"]
               for code in text.split())
    assert (patients["MODENT"] != "").any()
    assert all(len(ipp) in (10, 20) for ipp in patients["IPP"])
    assert all(d.year == 2019 and d.month >= 7 for d in patients["DATACTE"])


def test_demo_archive_bytes(demo_selection):
    path, _ = demo_selection
    assert path.name == "000000001.2019.12.31012020093000.in.zip"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with zipfile.ZipFile(path) as zf:
        raa = zf.read("000000001.2019.12.rpa.txt")
        rps = zf.read("000000001.2019.12.rps.txt")
    lines = raa.split(b"\r\n")
    assert lines[-1] == b""  # every line ends with CRLF
    assert b"\n" not in b"".join(lines)
    assert b"" in lines[:-1]  # one empty line, which readers ignore
    assert lines[0][18:21] == b"P09"
    assert rps.split(b"\r\n")[0][18:21] == b"P08"
    raa.decode("ascii")  # plain ASCII, as PIVOINE allows


def test_demo_is_deterministic(tmp_path):
    first = write_demo_archive(tmp_path / "a", raa_lines=3000, seed=5)
    second = write_demo_archive(tmp_path / "b", raa_lines=3000, seed=5)
    other = write_demo_archive(tmp_path / "c", raa_lines=3000, seed=6)

    def members(path):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(name) for name in sorted(zf.namelist())]

    assert members(first) == members(second)
    assert members(first) != members(other)


def test_demo_spans_several_chunks(tmp_path, monkeypatch):
    import lotas_plugins.psy_sma_2021.demo as demo

    monkeypatch.setattr(demo, "CHUNK_LINES", 700)
    path = write_demo_archive(tmp_path, raa_lines=2500, seed=2)
    with zipfile.ZipFile(path) as zf:
        raa = zf.read("000000001.2019.12.rpa.txt")
    lines = [line for line in raa.split(b"\r\n") if line]
    assert len(lines) == 2500
