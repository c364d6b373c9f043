"""The draw history: an append-only, hash-chained SQLite store (spec section 6).

Each draw is one row whose ``entry_json`` is the canonical JSON (sorted keys, no whitespace,
UTF-8) of everything the draw needs to be audited; ``entry_hash`` is the SHA-256 of those bytes.
The entry holds ``prev_hash``, the hash of the previous draw of the same FINESS and campaign, so an
edit, a deletion or a reordering breaks the chain and ``check()`` names the draw concerned.
Transmissions are appended to their own table, chained from the draw's hash, so a draw entry is
never rewritten. Triggers refuse UPDATE and DELETE; ``chains`` keeps each chain's head so that
dropping the last entry is seen too. Files are created readable by their owner only.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lotas_core.draws.history_entry import (
    ENTRY_FORMAT,
    GENESIS_HASH,
    DrawRecord,
    canonical_json,
    entry_hash,
    field_digests,
    make_draw_id,
)
from lotas_core.errors import UsageError
from lotas_core.fsutil import PRIVATE_FILE_MODE, ensure_private_dir
from lotas_core.selection.campaign import SampleSizes
from lotas_core.transmission.contract import Receipt
from lotas_core.transmission.redaction import redact_credentials

__all__ = [
    "GENESIS_HASH", "DrawRecord", "History", "canonical_json", "entry_hash", "field_digests",
]

log = logging.getLogger(__name__)

#: How long a writer waits for another process's transaction (SQLite busy timeout).
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS draws (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    draw_id TEXT NOT NULL UNIQUE,
    finess TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    entry_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS draws_chain ON draws (finess, campaign_id, seq);
CREATE TABLE IF NOT EXISTS transmissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    draw_id TEXT NOT NULL REFERENCES draws (draw_id),
    entry_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transmissions_draw ON transmissions (draw_id, seq);
CREATE TABLE IF NOT EXISTS chains (
    finess TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    length INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    PRIMARY KEY (finess, campaign_id)
);
CREATE TRIGGER IF NOT EXISTS draws_no_update BEFORE UPDATE ON draws
BEGIN SELECT RAISE(ABORT, 'lotas history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS draws_no_delete BEFORE DELETE ON draws
BEGIN SELECT RAISE(ABORT, 'lotas history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS transmissions_no_update BEFORE UPDATE ON transmissions
BEGIN SELECT RAISE(ABORT, 'lotas history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS transmissions_no_delete BEFORE DELETE ON transmissions
BEGIN SELECT RAISE(ABORT, 'lotas history is append-only'); END;
"""


