"""One history entry: the ``DrawRecord`` and the canonical JSON that is hashed.

Kept apart from the SQLite store so that the entry format (what an auditor re-hashes) reads on
its own; ``docs/draw-and-history.md`` describes it field by field.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lotas_core.french import french_datetime
from lotas_core.selection.campaign import SampleSizes

#: ``prev_hash`` of the first entry of a chain.
GENESIS_HASH = "0" * 64
#: Version of the entry format, recorded in every entry.
ENTRY_FORMAT = 1


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes that are hashed."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry (which includes its ``prev_hash``)."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _short_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()[:16]


def field_digests(content: dict[str, Any]) -> dict[str, Any]:
    """Short hashes of each field of an entry (but ``digests``) and of each drawn row."""
    return {
        "fields": {key: _short_hash(value) for key, value in content.items() if key != "digests"},
        "rows": [_short_hash(row) for row in content.get("rows", [])],
    }


@dataclass
class DrawRecord:
    """One stored draw, as read back from the history."""

    draw_id: str
    created_at: datetime
    finess: str
    financing: str
    campaign_id: str
    archive_name: str
    archive_sha256: str
    sizes: SampleSizes
    funnel: dict[str, int]
    parse_report: dict[str, Any]
    algorithm: str
    seed: str
    population_digest: str
    rows: list[dict[str, Any]]
    transmissions: list[dict[str, Any]] = field(default_factory=list)
    prev_hash: str = GENESIS_HASH
    entry_hash: str = ""
    archive_size: int = 0
    #: The French notice shown with the draw (e.g. fewer eligible patients than wanted).
    notice: str = ""
    chain_pos: int = 1
    #: Which code made the draw (``draws.provenance``); None in entries written before it was
    #: recorded, which then have no ``provenance`` field (their hashes are unchanged).
    provenance: dict[str, Any] | None = None
    #: Not stored: why the entry read back is damaged (French), empty when it is intact.
    damage: str = field(default="", compare=False)
    #: Not stored: False when the entry's content could not be read at all (``damaged``).
    content_readable: bool = field(default=True, compare=False)

    def label(self) -> str:
        """The history list's wording: ``000000001- 22/04/2021 09:16:56`` (local time)."""
        local = self.created_at.astimezone() if self.created_at.tzinfo else self.created_at
        text = f"{self.finess}- {french_datetime(local)}"
        return f"{text} (endommagé)" if self.damage else text

    @classmethod
    def damaged(
        cls, draw_id: str, finess: str, campaign_id: str, created_at: str, damage: str
    ) -> DrawRecord:
        """A stand-in for an entry whose content cannot be read: its indexed columns only."""
        try:
            when = datetime.fromisoformat(created_at)
        except (TypeError, ValueError):
            when = datetime(1970, 1, 1)
        return cls(
            draw_id=draw_id, created_at=when, finess=finess, financing="",
            campaign_id=campaign_id, archive_name="", archive_sha256="",
            sizes=SampleSizes(0, 0), funnel={}, parse_report={}, algorithm="", seed="",
            population_digest="", rows=[], damage=damage, content_readable=False,
        )

    @property
    def main_rows(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row.get("TYPECH") == "P"]

    @property
    def reserve_rows(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row.get("TYPECH") == "R"]

    def content(self) -> dict[str, Any]:
        """The hashed content of the entry (everything but ``entry_hash`` and transmissions).

        ``digests`` holds a short hash of each field and of each row, so that ``check()`` can say
        which part of an edited entry changed.
        """
        content: dict[str, Any] = {
            "format": ENTRY_FORMAT,
            "draw_id": self.draw_id,
            "created_at": self.created_at.isoformat(),
            "finess": self.finess,
            "financing": self.financing,
            "campaign_id": self.campaign_id,
            "archive_name": self.archive_name,
            "archive_sha256": self.archive_sha256,
            "archive_size": self.archive_size,
            "sizes": {"main": self.sizes.main, "reserve": self.sizes.reserve},
            "funnel": dict(self.funnel),
            # canonical JSON sorts keys: the funnel's order (base ... eligible) is kept here
            "funnel_order": list(self.funnel),
            "parse_report": self.parse_report,
            "algorithm": self.algorithm,
            "seed": self.seed,
            "population_digest": self.population_digest,
            # each row as the campaign's columns made it (``draw_rows``); keys sorted when hashed
            "rows": [dict(row) for row in self.rows],
            "notice": self.notice,
            "chain_pos": self.chain_pos,
            "prev_hash": self.prev_hash,
        }
        if self.provenance is not None:
            content["provenance"] = self.provenance
        content["digests"] = field_digests(content)
        return content

    @classmethod
    def from_content(cls, content: dict[str, Any], hash_hex: str) -> DrawRecord:
        sizes = content["sizes"]
        return cls(
            draw_id=content["draw_id"],
            created_at=datetime.fromisoformat(content["created_at"]),
            finess=content["finess"],
            financing=content["financing"],
            campaign_id=content["campaign_id"],
            archive_name=content["archive_name"],
            archive_sha256=content["archive_sha256"],
            archive_size=int(content.get("archive_size", 0)),
            sizes=SampleSizes(int(sizes["main"]), int(sizes["reserve"])),
            funnel=_ordered(content["funnel"], content.get("funnel_order")),
            parse_report=content["parse_report"],
            algorithm=content["algorithm"],
            seed=content["seed"],
            population_digest=content["population_digest"],
            rows=list(content["rows"]),
            notice=content.get("notice", ""),
            chain_pos=int(content.get("chain_pos", 1)),
            prev_hash=content["prev_hash"],
            entry_hash=hash_hex,
            provenance=_provenance(content.get("provenance")),
        )


def make_draw_id(finess: str, when: datetime) -> str:
    """``FINESS-YYYYMMDD-HHMMSS-xxxxxx`` in local time, like the label: readable, and unique even
    if the database is recreated (the id is the transmission's idempotency key)."""
    local = when.astimezone() if when.tzinfo else when
    return f"{finess}-{local:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _ordered(funnel: dict[str, int], order: list[str] | None) -> dict[str, int]:
    keys = [key for key in order or [] if key in funnel]
    return {key: funnel[key] for key in keys + [k for k in funnel if k not in keys]}


def _provenance(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None
