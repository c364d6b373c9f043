"""A campaign with other columns than PSY SMA's flows through the whole of lotas.

``ConsultCampaign`` draws on ``NIP`` (identifying), with a unit, a number of visits, a last visit
date and a list of reasons: ``eligible``, ``draw``, the history, every export, a transmission to
the local receiver and the screen all use its columns, and ``NIP`` never leaves.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lotas_core import Campaign, EligibilityRule, RecordSource, RowColumn, SampleSizes, hookimpl
from lotas_core.cli.context import CommandContext
from lotas_core.cli.main import main
from lotas_core.draws.service import open_history
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.reading.records import ArchiveInfo, FileReport, ParseReport, Records

CAMPAIGN = "consult_2024"
FINESS = "000000001"
ARCHIVE = "consultations-2024.zip"

pytestmark = pytest.mark.timeout(300)


class ConsultSource(RecordSource):
    id = "consult_csv"

    def read(self, folder, finess, campaign, progress=None) -> Records:
        path = Path(folder) / ARCHIVE
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            text = zf.read("visits.csv").decode("utf-8")
        table = pd.DataFrame(list(csv.reader(io.StringIO(text))),
                             columns=["NIP", "UNITE", "NB", "LAST", "MOTIFS"])
        report = FileReport(member="visits.csv", lines_read=len(table), lines_kept=len(table))
        info = ArchiveInfo(path=path, name=path.name, size=len(data),
                           sha256=hashlib.sha256(data).hexdigest())
        return Records(tables={"visits": table}, report=ParseReport(files={"visits": report}),
                       archive=info)


class FewVisits(EligibilityRule):
    id = "few"
    label_fr = "moins de 3 visites"
    order = 10

    def excludes(self, facts):
        return facts["NB"].astype(int) < 3


class ConsultCampaign(Campaign):
    id = CAMPAIGN
    title = "LOTAS CONSULTATIONS 2024"
    year = 2024
    record_source = "consult_csv"
    archive_subfolder = "CONSULT"
    default_sizes = SampleSizes(4, 2)
    patient_columns = (
        RowColumn("NIP", "Numéro d'identification", identifying=True),
        RowColumn("UNITE", "Unité"),
        RowColumn("NB_VISITES", "Nombre de visites", "int"),
        RowColumn("DERNIERE", "Dernière visite", "date"),
        RowColumn("MOTIFS", "Motifs", "codes"),
    )
    table_order = ("DERNIERE", "NIP", "NB_VISITES", "UNITE", "MOTIFS")

    def patient_facts(self, records):
        return records.tables["visits"].set_index("NIP", drop=False)

    def patient_rows(self, records, facts, eligible):
        rows = facts.loc[list(eligible)].reset_index(drop=True)
        return pd.DataFrame({
            "NIP": rows["NIP"], "UNITE": rows["UNITE"], "NB_VISITES": rows["NB"].astype(int),
            "DERNIERE": [date.fromisoformat(v) for v in rows["LAST"]], "MOTIFS": rows["MOTIFS"],
        }).sort_values("NIP").reset_index(drop=True)


class ConsultPlugin:
    @hookimpl
    def lotas_register_campaigns(self, register):
        register(ConsultCampaign())

    @hookimpl
    def lotas_register_record_sources(self, register):
        register(ConsultSource())

    @hookimpl
    def lotas_eligibility_rules(self, campaign):
        return [FewVisits()] if campaign.id == CAMPAIGN else None


def nip(i: int) -> str:
    return f"NIP-SECRET-{i:04d}"


@pytest.fixture
def archives(data_dir: Path) -> Path:
    """The campaign's default folder, with 12 patients, 3 of them with too few visits."""
    folder = data_dir / "archives" / "CONSULT"
    folder.mkdir(parents=True)
    lines = [f"{nip(i)},U{i % 3},{2 if i % 4 == 0 else 3 + i},2024-0{1 + i % 9}-1{i % 10},"
             f"Z{i:02d} R{i:02d}" for i in range(12)]
    with zipfile.ZipFile(folder / ARCHIVE, "w") as zf:
        zf.writestr("visits.csv", "\n".join(lines) + "\n")
    return folder


@pytest.fixture
def lotas(monkeypatch: pytest.MonkeyPatch) -> Lotas:
    """The shipped plugins and the consultation campaign, for the CLI and the screen."""
    lotas = Lotas(get_plugin_manager(extra_plugins=[("consult", ConsultPlugin())]))
    monkeypatch.setattr(CommandContext, "lotas", property(lambda self: lotas))
    monkeypatch.setenv("LOTAS_CAMPAIGN", CAMPAIGN)
    monkeypatch.setenv("LOTAS_FINESS", FINESS)
    return lotas


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_eligible_draw_history_and_exports_use_the_campaign_columns(lotas, archives, capsys,
                                                                    tmp_path):
    code, out, err = run(capsys, "eligible")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["NIP", "UNITE", "NB_VISITES", "DERNIERE", "MOTIFS"]
    assert len(rows) == 1 + 9 and rows[1][3].count("/") == 2  # dates as DD/MM/YYYY
    assert "exclus : moins de 3 visites 3" in err  # the campaign's French label, not "few=3"

    code, out, err = run(capsys, "draw", "--format", "json", "--seed", "00" * 32)
    assert code == 0, err
    record = json.loads(out)
    assert record["campaign_id"] == CAMPAIGN and record["sizes"] == {"main": 4, "reserve": 2}
    assert list(record["rows"][0]) == ["NUMTAS", "TYPECH", "DERNIERE", "NIP", "NB_VISITES",
                                       "UNITE", "MOTIFS"]
    assert isinstance(record["rows"][0]["NB_VISITES"], int)
    draw_id = record["draw_id"]
    assert run(capsys, "verify", draw_id)[0] == 0
    assert run(capsys, "history", "--check")[0] == 0

    code, out, _ = run(capsys, "export", draw_id, "--format", "tsv")
    lines = out.splitlines()
    assert lines[0] == "NUMTAS\tTYPECH\tDERNIERE\tNIP\tNB_VISITES\tUNITE\tMOTIFS"
    assert lines[-1].split("\t")[1] == "R" and len(lines) == 7
    for fmt in ("csv", "json", "xlsx", "html"):
        target = tmp_path / f"draw.{fmt}"
        assert run(capsys, "export", draw_id, "--format", fmt, "--output", str(target))[0] == 0
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "draw.xlsx")["Tirage"]
    assert [cell.value for cell in sheet[1]] == lines[0].split("\t")
    assert sheet.cell(row=2, column=2 + 1).is_date  # DERNIERE, a real date
    assert isinstance(sheet.cell(row=2, column=2 + 3).value, int)  # NB_VISITES
    page = (tmp_path / "draw.html").read_text(encoding="utf-8")
    assert "Exclus : moins de 3 visites" in page and "<th>MOTIFS</th>" in page