class History:
    """The SQLite history at ``path`` (created 0600 on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._schema_ready = False

    # -- connection ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; ``readonly`` ones never create nor write the file (``history --check``
        and ``lotas history`` work on a read-only file or folder)."""
        try:
            if readonly:
                uri = "file:" + quote(str(self.path.absolute())) + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S,
                                       isolation_level=None)
            else:
                ensure_private_dir(self.path.parent)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.chmod(self.path, PRIVATE_FILE_MODE)
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._failure(exc, writing=not readonly) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if not readonly:
                # DELETE journal: the -journal file takes the database's 0600 mode.
                conn.execute("PRAGMA journal_mode = DELETE")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._failure(exc, writing=not readonly) from None
        finally:
            conn.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """A read-only connection, or None while no draw was ever stored (no file yet)."""
        try:
            empty = self.path.stat().st_size == 0
        except FileNotFoundError:
            empty = True
        except OSError as exc:
            raise self._failure(exc, writing=False) from None
        if empty:
            yield None
            return
        with self._connect(readonly=True) as conn:
            yield conn

    def _failure(self, exc: BaseException, *, writing: bool) -> UsageError:
        """One French line for a failure of the database or its file, that says what to do.

        Restoring a backup is advised only when the file really is damaged (SQLite says so, or
        its own integrity check finds a fault): a full disk, a read-only file or a busy
        database leave the history as it was.
        """
        name = getattr(exc, "sqlite_errorname", "")
        from lotas_core.reasons import sqlite_reason_fr

        reason = sqlite_reason_fr(exc)  # French, never SQLite's or the system's English
        if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc):
            return UsageError(
                f"Historique des tirages occupé depuis {BUSY_TIMEOUT_S:.0f} s par un autre "
                "programme lotas : réessayez dans un instant.",
                f"history database locked: {exc}",
            )
        full = name == "SQLITE_FULL" or getattr(exc, "errno", None) == errno.ENOSPC
        if full:
            return UsageError(
                f"Disque plein : rien n'a été enregistré et l'historique des tirages {self.path} "
                "est resté tel qu'il était. Libérez de la place sur ce disque puis recommencez.",
                f"disk full while writing the history {self.path}: {exc}",
            )
        access = name in ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")
        if access or isinstance(exc, OSError):  # no right, a file where a folder should be...
            what = "modifier" if writing else "lire"
            return UsageError(
                f"Impossible de {what} l'historique des tirages {self.path} ({reason}) : "
                "vérifiez les droits de votre compte sur ce fichier et son dossier (ou le "
                "paramètre data_dir).",
                f"history database {self.path} not accessible: {exc}",
            )
        if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or self._is_damaged():
            return UsageError(
                f"Historique des tirages endommagé : {self.path} ({reason}). Restaurez une "
                "sauvegarde de ce fichier.",
                f"damaged history database {self.path}: {exc}",
            )
        return UsageError(
            f"Erreur en accédant à l'historique des tirages {self.path} ({reason}) ; le fichier "
            "n'est pas endommagé : recommencez, et vérifiez le disque si l'erreur revient.",
            f"history database {self.path} failed: {exc}",
        )

    def _is_damaged(self) -> bool:
        """SQLite's own integrity check on a separate read-only connection."""
        if not self.path.is_file():
            return False
        try:
            uri = "file:" + quote(str(self.path.absolute())) + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=1.0)
            try:
                return conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            return getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB")
        except (sqlite3.Error, OSError):
            return False

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the chain head is read and extended under the write lock.

        SQLite rolls a transaction back by itself on some errors (a full disk): the explicit
        rollback is then skipped, so the error the user sees is the real one."""
        with self._connect() as conn:
            if not self._schema_ready:
                conn.executescript(_SCHEMA)
                self._schema_ready = True
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- writing ------------------------------------------------------------------------------

    def add_draw(
        self,
        *,
        finess: str,
        financing: str,
        campaign_id: str,
        archive_name: str,
        archive_sha256: str,
        sizes: SampleSizes,
        funnel: dict[str, int],
        parse_report: dict[str, Any],
        algorithm: str,
        seed: str,
        population_digest: str,
        rows: list[dict[str, Any]],
        archive_size: int = 0,
        notice: str = "",
        created_at: datetime | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> DrawRecord:
        """Append a draw at the end of its (FINESS, campaign) chain, atomically."""
        record = DrawRecord(
            draw_id="",
            created_at=(created_at or datetime.now(UTC)).replace(microsecond=0),
            finess=finess,
            financing=financing,
            campaign_id=campaign_id,
            archive_name=archive_name,
            archive_sha256=archive_sha256,
            archive_size=archive_size,
            sizes=sizes,
            funnel=dict(funnel),
            parse_report=parse_report,
            algorithm=algorithm,
            seed=seed,
            population_digest=population_digest,
            rows=[dict(row) for row in rows],
            notice=notice,
            provenance=provenance,
        )
        for attempt in range(3):
            try:
                self._append_draw(record)
                break
            except sqlite3.IntegrityError:  # the same draw id twice in one second: a new one
                if attempt == 2:
                    raise
        log.info("draw %s stored (chain position %d)", record.draw_id, record.chain_pos)
        return record

    def _append_draw(self, record: DrawRecord) -> None:
        """Give ``record`` its id, position and hashes, and insert it in one transaction."""
        with self._write() as conn:
            head = conn.execute(
                "SELECT length, head_hash FROM chains WHERE finess = ? AND campaign_id = ?",
                (record.finess, record.campaign_id),
            ).fetchone()
            length, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
            record.draw_id = make_draw_id(record.finess, record.created_at)
            record.chain_pos = length + 1
            record.prev_hash = prev
            content = record.content()
            record.entry_hash = entry_hash(content)
            conn.execute(
                "INSERT INTO draws (draw_id, finess, campaign_id, created_at, entry_json,"
                " prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.draw_id, record.finess, record.campaign_id, content["created_at"],
                 canonical_json(content).decode("utf-8"), prev, record.entry_hash),
            )
            self._advance_head(conn, record.finess, record.campaign_id, length + 1,
                               record.entry_hash)

    def _advance_head(
        self, conn: sqlite3.Connection, finess: str, campaign_id: str, length: int, head: str
    ) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO chains (finess, campaign_id, length, head_hash)"
            " VALUES (?, ?, ?, ?)",
            (finess, campaign_id, length, head),
        )

    def add_transmission(self, draw_id: str, receipt: Receipt | None, *, state: str | None = None,
                         reason: str = "", transport: str = "") -> None:
        """Append a transmission event, chained from the draw's hash (the draw is untouched).

        Each change of delivery state (hand-off, forwarding, delivery, failure) is one event;
        ``state`` defaults to ``delivered`` for a final receipt and ``queued`` for a hand-off.
        URLs holding credentials are never written (they are cut out of the receipt).
        """
        if state is None:
            state = "delivered" if receipt is None or receipt.final else "queued"
        with self._write() as conn:
            row = conn.execute(
                "SELECT entry_hash FROM draws WHERE draw_id = ?", (draw_id,)
            ).fetchone()
            if row is None:
                raise _unknown_draw(draw_id)
            last = conn.execute(
                "SELECT entry_hash FROM transmissions WHERE draw_id = ? ORDER BY seq DESC LIMIT 1",
                (draw_id,),
            ).fetchone()
            prev = str(last[0]) if last else str(row[0])
            content: dict[str, Any] = {
                "format": ENTRY_FORMAT,
                "draw_id": draw_id,
                "recorded_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                "receipt": redact_credentials(receipt.to_dict()) if receipt else None,
                "state": state,
                "prev_hash": prev,
            }
            if reason:
                content["reason"] = redact_credentials(reason)
            if transport:
                content["transport"] = transport
            conn.execute(
                "INSERT INTO transmissions (draw_id, entry_json, prev_hash, entry_hash)"
                " VALUES (?, ?, ?, ?)",
                (draw_id, canonical_json(content).decode("utf-8"), prev, entry_hash(content)),
            )
        log.info("transmission event %s of draw %s recorded", state, draw_id)

    # -- reading ------------------------------------------------------------------------------

    def get(self, draw_id: str) -> DrawRecord:
        """One draw with its transmissions; ``UsageError`` when the id is unknown."""
        found = self._select("draw_id = ?", [draw_id])
        if not found:
            raise _unknown_draw(draw_id)
        if not found[0].content_readable:
            raise UsageError(
                f"Le tirage {draw_id} est endommagé dans l'historique ({found[0].damage}) : il ne "
                "peut être ni exporté, ni vérifié, ni transmis. Lancez « lotas history --check » "
                f"puis restaurez une sauvegarde de {self.path}.",
                f"history entry {draw_id} cannot be decoded",
            )
        return found[0]

    def list(self, finess: str | None = None, campaign_id: str | None = None) -> list[DrawRecord]:
        """Draws, newest first, optionally for one FINESS and/or campaign."""
        clauses, params = [], []
        if finess is not None:
            clauses.append("finess = ?")
            params.append(finess)
        if campaign_id is not None:
            clauses.append("campaign_id = ?")
            params.append(campaign_id)
        return self._select(" AND ".join(clauses), params)

    def _select(self, where: str, params: list[str]) -> list[DrawRecord]:
        """The draws matching ``where`` (SQL over the indexed columns), newest first.

        A damaged entry (JSON that cannot be read, or that no longer hashes to its recorded
        hash) is listed with ``DrawRecord.damage`` saying so, never hiding the others."""
        query = "SELECT entry_json, entry_hash, draw_id, finess, campaign_id, created_at FROM draws"
        if where:
            query += " WHERE " + where
        with self._read() as conn:
            if conn is None:
                return []
            records = []
            for entry_json, hash_hex, draw_id, finess, campaign_id, created_at in conn.execute(
                query + " ORDER BY seq DESC", params
            ).fetchall():
                record = _decode(entry_json, hash_hex, draw_id, finess, campaign_id, created_at)
                record.transmissions = self._transmissions(conn, draw_id)
                records.append(record)
        return records

    def transmissions(self, draw_id: str) -> list[dict[str, Any]]:
        """The transmission events of a draw, oldest first: each is its receipt's fields (empty
        when the event has none) with ``recorded_at``, ``state`` and ``reason``."""
        with self._read() as conn:
            return self._transmissions(conn, draw_id) if conn is not None else []

    @staticmethod
    def _transmissions(conn: sqlite3.Connection, draw_id: str) -> list[dict[str, Any]]:
        found = []
        for (entry_json,) in conn.execute(
            "SELECT entry_json FROM transmissions WHERE draw_id = ? ORDER BY seq", (draw_id,)
        ):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                content = json.loads(entry_json)
                found.append(_event(content))
        return found

    # -- integrity ----------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Every problem found, in French; an empty list means the history is whole."""
        from lotas_core.draws.history_check import check_history

        with self._read() as conn:
            return check_history(conn) if conn is not None else []

    def check_draw(self, draw_id: str) -> list[str]:
        """What ``check()`` finds about one draw: its entry, its transmissions, its chain (the
        links and head of its FINESS and campaign), and deletions that cannot be placed."""
        record = self.get(draw_id)
        chain = f"{record.finess}/{record.campaign_id}"
        return [
            problem for problem in self.check()
            if draw_id in problem or chain in problem or problem.startswith("Entrée(s) de tirage")
            or problem.startswith("Dernière(s) entrée(s) de tirage")
        ]

    def check_entry(self, draw_id: str) -> list[str]:
        """Problems of one draw's own entry (its hash and columns); empty when intact."""
        from lotas_core.draws.history_check import check_single_entry

        with self._read() as conn:
            if conn is None:
                return [f"Tirage {draw_id} : absent de l'historique."]
            return check_single_entry(conn, draw_id)


