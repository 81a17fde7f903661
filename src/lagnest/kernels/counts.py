"""Counting kernels: lag, window and indicator-set tables, and code triples.

Counting kernels: lag and window tables, indicator-set tables and code triples, in one
pass over the segments (see :mod:`lagnest.kernels` for the array conventions).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lagnest.errors import LagnestDataError
from lagnest.kernels._common import (
    JIT_OPTIONS,
    PARALLEL_JIT_OPTIONS,
    _block_units,
    _pair_range,
    _raise_if_bad,
    as_codes,
    check_blocks,
    check_lag,
    check_units,
    replicate_rows,
)

__all__ = [
    "lag_counts",
    "lag_pair_starts",
    "set_lag_counts",
    "triple_counts",
]
#: Segments from which 1-byte codes use the branch-free kernel (its 512 kB scratch table
#: costs more than it saves on short inputs).
_BYTE_KERNEL_MIN = 1 << 16


@njit(**JIT_OPTIONS)
def _lag_counts_kernel(given, target, block_offsets, block_unit, lag, out):
    """Add lag-``lag`` pair counts into ``out[unit, g, h]``; return the out-of-range count.

    See :func:`lag_counts`.
    """
    n_given = out.shape[1]
    n_target = out.shape[2]
    bad = 0
    for b in range(block_offsets.shape[0] - 1):
        u = block_unit[b]
        lo, hi = _pair_range(block_offsets[b], block_offsets[b + 1], lag)
        for t in range(lo, hi):
            g = np.int64(given[t])
            h = np.int64(target[t + lag])
            if g < 0 or h < 0:
                continue
            if g >= n_given or h >= n_target:
                bad += 1
                continue
            out[u, g, h] += 1
    return bad


@njit(**JIT_OPTIONS)
def _byte_lag_counts_kernel(given, target, block_offsets, lag, out):
    """Pooled lag counts of 1-byte codes, branch-free; return the out-of-range count.

    Every byte pair indexes a 256 x 256 scratch table (negative codes land in rows or
    columns >= 128), so the loop has no branch; the K x M corner is the table and any
    count with a non-negative code at or above K or M is reported. See :func:`lag_counts`.
    """
    n_given = out.shape[1]
    n_target = out.shape[2]
    tab = np.zeros(65536, dtype=np.int64)
    for b in range(block_offsets.shape[0] - 1):
        lo, hi = _pair_range(block_offsets[b], block_offsets[b + 1], lag)
        for t in range(lo, hi):
            tab[(np.int64(given[t]) & 255) * 256 + (np.int64(target[t + lag]) & 255)] += 1
    bad = 0
    for g in range(128):
        for h in range(128):
            if g < n_given and h < n_target:
                out[0, g, h] += tab[g * 256 + h]
            else:
                bad += tab[g * 256 + h]
    return bad


@njit(**JIT_OPTIONS)
def _window_counts_kernel(given, target, block_offsets, block_unit, window, out, stamp):
    """Add window counts (each distinct target once per given segment); see :func:`lag_counts`.

    ``stamp`` is scratch of length ``n_target`` (any content).
    """
    n_given = out.shape[1]
    n_target = out.shape[2]
    bad = 0
    for h in range(n_target):
        stamp[h] = -1
    for b in range(block_offsets.shape[0] - 1):
        u = block_unit[b]
        start = block_offsets[b]
        end = block_offsets[b + 1]
        for t in range(start, end - 1):
            g = np.int64(given[t])
            if g < 0:
                continue
            if g >= n_given:
                bad += 1
                continue
            stop = min(end, t + window + 1)
            for s in range(t + 1, stop):
                h = np.int64(target[s])
                if h < 0:
                    continue
                if h >= n_target:
                    bad += 1
                    continue
                if stamp[h] != t:
                    stamp[h] = t
                    out[u, g, h] += 1
    return bad


@njit(**JIT_OPTIONS)
def _set_lag_counts_kernel(given_set, target, block_offsets, block_unit, lag, window, out, stamp):
    """Add one 2 x M table per indicator column into ``out[unit, p, g, h]``.

    ``window == 0`` counts lag-``lag`` pairs, ``window > 0`` counts window pairs (each
    distinct target once per given segment). See :func:`set_lag_counts`.
    """
    n_ind = given_set.shape[1]
    n_target = out.shape[3]
    bad = 0
    for h in range(n_target):
        stamp[h] = -1
    for b in range(block_offsets.shape[0] - 1):
        u = block_unit[b]
        start = block_offsets[b]
        end = block_offsets[b + 1]
        if window == 0:
            lo, hi = _pair_range(start, end, lag)
            for t in range(lo, hi):
                h = np.int64(target[t + lag])
                if h < 0:
                    continue
                if h >= n_target:
                    bad += 1
                    continue
                for p in range(n_ind):
                    g = np.int64(given_set[t, p])
                    if g < 0:
                        continue
                    if g > 1:
                        bad += 1
                        continue
                    out[u, p, g, h] += 1
        else:
            for t in range(start, end - 1):
                stop = min(end, t + window + 1)
                for s in range(t + 1, stop):
                    h = np.int64(target[s])
                    if h < 0:
                        continue
                    if h >= n_target:
                        bad += 1
                        continue
                    if stamp[h] == t:
                        continue
                    stamp[h] = t
                    for p in range(n_ind):
                        g = np.int64(given_set[t, p])
                        if g < 0:
                            continue
                        if g > 1:
                            bad += 1
                            continue
                        out[u, p, g, h] += 1
    return bad


@njit(**JIT_OPTIONS)
def _count_into(given, target, block_offsets, block_unit, lag, window, out, stamp):
    """Dispatch to the lag or window counting kernel."""
    if window == 0:
        return _lag_counts_kernel(given, target, block_offsets, block_unit, lag, out)
    return _window_counts_kernel(given, target, block_offsets, block_unit, window, out, stamp)


# --------------------------------------------------------------------------- wrappers


def lag_counts(
    given: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    block_unit: np.ndarray | None,
    n_given: int,
    n_target: int,
    n_units: int = 1,
    lag: int = 1,
    window: int | None = None,
) -> np.ndarray:
    r"""Count lag-L (or window) pairs per unit in one pass over the segments.

    Parameters
    ----------
    given, target : ndarray of int, shape (n_segments,)
        Codes ``0..K-1`` and ``0..M-1``; negative = uncoded. Any integer dtype.
    block_offsets : ndarray of int, shape (n_blocks + 1,)
        Blocks are runs of segments without a break inside one session.
    block_unit : ndarray of int, shape (n_blocks,) or None
        Unit (table) of each block; None pools every block into one table.
    n_given, n_target, n_units : int
        Table shape.
    lag : int, default 1
        Pairs ``(t, t + lag)``; 0 counts co-occurrence in one segment, negative lags look
        backwards.
    window : int, optional
        Count instead the targets anywhere in ``t+1 .. t+window`` (within the block).
        Each distinct target code is counted **once per given segment**, however often it
        occurs in the window, so a cell counts "given segments followed within W by j".

    Returns
    -------
    ndarray of int64, shape (n_units, n_given, n_target)
        The pooled table is ``out.sum(axis=0)``.

    Raises
    ------
    ValueError
        When a used code is at or above ``n_given`` / ``n_target``, or offsets are invalid.

    Notes
    -----
    For lag L >= 0 a block ``[s, e)`` contributes the pairs ``t = s .. e-L-1`` with both
    codes non-negative, so a block of length T contributes at most ``max(T - L, 0)``
    pairs and pooled :math:`N = \sum_b (T_b - L)` when everything is coded.

    Pooled lag counts of 1-byte codes (``int8``/``uint8``; values above 127 count as
    uncoded) use a branch-free kernel; keep code arrays in ``int8`` for large corpora.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0, 1, 0, 1, 0])
    >>> lag_counts(x, x, np.array([0, 5]), None, 2, 2)[0]
    array([[0, 2],
           [2, 0]])
    """
    lag, window = check_lag(lag, window)
    given = as_codes("given", given)
    target = as_codes("target", target)
    if given.shape != target.shape:
        raise ValueError(f"given and target differ in length: {given.size} vs {target.size}")
    offsets = check_blocks(block_offsets, given.shape[0])
    n_blocks = offsets.size - 1
    if block_unit is None:
        block_unit = np.zeros(n_blocks, dtype=np.int64)
        n_units = 1
    unit = check_units(block_unit, n_blocks, n_units)
    out = np.zeros((n_units, n_given, n_target), dtype=np.int64)
    if (n_units == 1 and not window and given.itemsize == 1 and target.itemsize == 1
            and given.size >= _BYTE_KERNEL_MIN):
        bad = _byte_lag_counts_kernel(given.view(np.int8), target.view(np.int8), offsets, lag,
                                      out)
    else:
        stamp = np.empty(n_target, dtype=np.int64)
        bad = _count_into(given, target, offsets, unit, lag, window, out, stamp)
    _raise_if_bad(bad, "given or target")
    return out


def set_lag_counts(
    given_set: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    block_unit: np.ndarray | None,
    n_target: int,
    n_units: int = 1,
    lag: int = 1,
    window: int | None = None,
) -> np.ndarray:
    """Count one 2 x M table per indicator of a set, in a single pass.

    Parameters
    ----------
    given_set : ndarray of int, shape (n_segments, P)
        Indicator matrix: 0 absent, 1 present, negative uncoded.
    target : ndarray of int, shape (n_segments,)
        Target codes ``0..M-1``, negative uncoded.
    block_offsets, block_unit, n_units, lag, window
        As in :func:`lag_counts`.
    n_target : int
        Number of target codes M.

    Returns
    -------
    ndarray of int64, shape (n_units, P, 2, n_target)
        Row 0 = indicator absent at t, row 1 = present.

    Examples
    --------
    >>> import numpy as np
    >>> ind = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.int8)
    >>> set_lag_counts(ind, np.array([0, 1, 0]), np.array([0, 3]), None, 2)[0, 0]
    array([[1, 0],
           [0, 1]])
    """
    lag, window = check_lag(lag, window)
    given_set = as_codes("given_set", given_set, 2)
    target = as_codes("target", target)
    if given_set.shape[0] != target.shape[0]:
        raise ValueError("given_set and target differ in number of segments")
    offsets = check_blocks(block_offsets, target.shape[0])
    n_blocks = offsets.size - 1
    if block_unit is None:
        block_unit = np.zeros(n_blocks, dtype=np.int64)
        n_units = 1
    unit = check_units(block_unit, n_blocks, n_units)
    out = np.zeros((n_units, given_set.shape[1], 2, n_target), dtype=np.int64)
    stamp = np.empty(n_target, dtype=np.int64)
    bad = _set_lag_counts_kernel(given_set, target, offsets, unit, lag, window, out, stamp)
    _raise_if_bad(bad, "indicator or target")
    return out


def lag_pair_starts(block_offsets: np.ndarray, lag: int) -> np.ndarray:
    """Positions ``t`` whose pair ``(t, t + lag)`` lies inside one block (plain numpy).

    The same rule as the counting kernels (:func:`_pair_range` per block), for callers
    that need the pairs themselves, e.g. the per-segment model. Uncoded segments are not
    filtered here.
    """
    offsets = np.asarray(block_offsets, dtype=np.int64)
    n = int(offsets[-1]) if offsets.size else 0
    block = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    t = np.arange(n, dtype=np.int64)
    u = t + lag
    inside = (u >= 0) & (u < n)
    same = np.zeros(n, dtype=bool)
    same[inside] = block[t[inside]] == block[u[inside]]
    return t[same]


@njit(**PARALLEL_JIT_OPTIONS)
def _triple_counts_kernel(codes, block_offsets, block_unit, lag, out, bad):
    """Counts of ``(x_t, x_{t+lag}, x_{t+2 lag})`` inside blocks; see :func:`triple_counts`."""
    n_blocks = block_offsets.shape[0] - 1
    n_codes = out.shape[2]
    for d in prange(codes.shape[0]):
        row = codes[d]
        n_bad = 0
        for b in range(n_blocks):
            u = block_unit[b]
            for t in range(block_offsets[b], block_offsets[b + 1] - 2 * lag):
                i = np.int64(row[t])
                j = np.int64(row[t + lag])
                k = np.int64(row[t + 2 * lag])
                if i < 0 or j < 0 or k < 0:
                    continue
                if i >= n_codes or j >= n_codes or k >= n_codes:
                    n_bad += 1
                    continue
                out[d, u, i, j, k] += 1
        bad[d] = n_bad


def triple_counts(
    codes: np.ndarray,
    block_offsets: np.ndarray,
    n_codes: int,
    block_unit: np.ndarray | None = None,
    n_units: int = 1,
    lag: int = 1,
) -> np.ndarray:
    """Counts of code triples ``(x_t, x_{t+lag}, x_{t+2 lag})`` inside blocks.

    Parameters
    ----------
    codes : ndarray of int, shape (n_segments,) or (D, n_segments)
        One sequence or a batch of replicates; negative = uncoded.
    block_offsets, block_unit, n_units
        As in :func:`run_lengths`.
    n_codes : int
        Number of codes K.
    lag : int, default 1
        Spacing of the triple (>= 1).

    Returns
    -------
    ndarray of int64, shape ([D,] n_units, K, K, K)
        ``out[..., i, j, k]`` counts triples with all three segments in one block and
        coded; axes are ``(x_t, x_{t+lag}, x_{t+2 lag})``.

    Examples
    --------
    >>> import numpy as np
    >>> triple_counts(np.array([0, 1, 0, 1]), np.array([0, 4]), 2)[0].nonzero()
    (array([0, 1]), array([1, 0]), array([0, 1]))
    """
    lag, _ = check_lag(lag, None)
    if lag < 1:
        raise LagnestDataError(f"triples need lag >= 1, got {lag}")
    rows, single = replicate_rows(codes)
    offsets = check_blocks(block_offsets, rows.shape[1])
    unit, n_units = _block_units(block_unit, offsets, n_units)
    k = int(n_codes)
    out = np.zeros((rows.shape[0], n_units, k, k, k), dtype=np.int64)
    bad = np.zeros(rows.shape[0], dtype=np.int64)
    _triple_counts_kernel(rows, offsets, unit, lag, out, bad)
    _raise_if_bad(int(bad.sum()), "triple")
    return out[0] if single else out
