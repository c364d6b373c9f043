"""The relay's spool: every ACKed payload is a whole folder on disk, in exactly one state.

Layout under the spool root::

    incoming/<hash>.<random>/   being received (swept on restart: never ACKed)
    queue/<hash>/               ACKed, waiting to be forwarded
    delivered/<hash>/           forwarded; receipt.json holds the receiver's answer
    failed/<hash>/              refused by the receiver; error.json says why

``<hash>`` is the SHA-256 of the idempotency key. Each item folder holds ``payload.bin`` and
``meta.json``. A folder moves between states by ``os.rename`` (atomic), after its files and the
parent folder were fsynced, so a crash leaves each payload whole in one place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lotas_core.fsutil import atomic_write_bytes, ensure_private_dir, fsync_dir

STATES = ("queued", "forwarding", "delivered", "failed")
_FOLDERS = {"queued": "queue", "delivered": "delivered", "failed": "failed"}


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Incoming:
    """A payload being received: its folder and its open ``payload.bin``."""

    def __init__(self, folder: Path, meta: dict[str, Any]) -> None:
        self.folder = folder
        self.meta = meta
        # owner-only whatever the umask: the payload is the hospital's draw
        fd = os.open(folder / "payload.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)
        self.handle: IO[bytes] = os.fdopen(fd, "wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)


class Spool:
    """Thread-safe states of the relay's payloads; ``wakeup`` tells the forwarder to look."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.lock = threading.RLock()
        self.wakeup = threading.Event()
        self.forwarding: set[str] = set()
        #: Forwarding attempts per item (in memory): count, last error, when.
        self.attempts: dict[str, dict[str, Any]] = {}
        for name in ("incoming", "queue", "delivered", "failed"):
            ensure_private_dir(self.root / name)

    def folder(self, state: str) -> Path:
        return self.root / _FOLDERS[state]

    def sweep(self) -> int:
        """Remove partial receptions left by a crash; how many were removed."""
        removed = 0
        for item in (self.root / "incoming").iterdir():
            shutil.rmtree(item, ignore_errors=True) if item.is_dir() else item.unlink()
            removed += 1
        for state in _FOLDERS:
            for tmp in self.folder(state).glob("*/.*.tmp"):
                tmp.unlink(missing_ok=True)
        return removed

    # -- reception ----------------------------------------------------------------------------

    def begin(self, meta: dict[str, Any]) -> Incoming:
        name = f"{key_hash(meta['key'])}.{secrets.token_hex(4)}"
        folder = self.root / "incoming" / name
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # whatever the umask
        return Incoming(folder, meta)

    def abort(self, item: Incoming) -> None:
        with contextlib.suppress(OSError):
            item.handle.close()
        shutil.rmtree(item.folder, ignore_errors=True)

    def commit(self, item: Incoming) -> tuple[str, bool]:
        """Make ``item`` durable and queue it; (state, duplicate). Call only when verified."""
        item.handle.flush()
        os.fsync(item.handle.fileno())
        item.handle.close()
        meta = {**item.meta, "queued_at": _now()}
        atomic_write_bytes(item.folder / "meta.json", json.dumps(meta).encode("utf-8"))
        fsync_dir(item.folder)
        digest = key_hash(meta["key"])
        with self.lock:
            current = self.state(meta["key"])["state"]
            if current in ("queued", "forwarding", "delivered"):
                shutil.rmtree(item.folder, ignore_errors=True)
                return current, True
            if current == "failed":
                shutil.rmtree(self.folder("failed") / digest, ignore_errors=True)
            os.rename(item.folder, self.folder("queued") / digest)
            fsync_dir(self.folder("queued"))
            fsync_dir(self.root / "incoming")
        self.wakeup.set()
        return "queued", False

    # -- states -------------------------------------------------------------------------------

    def state(self, key: str) -> dict[str, Any]:
        """Where the payload of ``key`` is: queued, forwarding, delivered, failed or unknown,
        with its times, forwarding attempts and the last error, and the receipt or the error."""
        digest = key_hash(key)
        with self.lock:
            tried = dict(self.attempts.get(digest, {}))
            if digest in self.forwarding:
                return {"key": key, "state": "forwarding", **tried}
            for state in ("queued", "delivered", "failed"):
                folder = self.folder(state) / digest
                if folder.is_dir():
                    answer: dict[str, Any] = {"key": key, "state": state, **tried}
                    for name, field in (("meta.json", "meta"), ("receipt.json", "receipt"),
                                        ("error.json", "error")):
                        with contextlib.suppress(OSError, ValueError):
                            answer[field] = json.loads((folder / name).read_text("utf-8"))
                    meta = answer.pop("meta", None) or {}
                    for name in ("queued_at", "delivered_at", "failed_at"):
                        if name in meta:
                            answer[name] = meta[name]
                    return answer
        return {"key": key, "state": "unknown"}

    def note_attempt(self, digest: str, error_fr: str) -> None:
        """Remember a forwarding attempt (shown by STATUS; not kept across restarts)."""
        with self.lock:
            entry = self.attempts.setdefault(digest, {"attempts": 0})
            entry["attempts"] += 1
            entry["last_error"] = error_fr
            entry["last_attempt_at"] = _now()

    def summary(self) -> dict[str, Any]:
        """Counts per state and the oldest waiting payload's time (the relay's status)."""
        with self.lock:
            counts = self.counts()
            queued = self.queued()
            oldest = queued[0][1].get("queued_at") if queued else None
            return {"queued": counts["queued"], "forwarding": len(self.forwarding),
                    "delivered": counts["delivered"], "failed": counts["failed"],
                    "oldest_queued_at": oldest}

    def queued(self) -> list[tuple[Path, dict[str, Any]]]:
        """Queued items, oldest first, with their metadata."""
        items = []
        for folder in self.folder("queued").iterdir():
            try:
                meta = json.loads((folder / "meta.json").read_text("utf-8"))
            except (OSError, ValueError):
                continue
            items.append((folder, meta))
        return sorted(items, key=lambda item: item[1].get("queued_at", ""))

    def _move(self, folder: Path, state: str, note: str, data: dict[str, Any]) -> None:
        atomic_write_bytes(folder / note, json.dumps(data).encode("utf-8"))
        with self.lock:
            target = self.folder(state) / folder.name
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            os.rename(folder, target)
            fsync_dir(self.folder(state))
            fsync_dir(self.folder("queued"))

    def mark_delivered(self, folder: Path, receipt: dict[str, Any]) -> None:
        self._stamp(folder, "delivered_at")
        self._move(folder, "delivered", "receipt.json", receipt)

    def mark_failed(self, folder: Path, error: dict[str, Any]) -> None:
        self._stamp(folder, "failed_at")
        self._move(folder, "failed", "error.json", error)

    def _stamp(self, folder: Path, name: str) -> None:
        """Add the time of a state change to the item's ``meta.json``."""
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads((folder / "meta.json").read_text("utf-8"))
            meta[name] = _now()
            atomic_write_bytes(folder / "meta.json", json.dumps(meta).encode("utf-8"))

    def counts(self) -> dict[str, int]:
        """How many items each state folder holds."""
        with self.lock:
            return {state: sum(1 for _ in self.folder(state).iterdir()) for state in _FOLDERS}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
