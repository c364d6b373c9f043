"""Owner-only files (0600) and folders (0700) whoever creates them first, even under a permissive
umask: spool payloads, the receiver's store, the data folder (issue 11)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotas_core.cli.main import main
from lotas_core.fsutil import ensure_private_dir
from lotas_plugins.transport_epop.client import EpopOptions, EpopTransport
from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer

from .conftest import credentials
from .test_direct import direct


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_folders_created_with_their_parents_are_all_owner_only(tmp_path, permissive_umask):
    target = ensure_private_dir(tmp_path / "data" / "epop-spool" / "queue")
    for folder in (tmp_path / "data", tmp_path / "data" / "epop-spool", target):
        assert mode(folder) == 0o700, folder


def test_an_existing_folder_is_left_as_its_owner_set_it(tmp_path, permissive_umask):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    ensure_private_dir(shared / "lotas")
    assert mode(shared) == 0o755 and mode(shared / "lotas") == 0o700


def test_relay_spool_and_receiver_store_are_owner_only(tmp_path, permissive_umask,
                                                       receiver_factory, make_payload,
                                                       wait_until):
    data = tmp_path / "fresh-data"  # does not exist: the servers create it
    receiver = receiver_factory(store=data / "epmsi-receiver")
    relay = RelayServer(RelayConfig(spool=data / "epop-spool", port=0), None).start()
    try:
        payload, _ = make_payload()
        EpopTransport(EpopOptions(port=relay.address[1], connect_timeout=2,
                                  read_timeout=5)).send(payload)
        queued = list((data / "epop-spool" / "queue").iterdir())
        assert len(queued) == 1
        for path in (queued[0] / "payload.bin", queued[0] / "meta.json"):
            assert mode(path) == 0o600, path
        for folder in (data, data / "epop-spool", data / "epop-spool" / "queue", queued[0]):
            assert mode(folder) == 0o700, folder
    finally:
        relay.stop()
    direct(receiver.url, credentials).send(make_payload("D2")[0])
    stored = receiver.stored_payloads()
    assert stored and all(mode(path) == 0o600 for path in stored)
    assert mode(data / "epmsi-receiver") == 0o700


def test_a_server_creating_the_data_folder_makes_it_owner_only(tmp_path, permissive_umask,
                                                               data_dir):
    """``lotas epop-server`` run first on a fresh install: its spool's parents are private."""
    from lotas_core.cli.serving import usable_folder

    data = tmp_path / "lotas-data"
    usable_folder(data / "epop-spool", "--spool")
    assert mode(data) == 0o700 and mode(data / "epop-spool") == 0o700
    assert not data_dir.exists()
    assert main(["history"]) == 0  # reading the history creates nothing (issue 12)
    assert not data_dir.exists()
    from lotas_core.draws.history import History
    from lotas_core.selection.campaign import SampleSizes

    History(data_dir / "history.sqlite3").add_draw(  # the first draw creates the database
        finess="000000001", financing="DGF", campaign_id="c", archive_name="a",
        archive_sha256="0" * 64, sizes=SampleSizes(0, 0), funnel={}, parse_report={},
        algorithm="lotas-draw/1", seed="0" * 64, population_digest="0" * 64, rows=[],
    )
    assert mode(data_dir) == 0o700 and mode(data_dir / "history.sqlite3") == 0o600
