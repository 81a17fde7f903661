"""Replication and sequence-statistic kernels against naive pure-Python references."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lagnest import kernels
from lagnest.errors import LagnestDataError

# --------------------------------------------------------------------------- corpora


@st.composite
def nested(draw, max_segments=40, max_codes=4, max_sessions=3):
    """Codes with uncoded segments, blocks, and a session per block (non-decreasing)."""
    n = draw(st.integers(0, max_segments))
    k = draw(st.integers(1, max_codes))
    codes = np.array(draw(st.lists(st.integers(-1, k - 1), min_size=n, max_size=n)),
                     dtype=np.int64)
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=6))) | {0, n})
    offsets = np.array(cuts, dtype=np.int64)
    n_sessions = draw(st.integers(1, max_sessions))
    session = np.sort(np.array(draw(st.lists(st.integers(0, n_sessions - 1),
                                             min_size=len(cuts) - 1, max_size=len(cuts) - 1)),
                               dtype=np.int64))
    return codes, offsets, session, k, n_sessions


def one_hot_probs(maps, k):
    """probs[d, s, i, maps[d][s][i]] = 1: a deterministic chain per replicate and session."""
    maps = np.asarray(maps)
    probs = np.zeros((*maps.shape, k))
    for d, s, i in itertools.product(*map(range, maps.shape)):
        probs[d, s, i, maps[d, s, i]] = 1.0
    return probs


def naive_chain(first, offsets, session, step, lag):
    out = [-1] * len(first)
    for b in range(len(offsets) - 1):
        start, end = offsets[b], offsets[b + 1]
        for t in range(start, end):
            if first[t] < 0:
                continue
            if t - lag >= start and out[t - lag] >= 0:
                out[t] = step[session[b]][out[t - lag]]
            else:
                out[t] = int(first[t])
    return out


def naive_given(given_codes, target, offsets, session, step, lag):
    out = [-1] * len(given_codes)
    for b in range(len(offsets) - 1):
        start, end = offsets[b], offsets[b + 1]
        for t in range(start, end):
            u = t + lag
            if start <= u < end and given_codes[t] >= 0 and (target is None or target[u] >= 0):
                out[u] = step[session[b]][given_codes[t]]
    return out


def naive_runs(codes, offsets, unit, k, n_units):
    n_runs = np.zeros((n_units, k), dtype=np.int64)
    n_in = np.zeros((n_units, k), dtype=np.int64)
    longest = np.zeros((n_units, k), dtype=np.int64)
    for b in range(len(offsets) - 1):
        block = [int(x) for x in codes[offsets[b]:offsets[b + 1]]]
        for code, group in itertools.groupby(block):
            if code < 0:
                continue
            length = len(list(group))
            n_runs[unit[b], code] += 1
            n_in[unit[b], code] += length
            longest[unit[b], code] = max(longest[unit[b], code], length)
    return n_runs, n_in, longest


def naive_triples(codes, offsets, unit, k, n_units, lag):
    out = np.zeros((n_units, k, k, k), dtype=np.int64)
    for b in range(len(offsets) - 1):
        start, end = offsets[b], offsets[b + 1]
        for t in range(start, end):
            if t + 2 * lag < end:
                i, j, h = codes[t], codes[t + lag], codes[t + 2 * lag]
                if min(i, j, h) >= 0:
                    out[unit[b], i, j, h] += 1
    return out


# --------------------------------------------------------------------------- simulate_chains


@settings(max_examples=150, deadline=None)
@given(nested(), st.integers(1, 3), st.data())
def test_deterministic_chain_reproduces_the_known_sequence(corpus, lag, data):
    first, offsets, session, k, n_sessions = corpus
    maps = data.draw(st.lists(st.lists(st.lists(st.integers(0, k - 1), min_size=k, max_size=k),
                                       min_size=n_sessions, max_size=n_sessions),
                              min_size=2, max_size=2))
    out = kernels.simulate_chains(first.astype(np.int8), one_hot_probs(maps, k), offsets,
                                  session, seeds=0, lag=lag)
    assert out.dtype == np.int8 and out.shape == (2, first.size)
    for d in range(2):
        assert out[d].tolist() == naive_chain(first, offsets, session, maps[d], lag)


@settings(max_examples=60, deadline=None)
@given(nested(), st.integers(1, 2), st.integers(0, 2**32))
def test_chain_keeps_uncoded_positions_and_block_starts(corpus, lag, seed):
    first, offsets, session, k, n_sessions = corpus
    probs = np.random.default_rng(seed).dirichlet(np.ones(k), size=(3, n_sessions, k))
    out = kernels.simulate_chains(first, probs, offsets, session, seeds=seed, lag=lag)
    assert ((out < 0) == (first < 0)).all()
    starts = np.concatenate([np.arange(a, min(a + lag, b)) for a, b in
                             itertools.pairwise(offsets)] + [np.array([], int)])
    np.testing.assert_array_equal(out[:, starts], np.broadcast_to(first[starts],
                                                                  (3, starts.size)))


def test_no_chain_step_crosses_a_block():
    # every transition leads to code 0; a block starting with 1 keeps its 1
    first = np.array([1, 1, 1, 1, 1, 1, 1], dtype=np.int64)
    probs = np.zeros((1, 1, 2, 2))
    probs[..., 0] = 1.0
    out = kernels.simulate_chains(first, probs, np.array([0, 3, 4, 7]), np.zeros(3, int), 5)
    assert out[0].tolist() == [1, 0, 0, 1, 1, 0, 0]


def test_chain_transition_frequencies_converge_to_the_matrix():
    rng = np.random.default_rng(11)
    k, n_sessions, n_rep = 3, 2, 200
    probs = rng.dirichlet(np.ones(k) * 2, size=(n_sessions, k))
    offsets = np.array([0, 150, 300, 420, 600])
    session = np.array([0, 0, 1, 1])
    first = rng.integers(0, k, 600)
    first[[10, 200, 450]] = -1
    out = kernels.simulate_chains(first, np.broadcast_to(probs, (n_rep, *probs.shape)),
                                  offsets, session, seeds=123)
    counts = sum(kernels.lag_counts(out[d], out[d], offsets, session, k, k, n_sessions)
                 for d in range(n_rep))
    rows = counts.sum(-1, keepdims=True)
    expected = rows * probs
    x2 = ((counts - expected) ** 2 / expected).sum()
    # Anderson-Goodman: chi-square with S K (K - 1) df given the row totals
    assert stats.chi2.sf(x2, n_sessions * k * (k - 1)) > 1e-3
    np.testing.assert_allclose(counts / rows, probs, atol=0.01)


def test_chain_seeds_reproducible_and_per_replicate():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(4), size=(6, 2, 4))
    first = rng.integers(-1, 4, 300)
    offsets, session = np.array([0, 100, 300]), np.array([0, 1])
    a = kernels.simulate_chains(first, probs, offsets, session, seeds=9)
    b = kernels.simulate_chains(first, probs, offsets, session, seeds=9)
    np.testing.assert_array_equal(a, b)
    seeds = kernels.replicate_seeds(9, 6)
    tail = kernels.simulate_chains(first, probs[2:], offsets, session, seeds=seeds[2:])
    np.testing.assert_array_equal(a[2:], tail)  # replicate d depends on seeds[d] only
    assert not np.array_equal(a, kernels.simulate_chains(first, probs, offsets, session, 10))


def test_chain_output_dtype_widens_past_127_codes():
    k = 200
    probs = np.full((1, 1, k, k), 1.0 / k)
    out = kernels.simulate_chains(np.array([199, 0, 5]), probs, np.array([0, 3]),
                                  np.array([0]), seeds=1)
    assert out.dtype == np.int16 and out[0, 0] == 199 and (out >= 0).all()


# --------------------------------------------------------------------------- simulate_given


@settings(max_examples=150, deadline=None)
@given(nested(), st.integers(-2, 2), st.booleans(), st.data())
def test_deterministic_given_replication_matches_naive(corpus, lag, with_target, data):
    given_codes, offsets, session, k, n_sessions = corpus
    m = data.draw(st.integers(1, 4))
    maps = data.draw(st.lists(st.lists(st.integers(0, m - 1), min_size=k, max_size=k),
                              min_size=n_sessions, max_size=n_sessions))
    target = None
    if with_target:
        target = np.array(data.draw(st.lists(st.integers(-1, m - 1), min_size=given_codes.size,
                                             max_size=given_codes.size)), dtype=np.int64)
    probs = np.zeros((1, n_sessions, k, m))
    for s, i in itertools.product(range(n_sessions), range(k)):
        probs[0, s, i, maps[s][i]] = 1.0
    out = kernels.simulate_given(given_codes, probs, offsets, session, seeds=4, lag=lag,
                                 target=target)
    assert out[0].tolist() == naive_given(given_codes, target, offsets, session, maps, lag)


def test_given_replication_frequencies_converge():
    rng = np.random.default_rng(5)
    k, m, n_sessions, n_rep = 2, 3, 3, 100
    probs = rng.dirichlet(np.ones(m), size=(n_sessions, k))
    given_codes = rng.integers(-1, k, 900)
    offsets = np.array([0, 300, 600, 900])
    session = np.arange(3)
    out = kernels.simulate_given(given_codes, np.broadcast_to(probs, (n_rep, *probs.shape)),
                                 offsets, session, seeds=77)
    counts = sum(kernels.lag_counts(given_codes, out[d], offsets, session, k, m, n_sessions)
                 for d in range(n_rep))
    expected = counts.sum(-1, keepdims=True) * probs
    x2 = ((counts - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(x2, n_sessions * k * (m - 1)) > 1e-3


# --------------------------------------------------------------------------- statistics kernels


@settings(max_examples=150, deadline=None)
@given(nested(), st.integers(1, 3), st.sampled_from([np.int8, np.int64]))
def test_run_lengths_match_naive(corpus, n_rep, dtype):
    codes, offsets, session, k, n_sessions = corpus
    batch = np.stack([np.roll(codes, r) for r in range(n_rep)]).astype(dtype)
    n_runs, n_in, longest = kernels.run_lengths(batch, offsets, k, session, n_sessions)
    assert n_runs.shape == (n_rep, n_sessions, k)
    for r in range(n_rep):
        want = naive_runs(batch[r], offsets, session, k, n_sessions)
        for got, exp in zip((n_runs[r], n_in[r], longest[r]), want, strict=True):
            np.testing.assert_array_equal(got, exp)
    single = kernels.run_lengths(codes, offsets, k)
    np.testing.assert_array_equal(single[0], naive_runs(codes, offsets, np.zeros(
        offsets.size - 1, int), k, 1)[0])


@settings(max_examples=150, deadline=None)
@given(nested(), st.integers(1, 2))
def test_triple_counts_match_naive(corpus, lag):
    codes, offsets, session, k, n_sessions = corpus
    got = kernels.triple_counts(codes, offsets, k, session, n_sessions, lag=lag)
    np.testing.assert_array_equal(got, naive_triples(codes, offsets, session, k, n_sessions,
                                                     lag))
    batch = kernels.triple_counts(np.stack([codes, codes]), offsets, k, lag=lag)
    assert batch.shape == (2, 1, k, k, k)
    np.testing.assert_array_equal(batch[1, 0], got.sum(0))


# --------------------------------------------------------------------------- bad input


def test_bad_inputs_raise_cleanly():
    first = np.array([0, 1, 2])
    offsets, session = np.array([0, 3]), np.array([0])
    good = np.full((2, 1, 3, 3), 1 / 3)
    with pytest.raises(LagnestDataError, match="4 dimensions"):
        kernels.simulate_chains(first, good[0], offsets, session, 0)
    with pytest.raises(LagnestDataError, match="sum to 1"):
        kernels.simulate_chains(first, good * 0.9, offsets, session, 0)
    bad = good.copy()
    bad[1, 0, 2] = [np.nan, 0.5, 0.5]
    with pytest.raises(LagnestDataError, match=r"probs\[1, 0, 2, 0\]"):
        kernels.simulate_chains(first, bad, offsets, session, 0)
    with pytest.raises(LagnestDataError, match="outside the 2 codes"):
        kernels.simulate_chains(first, np.full((1, 1, 2, 2), 0.5), offsets, session, 0)
    with pytest.raises(LagnestDataError, match="square"):
        kernels.simulate_chains(first, np.full((1, 1, 3, 2), 0.5), offsets, session, 0)
    with pytest.raises(ValueError, match="block_unit"):
        kernels.simulate_chains(first, good, offsets, np.array([1]), 0)
    with pytest.raises(LagnestDataError, match="lag >= 1"):
        kernels.simulate_chains(first, good, offsets, session, 0, lag=0)
    with pytest.raises(LagnestDataError, match="one per replicate"):
        kernels.simulate_chains(first, good, offsets, session, np.array([1, 2, 3]))
    with pytest.raises(LagnestDataError, match="not None"):
        kernels.simulate_given(first, good, offsets, session, None)
    with pytest.raises(TypeError):
        kernels.simulate_given(first.astype(float), good, offsets, session, 0)
    with pytest.raises(LagnestDataError, match="differ in length"):
        kernels.simulate_given(first, good, offsets, session, 0, target=first[:2])
    with pytest.raises(ValueError, match="outside"):
        kernels.run_lengths(first, offsets, 2)
    with pytest.raises(ValueError, match="outside"):
        kernels.triple_counts(first, offsets, 2)
    with pytest.raises(ValueError, match="block_offsets"):
        kernels.triple_counts(first, np.array([0, 2]), 3)


# --------------------------------------------------------------------------- threads, no JIT


_SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    import numba
    warnings.simplefilter("ignore")
    from lagnest import kernels

    def run():
        rng = np.random.default_rng(0)
        probs = rng.dirichlet(np.ones(3), size=(16, 2, 3))
        first = rng.integers(-1, 3, 120)
        offsets, session = np.array([0, 50, 70, 120]), np.array([0, 0, 1])
        chains = kernels.simulate_chains(first, probs, offsets, session, seeds=8, lag=1)
        given = kernels.simulate_given(first, probs, offsets, session, seeds=9, lag=2,
                                       target=first)
        runs = kernels.run_lengths(chains, offsets, 3, session, 2)
        triples = kernels.triple_counts(given, offsets, 3)
        return {"chains": chains.tolist(), "given": given.tolist(),
                "runs": [r.tolist() for r in runs], "triples": triples.tolist()}

    results = []
    for n in sys.argv[1:]:
        numba.set_num_threads(int(n))
        results.append(run())
    json.dump(results, sys.stdout)
    """
)


def _run_script(env_extra, threads):
    env = {**os.environ, **env_extra}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, *threads], env=env,
                          capture_output=True, text=True, check=True, timeout=600)
    return json.loads(done.stdout)


def test_same_seeds_same_output_with_one_or_two_threads_and_without_jit():
    one, two = _run_script({"NUMBA_NUM_THREADS": "2"}, ["1", "2"])
    assert one == two
    (no_jit,) = _run_script({"NUMBA_DISABLE_JIT": "1", "NUMBA_NUM_THREADS": "1"}, ["1"])
    assert no_jit == one
