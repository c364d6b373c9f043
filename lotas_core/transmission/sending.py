"""Sending a draw to QUALHAS: build the payload (never an IPP), send it, keep the receipt.

The payload is a JSON file in ``<data_dir>/outbox/`` holding exactly what section 8 of the spec
lets leave the hospital. Its bytes are a pure function of the draw, and its idempotency key is
derived from the draw's id and history hash, so every retry (even from another process or a later
day) sends the same bytes under the same key and the far end keeps one copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from lotas_core.errors import CheckFailed, ConfigError
from lotas_core.french import validation_problem
from lotas_core.fsutil import atomic_write_bytes, exclusive_lock
from lotas_core.selection.columns import RowLayout
from lotas_core.transmission.contract import Payload, Receipt, Transport
from lotas_core.transmission.credentials import Credentials

if TYPE_CHECKING:
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.settings import Settings

log = logging.getLogger(__name__)

PAYLOAD_FORMAT = "lotas-qualhas/1"


def idempotency_key(draw: Any) -> str:
    """One key per draw, the same on every retry: SHA-256 of the draw id and its entry hash."""
    text = f"{PAYLOAD_FORMAT}\n{draw.draw_id}\n{getattr(draw, 'entry_hash', '')}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sizes(draw: Any) -> dict[str, int]:
    sizes = draw.sizes
    if is_dataclass(sizes):
        sizes = asdict(sizes)  # type: ignore[arg-type]
    elif not isinstance(sizes, dict):
        sizes = {"main": sizes.main, "reserve": sizes.reserve}
    return {"main": int(sizes["main"]), "reserve": int(sizes["reserve"])}


def payload_document(draw: Any, layout: RowLayout) -> dict[str, Any]:
    """What is transmitted for ``draw``: a whitelist of fields, and of each row only the
    campaign's transmitted columns (``RowLayout.transmitted``: never an identifying one)."""
    columns = [layout.column(name) for name in layout.transmitted]
    rows = []
    for row in draw.rows:
        item = {column.name: row.get(column.name, "") for column in columns}
        for column in columns:
            value = item[column.name]
            if column.format == "int":
                item[column.name] = int(value) if value not in ("", None) else None
            elif column.format == "date":
                item[column.name] = str(value)
        rows.append(item)
    return {
        "format": PAYLOAD_FORMAT,
        "finess": draw.finess,
        "financing": draw.financing,
        "campaign": draw.campaign_id,
        "draw_id": draw.draw_id,
        "algorithm": draw.algorithm,
        "seed": draw.seed,
        "population_digest": draw.population_digest,
        "sizes": _sizes(draw),
        "rows": rows,
    }


def build_payload(draw: Any, settings: Settings, layout: RowLayout) -> Payload:
    """Write the draw's payload atomically to ``<data_dir>/outbox/`` and describe it."""
    document = payload_document(draw, layout)
    # belt and braces: RowLayout already refuses to transmit an identifying column
    if any(name in row for row in document["rows"] for name in layout.identifying):
        raise AssertionError("an identifying column reached the payload")
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    raw = data.encode("utf-8")
    path = settings.data_dir / "outbox" / f"{_safe_name(draw.draw_id)}.json"
    atomic_write_bytes(path, raw, private=True)
    return Payload(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        idempotency_key=idempotency_key(draw),
        metadata={
            "format": PAYLOAD_FORMAT,
            "finess": draw.finess,
            "financing": draw.financing,
            "campaign": draw.campaign_id,
            "draw_id": draw.draw_id,
        },
    )


def draw_lock_path(settings: Settings, draw_id: str) -> Path:
    """The per-draw lock: one process at a time sends a draw or records its state."""
    return settings.data_dir / "outbox" / f"{_safe_name(draw_id)}.lock"


def _safe_name(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text))
    return cleaned.strip(".") or "draw"


