"""Every custom message of the UI, as dataclasses (toolong's ``messages.py``).

Workers run in threads and only post these; handlers run on the UI thread and touch widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from lotas_core.draws.history import DrawRecord
    from lotas_core.selection.pipeline import Selection
    from lotas_core.transmission.contract import Receipt
    from lotas_core.transmission.delivery import Delivery


@dataclass
class ReadProgress(Message):
    """The archive reader advanced: a French stage label and a fraction in [0, 1]."""

    stage: str
    fraction: float


@dataclass
class DrawDone(Message):
    """A new draw is stored in the history (``record`` is a ``DrawRecord``)."""

    record: DrawRecord
    selection: Selection | None = None


@dataclass
class VerifyDone(Message):
    """``verify_draw`` finished; ``ok`` tells whether the re-run matched."""

    draw_id: str
    ok: bool
    text: str
    transport: str = ""


@dataclass
class ExportDone(Message):
    """A draw was written to ``path`` (CSV, XLSX or HTML report)."""

    path: Path


@dataclass
class TransmitDone(Message):
    """A transmission finished with this receipt."""

    draw_id: str
    receipt: Receipt


@dataclass
class DeliveriesRefreshed(Message):
    """The e-POP relay (or another intermediary) was asked where the pending draws are."""

    deliveries: dict[str, Delivery]


@dataclass
class CertificateToTrust(Message):
    """"Tester" met a certificate not trusted yet: the user is asked whether to trust it."""

    transport: str
    option: str
    fingerprint: str
    text: str


@dataclass
class ConnectionTested(Message):
    """The "Tester" button's answer: success sentence, or the manual's error sentence."""

    ok: bool
    text: str
    transport: str = ""


@dataclass
class ProxyImported(Message):
    """The proxy found on this computer (host empty when none was found)."""

    host: str
    port: int | None


@dataclass
class FinessChanged(Message):
    """The FINESS field changed: the history follows it (empty until it is complete)."""

    finess: str


@dataclass
class Copied(Message):
    """A draw went to the clipboard: ``where`` the system copy landed (None: OSC 52 only)."""

    rows: int
    where: str | None
    #: The campaign's identifying columns the rows hold ("IPP"), for the warning.
    columns: str = "IPP"
