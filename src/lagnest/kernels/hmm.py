r"""Hidden Markov model kernels: the forward-backward likelihood with its gradient, Viterbi.

Arrays in, arrays out. A corpus is a set of *chains*: the blocks of ``block_offsets``
(a session, or the part of a session between breaks), each starting afresh from an
initial state distribution. Inputs are log-probabilities:

* ``log_init`` ``(I, K)``: initial state distributions; block b starts from row
  ``init_row[b]``;
* ``log_trans`` ``(U, K, K)``: transition matrices (rows: state at t - 1, columns: state
  at t); segment t of a block (not its first) moves with matrix ``trans_row[t]``. Distinct
  matrices are stored once (a transition matrix depends on the segment's covariates and
  group only through a few patterns, as the sufficient statistics of the regressions do);
* ``log_emit`` ``(N, K)``: the log-probability of segment t's observed codes under each
  state (the sum over emitted streams; 0 for an uncoded stream).

:func:`hmm_value_grad` returns the log-likelihood :math:`\log p(y)` (summed over chains)
and its gradient with respect to every input, from one scaled forward and one backward
pass: the gradient with respect to ``log_emit`` is the posterior state probabilities
:math:`\gamma_t(k) = p(z_t = k \mid y)`, with respect to ``log_trans`` the expected
transition counts :math:`\sum_t \xi_t(i, j)` of each matrix, with respect to
``log_init`` the expected initial states. Cost O(N K^2), no Python per segment.
:func:`hmm_viterbi` gives the most probable state path.

References
----------
.. [1] Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications
   in speech recognition. *Proceedings of the IEEE, 77*\ (2), 257-286.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from lagnest.kernels._common import JIT_OPTIONS, as_index, check_blocks

__all__ = ["check_hmm_inputs", "hmm_block_log_likelihood", "hmm_log_likelihood", "hmm_value_grad",
           "hmm_viterbi"]


@njit(**JIT_OPTIONS)
def _forward(log_init, init_row, trans, trans_row, log_emit, block_offsets, alpha, scale,
             shift):  # pragma: no cover - numba
    """Scaled forward pass; fills ``alpha`` (normalised per segment), ``scale``, ``shift``.

    Returns the log-likelihood. ``trans`` holds the transition probabilities (exp of
    ``log_trans``); segment t's unnormalised forward value is ``alpha[t] * scale[t]`` in
    units of ``exp(shift[t])``.
    """
    k = log_emit.shape[1]
    total = 0.0
    for b in range(block_offsets.shape[0] - 1):
        start = block_offsets[b]
        end = block_offsets[b + 1]
        if end <= start:
            continue
        row = init_row[b]
        for t in range(start, end):
            m = -np.inf
            for j in range(k):
                if log_emit[t, j] > m:
                    m = log_emit[t, j]
            if not math.isfinite(m):
                return np.nan
            c = 0.0
            if t == start:
                for j in range(k):
                    v = math.exp(log_init[row, j] + log_emit[t, j] - m)
                    alpha[t, j] = v
                    c += v
            else:
                u = trans_row[t]
                for j in range(k):
                    acc = 0.0
                    for i in range(k):
                        acc += alpha[t - 1, i] * trans[u, i, j]
                    v = acc * math.exp(log_emit[t, j] - m)
                    alpha[t, j] = v
                    c += v
            if not c > 0.0:  # zero (impossible data) or NaN
                return -np.inf if c == 0.0 else np.nan
            for j in range(k):
                alpha[t, j] /= c
            scale[t] = c
            shift[t] = m
            total += math.log(c) + m
    return total


@njit(**JIT_OPTIONS)
def _exp_table(log_trans):  # pragma: no cover - numba
    """Transition probabilities from their logarithms (``-inf`` gives 0)."""
    out = np.empty_like(log_trans)
    for u in range(log_trans.shape[0]):
        for i in range(log_trans.shape[1]):
            for j in range(log_trans.shape[2]):
                out[u, i, j] = math.exp(log_trans[u, i, j])
    return out


@njit(**JIT_OPTIONS)
def _forward_pass(log_init, init_row, trans, trans_row, log_emit,
                  block_offsets):  # pragma: no cover - numba
    """The forward pass with its own work arrays: (log-likelihood, alpha, scale, shift)."""
    n, k = log_emit.shape
    alpha = np.empty((n, k))
    scale = np.empty(n)
    shift = np.empty(n)
    value = _forward(log_init, init_row, trans, trans_row, log_emit, block_offsets, alpha,
                     scale, shift)
    return value, alpha, scale, shift


@njit(**JIT_OPTIONS)
def _log_likelihood(log_init, init_row, log_trans, trans_row, log_emit,
                    block_offsets):  # pragma: no cover - numba
    return _forward_pass(log_init, init_row, _exp_table(log_trans), trans_row, log_emit,
                         block_offsets)[0]


@njit(**JIT_OPTIONS)
def _block_log_likelihood(log_init, init_row, log_trans, trans_row, log_emit,
                          block_offsets):  # pragma: no cover - numba
    total, _, scale, shift = _forward_pass(log_init, init_row, _exp_table(log_trans),
                                           trans_row, log_emit, block_offsets)
    n_blocks = block_offsets.shape[0] - 1
    out = np.zeros(n_blocks)
    if not math.isfinite(total):
        out[:] = total
        return out
    for b in range(n_blocks):
        for t in range(block_offsets[b], block_offsets[b + 1]):
            out[b] += math.log(scale[t]) + shift[t]
    return out


@njit(**JIT_OPTIONS)
def _check_ranges(log_init, init_row, log_trans, trans_row, log_emit,
                  block_offsets):  # pragma: no cover - numba
    """The kernels' loops run without bounds checks: refuse indices outside the arrays.

    The same checks as :func:`check_hmm_inputs`, inside numba, for callers that reach the
    kernel without the wrapper (the PyTensor Op of :mod:`lagnest.models.hmm`).
    """
    n, k = log_emit.shape
    if log_init.shape[1] != k or log_trans.shape[1] != k or log_trans.shape[2] != k:
        raise ValueError("HMM kernel: the state dimension of log_init/log_trans/log_emit differ")
    if block_offsets.shape[0] != init_row.shape[0] + 1 or trans_row.shape[0] != n:
        raise ValueError("HMM kernel: init_row / trans_row do not match the blocks / segments")
    if block_offsets[0] != 0 or block_offsets[block_offsets.shape[0] - 1] != n:
        raise ValueError("HMM kernel: block_offsets must run from 0 to the number of segments")
    for b in range(init_row.shape[0]):
        start = block_offsets[b]
        end = block_offsets[b + 1]
        if end < start:
            raise ValueError("HMM kernel: block_offsets must not decrease")
        if end > start and (init_row[b] < 0 or init_row[b] >= log_init.shape[0]):
            raise ValueError("HMM kernel: init_row out of range")
        for t in range(start + 1, end):
            if trans_row[t] < 0 or trans_row[t] >= log_trans.shape[0]:
                raise ValueError("HMM kernel: trans_row out of range")


@njit(**JIT_OPTIONS)
def _value_grad(log_init, init_row, log_trans, trans_row, log_emit,
                block_offsets):  # pragma: no cover - numba
    _check_ranges(log_init, init_row, log_trans, trans_row, log_emit, block_offsets)
    n, k = log_emit.shape
    trans = _exp_table(log_trans)
    g_init = np.zeros(log_init.shape)
    g_trans = np.zeros(log_trans.shape)
    g_emit = np.zeros((n, k))
    value, alpha, scale, shift = _forward_pass(log_init, init_row, trans, trans_row, log_emit,
                                               block_offsets)
    if not math.isfinite(value):
        g_init[:] = np.nan
        g_trans[:] = np.nan
        g_emit[:] = np.nan
        return value, g_init, g_trans, g_emit
    beta = np.empty(k)
    previous = np.empty(k)
    weight = np.empty(k)
    for b in range(block_offsets.shape[0] - 1):
        start = block_offsets[b]
        end = block_offsets[b + 1]
        if end <= start:
            continue
        for j in range(k):
            beta[j] = 1.0
        for t in range(end - 1, start, -1):
            for j in range(k):
                g_emit[t, j] = alpha[t, j] * beta[j]
                # emission (scaled as in the forward pass) times beta, over this scale
                weight[j] = math.exp(log_emit[t, j] - shift[t]) * beta[j] / scale[t]
            u = trans_row[t]
            for i in range(k):
                acc = 0.0
                a_prev = alpha[t - 1, i]
                for j in range(k):
                    w = trans[u, i, j] * weight[j]
                    acc += w
                    g_trans[u, i, j] += a_prev * w
                previous[i] = acc
            for i in range(k):
                beta[i] = previous[i]
        row = init_row[b]
        for j in range(k):
            gamma = alpha[start, j] * beta[j]
            g_emit[start, j] = gamma
            g_init[row, j] += gamma
    return value, g_init, g_trans, g_emit


@njit(**JIT_OPTIONS)
def _viterbi(log_init, init_row, log_trans, trans_row, log_emit,
             block_offsets):  # pragma: no cover - numba
    n, k = log_emit.shape
    path = np.full(n, -1, dtype=np.int64)
    back = np.zeros((n, k), dtype=np.int64)
    delta = np.empty(k)
    nxt = np.empty(k)
    for b in range(block_offsets.shape[0] - 1):
        start = block_offsets[b]
        end = block_offsets[b + 1]
        if end <= start:
            continue
        row = init_row[b]
        for j in range(k):
            delta[j] = log_init[row, j] + log_emit[start, j]
        for t in range(start + 1, end):
            u = trans_row[t]
            for j in range(k):
                best = -np.inf
                arg = 0
                for i in range(k):
                    v = delta[i] + log_trans[u, i, j]
                    if v > best:
                        best = v
                        arg = i
                nxt[j] = best + log_emit[t, j]
                back[t, j] = arg
            for j in range(k):
                delta[j] = nxt[j]
        best = -np.inf
        arg = 0
        for j in range(k):
            if delta[j] > best:
                best = delta[j]
                arg = j
        path[end - 1] = arg
        for t in range(end - 1, start, -1):
            path[t - 1] = back[t, path[t]]
    return path


# --------------------------------------------------------------------------- wrappers


def check_hmm_inputs(log_init: np.ndarray, init_row: np.ndarray, log_trans: np.ndarray,
                     trans_row: np.ndarray, log_emit: np.ndarray,
                     block_offsets: np.ndarray) -> tuple[np.ndarray, ...]:
    """Validate and normalise the inputs of the HMM kernels (see the module docstring).

    Returns contiguous float64 / int64 arrays; raises ``ValueError`` naming the problem,
    so that no kernel reads outside an array.
    """
    log_emit = np.ascontiguousarray(log_emit, dtype=np.float64)
    if log_emit.ndim != 2:
        raise ValueError(f"log_emit must be (N, K), got shape {log_emit.shape}")
    n, k = log_emit.shape
    log_init = np.ascontiguousarray(log_init, dtype=np.float64)
    log_trans = np.ascontiguousarray(log_trans, dtype=np.float64)
    if log_init.ndim != 2 or log_init.shape[1] != k:
        raise ValueError(f"log_init must be (I, {k}), got shape {log_init.shape}")
    if log_trans.ndim != 3 or log_trans.shape[1:] != (k, k):
        raise ValueError(f"log_trans must be (U, {k}, {k}), got shape {log_trans.shape}")
    offsets = check_blocks(block_offsets, n)
    init_row = as_index("init_row", init_row)
    trans_row = as_index("trans_row", trans_row)
    if init_row.shape != (offsets.size - 1,):
        raise ValueError(f"init_row must have one entry per block ({offsets.size - 1}), "
                         f"got {init_row.size}")
    if init_row.size and (init_row.min() < 0 or init_row.max() >= log_init.shape[0]):
        raise ValueError(f"init_row must index the {log_init.shape[0]} rows of log_init")
    if trans_row.shape != (n,):
        raise ValueError(f"trans_row must have one entry per segment ({n}), got "
                         f"{trans_row.size}")
    inner = np.ones(n, dtype=bool)
    inner[offsets[:-1][offsets[:-1] < n]] = False  # a block's first segment has no move
    used = trans_row[inner]
    if used.size and (used.min() < 0 or used.max() >= log_trans.shape[0]):
        raise ValueError(f"trans_row must index the {log_trans.shape[0]} matrices of "
                         "log_trans for every segment but a block's first")
    return log_init, init_row, log_trans, trans_row, log_emit, offsets


def hmm_log_likelihood(log_init: np.ndarray, init_row: np.ndarray, log_trans: np.ndarray,
                       trans_row: np.ndarray, log_emit: np.ndarray,
                       block_offsets: np.ndarray) -> float:
    r"""Log-likelihood of the chains by the scaled forward algorithm (no gradient).

    Parameters
    ----------
    log_init, init_row, log_trans, trans_row, log_emit, block_offsets
        See the module docstring.

    Returns
    -------
    float
        :math:`\sum_b \log p(y_b)`; ``-inf`` when the data are impossible, NaN when an
        input is NaN or a segment emits with probability ``exp(+inf)``.

    Examples
    --------
    Two segments, each emitting y with p(y | state) = (0.8, 0.2):
    p(y) = 0.5 * 0.8 * (0.9 * 0.8 + 0.1 * 0.2) + 0.5 * 0.2 * (0.1 * 0.8 + 0.9 * 0.2)
    = 0.322, and log(0.322) = -1.133204.

    >>> import numpy as np
    >>> log = np.log
    >>> hmm_log_likelihood(log([[0.5, 0.5]]), [0], log([[[0.9, 0.1], [0.1, 0.9]]]),
    ...                    [0, 0], log([[0.8, 0.2], [0.8, 0.2]]), [0, 2]).round(6)
    np.float64(-1.133204)
    """
    args = check_hmm_inputs(log_init, init_row, log_trans, trans_row, log_emit,
                            block_offsets)
    return np.float64(_log_likelihood(*args))


def hmm_block_log_likelihood(log_init: np.ndarray, init_row: np.ndarray,
                             log_trans: np.ndarray, trans_row: np.ndarray,
                             log_emit: np.ndarray, block_offsets: np.ndarray) -> np.ndarray:
    r"""Log-likelihood of each chain, :math:`\log p(y_b)` (they sum to :func:`hmm_log_likelihood`).

    Parameters
    ----------
    log_init, init_row, log_trans, trans_row, log_emit, block_offsets
        See the module docstring.

    Returns
    -------
    ndarray, shape (B,)
        One value per block (0 for an empty block). When the data are impossible or an
        input is NaN, every block holds the total (``-inf`` or NaN).

    Examples
    --------
    Two chains of one segment each, emitting with p = 0.5 * 0.8 + 0.5 * 0.2 = 0.5:

    >>> import numpy as np
    >>> log = np.log
    >>> hmm_block_log_likelihood(log([[0.5, 0.5]]), [0, 0], log([[[0.9, 0.1], [0.1, 0.9]]]),
    ...                          [0, 0], log([[0.8, 0.2], [0.8, 0.2]]), [0, 1, 2]).round(6)
    array([-0.693147, -0.693147])
    """
    args = check_hmm_inputs(log_init, init_row, log_trans, trans_row, log_emit,
                            block_offsets)
    return _block_log_likelihood(*args)


def hmm_value_grad(log_init: np.ndarray, init_row: np.ndarray, log_trans: np.ndarray,
                   trans_row: np.ndarray, log_emit: np.ndarray,
                   block_offsets: np.ndarray) -> tuple[float, np.ndarray, np.ndarray,
                                                       np.ndarray]:
    r"""Log-likelihood and its gradient with respect to every log-probability input.

    Parameters
    ----------
    log_init, init_row, log_trans, trans_row, log_emit, block_offsets
        See the module docstring.

    Returns
    -------
    value : float
        As :func:`hmm_log_likelihood`.
    grad_init : ndarray, shape (I, K)
        Expected initial states: :math:`\sum_{b: row(b) = r} p(z_{start(b)} = k \mid y)`.
    grad_trans : ndarray, shape (U, K, K)
        Expected transitions: :math:`\sum_{t: row(t) = u} p(z_{t-1} = i, z_t = j \mid y)`.
    grad_emit : ndarray, shape (N, K)
        Posterior state probabilities :math:`p(z_t = k \mid y)`.

    Notes
    -----
    The inputs are treated as free log-probabilities (the gradient of a normalised
    parameterisation follows by the chain rule upstream). With the scaled forward
    variables :math:`\hat\alpha_t` and scales :math:`c_t` (Rabiner 1989) and the
    backward variables :math:`\hat\beta_t` scaled by the same :math:`c_t`,
    :math:`\gamma_t = \hat\alpha_t \odot \hat\beta_t` and
    :math:`\xi_t(i, j) = \hat\alpha_{t-1}(i) A_t(i, j) e_t(j) \hat\beta_t(j) / c_t`.
    """
    args = check_hmm_inputs(log_init, init_row, log_trans, trans_row, log_emit,
                            block_offsets)
    value, g_init, g_trans, g_emit = _value_grad(*args)
    return np.float64(value), g_init, g_trans, g_emit


def hmm_viterbi(log_init: np.ndarray, init_row: np.ndarray, log_trans: np.ndarray,
                trans_row: np.ndarray, log_emit: np.ndarray,
                block_offsets: np.ndarray) -> np.ndarray:
    """Most probable state path of every chain (Viterbi), ``(N,)`` int64.

    Parameters
    ----------
    log_init, init_row, log_trans, trans_row, log_emit, block_offsets
        See the module docstring.

    Returns
    -------
    ndarray of int64, shape (N,)
        The state of each segment on the most probable path of its block (ties: the
        lowest state).
    """
    args = check_hmm_inputs(log_init, init_row, log_trans, trans_row, log_emit,
                            block_offsets)
    return _viterbi(*args)