def _event(content: dict[str, Any]) -> dict[str, Any]:
    """One stored transmission event, flat: the receipt's fields, then the event's own."""
    receipt = dict(content.get("receipt") or {})
    if "state" in content:
        state = str(content["state"])
    else:  # before delivery states were recorded: a hand-off said so in its detail
        state = "queued" if (receipt.get("detail") or {}).get("state") == "queued" else "delivered"
    event = {"receipt": "", **receipt}
    # the transport that lotas used (a relay's own upstream transport stays in the receipt)
    event["transport"] = content.get("transport") or receipt.get("transport", "")
    event.update(recorded_at=content["recorded_at"], state=state,
                 reason=str(content.get("reason", "")))
    if "state" not in content and state == "queued":
        event.setdefault("final", False)
    return event


def _decode(
    entry_json: str, hash_hex: str, draw_id: str, finess: str, campaign_id: str, created_at: str
) -> DrawRecord:
    """The entry as a ``DrawRecord``; a damaged one keeps its indexed columns and says why."""
    try:
        content = json.loads(entry_json)
        record = DrawRecord.from_content(content, hash_hex)
    except (ValueError, KeyError, TypeError, AttributeError):
        return DrawRecord.damaged(
            draw_id, finess, campaign_id, created_at, "contenu illisible (JSON invalide)"
        )
    try:
        intact = entry_hash(content) == hash_hex
    except (ValueError, TypeError):
        intact = False
    if not intact:
        record.damage = "entrée modifiée après enregistrement"
    return record


def _unknown_draw(draw_id: str) -> UsageError:
    return UsageError(
        f"Tirage inconnu : « {draw_id} ». Voyez la liste des tirages avec « lotas history ».",
        f"unknown draw id {draw_id!r}",
    )
