"""lotas-draw/1: the random draw anyone can re-run (spec section 5).

The draw is a pure function of the eligible keys, a 32-byte seed and the two sample sizes. Nothing
else picks patients: no ``random``, no numpy generator, no plugin hook (audit requirement). A third
party re-runs it with the recorded seed and the same keys; ``docs/draw-and-history.md`` gives the
algorithm in words.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lotas_core.errors import UsageError

#: The name recorded with every draw; a new algorithm gets a new name, never a silent change.
ALGORITHM = "lotas-draw/1"
#: Length of the seed in bytes (shown as 64 hexadecimal digits).
SEED_BYTES = 32
_WORD_SPACE = 2**64
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class DrawResult:
    """The outcome of one draw: ranked keys split into main sample and reserve."""

    main: tuple[str, ...]
    reserve: tuple[str, ...]
    population_digest: bytes
    seed: bytes
    population_size: int
    algorithm: str = ALGORITHM

    @property
    def ranked(self) -> tuple[str, ...]:
        """Rank 1 first: the main sample then the reserve."""
        return self.main + self.reserve

    @property
    def digest_hex(self) -> str:
        return self.population_digest.hex()

    @property
    def seed_hex(self) -> str:
        return self.seed.hex()


def population_keys(keys: Iterable[str]) -> list[bytes]:
    """Step 1: the keys encoded as latin-1, deduplicated and sorted bytewise."""
    encoded: set[bytes] = set()
    for key in keys:
        try:
            encoded.add(key.encode("latin-1"))
        except UnicodeEncodeError:
            raise UsageError(
                "Identifiant patient non représentable en latin-1 : il ne peut pas venir d'une "
                "archive PIVOINE.",
                "a patient key is not latin-1 encodable",
            ) from None
    return sorted(encoded)


def population_digest(keys: Iterable[str]) -> bytes:
    """Step 2: SHA-256 of ``key + b"\\n"`` for every sorted, deduplicated key (32 bytes)."""
    return _digest(population_keys(keys))


def _digest(sorted_keys: list[bytes]) -> bytes:
    hasher = hashlib.sha256()
    for key in sorted_keys:
        hasher.update(key + b"\n")
    return hasher.digest()


def new_seed() -> bytes:
    """Step 3: 32 bytes from the operating system's secure generator."""
    return secrets.token_bytes(SEED_BYTES)


def parse_seed(text: str) -> bytes:
    """A seed given by the user: exactly 64 hexadecimal digits (32 bytes)."""
    candidate = text.strip()
    if not _HEX64.match(candidate):
        raise UsageError(
            "Graine invalide : 64 chiffres hexadécimaux attendus (32 octets), par exemple "
            f"{'00' * SEED_BYTES}.",
            "seed must be 64 hexadecimal digits",
        )
    return bytes.fromhex(candidate)


def word_stream(seed: bytes, digest: bytes) -> Iterator[int]:
    """Step 4: ``SHA-256(seed || digest || i as 8 bytes big-endian)``, four 64-bit words a block."""
    index = 0
    while True:
        block = hashlib.sha256(seed + digest + index.to_bytes(8, "big")).digest()
        for offset in range(0, 32, 8):
            yield int.from_bytes(block[offset : offset + 8], "big")
        index += 1


def uniform(words: Iterator[int], k: int) -> int:
    """Step 5: an unbiased integer in ``[0, k)`` by rejection; always consumes a word."""
    if k < 1:
        raise ValueError("uniform(k) needs k >= 1")
    limit = _WORD_SPACE - (_WORD_SPACE % k)
    while True:
        word = next(words)
        if word < limit:
            return word % k


def draw(keys: Iterable[str], seed: bytes, main: int, reserve: int) -> DrawResult:
    """Draw ``main`` then ``reserve`` distinct keys (step 6: partial Fisher-Yates).

    ``main + reserve`` may not exceed the number of distinct keys: the caller caps the sizes
    (``plugin_host.defaults.cap_sizes``), so an impossible request is a programming error.
    """
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes, got {len(seed)}")
    if main < 0 or reserve < 0:
        raise ValueError("sample sizes cannot be negative")
    population = population_keys(keys)
    digest = _digest(population)
    size = len(population)
    wanted = main + reserve
    if wanted > size:
        raise ValueError(f"cannot draw {wanted} keys from {size}")
    order = list(range(size))
    words = word_stream(seed, digest)
    for j in range(wanted):
        r = j + uniform(words, size - j)
        order[j], order[r] = order[r], order[j]
    ranked = [population[order[j]].decode("latin-1") for j in range(wanted)]
    return DrawResult(
        main=tuple(ranked[:main]),
        reserve=tuple(ranked[main:]),
        population_digest=digest,
        seed=bytes(seed),
        population_size=size,
    )
