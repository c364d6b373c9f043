"""Crash-safe file writing: a crash mid-write leaves the old file whole, never half a new one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: Files holding patient identifiers are readable by their owner only.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; every folder we create is owner-only
    (0700), whatever the umask. An existing folder is left as its owner set it."""
    path = Path(path)
    if path.is_dir():
        return path
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # another process made it first: it made it private too
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR_MODE)  # raises the OS's reason (a file is in the way)
    return path


@contextlib.contextmanager
def atomic_writer(target: Path, *, private: bool = True) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces ``target`` only once fully written and fsynced.

    A ``target`` that is a device or a pipe (``/dev/stdout``, ``/dev/null``, a FIFO) is written
    through instead: renaming over it would replace the device with a plain file.
    """
    target = Path(target)
    if _is_special(target):
        with open(target, "wb") as handle:
            yield handle
        return
    ensure_private_dir(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, PRIVATE_FILE_MODE if private else 0o644)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _is_special(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def atomic_write_bytes(target: Path, data: bytes, *, private: bool = True) -> Path:
    """Write ``data`` to ``target`` atomically (temporary file, fsync, rename)."""
    with atomic_writer(target, private=private) as handle:
        handle.write(data)
    return Path(target)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (archives, payloads: never loaded whole)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an inter-process lock on ``path`` (created owner-only) for the ``with`` block.

    Blocks until the lock is free; the operating system releases it if the holder dies.
    """
    path = Path(path)
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        if os.name == "nt":  # pragma: no cover - exercised on Windows only
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