def test_transmission_sends_the_campaign_columns_but_never_the_identifying_one(
        lotas, archives, capsys, tmp_path, data_dir, monkeypatch):
    from lotas_plugins.transport_direct.receiver import EpmsiServer, ReceiverConfig

    code, out, err = run(capsys, "draw", "--format", "json")
    assert code == 0, err
    draw_id = json.loads(out)["draw_id"]
    store = tmp_path / "received"
    server = EpmsiServer(ReceiverConfig(store=store), "127.0.0.1", 0).start()
    options = {"transport_direct": {"base_url": server.url, "epmsi_user": "dim01"}}
    monkeypatch.setenv("LOTAS_TRANSPORT__OPTIONS", json.dumps(options))
    monkeypatch.setenv("LOTAS_EPMSI_PASSWORD", "x")
    try:
        code, out, err = run(capsys, "transmit", draw_id)
    finally:
        server.stop()
    assert code == 0, err
    sent = (data_dir / "outbox").glob("*.json")
    (payload,) = [json.loads(path.read_text(encoding="utf-8")) for path in sent]
    assert payload["campaign"] == CAMPAIGN and len(payload["rows"]) == 6
    assert set(payload["rows"][0]) == {"NUMTAS", "TYPECH", "DERNIERE", "NB_VISITES", "UNITE",
                                       "MOTIFS"}
    received = b"".join(path.read_bytes() for path in store.rglob("*") if path.is_file())
    assert b"NIP-SECRET" not in received and b"DERNIERE" in received


def test_an_identifying_column_cannot_be_declared_transmitted():
    class Leaky(ConsultCampaign):
        transmitted_columns = ("NUMTAS", "NIP")

    with pytest.raises(ValueError, match="identifying"):
        Leaky().row_layout()


def test_the_screen_shows_the_campaign(lotas, archives, data_dir):
    from textual.widgets import DataTable, Static

    from lotas_core.settings import load_settings
    from lotas_tui.app import create_app

    settings = load_settings().settings

    async def scenario() -> None:
        app = create_app(settings, lotas=lotas, draw_seed=bytes(32))
        async with app.run_test(size=(120, 40)) as pilot:
            assert str(app.screen.query_one("#title", Static).render()) == (
                "LOTAS CONSULTATIONS 2024")
            table = app.screen.query_one("#draw-table", DataTable)
            header = ["NUMTAS", "TYPECH", "DERNIERE", "NIP", "NB_VISITES", "UNITE", "MOTIFS"]
            assert [str(c.label) for c in table.ordered_columns] == header  # before any draw
            await pilot.press("n")
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
            assert table.row_count == 6
            record = open_history(settings).list()[0]
            first = table.get_row_at(0)
            assert first[3] == record.rows[0]["NIP"]
            day, month, year = first[2].split("/")
            assert f"{year}-{month}-{day}" == record.rows[0]["DERNIERE"]
            footer = str(app.screen.query_one("#draw-footer", Static).render())
            assert footer == "NB DOSSIERS TAS : 6 [ECHANT PRINC : 4 + ECHANT RESERV : 2]"
            assert app.clipboard.splitlines()[0] == "\t".join(header)
            # the screen warns about the campaign's identifying column, not about IPPs
            assert any("identifiants de patients (NIP)" in str(n.message)
                       for n in app._notifications)

    asyncio.run(scenario())


def test_a_campaign_without_a_demo_archive_says_so(lotas, capsys, tmp_path):
    code, out, err = run(capsys, "demo-archive", str(tmp_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"« {CAMPAIGN} » ne fournit pas d'archive" in err


def test_a_draw_of_a_campaign_no_longer_installed_exports_but_is_not_sent(
        lotas, archives, capsys, data_dir, monkeypatch):
    code, out, err = run(capsys, "draw", "--format", "json")
    assert code == 0, err
    draw_id = json.loads(out)["draw_id"]
    shipped_only = Lotas(get_plugin_manager())
    monkeypatch.setattr(CommandContext, "lotas", property(lambda self: shipped_only))
    monkeypatch.setenv("LOTAS_CAMPAIGN", "psy_sma_2021")
    code, out, err = run(capsys, "export", draw_id, "--format", "tsv")
    assert code == 0, err
    assert set(out.splitlines()[0].split("\t")) == {"NUMTAS", "TYPECH", "DERNIERE", "NIP",
                                                    "NB_VISITES", "UNITE", "MOTIFS"}
    code, out, err = run(capsys, "transmit", draw_id)
    assert code == 2 and f"« {CAMPAIGN} »" in err
    assert not list(data_dir.glob("outbox/*.json"))
