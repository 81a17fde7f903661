"""Replication of code sequences for predictive checks.

Replication of code sequences for predictive checks: Markov chains, one-step-ahead draws
and chains in the target's own past (lagged regressions). Replicate ``d`` draws from its
own SplitMix64 stream seeded by ``seeds[d]``, so results do not depend on threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lagnest.errors import LagnestDataError
from lagnest.kernels._common import (
    JIT_OPTIONS,
    PARALLEL_JIT_OPTIONS,
    _code_dtype,
    _pair_range,
    _uniform,
    as_codes,
    as_index,
    check_blocks,
    check_lag,
    check_units,
    replicate_seeds,
)

__all__ = [
    "PROB_ROW_TOLERANCE",
    "simulate_chains",
    "simulate_given",
    "simulate_history",
]

#: Largest allowed deviation of a row of transition probabilities from a sum of 1.
PROB_ROW_TOLERANCE = 1e-6


@njit(**JIT_OPTIONS)
def _draw_code(state, cum):
    """Draw a code from one row of cumulative probabilities whose last entry is 1.0.

    A code of probability 0 is never drawn: its cumulative value equals its predecessor's.
    """
    state, u = _uniform(state)
    last = cum.shape[0] - 1
    for j in range(last):
        if u < cum[j]:
            return state, j
    return state, last


@njit(**PARALLEL_JIT_OPTIONS)
def _simulate_chains_kernel(first, cum, block_offsets, block_session, lag, seeds, out):
    """Fully generative Markov replication into ``out (D, n)``; see :func:`simulate_chains`."""
    n_blocks = block_offsets.shape[0] - 1
    for d in prange(out.shape[0]):
        state = seeds[d]
        row = out[d]
        for b in range(n_blocks):
            s = block_session[b]
            start = block_offsets[b]
            for t in range(start, block_offsets[b + 1]):
                x = np.int64(first[t])
                if x < 0:
                    row[t] = -1
                    continue
                if t - lag >= start:
                    prev = np.int64(row[t - lag])
                    if prev >= 0:
                        state, x = _draw_code(state, cum[d, s, prev])
                row[t] = x


@njit(**PARALLEL_JIT_OPTIONS)
def _simulate_given_kernel(given, coded, cum, block_offsets, block_session, lag, seeds, out):
    """One-step-ahead replication of targets into ``out (D, n)`` (pre-filled with -1)."""
    n_blocks = block_offsets.shape[0] - 1
    for d in prange(out.shape[0]):
        state = seeds[d]
        row = out[d]
        for b in range(n_blocks):
            s = block_session[b]
            lo, hi = _pair_range(block_offsets[b], block_offsets[b + 1], lag)
            for t in range(lo, hi):
                g = np.int64(given[t])
                if g < 0 or not coded[t + lag]:
                    continue
                state, h = _draw_code(state, cum[d, s, g])
                row[t + lag] = h


def _cumulative_probs(probs: np.ndarray, n_rows: int | None = None) -> np.ndarray:
    """Validate row-stochastic ``probs (D, S, K, M)``; return cumulative rows ending in 1.0."""
    arr = np.asarray(probs)
    if arr.ndim != 4:
        raise LagnestDataError(
            f"probs must have 4 dimensions (replicate, session, given, target), got shape "
            f"{arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"probs must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if n_rows is not None and arr.shape[2] != n_rows:
        raise LagnestDataError(f"probs has {arr.shape[2]} given rows; the chain needs square "
                               f"(K, K) rows, got shape {arr.shape}")
    if 0 in arr.shape:
        raise LagnestDataError(f"probs must not be empty, got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise LagnestDataError(
            f"probs must be finite and non-negative; probs{list(where)} = {arr[where]!r}")
    sums = arr.sum(-1)
    off = np.abs(sums - 1.0) > PROB_ROW_TOLERANCE
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0])
        raise LagnestDataError(
            f"every row of probs must sum to 1 (tolerance {PROB_ROW_TOLERANCE:g}); row "
            f"(replicate, session, given) = {where} sums to {sums[where]!r}")
    cum = np.cumsum(arr, axis=-1)
    cum /= cum[..., -1:]
    return np.ascontiguousarray(cum)


def _check_replication(codes: np.ndarray, name: str, probs: np.ndarray, block_offsets,
                       block_session, n_rows: int | None):
    """Shared validation of the replication wrappers; return arrays ready for a kernel."""
    codes = as_codes(name, codes)
    offsets = check_blocks(block_offsets, codes.shape[0])
    cum = _cumulative_probs(probs, n_rows)
    n_sessions, n_given = cum.shape[1], cum.shape[2]
    session = check_units(block_session, offsets.size - 1, n_sessions)
    if codes.size and codes.max() >= n_given:
        where = int(np.argmax(codes >= n_given))
        raise LagnestDataError(
            f"{name}[{where}] = {int(codes[where])} lies outside the {n_given} codes of probs")
    return codes, offsets, cum, session


def simulate_chains(
    first: np.ndarray,
    probs: np.ndarray,
    block_offsets: np.ndarray,
    block_session: np.ndarray,
    seeds: int | np.ndarray,
    lag: int = 1,
) -> np.ndarray:
    r"""Replicate a categorical code sequence from a Markov chain of order ``lag``.

    Parameters
    ----------
    first : ndarray of int, shape (n_segments,)
        Observed codes ``0..K-1``, negative = uncoded. They fix which segments are coded
        and the codes at which each chain starts.
    probs : ndarray of float, shape (D, S, K, K)
        ``probs[d, s, i, j]`` = P(code j at t | code i at t - lag) in replicate d and
        session s; every row must sum to 1 (tolerance ``PROB_ROW_TOLERANCE``).
    block_offsets : ndarray of int, shape (n_blocks + 1,)
        Blocks (see :func:`lag_counts`); no chain step crosses a block boundary.
    block_session : ndarray of int, shape (n_blocks,)
        Session of each block, ``0..S-1``.
    seeds : int or ndarray of uint64, shape (D,)
        Seed (see :func:`replicate_seeds`); replicate d depends on its own seed only.
    lag : int, default 1
        Order of the chain: the code at t is drawn given the code at t - lag.

    Returns
    -------
    ndarray of int8 (int16 when K > 127), shape (D, n_segments)
        Replicated codes, -1 = uncoded.

    Notes
    -----
    Segment t of a block starting at s:

    * uncoded in ``first`` -> uncoded (-1) in every replicate;
    * coded, with ``t - lag >= s`` and segment ``t - lag`` coded -> drawn from
      ``probs[d, session, x_rep[t - lag], :]``;
    * coded otherwise (one of the first ``lag`` segments of its block, or its lag
      predecessor is uncoded) -> the observed code ``first[t]``: the chain restarts there.

    The drawn segments are exactly the targets of the lag pairs that :func:`lag_counts`
    tallies, so every replicate has the observed number of pairs per block, and the
    restart codes are the observed ones. Blocks are simulated in order with one generator
    per replicate.

    Examples
    --------
    >>> import numpy as np
    >>> up = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])  # always switch code
    >>> simulate_chains(np.array([1, 0, 0, -1, 0, 0]), up, np.array([0, 6]),
    ...                 np.array([0]), seeds=0)
    array([[ 1,  0,  1, -1,  0,  1]], dtype=int8)
    """
    lag, _ = check_lag(lag, None)
    if lag < 1:
        raise LagnestDataError(f"a chain needs lag >= 1, got {lag}")
    probs = np.asarray(probs)
    n_rows = probs.shape[-1] if probs.ndim == 4 else None
    first, offsets, cum, session = _check_replication(first, "first", probs, block_offsets,
                                                      block_session, n_rows)
    seeds = replicate_seeds(seeds, cum.shape[0])
    out = np.empty((cum.shape[0], first.shape[0]), dtype=_code_dtype(cum.shape[3]))
    _simulate_chains_kernel(first, cum, offsets, session, lag, seeds, out)
    return out


def simulate_given(
    given: np.ndarray,
    probs: np.ndarray,
    block_offsets: np.ndarray,
    block_session: np.ndarray,
    seeds: int | np.ndarray,
    lag: int = 1,
    target: np.ndarray | None = None,
) -> np.ndarray:
    """Replicate target codes one step ahead, given the observed given codes.

    Parameters
    ----------
    given : ndarray of int, shape (n_segments,)
        Observed given codes ``0..K-1``, negative = uncoded.
    probs : ndarray of float, shape (D, S, K, M)
        ``probs[d, s, i, :]`` = distribution of the target at t + lag given code i at t,
        in replicate d and session s; rows sum to 1.
    block_offsets, block_session, seeds
        As in :func:`simulate_chains`.
    lag : int, default 1
        Pairs ``(t, t + lag)``; any integer (0 = same segment, negative = backwards).
    target : ndarray of int, shape (n_segments,), optional
        Observed target codes; only where they are coded (>= 0) is a target drawn, so the
        replicate has exactly the observed lag pairs. None = every position counts as coded.

    Returns
    -------
    ndarray of int8 (int16 when M > 127), shape (D, n_segments)
        ``out[d, t + lag]`` is drawn for every pair ``(t, t + lag)`` inside one block with
        ``given[t]`` coded (and ``target[t + lag]`` coded); every other position is -1.
        :func:`lagnest.checks.sequence_stats.paired_targets` masks an observed target alike.

    Examples
    --------
    >>> import numpy as np
    >>> copy = np.eye(2)[None, None]  # target = given one step earlier
    >>> simulate_given(np.array([0, 1, 1, -1, 0]), copy, np.array([0, 3, 5]),
    ...                np.array([0, 0]), seeds=1)
    array([[-1,  0,  1, -1, -1]], dtype=int8)
    """
    lag, _ = check_lag(lag, None)
    given, offsets, cum, session = _check_replication(given, "given", probs, block_offsets,
                                                      block_session, None)
    if target is None:
        coded = np.ones(given.shape[0], dtype=np.bool_)
    else:
        target = as_codes("target", target)
        if target.shape != given.shape:
            raise LagnestDataError(
                f"given and target differ in length: {given.size} vs {target.size}")
        coded = np.ascontiguousarray(target >= 0)
    seeds = replicate_seeds(seeds, cum.shape[0])
    out = np.full((cum.shape[0], given.shape[0]), -1, dtype=_code_dtype(cum.shape[3]))
    _simulate_given_kernel(given, coded, cum, offsets, session, lag, seeds, out)
    return out


@njit(**PARALLEL_JIT_OPTIONS)
def _simulate_history_kernel(target, segment_row, base, history, lags, block_offsets, seeds,
                             out, logits):
    """Replicate into ``out (D, n)``; see :func:`simulate_history`."""
    n_blocks = block_offsets.shape[0] - 1
    n_lags = lags.shape[0]
    n_out = base.shape[2]
    for d in prange(out.shape[0]):
        state = seeds[d]
        row = out[d]
        work = logits[d]
        for b in range(n_blocks):
            for u in range(block_offsets[b], block_offsets[b + 1]):
                r = segment_row[u]
                if r < 0:
                    row[u] = target[u]
                    continue
                top = -np.inf
                for k in range(n_out):
                    v = base[d, r, k]
                    for j in range(n_lags):
                        v += history[d, j, np.int64(row[u - lags[j]]), k]
                    work[k] = v
                    if v > top:
                        top = v
                total = 0.0
                for k in range(n_out):
                    work[k] = np.exp(work[k] - top)
                    total += work[k]
                state, x = _uniform(state)
                x *= total
                acc = 0.0
                code = n_out - 1
                for k in range(n_out):
                    acc += work[k]
                    if x < acc:
                        code = k
                        break
                row[u] = code


def simulate_history(
    target: np.ndarray,
    segment_row: np.ndarray,
    base: np.ndarray,
    history: np.ndarray,
    lags: np.ndarray,
    block_offsets: np.ndarray,
    seeds: int | np.ndarray,
) -> np.ndarray:
    r"""Replicate a target whose logits depend on its own (replicated) past.

    Parameters
    ----------
    target : ndarray of int, shape (n_segments,)
        Observed target codes ``0..K-1``, negative = uncoded. Segments that are not
        replicated keep their observed code.
    segment_row : ndarray of int, shape (n_segments,)
        Row of each replicated segment (its pattern of the other predictors), -1 = keep
        the observed code. A replicated segment u must have every ``u - lag`` inside its
        block and coded (as :func:`pattern_keys` guarantees for valid rows).
    base : ndarray of float, shape (D, R, K)
        Logits of each row from everything but the target's past, per replicate.
    history : ndarray of float, shape (D, n_lags, K, K)
        ``history[d, j, c, :]`` is added to the logits when the replicated target at
        ``u - lags[j]`` has code c.
    lags : ndarray of int, shape (n_lags,)
        Lags >= 1.
    block_offsets : ndarray of int
        Blocks (see :func:`lag_counts`).
    seeds : int or ndarray of uint64, shape (D,)
        See :func:`replicate_seeds`.

    Returns
    -------
    ndarray of int8 (int16 when K > 127), shape (D, n_segments)

    Notes
    -----
    Segments are drawn in order within each block, each from
    :math:`\mathrm{softmax}(b_{r(u)} + \sum_j h_{j, x_{u - L_j}})`, so a replicate
    is a draw of the whole sequence given the other predictors, not one step ahead.

    Examples
    --------
    >>> import numpy as np
    >>> target = np.array([0, 1, 1, 0])
    >>> rows = np.array([-1, 0, 0, 0])
    >>> base = np.zeros((1, 1, 2))
    >>> history = np.array([[[[0.0, 50.0], [50.0, 0.0]]]])  # switch code every segment
    >>> simulate_history(target, rows, base, history, np.array([1]), np.array([0, 4]), 0)
    array([[0, 1, 0, 1]], dtype=int8)
    """
    target = as_codes("target", target)
    segment_row = as_index("segment_row", segment_row)
    if segment_row.shape != target.shape:
        raise ValueError("segment_row and target differ in length")
    base = np.ascontiguousarray(base, dtype=np.float64)
    history = np.ascontiguousarray(history, dtype=np.float64)
    lags = as_index("lags", lags)
    if base.ndim != 3 or history.ndim != 4:
        raise ValueError("base must be (D, R, K) and history (D, n_lags, K, K)")
    n_draws, n_rows, n_codes = base.shape
    if history.shape != (n_draws, lags.size, n_codes, n_codes):
        raise ValueError(f"history must have shape {(n_draws, lags.size, n_codes, n_codes)}, "
                         f"got {history.shape}")
    if lags.size and lags.min() < 1:
        raise ValueError("history lags must be >= 1")
    if not (np.isfinite(base).all() and np.isfinite(history).all()):
        raise ValueError("base and history logits must be finite")
    offsets = check_blocks(block_offsets, target.shape[0])
    used = segment_row >= 0
    if used.any():
        if segment_row.max() >= n_rows:
            raise ValueError(f"segment_row refers to row {segment_row.max()} of {n_rows}")
        block = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
        u = np.flatnonzero(used)
        for lag in lags:
            prev = u - lag
            ok = (prev >= 0) & (block[np.maximum(prev, 0)] == block[u])
            ok &= target[np.maximum(prev, 0)] >= 0
            if not ok.all():
                raise ValueError(f"replicated segment {u[~ok][0]} has no coded segment at "
                                 f"lag {lag} in its block")
        if target[used].max() >= n_codes or target[used].min() < 0:
            raise ValueError("replicated segments must have coded targets below K")
    seeds_arr = replicate_seeds(seeds, n_draws)
    out = np.empty((n_draws, target.shape[0]), dtype=_code_dtype(n_codes))
    logits = np.empty((n_draws, n_codes), dtype=np.float64)
    _simulate_history_kernel(target, segment_row, base, history, lags, offsets, seeds_arr,
                             out, logits)
    return out
