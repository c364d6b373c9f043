"""Where a transmitted draw is: handed off, being forwarded, delivered to QUALHAS, or failed.

The history keeps one chained event per change of state (``History.add_transmission``); this
module reads them back as a ``Delivery`` and, for a payload still held by an intermediary, asks
its transport (``Transport.delivery_status``) and records what changed. It names no transport:
a hand-off receipt carries its own French words (``Receipt.handoff_fr``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lotas_core.transmission.contract import (
    DELIVERED,
    FAILED,
    FORWARDING,
    QUEUED,
    Receipt,
    TransportError,
)

if TYPE_CHECKING:
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.settings import Settings
    from lotas_core.transmission.contract import Transport
    from lotas_core.transmission.credentials import Credentials

log = logging.getLogger(__name__)

NOT_SENT = "not_sent"
#: States in which the payload still travels: worth asking its intermediary again.
PENDING = (QUEUED, FORWARDING)

GENERIC_HANDOFF_FR = "remis à un intermédiaire, en attente de transmission à QUALHAS"
#: One or two words for a list of draws (the screen's history list).
SHORT_LABELS_FR = {
    NOT_SENT: "",
    QUEUED: "en attente",
    FORWARDING: "en cours",
    DELIVERED: "transmis",
    FAILED: "échec",
}
STATE_LABELS_FR = {
    NOT_SENT: "pas encore transmis",
    FORWARDING: "en cours de transmission à QUALHAS",
    DELIVERED: "transmis à QUALHAS",
    FAILED: "échec de la transmission",
}


@dataclass
class Delivery:
    """A draw's transmission as its history events tell it."""

    draw_id: str
    state: str = NOT_SENT
    reason_fr: str = ""
    transport: str = ""
    handoff: dict[str, Any] | None = None
    """The intermediary's receipt (e.g. the relay's), when the draw was handed off."""
    receipt: dict[str, Any] | None = None
    """The final recipient's receipt (QUALHAS), once delivered."""
    sent_at: str = ""
    updated_at: str = ""
    delivered_at: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    handoff_fr: str = ""
    refresh_error_fr: str = ""
    """Why the state could not be asked just now (the stored state is shown)."""

    @property
    def pending(self) -> bool:
        return self.state in PENDING

    @property
    def short_label_fr(self) -> str:
        return SHORT_LABELS_FR.get(self.state, self.state)

    @property
    def label_fr(self) -> str:
        """The state in French, e.g. "remis au serveur e-POP, en attente de transmission"."""
        if self.state == QUEUED:
            return self.handoff_fr or GENERIC_HANDOFF_FR
        label = STATE_LABELS_FR.get(self.state, self.state)
        if self.state == FAILED and self.reason_fr:
            return f"{label} : {self.reason_fr}"
        return label

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["label_fr"] = self.label_fr
        return data


def summarize(draw_id: str, events: list[dict[str, Any]]) -> Delivery:
    """The current state from the history events (``History.transmissions`` shape)."""
    delivery = Delivery(draw_id=draw_id, events=list(events))
    for event in events:
        state = str(event.get("state") or DELIVERED)
        delivery.state = state
        delivery.updated_at = str(event.get("recorded_at", ""))
        delivery.sent_at = delivery.sent_at or delivery.updated_at
        delivery.transport = str(event.get("transport") or delivery.transport)
        delivery.reason_fr = str(event.get("reason", "")) if state in (FAILED, *PENDING) else ""
        has_receipt = bool(event.get("receipt"))
        if state == QUEUED and has_receipt:
            delivery.handoff = _receipt_fields(event)
            delivery.handoff_fr = str(event.get("handoff_fr", ""))
            delivery.receipt = None
            delivery.delivered_at = ""
        elif state == DELIVERED and has_receipt:
            delivery.receipt = _receipt_fields(event)
            delivery.delivered_at = delivery.updated_at
    return delivery


def _receipt_fields(event: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in event.items() if key not in ("state", "reason")}


def stored_receipt(delivery: Delivery) -> Receipt | None:
    """The receipt of a draw that must not be sent again (anything but not sent or failed)."""
    if delivery.state in (NOT_SENT, FAILED):
        return None
    data = delivery.receipt or delivery.handoff
    if not data:
        return None
    receipt = Receipt.from_dict(data)
    detail = {**receipt.detail, "from_history": True}
    return Receipt(transport=receipt.transport, receipt=receipt.receipt, sha256=receipt.sha256,
                   duplicate=True, received_at=receipt.received_at, detail=detail,
                   final=receipt.final, handoff_fr=receipt.handoff_fr)


def refresh(
    lotas: Lotas, settings: Settings, history: Any, draw: Any,
    credentials: Credentials | None = None, *, transport: Transport | None = None,
) -> Delivery:
    """Ask the intermediary where a handed-off draw is; record a new event if it moved.

    A draw not pending is returned as stored. When the intermediary cannot be reached, the
    stored state is returned with ``refresh_error_fr`` set; nothing is recorded.
    """
    from lotas_core.errors import LotasError
    from lotas_core.fsutil import exclusive_lock
    from lotas_core.transmission.sending import draw_lock_path, idempotency_key, make_transport

    delivery = summarize(draw.draw_id, history.transmissions(draw.draw_id))
    if not delivery.pending:
        return delivery
    owned = transport is None
    try:
        if transport is None:
            transport = make_transport(lotas, settings, delivery.transport or None, credentials)
        status = lotas.delivery_status(transport, idempotency_key(draw))
    except (TransportError, LotasError) as exc:  # unreachable, or settings to correct
        delivery.refresh_error_fr = exc.message_fr
        return delivery
    finally:
        if owned and transport is not None:
            lotas.close(transport)
    if status is None:
        return delivery
    if status.state == "unknown":
        delivery.refresh_error_fr = (
            "l'intermédiaire ne connaît pas cet envoi (dossier d'attente effacé ?) : "
            "transmettez de nouveau le tirage si l'état ne change pas."
        )
        return delivery
    if status.state == delivery.state:
        delivery.reason_fr = status.reason_fr or delivery.reason_fr  # the live reason, not kept
        return delivery
    with exclusive_lock(draw_lock_path(settings, draw.draw_id)):  # one event per change,
        stored = summarize(draw.draw_id, history.transmissions(draw.draw_id))  # even when two
        if stored.state != status.state and stored.pending:  # processes ask at once
            history.add_transmission(draw.draw_id, status.receipt, state=status.state,
                                     reason=status.reason_fr, transport=delivery.transport)
            log.info("draw %s: delivery state %s -> %s", draw.draw_id, stored.state,
                     status.state)
            if status.state == DELIVERED and status.receipt is not None:
                for warning in lotas.draw_transmitted(draw, status.receipt):
                    log.warning("%s", warning)  # a notification never changes the outcome
    return summarize(draw.draw_id, history.transmissions(draw.draw_id))


def refresh_many(
    lotas: Lotas, settings: Settings, history: Any, draws: list[Any],
    credentials: Credentials | None = None,
) -> dict[str, Delivery]:
    """Each draw's delivery, asking intermediaries for the pending ones; after the first
    draw whose intermediary cannot be reached, the others are shown as stored (no long wait)."""
    found: dict[str, Delivery] = {}
    unreachable = ""
    for draw in draws:
        if unreachable:
            delivery = summarize(draw.draw_id, history.transmissions(draw.draw_id))
            if delivery.pending:
                delivery.refresh_error_fr = unreachable
        else:
            delivery = refresh(lotas, settings, history, draw, credentials)
            unreachable = delivery.refresh_error_fr
        found[draw.draw_id] = delivery
    return found
