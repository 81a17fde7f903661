"""Kernels against naive pure-Python references (counts, windows, sets, shuffles)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lagnest import kernels
from lagnest.kernels import counts as kernel_counts

# --------------------------------------------------------------------------- naive references


def naive_lag_counts(given, target, block_offsets, block_unit, k, m, n_units, lag):
    out = np.zeros((n_units, k, m), dtype=np.int64)
    for b in range(len(block_offsets) - 1):
        start, end = block_offsets[b], block_offsets[b + 1]
        for t in range(start, end):
            s = t + lag
            if start <= s < end and given[t] >= 0 and target[s] >= 0:
                out[block_unit[b], given[t], target[s]] += 1
    return out


def naive_window_counts(given, target, block_offsets, block_unit, k, m, n_units, window):
    out = np.zeros((n_units, k, m), dtype=np.int64)
    for b in range(len(block_offsets) - 1):
        start, end = block_offsets[b], block_offsets[b + 1]
        for t in range(start, end):
            if given[t] < 0:
                continue
            seen = {int(target[s]) for s in range(t + 1, min(end, t + window + 1))
                    if target[s] >= 0}
            for h in seen:
                out[block_unit[b], given[t], h] += 1
    return out


@st.composite
def corpora(draw, max_segments=40, max_codes=4):
    """Random codes with uncoded segments, block boundaries and a unit per block."""
    n = draw(st.integers(0, max_segments))
    k = draw(st.integers(1, max_codes))
    m = draw(st.integers(1, max_codes))
    given = np.array(draw(st.lists(st.integers(-1, k - 1), min_size=n, max_size=n)),
                     dtype=np.int64)
    target = np.array(draw(st.lists(st.integers(-1, m - 1), min_size=n, max_size=n)),
                      dtype=np.int64)
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=6))) | {0, n})
    offsets = np.array(cuts, dtype=np.int64)
    n_units = draw(st.integers(1, 3))
    unit = np.array(draw(st.lists(st.integers(0, n_units - 1), min_size=len(cuts) - 1,
                                  max_size=len(cuts) - 1)), dtype=np.int64)
    return given, target, offsets, unit, k, m, n_units


@settings(max_examples=150, deadline=None)
@given(corpora(), st.integers(-3, 3), st.sampled_from([np.int8, np.int32, np.int64]))
def test_lag_counts_match_naive(corpus, lag, dtype):
    given, target, offsets, unit, k, m, n_units = corpus
    got = kernels.lag_counts(given.astype(dtype), target.astype(dtype), offsets, unit, k, m,
                             n_units, lag)
    want = naive_lag_counts(given, target, offsets, unit, k, m, n_units, lag)
    np.testing.assert_array_equal(got, want)


@settings(max_examples=100, deadline=None)
@given(corpora(), st.integers(1, 4))
def test_window_counts_match_naive(corpus, window):
    given, target, offsets, unit, k, m, n_units = corpus
    got = kernels.lag_counts(given, target, offsets, unit, k, m, n_units, window=window)
    want = naive_window_counts(given, target, offsets, unit, k, m, n_units, window)
    np.testing.assert_array_equal(got, want)


@settings(max_examples=80, deadline=None)
@given(corpora(max_codes=3), st.integers(-2, 2), st.integers(0, 3), st.integers(1, 3))
def test_set_counts_equal_one_table_per_indicator(corpus, lag, window, n_ind):
    _, target, offsets, unit, _, m, n_units = corpus
    rng = np.random.default_rng([len(target), lag + 2])
    matrix = rng.integers(-1, 2, size=(len(target), n_ind)).astype(np.int8)
    win = window or None
    lag = 1 if win else lag
    got = kernels.set_lag_counts(matrix, target, offsets, unit, m, n_units, lag, win)
    for p in range(n_ind):
        col = matrix[:, p].astype(np.int64)
        want = kernels.lag_counts(col, target, offsets, unit, 2, m, n_units, lag, win)
        np.testing.assert_array_equal(got[:, p], want)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=6), st.integers(0, 3))
def test_pooled_n_is_sum_of_block_lengths_minus_lag(lengths, lag):
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    codes = np.zeros(offsets[-1], dtype=np.int64)
    out = kernels.lag_counts(codes, codes, offsets, None, 1, 1, lag=lag)
    assert out.sum() == sum(max(t - lag, 0) for t in lengths)


@pytest.mark.parametrize("lag", [-2, 0, 1, 3])
def test_byte_kernel_on_long_int8_input_equals_general_kernel(lag):
    rng = np.random.default_rng(lag + 10)
    n = kernel_counts._BYTE_KERNEL_MIN + 1234
    codes = rng.integers(-1, 4, n).astype(np.int8)
    other = rng.integers(-1, 3, n).astype(np.int8)
    offsets = np.unique(np.concatenate([[0, n], rng.integers(0, n, 50)])).astype(np.int64)
    fast = kernels.lag_counts(codes, other, offsets, None, 4, 3, lag=lag)
    general = kernels.lag_counts(codes.astype(np.int64), other.astype(np.int64), offsets, None,
                                 4, 3, lag=lag)
    np.testing.assert_array_equal(fast, general)
    with pytest.raises(ValueError, match="outside"):
        kernels.lag_counts(codes, other, offsets, None, 3, 3, lag=lag)


def test_bad_inputs_raise_cleanly():
    codes = np.array([0, 1, 2])
    offsets = np.array([0, 3])
    with pytest.raises(TypeError):
        kernels.lag_counts(codes.astype(float), codes, offsets, None, 3, 3)
    with pytest.raises(TypeError):
        kernels.lag_counts(list(codes), codes, offsets, None, 3, 3)
    with pytest.raises(ValueError, match="outside"):
        kernels.lag_counts(codes, codes, offsets, None, 3, 2)
    with pytest.raises(ValueError, match="block_offsets"):
        kernels.lag_counts(codes, codes, np.array([0, 2]), None, 3, 3)
    with pytest.raises(ValueError, match="block_unit"):
        kernels.lag_counts(codes, codes, offsets, np.array([5]), 3, 3, n_units=2)
    # non-contiguous input is accepted (copied), not crashed on
    strided = np.array([0, 9, 1, 9, 2, 9])[::2]
    np.testing.assert_array_equal(kernels.lag_counts(strided, strided, offsets, None, 3, 3),
                                  kernels.lag_counts(codes, codes, offsets, None, 3, 3))


# --------------------------------------------------------------------------- shuffles


def _session_corpus(seed=0, n_sessions=4, length=25, k=3):
    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, k, n_sessions * length).astype(np.int64)
    sessions = np.arange(0, n_sessions * length + 1, length, dtype=np.int64)
    blocks = np.unique(np.concatenate([sessions, [7, 60]])).astype(np.int64)
    return codes, sessions, blocks


def test_permuted_tables_reproducible_and_chunk_independent():
    codes, sessions, blocks = _session_corpus()
    seeds = kernels.permutation_seeds(42, 300)
    a = kernels.permuted_tables(codes, codes, blocks, sessions, 3, 3, seeds)
    b = kernels.permuted_tables(codes, codes, blocks, sessions, 3, 3, seeds[100:])
    np.testing.assert_array_equal(a[100:], b)
    c = kernels.permuted_tables(codes, codes, blocks, sessions, 3, 3,
                                kernels.permutation_seeds(43, 300))
    assert not np.array_equal(a, c)
    observed = kernels.lag_counts(codes, codes, blocks, None, 3, 3)[0]
    assert (a.sum(axis=(1, 2)) == observed.sum()).all()  # uncoded stay put: N fixed


def test_joint_shuffle_keeps_lag0_table_and_session_frequencies():
    codes, sessions, blocks = _session_corpus(1)
    other = np.random.default_rng(2).integers(-1, 2, codes.size).astype(np.int64)
    seeds = kernels.permutation_seeds(0, 50)
    obs0 = kernels.lag_counts(codes, other, blocks, None, 3, 2, lag=0)[0]
    perm0 = kernels.permuted_tables(codes, other, blocks, sessions, 3, 2, seeds, lag=0)
    assert (perm0 == obs0).all()


def test_fisher_yates_is_uniform():
    codes = np.array([0, 1, 2, 3], dtype=np.int64)
    offsets = np.array([0, 4])
    tables = kernels.permuted_tables(codes, codes, offsets, offsets, 4, 4,
                                     kernels.permutation_seeds(7, 4800))
    # a lag-1 table of 4 distinct codes identifies the permutation
    freq = Counter(t.tobytes() for t in tables)
    assert len(freq) == 24
    assert stats.chisquare(list(freq.values())).pvalue > 1e-3


def _allowed_arrangements(seq, forbidden):
    arrangements = set(itertools.permutations(seq))
    return [a for a in arrangements
            if not any(forbidden[a[t], a[t + 1]] for t in range(len(a) - 1))]


def test_constrained_shuffle_never_fills_forbidden_cells_and_is_uniform():
    seq = np.array([0, 1, 0, 2, 1, 2, 0], dtype=np.int64)
    offsets = np.array([0, seq.size])
    forbidden = np.eye(3, dtype=bool)
    tables = kernels.constrained_permuted_tables(seq, seq, offsets, offsets, forbidden,
                                                 n_perm=6400, seed=3)
    assert tables[:, forbidden].sum() == 0
    allowed = _allowed_arrangements(tuple(seq), forbidden)
    want = Counter()
    for a in allowed:
        arr = np.array(a)
        want[kernels.lag_counts(arr, arr, offsets, None, 3, 3)[0].tobytes()] += 1
    got = Counter(t.tobytes() for t in tables)
    assert set(got) <= set(want)
    keys = sorted(want)
    expected = np.array([want[k] for k in keys], float) / len(allowed) * len(tables)
    observed = np.array([got[k] for k in keys], float)
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_constrained_shuffle_reproducible():
    seq = np.array([0, 1, 0, 2, 1, 2, 0, 1, 2, 1] * 3, dtype=np.int64)
    sessions = np.array([0, 10, 30])
    forbidden = np.eye(3, dtype=bool)
    a = kernels.constrained_permuted_tables(seq, seq, sessions, sessions, forbidden, 100, seed=5)
    b = kernels.constrained_permuted_tables(seq, seq, sessions, sessions, forbidden, 100, seed=5)
    np.testing.assert_array_equal(a, b)


_NO_JIT_SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    from lagnest import kernels
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 3, 40).astype(np.int64)
    offsets = np.array([0, 13, 40]); sessions = np.array([0, 20, 40])
    out = {
        "lag": kernels.lag_counts(codes, codes, offsets, np.array([0, 1]), 3, 3, 2, 2).tolist(),
        "win": kernels.lag_counts(codes, codes, offsets, None, 3, 3, window=3).tolist(),
        "perm": kernels.permuted_tables(codes, codes, offsets, sessions, 3, 3,
                                        kernels.permutation_seeds(1, 5)).tolist(),
        "set": kernels.set_lag_counts((codes[:, None] > 0).astype(np.int8), codes, offsets,
                                      None, 3).tolist(),
    }
    json.dump(out, sys.stdout)
    """
)


def test_kernels_without_jit_give_identical_results():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    run = subprocess.run([sys.executable, "-c", _NO_JIT_SCRIPT], env=env, capture_output=True,
                         text=True, check=True, timeout=300)
    no_jit = json.loads(run.stdout)
    jit = subprocess.run([sys.executable, "-c", _NO_JIT_SCRIPT], capture_output=True,
                         text=True, check=True, timeout=300)
    assert no_jit == json.loads(jit.stdout)