def make_transport(
    lotas: Lotas, settings: Settings, name: str | None = None,
    credentials: Credentials | None = None,
) -> Transport:
    """The configured (or named) transport with its options validated."""
    chosen = name or settings.transport.name
    cls = lotas.transport_class(chosen)
    raw = settings.transport_options(chosen)
    try:
        options = lotas.validate_options(cls, raw)
    except ValidationError as exc:
        field, message = validation_problem(exc)
        raise ConfigError(
            f"Option « {field} » du transport « {chosen} » invalide : {message}. Corrigez "
            f"transport.options.{chosen} dans les paramètres.",
            f"invalid options for transport {chosen!r}: {exc}",
        ) from None
    return lotas.new_transport(cls, options, credentials or Credentials())


def _open_history(settings: Settings) -> Any:
    from lotas_core.draws.service import open_history

    return open_history(settings)


@contextlib.contextmanager
def _closing(lotas: Lotas, transport: Transport) -> Iterator[Transport]:
    """Release the transport's connections (``close()`` is optional in the contract)."""
    try:
        yield transport
    finally:
        lotas.close(transport)


def transmit(
    lotas: Lotas, settings: Settings, draw_id: str, transport_name: str | None = None,
    credentials: Credentials | None = None, *, history: Any = None,
    warn: Callable[[str], None] | None = None,
) -> Receipt:
    """Send draw ``draw_id``; record the receipt as a history event; never send twice.

    A draw already handed off or delivered is not sent again (its stored receipt is returned,
    ``detail.from_history``); one whose last state is ``failed`` is sent again. A draw that
    ``history --check`` flags (its entry, or the chain around it) is refused before anything is
    built. A per-draw lock makes a second process wait, then find the first one's receipt.
    A ``lotas_draw_transmitted`` plugin that fails afterwards is a French warning given to
    ``warn`` (else logged): the draw is transmitted and its receipt stored all the same.
    """
    from lotas_core.transmission.delivery import stored_receipt, summarize

    history = history if history is not None else _open_history(settings)
    draw = history.get(draw_id)
    with exclusive_lock(draw_lock_path(settings, draw.draw_id)):
        previous = stored_receipt(summarize(draw.draw_id, history.transmissions(draw.draw_id)))
        if previous is not None:
            log.info("draw %s already transmitted (receipt %s)", draw.draw_id, previous.receipt)
            return previous
        problems = history.check_draw(draw.draw_id)
        if problems:  # edited after it was drawn, or its chain broken: never sent as genuine
            raise CheckFailed(
                f"Le tirage {draw.draw_id} ne passe pas le contrôle de l'historique : "
                f"{' ; '.join(problems)} Rien n'a été transmis ; voyez « lotas history --check ».",
                f"draw {draw.draw_id} fails the history check; not transmitted",
            )
        # What may leave is the campaign's say: a draw of a campaign no longer installed is not
        # sent (an unknown campaign is a UsageError naming the installed ones).
        layout = lotas.row_layout(lotas.campaign(draw.campaign_id).id)
        transport = make_transport(lotas, settings, transport_name, credentials)
        with _closing(lotas, transport):
            receipt = lotas.send(transport, build_payload(draw, settings, layout))
        history.add_transmission(draw.draw_id, receipt, transport=transport.name)
    log.info("draw %s %s with %s: receipt %s", draw.draw_id,
             "delivered" if receipt.final else "handed off", transport.name, receipt.receipt)
    for warning in lotas.draw_transmitted(draw, receipt):
        if warn is not None:
            warn(warning)
        else:
            log.warning("%s", warning)
    return receipt


def test_connection(
    lotas: Lotas, settings: Settings, transport_name: str | None = None,
    credentials: Credentials | None = None,
) -> str:
    """The manual's "Tester": contact the far end without sending data; a French sentence."""
    transport = make_transport(lotas, settings, transport_name, credentials)
    with _closing(lotas, transport):
        return lotas.check_connection(transport)


test_connection.__test__ = False  # type: ignore[attr-defined] - not a pytest test


def trust_certificate(config_file: Path, transport_name: str, option: str,
                      fingerprint: str) -> Path:
    """Record a trusted certificate fingerprint in the settings file (not a secret).

    Only ``transport.options.<transport_name>.<option>`` changes; the rest of the file is kept.
    A different fingerprint already recorded is never replaced here (``CertificateChanged``
    says how to replace it).
    """
    from lotas_core.settings import update_settings_file

    return update_settings_file(config_file, ("transport", "options", transport_name, option),
                                fingerprint)
