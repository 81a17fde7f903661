"""The HMM likelihood Op: value and gradient against PyTensor's scan and its autodiff."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.special import logsumexp

from lagnest.models.hmm_likelihood import hmm_log_likelihood, hmm_log_likelihood_graph


def _case(seed, k=3, lengths=(6, 1, 9)):
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = int(offsets[-1])

    def log_simplex(shape):
        x = rng.normal(size=shape)
        return x - logsumexp(x, axis=-1, keepdims=True)

    return (log_simplex((2, k)), rng.integers(0, 2, len(lengths)).astype(np.int64),
            log_simplex((3, k, k)), rng.integers(0, 3, n).astype(np.int64),
            rng.normal(size=(n, k)) - 1.0, offsets)


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_op_value_and_gradient_equal_the_scan_graph_and_its_autodiff(mode):
    log_init, init_row, log_trans, trans_row, log_emit, offsets = _case(2)
    a, t, e = pt.dmatrix("a"), pt.dtensor3("t"), pt.dmatrix("e")
    op = hmm_log_likelihood(a, init_row, t, trans_row, e, offsets)
    ref = hmm_log_likelihood_graph(a, init_row, t, trans_row, e, offsets)
    fn = pytensor.function([a, t, e], [op, *pytensor.grad(op, [a, t, e])], mode=mode)
    fr = pytensor.function([a, t, e], [ref, *pytensor.grad(ref, [a, t, e])])
    got, want = fn(log_init, log_trans, log_emit), fr(log_init, log_trans, log_emit)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10)


def test_the_numba_op_refuses_indices_outside_the_arrays():
    log_init, init_row, log_trans, trans_row, log_emit, offsets = _case(3)
    bad = trans_row.copy()
    bad[2] = 7  # there are 3 transition matrices
    a = pt.dmatrix("a")
    fn = pytensor.function([a], hmm_log_likelihood(a, init_row, log_trans, bad, log_emit,
                                                   offsets), mode="NUMBA")
    with pytest.raises(ValueError, match="trans_row out of range"):
        fn(log_init)
