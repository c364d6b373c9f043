"""lotas-draw/1: the spec's golden vectors, properties, and a uniformity check."""

from __future__ import annotations

import hashlib
from collections import Counter
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lotas_core.draws.algorithm import (
    ALGORITHM,
    draw,
    parse_seed,
    population_digest,
    uniform,
    word_stream,
)
from lotas_core.errors import UsageError

PAT12 = [f"PAT{i:02d}" for i in range(1, 13)]


def test_golden_vector_12_keys_zero_seed():
    result = draw(PAT12, bytes(32), 5, 3)
    assert result.digest_hex == "bd458a80ea6da099d5a0bf47eda71e80551463c3192dfbedb0dfb5e37933ee43"
    assert result.main == ("PAT09", "PAT07", "PAT05", "PAT12", "PAT10")
    assert result.reserve == ("PAT08", "PAT04", "PAT11")
    assert result.algorithm == ALGORITHM == "lotas-draw/1"


def test_golden_vector_3_keys_capped_sizes():
    from lotas_core.plugin_host.defaults import cap_sizes
    from lotas_core.selection.campaign import SampleSizes

    sizes = cap_sizes(SampleSizes(80, 30), 3)
    assert (sizes.main, sizes.reserve) == (3, 0)
    result = draw(PAT12[:3], bytes(range(32)), sizes.main, sizes.reserve)
    assert result.digest_hex == "b8431e849680da6b14ac7faf6a058610c1360aa0fc2883d86ea0afe72b710edd"
    assert result.main == ("PAT03", "PAT01", "PAT02")
    assert result.reserve == ()


def test_golden_vector_no_key():
    assert population_digest([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert draw([], bytes(32), 0, 0).ranked == ()


def test_keys_are_deduplicated_and_sorted_bytewise():
    shuffled = list(reversed(PAT12)) + ["PAT05", "PAT01"]
    assert population_digest(shuffled) == population_digest(PAT12)
    assert draw(shuffled, bytes(32), 5, 3) == draw(PAT12, bytes(32), 5, 3)
    # bytewise: upper case before lower case, latin-1 bytes above ASCII
    expected = hashlib.sha256(b"B\na\n\xe9\n").digest()
    assert population_digest(["é", "a", "B"]) == expected


def test_word_stream_blocks_and_word_order():
    seed, digest = bytes(range(32)), population_digest(PAT12)
    words = word_stream(seed, digest)
    block0 = hashlib.sha256(seed + digest + (0).to_bytes(8, "big")).digest()
    block1 = hashlib.sha256(seed + digest + (1).to_bytes(8, "big")).digest()
    expected = [int.from_bytes(b[i:i + 8], "big") for b in (block0, block1) for i in (0, 8, 16, 24)]
    assert [next(words) for _ in range(8)] == expected


def test_uniform_consumes_a_word_even_for_k_1():
    words = iter([5, 7, 9])
    assert uniform(words, 1) == 0
    assert next(words) == 7


def test_uniform_rejects_words_above_the_limit():
    k = 3
    limit = 2**64 - (2**64 % k)
    words = iter([limit, limit + 1, 10])
    assert uniform(words, k) == 10 % 3
    with pytest.raises(ValueError):
        uniform(iter([1]), 0)


def test_parse_seed():
    assert parse_seed("AB" * 32) == bytes([0xAB]) * 32
    for bad in ("", "00" * 31, "zz" * 32, "00" * 33, "0x" + "00" * 31):
        with pytest.raises(UsageError, match="64 chiffres hexadécimaux"):
            parse_seed(bad)


def test_impossible_sizes_are_refused():
    with pytest.raises(ValueError):
        draw(PAT12, bytes(32), 10, 3)
    with pytest.raises(ValueError):
        draw(PAT12, bytes(31), 1, 0)


key_lists = st.lists(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=255), min_size=1, max_size=8),
    min_size=0, max_size=40,
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(keys=key_lists, seed=st.binary(min_size=32, max_size=32), data=st.data())
def test_properties(keys, seed, data):
    distinct = len(set(keys))
    main = data.draw(st.integers(0, distinct))
    reserve = data.draw(st.integers(0, distinct - main))
    result = draw(keys, seed, main, reserve)
    assert len(result.main) == main and len(result.reserve) == reserve
    assert len(set(result.ranked)) == len(result.ranked)  # no duplicate
    assert not set(result.main) & set(result.reserve)  # disjoint
    assert set(result.ranked) <= set(keys)
    assert draw(list(reversed(keys)), seed, main, reserve) == result  # deterministic
    assert result.population_size == distinct


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(keys=key_lists, extra=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=255),
                                     min_size=1, max_size=8), data=st.data())
def test_any_population_change_changes_the_digest(keys, extra, data):
    base = set(keys)
    if extra not in base:
        assert population_digest(base | {extra}) != population_digest(base)
    if base:
        removed = data.draw(st.sampled_from(sorted(base)))
        assert population_digest(base - {removed}) != population_digest(base)
        changed = removed + "0"
        if changed not in base:
            assert population_digest((base - {removed}) | {changed}) != population_digest(base)


def _seeds(count: int):
    return (hashlib.sha256(f"chi-square seed {i}".encode()).digest() for i in range(count))


def _chi_square(counts: Counter, categories: list, runs: int) -> float:
    expected = runs / len(categories)
    return sum((counts[c] - expected) ** 2 / expected for c in categories)


def test_every_patient_is_equally_likely_to_be_first():
    """5 keys, 5000 fixed seeds: chi-square with 4 degrees of freedom.

    50 is exceeded by chance with probability < 4e-10; the seeds are fixed so it never flakes.
    """
    keys = ["A", "B", "C", "D", "E"]
    runs = 5000
    counts = Counter(draw(keys, seed, 1, 0).main[0] for seed in _seeds(runs))
    assert sum(counts.values()) == runs
    assert _chi_square(counts, keys, runs) < 50


def test_every_order_is_equally_likely():
    """4 keys fully ranked, 6000 fixed seeds: 24 orders, chi-square with 23 degrees of freedom.

    90 is exceeded by chance with probability < 1e-9; it would catch a biased shuffle.
    """
    keys = ["K1", "K2", "K3", "K4"]
    runs = 6000
    counts = Counter(draw(keys, seed, 2, 2).ranked for seed in _seeds(runs))
    assert _chi_square(counts, list(permutations(keys)), runs) < 90


def test_the_documented_standalone_version_matches():
    """docs/draw-and-history.md gives a standard-library version for third parties: run it."""
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "draw-and-history.md"
    code = re.search(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(doc), "exec"), namespace)  # noqa: S102 - our own documentation
    digest, ranked = namespace["lotas_draw_1"](PAT12, "00" * 32, 5, 3)
    assert digest == population_digest(PAT12).hex()
    assert ranked == ["PAT09", "PAT07", "PAT05", "PAT12", "PAT10", "PAT08", "PAT04", "PAT11"]
    for seed in _seeds(20):
        keys = [f"K{i}" for i in range(37)]
        assert tuple(namespace["lotas_draw_1"](keys, seed.hex(), 20, 10)[1]) == draw(
            keys, seed, 20, 10).ranked
