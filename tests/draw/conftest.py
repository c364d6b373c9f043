"""Fixtures of the draw tests: a toy campaign (so the draw, history and exports are tested without
the real PSY SMA plugin) and sample draw rows.

The toy archive ``<FINESS>.2019.12.<ts>.in.zip`` holds ``patients.txt``, one patient a line:
``KEY;SEXE;AGE;DATACTE(YYYY-MM-DD);EXCLUDED(0/1)``.
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lotas_core import Campaign, EligibilityRule, RecordSource, hookimpl
from lotas_core.draws.history import History
from lotas_core.errors import ArchiveError
from lotas_core.plugin_host.facade import Lotas
from lotas_core.plugin_host.manager import get_plugin_manager
from lotas_core.reading.records import ArchiveInfo, FileReport, ParseReport, Records
from lotas_core.selection.campaign import SampleSizes
from lotas_core.selection.columns import RowColumn, RowLayout
from lotas_core.settings import Settings, load_settings

TOY_FINESS = "000000001"
TOY_CAMPAIGN = "toy_campaign"


class ToySource(RecordSource):
    id = "toy_source"

    def read(self, folder, finess, campaign, progress=None) -> Records:
        import hashlib

        matches = sorted(Path(folder).glob(f"{finess}.2019.12.*.in.zip"))
        if not matches:
            raise ArchiveError(f"Aucune archive dans {folder}.", "no archive")
        path = matches[-1]
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            text = zf.read("patients.txt").decode("latin-1")
        rows = []
        report = FileReport(member="patients.txt")
        for line in text.splitlines():
            report.lines_read += 1
            parts = line.split(";")
            if len(parts) != 5:
                report.skipped["format"] = report.skipped.get("format", 0) + 1
                continue
            report.lines_kept += 1
            rows.append(parts)
        table = pd.DataFrame(rows, columns=["IPP", "SEXE", "AGE", "DATACTE", "EXCL"])
        info = ArchiveInfo(path=path, name=path.name, sha256=hashlib.sha256(data).hexdigest(),
                           size=len(data))
        return Records(tables={"patients": table}, report=ParseReport(files={"patients": report}),
                       archive=info)


class ToyExcluded(EligibilityRule):
    id = "excluded"
    label_fr = "exclus"
    order = 10

    def excludes(self, facts: pd.DataFrame) -> pd.Series:
        return facts["EXCL"] == "1"


#: The toy's row: the columns of the LOTAS table, so the draw tests read like the real ones.
TOY_COLUMNS = (
    RowColumn("IPP", "Identifiant", identifying=True),
    RowColumn("SEXE", "Sexe"),
    RowColumn("AGE", "Âge", "int"),
    RowColumn("DATACTE", "Date", "date"),
    RowColumn("LISTEDA", "Diagnostics", "codes"),
    RowColumn("MODENT", "Mode d'entrée"),
    RowColumn("PROV", "Provenance"),
    RowColumn("MODSORT", "Mode de sortie"),
    RowColumn("DEST", "Destination"),
)
PATIENT_COLUMNS = tuple(column.name for column in TOY_COLUMNS)
TABLE_ORDER = ("IPP", "SEXE", "AGE", "MODENT", "MODSORT", "DEST", "PROV", "LISTEDA", "DATACTE")
DRAW_COLUMNS = ("NUMTAS", "TYPECH", *TABLE_ORDER)


class ToyCampaign(Campaign):
    id = TOY_CAMPAIGN
    title = "Toy"
    year = 2019
    record_source = "toy_source"
    patient_columns = TOY_COLUMNS
    table_order = TABLE_ORDER

    def patient_facts(self, records: Records) -> pd.DataFrame:
        table = records.tables["patients"].drop_duplicates("IPP")
        facts = table.set_index("IPP", drop=False)
        facts.index.name = None
        return facts

    def patient_rows(self, records, facts, eligible) -> pd.DataFrame:
        rows = facts.loc[list(eligible)].copy().reset_index(drop=True)
        rows["AGE"] = rows["AGE"].astype(int)
        rows["DATACTE"] = [date.fromisoformat(v) for v in rows["DATACTE"]]
        for col in ("LISTEDA", "MODENT", "PROV", "MODSORT", "DEST"):
            rows[col] = "F20" if col == "LISTEDA" else ""
        return rows[list(PATIENT_COLUMNS)].sort_values("IPP").reset_index(drop=True)


class ToyPlugin:
    @hookimpl
    def lotas_register_campaigns(self, register):
        register(ToyCampaign())

    @hookimpl
    def lotas_register_record_sources(self, register):
        register(ToySource())

    @hookimpl
    def lotas_eligibility_rules(self, campaign):
        return [ToyExcluded()] if campaign.id == TOY_CAMPAIGN else None


def toy_lines(count: int, excluded_every: int = 5) -> list[str]:
    """``count`` patients; every ``excluded_every``-th is excluded."""
    lines = []
    for i in range(count):
        key = f"TOY{i:05d}X"
        excl = "1" if excluded_every and i % excluded_every == 0 else "0"
        day = f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}"
        lines.append(f"{key};{1 + i % 2};{20 + i % 60};{day};{excl}")
    return lines


def write_toy_archive(folder: Path, lines: list[str], stamp: str = "31012020093000") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TOY_FINESS}.2019.12.{stamp}.in.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("patients.txt", "\n".join(lines) + "\n")
    path.write_bytes(buffer.getvalue())
    return path


#: The drawn rows of the toy campaign (``Lotas.row_layout``).
TOY_LAYOUT: RowLayout = ToyCampaign().row_layout()


def toy_lotas(*extra: tuple[str, object]) -> Lotas:
    """The facade with the toy campaign only, plus ``extra`` (name, plugin) pairs."""
    return Lotas(get_plugin_manager(load_entry_points=False,
                                    extra_plugins=[("toy", ToyPlugin()), *extra]))


@pytest.fixture(scope="session")
def cf():
    """This module: the toy campaign and the sample-draw helpers, for the tests of this folder
    (``--import-mode=importlib`` forbids importing a conftest)."""
    return sys.modules[__name__]


@pytest.fixture
def lotas() -> Lotas:
    return toy_lotas()


@pytest.fixture
def settings() -> Settings:
    return load_settings(None, campaign=TOY_CAMPAIGN, finess=TOY_FINESS).settings


@pytest.fixture
def history(tmp_path: Path) -> History:
    """An empty history database of its own."""
    return History(tmp_path / "data" / "history.sqlite3")


@pytest.fixture
def archives(tmp_path: Path) -> Path:
    folder = tmp_path / "archives"
    write_toy_archive(folder, toy_lines(200))
    return folder


def sample_rows(n_main: int = 3, n_reserve: int = 2) -> list[dict[str, Any]]:
    rows = []
    for rank in range(1, n_main + n_reserve + 1):
        rows.append({
            "NUMTAS": rank, "TYPECH": "P" if rank <= n_main else "R", "IPP": f"SECRETIPP{rank:03d}",
            "SEXE": "2", "AGE": 30 + rank, "MODENT": "", "MODSORT": "", "DEST": "", "PROV": "",
            "LISTEDA": "F200 Z590", "DATACTE": f"2019-12-{rank:02d}",
        })
    assert all(set(row) == set(DRAW_COLUMNS) for row in rows)
    return rows


def add_sample_draw(history: History, finess: str = TOY_FINESS, campaign: str = TOY_CAMPAIGN,
                    rows: list[dict[str, Any]] | None = None,
                    provenance: dict[str, Any] | None = None):
    rows = rows if rows is not None else sample_rows()
    main = sum(1 for r in rows if r["TYPECH"] == "P")
    return history.add_draw(
        finess=finess, financing="DGF", campaign_id=campaign,
        archive_name=f"{finess}.2019.12.31012020093000.in.zip", archive_sha256="ab" * 32,
        archive_size=1234, sizes=SampleSizes(main, len(rows) - main),
        funnel={"base": 10, "excluded": 5, "eligible": 5},
        parse_report={"files": {}, "warnings": []},
        algorithm="lotas-draw/1", seed="00" * 32, population_digest="11" * 32, rows=rows,
        provenance=provenance,
    )
