"""Writing command output: to standard output or to a file created atomically."""

from __future__ import annotations

import sys
from pathlib import Path

from lotas_core.errors import UsageError
from lotas_core.fsutil import atomic_write_bytes
from lotas_core.reasons import os_reason_fr


def emit(text: str, output: Path | None, *, private: bool = True) -> None:
    """Print ``text``, or write it to ``output`` (owner-only by default: it may hold IPPs)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from lotas_core.draws.exports import check_output_path

    target = check_output_path(output)
    try:
        atomic_write_bytes(target, text.encode("utf-8"), private=private)
    except OSError as exc:
        raise UsageError(
            f"Impossible d'écrire {target} ({os_reason_fr(exc)}) : choisissez un autre fichier.",
            f"cannot write {target}: {exc}",
        ) from None
