"""HMM kernels against brute-force enumeration of state paths and finite differences."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from lagnest.kernels.hmm import hmm_log_likelihood, hmm_value_grad, hmm_viterbi


def _random_case(rng, k, lengths, n_init=1, n_trans=2):
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = int(offsets[-1])

    def log_simplex(shape):
        x = rng.normal(size=shape)
        return x - logsumexp(x, axis=-1, keepdims=True)

    log_init = log_simplex((n_init, k))
    log_trans = log_simplex((n_trans, k, k))
    log_emit = rng.normal(size=(n, k)) - 1.0  # any log-likelihoods of the observations
    init_row = rng.integers(0, n_init, size=len(lengths))
    trans_row = rng.integers(0, n_trans, size=n)
    return log_init, init_row, log_trans, trans_row, log_emit, offsets


def _brute(log_init, init_row, log_trans, trans_row, log_emit, offsets):
    """Log-likelihood, path posteriors and the best path by enumerating every path."""
    k = log_emit.shape[1]
    total = 0.0
    gamma = np.zeros_like(log_emit)
    g_trans = np.zeros_like(log_trans)
    g_init = np.zeros_like(log_init)
    best_path = np.zeros(log_emit.shape[0], dtype=int)
    for b in range(len(offsets) - 1):
        s, e = offsets[b], offsets[b + 1]
        paths = list(itertools.product(range(k), repeat=e - s))
        scores = []
        for z in paths:
            v = log_init[init_row[b], z[0]] + log_emit[s, z[0]]
            for i in range(1, e - s):
                v += log_trans[trans_row[s + i], z[i - 1], z[i]] + log_emit[s + i, z[i]]
            scores.append(v)
        scores = np.array(scores)
        lse = logsumexp(scores)
        total += lse
        w = np.exp(scores - lse)
        for z, p in zip(paths, w, strict=True):
            g_init[init_row[b], z[0]] += p
            for i in range(e - s):
                gamma[s + i, z[i]] += p
                if i:
                    g_trans[trans_row[s + i], z[i - 1], z[i]] += p
        best_path[s:e] = paths[int(np.argmax(scores))]
    return total, g_init, g_trans, gamma, best_path


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.integers(1, 3),
       lengths=st.lists(st.integers(1, 5), min_size=1, max_size=3))
def test_value_and_gradient_equal_brute_force_enumeration(seed, k, lengths):
    rng = np.random.default_rng(seed)
    case = _random_case(rng, k, lengths)
    value, g_init, g_trans, g_emit = hmm_value_grad(*case)
    total, b_init, b_trans, gamma, path = _brute(*case)
    assert value == pytest.approx(total, rel=1e-10, abs=1e-10)
    assert hmm_log_likelihood(*case) == pytest.approx(total, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(g_emit, gamma, atol=1e-10)
    np.testing.assert_allclose(g_trans, b_trans, atol=1e-10)
    np.testing.assert_allclose(g_init, b_init, atol=1e-10)
    np.testing.assert_allclose(g_emit.sum(axis=1), 1.0)
    viterbi = hmm_viterbi(*case)
    # the Viterbi path scores as high as the best enumerated path (ties may differ)
    def score(z):
        log_init, init_row, log_trans, trans_row, log_emit, offsets = case
        v = 0.0
        for b in range(len(offsets) - 1):
            s, e = offsets[b], offsets[b + 1]
            v += log_init[init_row[b], z[s]] + log_emit[s, z[s]]
            for t in range(s + 1, e):
                v += log_trans[trans_row[t], z[t - 1], z[t]] + log_emit[t, z[t]]
        return v
    assert score(viterbi) == pytest.approx(score(path), abs=1e-10)


def test_gradient_equals_finite_differences():
    rng = np.random.default_rng(3)
    case = list(_random_case(rng, 3, [7, 4], n_init=2, n_trans=3))
    _, g_init, g_trans, g_emit = hmm_value_grad(*case)
    h = 1e-6
    for slot, grad in ((0, g_init), (2, g_trans), (4, g_emit)):
        flat = case[slot].ravel()
        for idx in rng.choice(flat.size, size=min(6, flat.size), replace=False):
            bumped = [a.copy() if isinstance(a, np.ndarray) else a for a in case]
            bumped[slot].ravel()[idx] += h
            up = hmm_log_likelihood(*bumped)
            bumped[slot].ravel()[idx] -= 2 * h
            down = hmm_log_likelihood(*bumped)
            assert grad.ravel()[idx] == pytest.approx((up - down) / (2 * h), abs=1e-6)


def test_long_chains_do_not_underflow_and_impossible_data_give_minus_inf():
    rng = np.random.default_rng(1)
    case = _random_case(rng, 3, [20_000], n_trans=1)
    value = hmm_value_grad(*case)[0]
    assert np.isfinite(value) and value < -10_000  # emissions of about exp(-1) each
    emit = np.full((2, 2), -np.inf)
    emit[0, 0] = emit[1, 1] = 0.0  # state 0 then state 1, but the move is forbidden
    trans = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])
    assert hmm_log_likelihood([[0.0, -np.inf]], [0], trans, [0, 0], emit, [0, 2]) == -np.inf


@pytest.mark.parametrize(("bad", "match"), [
    ({"log_init": np.zeros((1, 3))}, "log_init must be"),
    ({"init_row": [1]}, "init_row must index"),
    ({"trans_row": [0, 5]}, "trans_row must index"),
    ({"trans_row": [0]}, "one entry per segment"),
    ({"block_offsets": [0, 3]}, "block_offsets"),
])
def test_bad_inputs_are_refused_before_the_kernel(bad, match):
    args = {"log_init": np.zeros((1, 2)), "init_row": [0], "log_trans": np.zeros((1, 2, 2)),
            "trans_row": [0, 0], "log_emit": np.zeros((2, 2)), "block_offsets": [0, 2]}
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        hmm_value_grad(**args)
